import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ConfigError, TargetError } from "../../src/errors.ts";
import { openTarget, redactTarget } from "../../src/targets/index.ts";
import { startRcloneBackend, type BackendKind } from "../helpers/rclone.ts";
import { describeTarget } from "./conformance.ts";

// Three real backends on 127.0.0.1: rclone's local backend, `rclone serve sftp`, `rclone serve webdav`.
for (const kind of ["local", "sftp", "webdav"] as BackendKind[]) {
  describeTarget(`rclone (${kind})`, async () => {
    const backend = await startRcloneBackend(kind);
    return {
      target: await openTarget(backend.url, { env: backend.env, cwd: "/" }),
      cleanup: () => backend.stop(),
      listLeftovers: () => backend.leftovers(),
      seed: (keys, body) => backend.seed(keys, body),
    };
  });
}

describe("rclone target specifics", () => {
  const signal = new AbortController().signal;

  it("a missing rclone binary is a configuration error", async () => {
    const err = await openTarget("rclone:x:y", { env: { PATH: "/nonexistent" }, cwd: "/" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).hint).toMatch(/apt-get install rclone/);
  });

  it("parses REMOTE:PATH and never shows connection-string secrets", async () => {
    expect(redactTarget("rclone::sftp,host=h,pass=SECRETVALUE,user=u:dir/x")).toBe("rclone::sftp,host=h,user=u:dir/x");
    expect(redactTarget("rclone:box:backups")).toBe("rclone:box:backups");
    await expect(openTarget("rclone:nocolon", { env: process.env, cwd: "/" })).rejects.toBeInstanceOf(ConfigError);
  });

  it("a remote rclone refuses says rclone's reason, not the broken pipe it causes", async () => {
    const t = await openTarget("rclone:NOSUCHREMOTE:x", { env: { ...process.env, RCLONE_CONFIG: "/nonexistent/rclone.conf" }, cwd: "/" });
    const big = Readable.from(Array.from({ length: 64 }, () => Buffer.alloc(256 * 1024, 1)));
    const err = await t.put("k.bin", big, { signal }).then(() => undefined, (e: unknown) => e as TargetError);
    expect(err).toBeInstanceOf(TargetError);
    expect(err?.message).toMatch(/cannot upload k\.bin: [a-z/]+: didn't find section in config file/);
  });

  it("names the remote without its secrets when rclone fails", async () => {
    const t = await openTarget("rclone::webdav,url='http://127.0.0.1:1/',pass=SECRETVALUE:x", { env: process.env, cwd: "/" });
    const err = await t.put("k", Readable.from([Buffer.from("x")]), { signal }).then(() => undefined, (e: unknown) => e as TargetError);
    expect(err).toBeInstanceOf(TargetError);
    expect(`${err?.message} ${err?.hint ?? ""}`).not.toContain("SECRETVALUE");
    expect(err?.message).toMatch(/cannot upload k/);
  });
});
