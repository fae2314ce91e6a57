import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { IntegrityError, InternalError } from "../../../src/errors.ts";
import { createChecksum, verifyStream } from "../../../src/pipeline/checksum.ts";
import { createProgress } from "../../../src/pipeline/progress.ts";

const data = randomBytes(3 * 1024 * 1024 + 17);
const sha = createHash("sha256").update(data).digest("hex");
const chunks = (b: Buffer) => Readable.from(Array.from({ length: Math.ceil(b.length / 65536) }, (_, i) => b.subarray(i * 65536, (i + 1) * 65536)));

async function drain(...streams: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(chunks(data), ...(streams as [NodeJS.ReadWriteStream]), async (src: AsyncIterable<Buffer | string>) => {
    for await (const c of src) out.push(Buffer.from(c));
  });
  return Buffer.concat(out);
}

describe("checksum", () => {
  it("passes bytes through and reports sha256 and size after the end", async () => {
    const c = createChecksum();
    expect(() => c.digest()).toThrow(InternalError);
    expect((await drain(c)).equals(data)).toBe(true);
    expect(c.digest()).toEqual({ sha256: sha, bytes: data.length });
    expect(c.bytes).toBe(data.length);
  });

  it("hashes the empty stream", async () => {
    const c = createChecksum();
    await pipeline(Readable.from([]), c, async (src: AsyncIterable<unknown>) => {
      for await (const _ of src);
    });
    expect(c.digest()).toEqual({ sha256: createHash("sha256").digest("hex"), bytes: 0 });
  });

  it("verifyStream accepts matching data (uppercase hex too)", async () => {
    expect((await drain(verifyStream({ sha256: sha.toUpperCase(), bytes: data.length }))).equals(data)).toBe(true);
  });

  it("verifyStream fails with IntegrityError on a wrong hash or size", async () => {
    const wrongSha = verifyStream({ sha256: "0".repeat(64), bytes: data.length }, "db.pgdump.zst");
    await expect(drain(wrongSha)).rejects.toThrow(IntegrityError);
    await expect(drain(verifyStream({ sha256: "0".repeat(64), bytes: data.length }, "db.pgdump.zst"))).rejects.toThrow(/db\.pgdump\.zst has sha256/);
    await expect(drain(verifyStream({ sha256: sha, bytes: data.length + 1 }))).rejects.toThrow(/bytes/);
  });
});

describe("progress", () => {
  it("reports growing byte counts and the total at the end", async () => {
    const seen: number[] = [];
    await drain(createProgress((n) => seen.push(n), 1024 * 1024));
    expect(seen.length).toBe(4);
    expect(seen.at(-1)).toBe(data.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });
});
