import { describe, expect, it } from "vitest";
import { PassThrough, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { stallGuard } from "../../../src/pipeline/stall.ts";

const stalled = (ms: number) => new Error(`no data for ${ms} ms`);

describe("stallGuard", () => {
  it("fails a source that goes quiet while the consumer waits", async () => {
    const source = new PassThrough();
    source.write("first");
    const sink = new Writable({ write: (_c, _e, done) => done() });
    await expect(pipeline(source, stallGuard(80, stalled), sink)).rejects.toThrow("no data for 80 ms");
  });

  it("lets a steady source through, and does not count time the consumer is busy", async () => {
    const source = new PassThrough();
    const got: string[] = [];
    // The consumer takes 150 ms per chunk, longer than the limit: that is not a stall.
    const sink = new Writable({ highWaterMark: 1, write: (c: Buffer, _e, done) => void setTimeout(() => (got.push(c.toString()), done()), 150) });
    const done = pipeline(source, stallGuard(100, stalled), sink);
    for (const word of ["a", "b", "c"]) {
      source.write(word);
      await sleep(40);
    }
    source.end();
    await done;
    expect(got.join("")).toBe("abc");
  });

  it("leaves no timer behind once the stream ended", async () => {
    const source = new PassThrough();
    source.end("x");
    await pipeline(source, stallGuard(50, stalled), new Writable({ write: (_c, _e, done) => done() }));
    await sleep(80);
  });
});
