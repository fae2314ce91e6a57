import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, InternalError } from "../../../src/errors.ts";
import { buildRegistry, openTarget, redactTarget, resolveTargetUrl, targetFactories } from "../../../src/targets/index.ts";

describe("resolveTargetUrl", () => {
  const cwd = "/srv/app";
  it("takes the flag, then SDBACKUP_TARGET, then ./backups", () => {
    expect(resolveTargetUrl("s3://b/p", { SDBACKUP_TARGET: "/x" }, cwd)).toBe("s3://b/p");
    expect(resolveTargetUrl(undefined, { SDBACKUP_TARGET: "/var/backups" }, cwd)).toBe("file:///var/backups");
    expect(resolveTargetUrl("", { SDBACKUP_TARGET: "" }, cwd)).toBe("file:///srv/app/backups");
  });

  it("turns plain paths into file URLs against cwd and HOME", () => {
    expect(resolveTargetUrl("../out dir", {}, cwd)).toBe("file:///srv/out%20dir");
    expect(resolveTargetUrl("~/b", { HOME: "/home/me" }, cwd)).toBe("file:///home/me/b");
    expect(resolveTargetUrl("file:///already", {}, cwd)).toBe("file:///already");
  });
});

describe("openTarget", () => {
  it("opens a local target from a plain path", async () => {
    const t = await openTarget("rel", { env: {}, cwd: "/tmp/nowhere" });
    expect(t.scheme).toBe("file");
    expect(t.display).toBe(path.join("/tmp/nowhere", "rel"));
  });

  it("rejects an unknown scheme with the valid ones and without credentials", async () => {
    const err = await openTarget("ftp://user:hunter2@host/x", { env: {}, cwd: "/" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/valid schemes: file, s3/);
    expect((err as Error).message).not.toContain("hunter2");
  });
});

describe("registry", () => {
  it("throws when a scheme is registered twice", () => {
    expect(() => buildRegistry([...targetFactories, targetFactories[0]!])).toThrow(InternalError);
    expect([...buildRegistry(targetFactories).keys()]).toEqual(["file", "s3", "rclone", "memory"]);
  });

  it("redacts credentials from any target URL", () => {
    const r = redactTarget("s3://AKIA:s3cret@bucket/p?endpoint=https://u:pw@minio:9000&region=eu&X-Amz-Signature=sig&sessionToken=tok");
    expect(r).toBe("s3://bucket/p?endpoint=https://minio:9000&region=eu");
    expect(redactTarget("sftp://me:pw@host/dir?token=t")).toBe("sftp://host/dir");
  });

  it("loads the AWS SDK only when an s3 target is opened", async () => {
    const index = new URL("../../../src/targets/index.ts", import.meta.url).href;
    const script = `
      import { registerHooks } from "node:module";
      const seen = [];
      registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
      const { openTarget, redactTarget } = await import(${JSON.stringify(index)});
      redactTarget("s3://b/p");
      const before = seen.filter((u) => u.includes("@aws-sdk")).length;
      await openTarget("s3://bucket/p?region=eu-west-1", { env: {}, cwd: "/" });
      console.log(JSON.stringify({ before, after: seen.filter((u) => u.includes("@aws-sdk")).length }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--no-warnings", "--input-type=module", "-e", script]);
    const { before, after } = JSON.parse(stdout) as { before: number; after: number };
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  });
});
