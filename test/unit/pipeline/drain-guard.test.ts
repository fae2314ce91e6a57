import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { drainGuard } from "../../../src/pipeline/stall.ts";

const stalled = (ms: number) => new Error(`no reader for ${ms}ms`);
const chunks = (n: number) => Array.from({ length: n }, () => Buffer.alloc(64 * 1024, 7));

describe("drainGuard", () => {
  it("fails when its consumer stops taking data while data waits", async () => {
    const guard = drainGuard(50, stalled);
    Readable.from(chunks(20)).pipe(guard);
    guard.read(); // one read, then nothing: a store that stopped answering
    const err = await new Promise<Error>((resolve) => guard.once("error", resolve));
    expect(err.message).toBe("no reader for 50ms");
  });

  it("a slow source is not the consumer's stall", async () => {
    const guard = drainGuard(30, stalled);
    const source = Readable.from((async function* () {
      for (const c of chunks(3)) {
        await sleep(80);
        yield c;
      }
    })());
    let bytes = 0;
    source.pipe(guard);
    for await (const c of guard) bytes += (c as Buffer).length;
    expect(bytes).toBe(3 * 64 * 1024);
  });

  it("a consumer that keeps reading slowly never trips it", async () => {
    const guard = drainGuard(60, stalled);
    Readable.from(chunks(12)).pipe(guard);
    let bytes = 0;
    for await (const c of guard) {
      bytes += (c as Buffer).length;
      await sleep(20);
    }
    expect(bytes).toBe(12 * 64 * 1024);
  });
});
