import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.ts";
import { compressions, createCompressor, createDecompressor, extFor } from "../../../src/pipeline/compress.ts";
import type { Compression } from "../../../src/pipeline/compress.ts";

/** Dump-like text that compresses more at higher levels, plus a random tail that does not. */
const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo"];
const rows = Array.from({ length: 40_000 }, (_, i) => `INSERT INTO t VALUES (${i}, '${words[(i * 7) % 11]} ${words[(i * i) % 11]}', ${(i * 2654435761) % 99991});\n`);
const sample = Buffer.concat([Buffer.from(rows.join("")), randomBytes(50_000)]);

async function run(stream: NodeJS.ReadWriteStream, input: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([input]), stream, async (src: AsyncIterable<Buffer | string>) => {
    for await (const c of src) out.push(Buffer.from(c));
  });
  return Buffer.concat(out);
}

describe("compress", () => {
  it.each(compressions)("%s round-trips", async (kind) => {
    const packed = await run(createCompressor(kind), sample);
    if (kind === "none") expect(packed.equals(sample)).toBe(true);
    else expect(packed.length).toBeLessThan(sample.length / 4);
    expect((await run(createDecompressor(kind), packed)).equals(sample)).toBe(true);
  });

  it("round-trips empty input", async () => {
    for (const kind of compressions) {
      expect((await run(createDecompressor(kind), await run(createCompressor(kind), Buffer.alloc(0)))).length).toBe(0);
    }
  });

  it("writes real formats: zstd frame magic, gzip readable by gunzip", async () => {
    const zst = await run(createCompressor("zstd"), sample);
    expect(zst.subarray(0, 4).toString("hex")).toBe("28b52ffd");
    expect(gunzipSync(await run(createCompressor("gzip"), sample)).equals(sample)).toBe(true);
  });

  it.each([
    ["zstd", 1, 19],
    ["gzip", 1, 9],
  ] as const)("%s levels change the output and are bounded", async (kind, min, max) => {
    const fast = await run(createCompressor(kind, min), sample);
    const best = await run(createCompressor(kind, max), sample);
    expect(best.length).toBeLessThan(fast.length);
    expect((await run(createDecompressor(kind), best)).equals(sample)).toBe(true);
    for (const bad of [min - 1, max + 1, 2.5]) expect(() => createCompressor(kind, bad)).toThrow(ConfigError);
  });

  it("rejects a level without compression", () => {
    expect(() => createCompressor("none", 3)).toThrow(ConfigError);
  });

  it("detects corrupt zstd input", async () => {
    const zst = await run(createCompressor("zstd"), sample);
    zst[Math.floor(zst.length / 2)]! ^= 0xff;
    await expect(run(createDecompressor("zstd"), zst)).rejects.toThrow();
  });

  it("names extensions", () => {
    const exts = Object.fromEntries(compressions.map((k: Compression) => [k, extFor(k)]));
    expect(exts).toEqual({ zstd: ".zst", gzip: ".gz", none: "" });
  });
});
