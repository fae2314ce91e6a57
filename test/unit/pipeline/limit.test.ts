import { describe, expect, it } from "vitest";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { byteCounter, capFor, sizeCap } from "../../../src/pipeline/limit.ts";

const sink = () => new Writable({ write: (_c, _e, done) => done() });

describe("byteCounter and sizeCap", () => {
  it("counts what passes", async () => {
    const counter = byteCounter();
    await pipeline(Readable.from([Buffer.alloc(10), Buffer.alloc(5)]), counter, sink());
    expect(counter.bytes).toBe(15);
  });

  it("lets the recorded size with slack through and fails a bomb", async () => {
    expect(capFor(1000)).toBe(1100 + (1 << 20));
    await pipeline(Readable.from([Buffer.alloc(capFor(1000))]), sizeCap(capFor(1000), (m) => new Error(`over ${m}`)), sink());
    await expect(pipeline(Readable.from([Buffer.alloc(capFor(1000)), Buffer.alloc(1)]), sizeCap(capFor(1000), (m) => new Error(`over ${m}`)), sink())).rejects.toThrow(`over ${capFor(1000)}`);
  });
});
