import { Readable, type Readable as R } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { inventoryTap } from "../../../../src/core/backup/inventory-tap.ts";
import type { Inventory } from "../../../../src/manifest/schema.ts";

/** Reads `input` slowly to its end and counts the bytes: a reader that lags the stored stream. */
async function slowCount(input: R): Promise<Inventory> {
  let bytes = 0;
  for await (const chunk of input) {
    bytes += (chunk as Buffer).length;
    await sleep(2);
  }
  return { counts: { bytes }, exact: true, how: "test" };
}

const chunks = (n: number, size: number) => Array.from({ length: n }, () => Buffer.alloc(size, 1));

describe("inventoryTap", () => {
  it("a reader still behind when the main stream ends and is destroyed still sees every byte", async () => {
    const tap = inventoryTap(slowCount);
    let stored = 0;
    await pipeline(Readable.from(chunks(40, 32 * 1024)), tap.stage, async (source) => {
      for await (const c of source) stored += (c as Buffer).length;
    });
    expect(tap.stage.destroyed).toBe(true);
    expect(stored).toBe(40 * 32 * 1024);
    await expect(tap.inventory).resolves.toMatchObject({ counts: { bytes: 40 * 32 * 1024 } });
  });

  it("a main stream that fails makes the reader fail too, so the inventory settles as missing", async () => {
    const tap = inventoryTap(slowCount);
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(1024));
    setTimeout(() => source.destroy(new Error("dump died")), 20);
    await expect(pipeline(source, tap.stage, async (s) => { for await (const _ of s); })).rejects.toThrow("dump died");
    await expect(tap.inventory).resolves.toBeUndefined();
  });

  it("a reader that fails costs only the inventory", async () => {
    const tap = inventoryTap(async () => { throw new Error("not a tar"); });
    let stored = 0;
    await pipeline(Readable.from(chunks(10, 64 * 1024)), tap.stage, async (source) => {
      for await (const c of source) stored += (c as Buffer).length;
    });
    expect(stored).toBe(10 * 64 * 1024);
    await expect(tap.inventory).resolves.toBeUndefined();
  });
});
