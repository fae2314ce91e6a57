import { Transform } from "node:stream";

/**
 * A passthrough that reports the running byte count, at most once per `everyBytes` (default 1 MiB)
 * and once more at the end, for a progress line. Throttling by bytes keeps it free of clocks; the
 * renderer decides how often to redraw.
 */
export function createProgress(report: (bytes: number) => void, everyBytes = 1024 * 1024): Transform {
  let bytes = 0;
  let next = everyBytes;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes >= next) {
        next = bytes + everyBytes;
        report(bytes);
      }
      done(null, chunk);
    },
    flush(done) {
      report(bytes);
      done();
    },
  });
}
