import { ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TargetError } from "../../src/errors.ts";
import { openTarget } from "../../src/targets/index.ts";
import { s3Factory } from "../../src/targets/s3.ts";
import { parseS3Url } from "../../src/targets/s3/settings.ts";
import { startS3rver } from "../helpers/s3rver.ts";
import { describeTarget } from "./conformance.ts";

/** Lists the multipart uploads still open under the target's bucket and prefix. */
async function openUploads(url: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const s = await parseS3Url(url, env);
  const client = new S3Client({ region: s.region, forcePathStyle: s.forcePathStyle, ...(s.endpoint ? { endpoint: s.endpoint } : {}), ...(s.credentials ? { credentials: s.credentials } : {}) });
  const out = await client.send(new ListMultipartUploadsCommand({ Bucket: s.bucket, Prefix: s.prefix }));
  client.destroy();
  return (out.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`);
}

// 5 MiB parts make the conformance suite's 12 MiB bodies span several parts of a multipart upload.
describeTarget("s3 (s3rver)", async () => {
  const server = await startS3rver();
  const url = `s3://${server.bucket}/base/dir?endpoint=${server.endpoint}&partSize=5MiB`;
  return {
    target: await openTarget(url, { env: server.env, cwd: "/" }),
    cleanup: () => server.stop(),
    listLeftovers: () => openUploads(url, server.env),
  };
});

// Any S3-compatible store, e.g. SDBACKUP_TEST_S3_URL='s3://bucket?endpoint=http://127.0.0.1:9000' with AWS_* set.
const external = process.env.SDBACKUP_TEST_S3_URL;
if (!external && (process.env.SDBACKUP_TEST_REQUIRE ?? "").split(",").includes("s3")) {
  describe("external S3", () => {
    it("is required (SDBACKUP_TEST_REQUIRE=s3) but SDBACKUP_TEST_S3_URL is not set", () => {
      throw new Error("set SDBACKUP_TEST_S3_URL (and AWS_* credentials) to run the external S3 suite");
    });
  });
}
describe.runIf(external)("external S3", () => {
  describeTarget(`s3 (${external})`, async () => {
    const sep = external!.includes("?") ? "&" : "?";
    const u = new URL(external!);
    u.pathname = `${u.pathname.replace(/\/$/, "")}/sdbackup-test-${randomBytes(4).toString("hex")}`;
    const url = u.href.replace(/%3A/gi, ":").replace(/%2F/gi, "/") + (external!.includes("partSize") ? "" : `${sep}partSize=5MiB`);
    const target = await openTarget(url, { env: process.env, cwd: "/" });
    return {
      target,
      cleanup: async () => {
        const signal = new AbortController().signal;
        for await (const o of target.list("", { signal })) await target.remove(o.key, { signal });
      },
      listLeftovers: () => openUploads(url, process.env),
    };
  });
});

describe("s3 target specifics", { timeout: 60_000 }, () => {
  let server: Awaited<ReturnType<typeof startS3rver>>;
  beforeAll(async () => {
    server = await startS3rver();
  }, 60_000);
  afterAll(() => server?.stop());
  const signal = new AbortController().signal;

  it("refuses an object larger than its parts can hold and aborts its upload", async () => {
    const url = `s3://${server.bucket}/big?endpoint=${server.endpoint}&partSize=5MiB&maxParts=2&growParts=false`;
    const t = await openTarget(url, { env: server.env, cwd: "/" });
    const body = Readable.from(Array.from({ length: 11 }, () => randomBytes(1024 * 1024)));
    const err = await t.put("x.bin", body, { signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as TargetError).hint).toMatch(/partSize/);
    await expect(t.get("x.bin", { signal })).rejects.toMatchObject({ code: "E_NOT_FOUND" });
    expect(await openUploads(url, server.env)).toEqual([]);
  });

  it("grows the part size: a 20-part cap takes a stream of more than 20 × the starting part size", async () => {
    // The same schedule as a 1,000-part cap, scaled down: tiers of 2 parts, 5 MiB doubling.
    const url = `s3://${server.bucket}/grow?endpoint=${server.endpoint}&partSize=5MiB&maxParts=20`;
    const t = await openTarget(url, { env: server.env, cwd: "/" });
    const data = randomBytes(21 * 5 * 1024 * 1024 + 123);
    const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    expect(await t.put("big.bin", Readable.from(chunks), { signal })).toEqual({ bytes: data.length });
    const back: Buffer[] = [];
    for await (const c of await t.get("big.bin", { signal })) back.push(c as Buffer);
    expect(Buffer.concat(back).equals(data)).toBe(true);
    expect(await openUploads(url, server.env)).toEqual([]);
  });

  it("a completion slower than the idle-socket limit of parts succeeds (the store assembles silently)", async () => {
    const slow = await startS3rver({ completeDelayMs: 2500 });
    try {
      const url = `s3://${slow.bucket}/slow?endpoint=${slow.endpoint}&partSize=5MiB`;
      // parts fail after 1 s without a byte either way; the completion has its own deadline
      const t = await s3Factory.create(url, slow.env, { stallTimeoutMs: 1000 });
      const data = randomBytes(6 * 1024 * 1024);
      expect(await t.put("slow.bin", Readable.from([data]), { signal })).toEqual({ bytes: data.length });
      expect(await slow.uploads()).toEqual([]);
      const back: Buffer[] = [];
      for await (const c of await t.get("slow.bin", { signal })) back.push(c as Buffer);
      expect(Buffer.concat(back).equals(data)).toBe(true);
    } finally {
      await slow.stop();
    }
  });

  it("reports a missing bucket as a target failure with a hint, not as a missing object", async () => {
    const t = await openTarget(`s3://no-such-bucket-${randomBytes(3).toString("hex")}?endpoint=${server.endpoint}`, {
      env: server.env,
      cwd: "/",
    });
    for (const op of [() => t.get("k", { signal }), () => t.remove("k", { signal })]) {
      const err = await op().then(() => undefined, (e: unknown) => e as TargetError);
      expect(err).toMatchObject({ code: "E_TARGET" });
      expect(err?.hint).toMatch(/create the bucket/);
    }
  });

  it("never shows credentials", async () => {
    const t = await openTarget(`s3://${server.bucket}/p?endpoint=${server.endpoint}`, { env: server.env, cwd: "/" });
    expect(t.display).toBe(`s3://${server.bucket}/p?endpoint=${server.endpoint}`);
    const wrong = await openTarget(`s3://${server.bucket}/p?endpoint=${server.endpoint}`, {
      env: { AWS_ACCESS_KEY_ID: "NOT-A-KEY", AWS_SECRET_ACCESS_KEY: "wrong-secret-value" },
      cwd: "/",
    });
    const err = await wrong.put("k", Readable.from([Buffer.from("x")]), { signal }).then(() => undefined, (e: unknown) => e as TargetError);
    expect(err).toBeInstanceOf(TargetError);
    expect(`${err?.message} ${err?.hint}`).not.toContain("wrong-secret-value");
    expect(err?.hint).toMatch(/AWS_ACCESS_KEY_ID/);
  });
});
