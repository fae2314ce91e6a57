// The age v1 payload (STREAM): 64 KiB plaintext chunks sealed with ChaCha20-Poly1305 under a
// nonce of an 11-byte big-endian counter plus a last-chunk flag byte. It runs on Node's native
// cipher because the pure-JS one in age-encryption manages about 25 MB/s, far from dump speed.
import { createCipheriv, createDecipheriv } from "node:crypto";
import { IntegrityError } from "../../errors.ts";

export const CHUNK = 64 * 1024;
export const TAG = 16;

/** Seals plaintext into age STREAM chunks; `feed` and `finish` return what is ready to write. */
export class Sealer {
  readonly #key: Buffer;
  readonly #buf = new ChunkBuffer();
  #counter = 0;

  constructor(key: Buffer) {
    this.#key = key;
  }

  feed(chunk: Buffer): Buffer[] {
    this.#buf.append(chunk);
    const out: Buffer[] = [];
    // Strictly more than a chunk: the last chunk, even a full one, must carry the flag.
    while (this.#buf.length > CHUNK) this.#seal(this.#buf.take(CHUNK), false, out);
    return out;
  }

  finish(): Buffer[] {
    const out: Buffer[] = [];
    this.#seal(this.#buf.take(this.#buf.length), true, out);
    return out;
  }

  #seal(plain: Buffer[], last: boolean, out: Buffer[]): void {
    const cipher = createCipheriv("chacha20-poly1305", this.#key, nonce(this.#counter++, last), { authTagLength: TAG });
    // Piece by piece: compressors hand out 16 KiB, and copying them into whole chunks costs a third.
    for (const piece of plain) out.push(cipher.update(piece));
    cipher.final();
    out.push(cipher.getAuthTag());
  }
}

/** Opens age STREAM chunks; throws an IntegrityError on any altered, reordered or cut chunk. */
export class Opener {
  readonly #key: Buffer;
  readonly #buf = new ChunkBuffer();
  readonly #what: string;
  #counter = 0;

  constructor(key: Buffer, what: string) {
    this.#key = key;
    this.#what = what;
  }

  feed(chunk: Buffer): Buffer[] {
    this.#buf.append(chunk);
    const out: Buffer[] = [];
    while (this.#buf.length > CHUNK + TAG) out.push(...this.#open(this.#buf.take(CHUNK + TAG), false));
    return out;
  }

  finish(): Buffer[] {
    const rest = this.#buf.length;
    if (rest < TAG || (rest === TAG && this.#counter > 0)) {
      throw new IntegrityError(`${this.#what}: the encrypted payload is truncated`);
    }
    return this.#open(this.#buf.take(rest), true);
  }

  #open(sealed: Buffer[], last: boolean): Buffer[] {
    const decipher = createDecipheriv("chacha20-poly1305", this.#key, nonce(this.#counter++, last), { authTagLength: TAG });
    let tail = sealed.pop()!;
    while (tail.length < TAG) tail = Buffer.concat([sealed.pop()!, tail]); // the tag straddles pieces
    decipher.setAuthTag(tail.subarray(tail.length - TAG));
    sealed.push(tail.subarray(0, tail.length - TAG));
    const plain = sealed.map((piece) => decipher.update(piece));
    try {
      decipher.final();
    } catch (cause) {
      throw new IntegrityError(`${this.#what}: encrypted chunk ${this.#counter - 1} fails authentication (corrupted, altered or truncated)`, { cause });
    }
    // Plaintext is handed out only once its chunk is authenticated.
    return plain;
  }
}

// --- internal ---

function nonce(counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(counter, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

/** A FIFO of buffers that hands out exact-size runs of pieces, never copying. */
class ChunkBuffer {
  #parts: Buffer[] = [];
  length = 0;

  append(b: Buffer): void {
    if (b.length === 0) return;
    this.#parts.push(b);
    this.length += b.length;
  }

  /** The next `n` bytes as pieces (at least one, empty when `n` is 0). */
  take(n: number): Buffer[] {
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const p = this.#parts[0]!;
      if (p.length <= left) {
        out.push(p);
        this.#parts.shift();
        left -= p.length;
      } else {
        out.push(p.subarray(0, left));
        this.#parts[0] = p.subarray(left);
        left = 0;
      }
    }
    this.length -= n;
    return out.length ? out : [Buffer.alloc(0)];
  }
}
