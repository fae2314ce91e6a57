import type { Readable } from "node:stream";
import { IntegrityError } from "../../errors.ts";

/**
 * Reads the whole stream, checking that it starts with one of `magics`. Draining matters: the
 * caller hashes the same bytes, so a valid header on a truncated artifact still fails there.
 */
export async function expectMagic(input: Readable, magics: readonly Buffer[], what: string): Promise<void> {
  const need = Math.max(...magics.map((m) => m.length));
  let head = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    if (head.length < need) head = Buffer.concat([head, chunk.subarray(0, need - head.length)]);
  }
  if (!magics.some((m) => head.length >= m.length && head.subarray(0, m.length).equals(m))) {
    throw new IntegrityError(head.length === 0 ? `empty artifact, expected ${what}` : `not ${what} (unexpected header)`);
  }
}
