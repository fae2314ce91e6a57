import { Transform, type TransformCallback } from "node:stream";

/**
 * Byte counting on the way in (backup records how big the dump was before compression) and a cap
 * on the way out (restore never inflates more than that, with slack: a compressed "bomb" that
 * passes its checksum still cannot fill the disk).
 */

/** A pass-through that counts; read `bytes` after the stream ended. */
export function byteCounter(): Transform & { bytes: number } {
  const counter = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  }) as Transform & { bytes: number };
  counter.bytes = 0;
  return counter;
}

/** The most a restore inflates an artifact recorded at `rawBytes`: 10 % and 1 MiB of slack. */
export function capFor(rawBytes: number): number {
  return Math.ceil(rawBytes * 1.1) + (1 << 20);
}

/** A pass-through that fails once more than `max` bytes went through it. */
export function sizeCap(max: number, error: (max: number) => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      seen += chunk.length;
      if (seen > max) return done(error(max));
      done(null, chunk);
    },
  });
}
