import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.ts";
import { parseS3Url, parseSize } from "../../../src/targets/s3/settings.ts";

const MiB = 1024 * 1024;
const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe("parseS3Url", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-s3cfg-"));
    await writeFile(path.join(dir, "id"), "AKIAFILE\n");
    await writeFile(path.join(dir, "secret"), "file-secret\n");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("has safe defaults for AWS", async () => {
    const s = await parseS3Url("s3://my-bucket/some/prefix/", {});
    expect(s).toEqual({
      bucket: "my-bucket",
      prefix: "some/prefix",
      region: "us-east-1",
      forcePathStyle: false,
      partSize: 16 * MiB,
      queueSize: 2,
      maxParts: 10_000,
      growParts: true,
      display: "s3://my-bucket/some/prefix",
    });
  });

  it("takes endpoint and region from the URL before the environment, and forces path style", async () => {
    const env = { AWS_ENDPOINT_URL_S3: "http://s3-specific:9000", AWS_ENDPOINT_URL: "http://generic:9000", AWS_REGION: "eu-1", AWS_DEFAULT_REGION: "eu-2" };
    const fromUrl = await parseS3Url("s3://bbb?endpoint=http://127.0.0.1:9000&region=local", env);
    expect(fromUrl).toMatchObject({ endpoint: "http://127.0.0.1:9000", region: "local", forcePathStyle: true, prefix: "" });
    expect(fromUrl.display).toBe("s3://bbb?endpoint=http://127.0.0.1:9000");
    expect(await parseS3Url("s3://bbb", env)).toMatchObject({ endpoint: "http://s3-specific:9000", region: "eu-1" });
    expect(await parseS3Url("s3://bbb", { AWS_ENDPOINT_URL: "http://generic:9000", AWS_DEFAULT_REGION: "eu-2" })).toMatchObject({
      endpoint: "http://generic:9000",
      region: "eu-2",
    });
  });

  it("reads part size, queue size and max parts from the URL or SDBACKUP_S3_*", async () => {
    expect(await parseS3Url("s3://bbb?partSize=5MiB&queueSize=4&maxParts=1000", {})).toMatchObject({ partSize: 5 * MiB, queueSize: 4, maxParts: 1000 });
    expect(await parseS3Url("s3://bbb", { SDBACKUP_S3_PART_SIZE: "128M", SDBACKUP_S3_QUEUE_SIZE: "1" })).toMatchObject({ partSize: 128 * MiB, queueSize: 1 });
    for (const bad of ["partSize=1MiB", "partSize=lots", "queueSize=0", "maxParts=10001", "prefixx=a"]) {
      await expect(parseS3Url(`s3://bbb?${bad}`, {}), bad).rejects.toThrow(ConfigError);
    }
    expect((await rejection(parseS3Url("s3://bbb?prefixx=a", {})))?.message).toMatch(/valid ones: endpoint, region, partSize/);
  });

  it("rejects bad buckets, prefixes and endpoints", async () => {
    for (const url of ["s3:///p", "s3://b/p", "s3://bbb/a//b", "s3://bucket:99/p", "s3://bbb/a/../b", "s3://bbb?endpoint=ftp://x", "s3://bbb?endpoint=nope", "file:///x"]) {
      await expect(parseS3Url(url, {}), url).rejects.toThrow(ConfigError);
    }
  });

  it("takes credentials inline or from _FILE, never both, never in the URL", async () => {
    expect((await parseS3Url("s3://bbb", { AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "sek", AWS_SESSION_TOKEN: "tok" })).credentials).toEqual({
      accessKeyId: "AKIA",
      secretAccessKey: "sek",
      sessionToken: "tok",
    });
    const files = { AWS_ACCESS_KEY_ID_FILE: path.join(dir, "id"), AWS_SECRET_ACCESS_KEY_FILE: path.join(dir, "secret") };
    expect((await parseS3Url("s3://bbb", files)).credentials).toEqual({ accessKeyId: "AKIAFILE", secretAccessKey: "file-secret" });
    expect((await parseS3Url("s3://bbb", {})).credentials).toBeUndefined();

    const both = await rejection(parseS3Url("s3://bbb", { ...files, AWS_SECRET_ACCESS_KEY: "inline-secret" }));
    expect(both).toBeInstanceOf(ConfigError);
    expect(both?.message).toMatch(/both AWS_SECRET_ACCESS_KEY and AWS_SECRET_ACCESS_KEY_FILE/);
    expect(both?.message).not.toContain("inline-secret");
    await expect(parseS3Url("s3://bbb", { AWS_ACCESS_KEY_ID: "AKIA" }), "half").rejects.toThrow(/AWS_SECRET_ACCESS_KEY is not set/);
    await expect(parseS3Url("s3://bbb", { AWS_ACCESS_KEY_ID_FILE: path.join(dir, "nope"), AWS_SECRET_ACCESS_KEY: "x" })).rejects.toThrow(/ENOENT/);

    for (const url of ["s3://AKIA:hunter2@bbb/p", "s3://bbb/p?secretAccessKey=hunter2", "s3://bbb?endpoint=http://u:hunter2@h:1"]) {
      const err = await rejection(parseS3Url(url, {}));
      expect(err, url).toBeInstanceOf(ConfigError);
      expect(err?.message, url).not.toContain("hunter2");
    }
  });
});

describe("parseSize", () => {
  it.each([
    ["67108864", 64 * MiB],
    ["64M", 64 * MiB],
    ["64MB", 64 * MiB],
    ["64MiB", 64 * MiB],
    ["1g", 1024 * MiB],
    ["512k", 512 * 1024],
    ["1.5M", 1.5 * MiB],
    ["-1M", undefined],
    ["M", undefined],
    ["5 parsecs", undefined],
  ])("%s → %s", (text, bytes) => expect(parseSize(text)).toBe(bytes));
});
