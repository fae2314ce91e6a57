import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { DockerDemux, FrameError, FrameParser } from "../../../src/docker/demux.ts";

function frame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** Feeds `chunks` through a fresh demux and collects both streams. */
async function run(chunks: Buffer[]): Promise<{ stdout: Buffer; stderr: Buffer }> {
  const stderr: Buffer[] = [];
  const stdout: Buffer[] = [];
  const demux = new DockerDemux((c) => stderr.push(Buffer.from(c)));
  await pipeline(
    Readable.from(chunks),
    demux,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        stdout.push(chunk);
        cb();
      },
    }),
  );
  return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
}

const mixed = Buffer.concat([
  frame(1, "hello "),
  frame(2, "warning: x\n"),
  frame(1, ""),
  frame(1, Buffer.from([0, 1, 2, 255, 254, 10, 13])),
  frame(0, "stdin-as-stdout"),
  frame(2, "bye\n"),
]);
const mixedStdout = Buffer.concat([Buffer.from("hello "), Buffer.from([0, 1, 2, 255, 254, 10, 13]), Buffer.from("stdin-as-stdout")]);

describe("DockerDemux", () => {
  it("splits mixed stdout and stderr frames", async () => {
    const { stdout, stderr } = await run([mixed]);
    expect(stdout.equals(mixedStdout)).toBe(true);
    expect(stderr.toString()).toBe("warning: x\nbye\n");
  });

  it("handles a split at every byte boundary", async () => {
    for (let i = 0; i <= mixed.length; i++) {
      const { stdout, stderr } = await run([mixed.subarray(0, i), mixed.subarray(i)]);
      expect(stdout.equals(mixedStdout), `split at ${i}`).toBe(true);
      expect(stderr.toString(), `split at ${i}`).toBe("warning: x\nbye\n");
    }
  });

  it("handles one byte per chunk", async () => {
    const chunks = [...mixed].map((b) => Buffer.from([b]));
    const { stdout, stderr } = await run(chunks);
    expect(stdout.equals(mixedStdout)).toBe(true);
    expect(stderr.toString()).toBe("warning: x\nbye\n");
  });

  it("streams large frames cut at arbitrary points", async () => {
    const big = randomBytes(5 * 1024 * 1024 + 3);
    const err = randomBytes(300_000);
    const all = Buffer.concat([frame(1, big), frame(2, err), frame(1, big.subarray(0, 1000))]);
    const chunks: Buffer[] = [];
    for (let off = 0; off < all.length; ) {
      const n = 1 + Math.floor(Math.random() * 70_000);
      chunks.push(all.subarray(off, off + n));
      off += n;
    }
    const { stdout, stderr } = await run(chunks);
    expect(stdout.equals(Buffer.concat([big, big.subarray(0, 1000)]))).toBe(true);
    expect(stderr.equals(err)).toBe(true);
  });

  it.each([
    ["inside a header", Buffer.concat([frame(1, "ok"), Buffer.from([1, 0, 0])])],
    ["inside a payload", frame(1, "complete payload").subarray(0, 12)],
  ])("fails when the stream ends %s", async (_what, data) => {
    await expect(run([data])).rejects.toBeInstanceOf(FrameError);
  });

  it("rejects a stream that is not multiplexed (TTY output)", async () => {
    await expect(run([Buffer.from("plain text from a tty\n")])).rejects.toThrow(/not a multiplexed Docker stream/);
  });

  it("accepts an empty stream", async () => {
    const { stdout, stderr } = await run([]);
    expect(stdout.length + stderr.length).toBe(0);
  });

  it("keeps buffered memory bounded with a slow consumer (backpressure)", async () => {
    const total = 50 * 1024 * 1024;
    let produced = 0;
    let stdoutBytes = 0;
    let maxBuffered = 0;
    let maxWritable = 0;
    let maxReadable = 0;
    const maxChunk = 64 * 1024;
    let pending = Buffer.alloc(0);
    const payload = randomBytes(100_000);
    const source = new Readable({
      read() {
        // Frames of varying sizes, handed out in chunks cut independently of frame boundaries.
        while (pending.length < maxChunk && produced + pending.length < total) {
          const size = 1 + Math.floor(Math.random() * payload.length);
          pending = Buffer.concat([pending, frame(Math.random() < 0.05 ? 2 : 1, payload.subarray(0, size))]);
        }
        if (pending.length === 0) return void this.push(null);
        const n = Math.min(pending.length, 1 + Math.floor(Math.random() * maxChunk));
        const chunk = pending.subarray(0, n);
        pending = pending.subarray(n);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const demux = new DockerDemux(() => {});
    let writes = 0;
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _e, cb) {
        stdoutBytes += chunk.length;
        const buffered = source.readableLength + demux.writableLength + demux.readableLength + sink.writableLength;
        maxBuffered = Math.max(maxBuffered, buffered);
        maxWritable = Math.max(maxWritable, demux.writableLength);
        maxReadable = Math.max(maxReadable, demux.readableLength);
        if (++writes % 50 === 0) setTimeout(cb, 1);
        else setImmediate(cb);
      },
    });
    await pipeline(source, demux, sink);
    expect(produced).toBeGreaterThanOrEqual(total - payload.length - 8);
    expect(stdoutBytes).toBeGreaterThan(total * 0.8);
    // A stream may overshoot its high-water mark by the chunk in flight plus one already emitted.
    expect(maxWritable).toBeLessThanOrEqual(demux.writableHighWaterMark + 2 * maxChunk);
    expect(maxReadable).toBeLessThanOrEqual(demux.readableHighWaterMark + 2 * maxChunk);
    // Everything queued between the producer and the sink: a few buffers, never the whole 50 MB.
    expect(maxBuffered).toBeLessThan(512 * 1024);
  });
});

describe("FrameParser", () => {
  it("reports whether it stopped inside a frame", () => {
    const parser = new FrameParser();
    const seen: number[] = [];
    parser.feed(frame(1, "abc").subarray(0, 9), (type) => seen.push(type));
    expect(parser.pending).toBe(true);
    parser.feed(Buffer.from("bc"), (type) => seen.push(type));
    expect(parser.pending).toBe(false);
    expect(seen).toEqual([1, 1]);
  });
});
