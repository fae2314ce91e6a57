import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { Transform } from "node:stream";
import type { TransformCallback } from "node:stream";
import { IntegrityError, InternalError } from "../errors.ts";

/** What a manifest records about an artifact and a restore checks. */
export interface Checksum {
  /** Lowercase hex. */
  sha256: string;
  bytes: number;
}

/**
 * A passthrough that counts bytes and hashes them with SHA-256. Put it last before the target so
 * that the checksum covers exactly the stored bytes.
 */
export class ChecksumStream extends Transform {
  #hash: Hash = createHash("sha256");
  #bytes = 0;
  #digest: string | undefined;

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The checksum of everything that passed; only available once the stream has ended. */
  digest(): Checksum {
    if (this.#digest === undefined) throw new InternalError("checksum read before the stream ended");
    return { sha256: this.#digest, bytes: this.#bytes };
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    this.#bytes += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.#digest = this.#hash.digest("hex");
    done();
  }
}

export function createChecksum(): ChecksumStream {
  return new ChecksumStream();
}

/**
 * A passthrough that fails with an IntegrityError at the end when the bytes do not match
 * `expected`. Downstream consumers have seen the data by then, so a restore that reads through it
 * must not commit before the stream ends cleanly. `what` names the artifact in the error.
 */
export function verifyStream(expected: Checksum, what = "artifact"): Transform {
  return new VerifyStream(expected, what);
}

// --- internal ---

class VerifyStream extends ChecksumStream {
  readonly #expected: Checksum;
  readonly #what: string;

  constructor(expected: Checksum, what: string) {
    super();
    this.#expected = expected;
    this.#what = what;
  }

  override _flush(done: TransformCallback): void {
    super._flush(() => {
      const actual = this.digest();
      const want = this.#expected;
      if (actual.bytes !== want.bytes) {
        return done(new IntegrityError(`${this.#what} has ${actual.bytes} bytes, the manifest says ${want.bytes}`));
      }
      if (actual.sha256 !== want.sha256.toLowerCase()) {
        return done(new IntegrityError(`${this.#what} has sha256 ${actual.sha256}, the manifest says ${want.sha256}`));
      }
      done();
    });
  }
}
