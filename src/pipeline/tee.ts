import { PassThrough, type Readable } from "node:stream";

/**
 * One source read once into `n` branches at the pace of the slowest: a chunk goes to every live
 * branch, and the source pauses until every branch that asked for a pause has drained, so memory
 * stays at about one highWaterMark per branch. A branch destroyed by its consumer (a target that
 * failed) is dropped and the others go on; when none is left the source is destroyed. A source
 * error destroys every branch with that error.
 */
export function tee(source: Readable, n: number, highWaterMark = 1024 * 1024): Readable[] {
  const branches = Array.from({ length: n }, () => new PassThrough({ highWaterMark }));
  const live = new Set(branches);
  let waiting = 0;
  const resume = () => {
    if (waiting === 0 && live.size > 0) source.resume();
  };
  for (const b of branches) {
    b.once("close", () => {
      if (!live.delete(b)) return;
      if (b.listenerCount("drain") > 0) {
        b.removeAllListeners("drain");
        waiting--;
      }
      if (live.size === 0) source.destroy();
      else resume();
    });
  }
  source.on("data", (chunk: Buffer) => {
    for (const b of live) {
      if (b.destroyed || b.write(chunk)) continue;
      waiting++;
      b.once("drain", () => {
        waiting--;
        resume();
      });
    }
    if (waiting > 0) source.pause();
  });
  source.once("end", () => {
    for (const b of live) b.end();
  });
  source.once("error", (err) => {
    for (const b of live) b.destroy(err);
  });
  // A source closed without "end" (destroyed without an error) must not leave branches hanging.
  source.once("close", () => {
    if (!source.readableEnded) for (const b of live) b.destroy(new Error("the source closed before its end"));
  });
  return branches;
}
