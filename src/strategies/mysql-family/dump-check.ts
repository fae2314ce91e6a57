import type { Readable } from "node:stream";
import { IntegrityError } from "../../errors.ts";

/**
 * Checks a mysqldump/mariadb-dump SQL file without a server: the tool's header, the trailer it
 * writes last (its absence means truncation) and, when the set names the databases the dump was
 * taken of, that the dump writes into exactly those. The `USE` statements are what decide where
 * the client writes (a dump of named databases has one per database, and the header's
 * `Database:` only names the first), so they are what is compared.
 */
export async function validateDump(input: Readable, databases?: readonly string[]): Promise<void> {
  const need = Math.max(...HEADERS.map((h) => h.length));
  let head: Buffer = Buffer.alloc(0);
  let tail: Buffer = Buffer.alloc(0);
  const uses = useScanner();
  for await (const chunk of input as AsyncIterable<Buffer>) {
    if (head.length < need) head = Buffer.concat([head, chunk.subarray(0, need - head.length)]);
    tail = chunk.length >= TAIL_BYTES ? chunk.subarray(-TAIL_BYTES) : Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
    uses.push(chunk);
  }
  if (head.length === 0) throw new IntegrityError("empty artifact, expected a mysqldump/mariadb-dump SQL file");
  if (!HEADERS.some((h) => head.subarray(0, h.length).equals(h))) {
    throw new IntegrityError("not a mysqldump/mariadb-dump SQL file (unexpected header)");
  }
  const last = tail.toString("latin1").trimEnd().split("\n").pop() ?? "";
  if (!last.startsWith(TRAILER)) {
    throw new IntegrityError(`incomplete SQL dump: it does not end with the "${TRAILER}" line the dump tool writes last`);
  }
  if (databases?.length) checkDatabases([...uses.found], databases);
}

// --- internal ---

const HEADERS = ["-- MySQL dump ", "-- MariaDB dump ", "/*M!999999\\- enable the sandbox mode */"].map((h) => Buffer.from(h));
const TRAILER = "-- Dump completed";
const TAIL_BYTES = 512;
/** A line that starts a USE statement; the dump begins as if after a newline. */
const NEEDLE = Buffer.from("\nUSE `");
/** Database names are at most 64 characters: a longer USE line is not one the dump tools write. */
const MAX_USE_LINE = 1024;

function checkDatabases(found: string[], named: readonly string[]): void {
  const extra = found.filter((d) => !named.includes(d));
  const missing = named.filter((d) => !found.includes(d));
  if (!extra.length && !missing.length) return;
  const list = (names: readonly string[]) => (names.length === 0 ? "no database" : `${names.length === 1 ? "database" : "databases"} ${names.map((n) => JSON.stringify(n)).join(", ")}`);
  throw new IntegrityError(`the artifact is a dump of ${list(found)}, but the set names ${list(named)}`);
}

/**
 * The databases named by `USE \`name\`;` lines, found with a native search per chunk; a line cut
 * between chunks is carried over. A USE line that is not one the tools write counts as its raw text.
 */
function useScanner(): { push(chunk: Buffer): void; found: Set<string> } {
  const found = new Set<string>();
  let carry = Buffer.from("\n");
  const record = (line: string) => {
    const m = /^USE `((?:[^`]|``)+)`;\r?$/.exec(line);
    found.add(m ? m[1]!.replace(/``/g, "`") : line.slice(0, 80));
  };
  return {
    found,
    push(chunk) {
      const buf = Buffer.concat([carry, chunk]);
      let at = 0;
      for (;;) {
        const hit = buf.indexOf(NEEDLE, at);
        if (hit === -1) break;
        const end = buf.indexOf(0x0a, hit + 1);
        if (end === -1 && buf.length - hit <= MAX_USE_LINE) {
          carry = buf.subarray(hit);
          return;
        }
        record(buf.subarray(hit + 1, end === -1 ? hit + 1 + MAX_USE_LINE : end).toString("utf8"));
        if (end === -1) {
          carry = Buffer.alloc(0);
          return;
        }
        at = end;
      }
      carry = Buffer.from(buf.subarray(Math.max(at, buf.length - (NEEDLE.length - 1))));
    },
  };
}
