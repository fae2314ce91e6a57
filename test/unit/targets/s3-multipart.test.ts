import { describe, expect, it } from "vitest";
import { completionTimeoutMs, maxObjectSize, partSizeFor, uploadStream, type UploadState } from "../../../src/targets/s3/multipart.ts";

const MiB = 1024 * 1024;
const TiB = 1024 * 1024 * MiB;

describe("S3 part sizes", () => {
  it("10,000 parts from 16 MiB reach at least 5 TiB, and no part exceeds 5 GiB", () => {
    const plan = { partSize: 16 * MiB, maxParts: 10_000, growth: true };
    expect(maxObjectSize(plan)).toBeGreaterThanOrEqual(5 * TiB);
    expect(partSizeFor(0, plan)).toBe(16 * MiB);
    expect(partSizeFor(999, plan)).toBe(16 * MiB);
    expect(partSizeFor(1000, plan)).toBe(32 * MiB);
    expect(partSizeFor(9999, plan)).toBe(5 * 1024 * MiB);
  });

  it("a 1,000-part cap holds far more than 1,000 × the starting size; equal parts when growth is off", () => {
    expect(maxObjectSize({ partSize: 16 * MiB, maxParts: 1000, growth: true })).toBeGreaterThan(TiB);
    expect(maxObjectSize({ partSize: 16 * MiB, maxParts: 1000, growth: false })).toBe(1000 * 16 * MiB);
  });
});

describe("CompleteMultipartUpload", () => {
  const GiB = 1024 * MiB;
  const min = 60_000;

  it("gets a deadline by size, never below 5 min nor above 2 h: 10 GiB may take 26 min", () => {
    expect(completionTimeoutMs(0)).toBe(5 * min);
    expect(completionTimeoutMs(10 * GiB)).toBe(5 * min + 1_280_000);
    expect(completionTimeoutMs(5 * TiB)).toBe(120 * min);
    // far beyond the 120 s idle-socket limit of part uploads that used to fail a 10 GiB upload
    expect(completionTimeoutMs(10 * GiB)).toBeGreaterThan(10 * 120_000);
  });

  it("goes through the client without an idle limit, and the run's signal still ends it", async () => {
    const sent: string[] = [];
    const parts = { send: async (cmd: object) => (sent.push(cmd.constructor.name), { UploadId: "u1", ETag: "e" }) };
    let completionSignal: AbortSignal | undefined;
    const completer = {
      send: (cmd: object, opts: { abortSignal: AbortSignal }) => {
        sent.push(`completer:${cmd.constructor.name}`);
        completionSignal = opts.abortSignal;
        return new Promise((_, reject) => opts.abortSignal.addEventListener("abort", () => reject(new Error("aborted"))));
      },
    };
    const run = new AbortController();
    const state: UploadState = {};
    const body = (async function* () {
      for (let i = 0; i < 12; i++) yield Buffer.alloc(MiB, i);
    })();
    const plan = { partSize: 5 * MiB, maxParts: 10_000, growth: true };
    const clients = { parts, completer } as unknown as Parameters<typeof uploadStream>[0];
    const upload = uploadStream(clients, { Bucket: "b", Key: "k" }, body, { plan, queueSize: 2, signal: run.signal, state });
    while (!completionSignal) await new Promise((r) => setTimeout(r, 5));
    expect(sent).toEqual(["CreateMultipartUploadCommand", "UploadPartCommand", "UploadPartCommand", "UploadPartCommand", "completer:CompleteMultipartUploadCommand"]);
    expect(state).toEqual({ uploadId: "u1", completing: true });
    expect(completionSignal.aborted).toBe(false);
    run.abort();
    await expect(upload).rejects.toThrow("aborted");
  });
});
