import type { Readable } from "node:stream";
import { IntegrityError } from "../../errors.ts";

/**
 * An RDB file is `REDIS` + a four-digit version, the data, the EOF opcode 0xFF and (version 5 on)
 * a little-endian CRC-64 (Jones polynomial, reflected) of everything before it; 0 means the server
 * had `rdbchecksum no`. Checking the trailer catches a cut file, which Redis would refuse to load
 * at start, leaving the service down; the magic alone does not.
 */
export async function checkRdb(input: Readable): Promise<void> {
  const crc = new Crc64();
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  let total = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (head.length < 9) head = Buffer.concat([head, chunk.subarray(0, 9 - head.length)]);
    // The last 8 bytes may be the checksum itself: hash only what is surely before them.
    const joined = Buffer.concat([tail, chunk]);
    const keep = Math.min(8, joined.length);
    crc.update(joined.subarray(0, joined.length - keep));
    tail = Buffer.from(joined.subarray(joined.length - keep));
  }
  if (total === 0) throw new IntegrityError("empty artifact, expected a Redis RDB file");
  if (!head.subarray(0, 5).equals(Buffer.from("REDIS"))) throw new IntegrityError("not a Redis RDB file (unexpected header)");
  const version = Number(head.subarray(5, 9).toString("latin1"));
  if (!Number.isInteger(version) || head.length < 9) throw new IntegrityError("not a Redis RDB file (no version after REDIS)");
  if (version < 5) {
    if (tail[tail.length - 1] !== 0xff) throw cut(total);
    return;
  }
  if (total < 9 + 1 + 8) throw cut(total);
  // The EOF opcode was hashed (it precedes the checksum); it is the byte before `tail`.
  if (crc.lastByte !== 0xff) throw cut(total);
  const stored = tail.readBigUInt64LE(0);
  if (stored !== 0n && stored !== crc.value()) {
    throw new IntegrityError(`the Redis RDB file's checksum does not match its content (${total} bytes): it is corrupt`);
  }
}

// --- internal ---

function cut(total: number): IntegrityError {
  return new IntegrityError(`the Redis RDB file is cut short (${total} bytes, no end-of-file marker): Redis could not load it`);
}

/** Table-driven reflected CRC-64/Jones in two 32-bit halves: no BigInt per byte. */
class Crc64 {
  private static readonly table = Crc64.build();
  private hi = 0;
  private lo = 0;
  lastByte = -1;

  update(buf: Buffer): void {
    const { hiT, loT } = Crc64.table;
    let { hi, lo } = this;
    for (let i = 0; i < buf.length; i++) {
      const idx = (lo ^ buf[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ loT[idx]!;
      hi = (hi >>> 8) ^ hiT[idx]!;
    }
    if (buf.length) this.lastByte = buf[buf.length - 1]!;
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
  }

  value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  private static build(): { hiT: Uint32Array; loT: Uint32Array } {
    const hiT = new Uint32Array(256);
    const loT = new Uint32Array(256);
    const [polyHi, polyLo] = [0x95ac9329, 0xac4bc9b5];
    for (let n = 0; n < 256; n++) {
      let hi = 0;
      let lo = n;
      for (let k = 0; k < 8; k++) {
        const odd = lo & 1;
        lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
        hi = hi >>> 1;
        if (odd) {
          hi = (hi ^ polyHi) >>> 0;
          lo = (lo ^ polyLo) >>> 0;
        }
      }
      hiT[n] = hi;
      loT[n] = lo;
    }
    return { hiT, loT };
  }
}

/** Exposed for the known-answer test ("123456789" → 0xe9c6d914c4b8d9ca). */
export function crc64(buf: Buffer): bigint {
  const c = new Crc64();
  c.update(buf);
  return c.value();
}
