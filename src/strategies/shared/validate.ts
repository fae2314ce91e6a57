import type { Readable } from "node:stream";
import { IntegrityError } from "../../errors.ts";

/**
 * Reads the whole stream, checking that it starts with one of `magics`. Draining matters: the
 * caller hashes the same bytes, so a valid header on a truncated artifact still fails there.
 */
export async function expectMagic(input: Readable, magics: readonly Buffer[], what: string): Promise<void> {
  checkMagic(await readHead(input, Math.max(...magics.map((m) => m.length))), magics, what);
}

/** The first `bytes` bytes of `input` (fewer when it is shorter), after draining all of it. */
export async function readHead(input: Readable, bytes: number): Promise<Buffer> {
  let head = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    if (head.length < bytes) head = Buffer.concat([head, chunk.subarray(0, bytes - head.length)]);
  }
  return head;
}

/** Throws an IntegrityError unless `head` starts with one of `magics`; `what` names what was expected. */
export function checkMagic(head: Buffer, magics: readonly Buffer[], what: string): void {
  if (!magics.some((m) => head.length >= m.length && head.subarray(0, m.length).equals(m))) {
    throw new IntegrityError(head.length === 0 ? `empty artifact, expected ${what}` : `not ${what} (unexpected header)`);
  }
}
