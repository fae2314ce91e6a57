import { Transform, type TransformCallback } from "node:stream";

/**
 * Docker's multiplexed attach stream (exec without a TTY): frames of an 8-byte header
 * `[type, 0, 0, 0, size (uint32 BE)]` followed by `size` payload bytes; type 0 = stdin (treated
 * as stdout), 1 = stdout, 2 = stderr.
 */
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;

const HEADER_BYTES = 8;

/** The byte stream is not a valid sequence of frames, or it ended inside a frame. */
export class FrameError extends Error {
  override name = "FrameError";
}

/**
 * Incremental frame parser. Payloads are emitted in pieces as they arrive, so a frame of any size
 * never sits in memory whole; only a partial header (at most 7 bytes) is ever copied.
 */
export class FrameParser {
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerLength = 0;
  #remaining = 0;
  #type = STREAM_STDOUT;

  /** Feeds one chunk; throws a {@link FrameError} on a malformed header. */
  feed(chunk: Buffer, emit: (type: number, payload: Buffer) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining > 0) {
        const n = Math.min(this.#remaining, chunk.length - offset);
        emit(this.#type, chunk.subarray(offset, offset + n));
        offset += n;
        this.#remaining -= n;
        continue;
      }
      const n = Math.min(HEADER_BYTES - this.#headerLength, chunk.length - offset);
      chunk.copy(this.#header, this.#headerLength, offset, offset + n);
      this.#headerLength += n;
      offset += n;
      if (this.#headerLength < HEADER_BYTES) return;
      this.#headerLength = 0;
      this.#type = parseHeader(this.#header);
      this.#remaining = this.#header.readUInt32BE(4);
    }
  }

  /** True when the bytes seen so far end inside a header or a payload. */
  get pending(): boolean {
    return this.#headerLength > 0 || this.#remaining > 0;
  }
}

/**
 * A Transform from the raw attach stream to stdout bytes; stderr payloads go to `onStderr`.
 * Backpressure is the Transform's own: when the readable side is full, the next write is not
 * acknowledged, so a `pipeline` from the socket stops reading from the engine.
 */
export class DockerDemux extends Transform {
  readonly #parser = new FrameParser();
  readonly #onStderr: (chunk: Buffer) => void;

  constructor(onStderr: (chunk: Buffer) => void, opts: { highWaterMark?: number } = {}) {
    super(opts.highWaterMark === undefined ? {} : { highWaterMark: opts.highWaterMark });
    this.#onStderr = onStderr;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#parser.feed(chunk, (type, payload) => {
        if (type === STREAM_STDERR) this.#onStderr(payload);
        else this.push(payload);
      });
    } catch (err) {
      callback(err as Error);
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    callback(this.#parser.pending ? new FrameError("the exec output ended in the middle of a frame (truncated)") : null);
  }
}

// --- internal ---

function parseHeader(header: Buffer): number {
  const type = header.readUInt8(0);
  if (type > STREAM_STDERR || header.readUInt8(1) !== 0 || header.readUInt8(2) !== 0 || header.readUInt8(3) !== 0) {
    throw new FrameError(`not a multiplexed Docker stream (frame header ${header.toString("hex")}); was a TTY allocated?`);
  }
  return type === 0 ? STREAM_STDOUT : type;
}
