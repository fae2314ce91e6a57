import { Readable } from "node:stream";
import { IntegrityError } from "../../errors.ts";
import type { ArtifactPart } from "../types.ts";
import { checkMagic, readHead } from "../shared/validate.ts";
import { GLOBALS_HEADER } from "./globals.ts";

/**
 * Checks a postgres artifact against the part its manifest item says it is, without a server. A
 * database part must be a pg_dump custom-format archive of that very database: `pg_restore
 * --dbname` restores into whatever it is told, so a valid dump of another database would replace
 * this one's content silently. The archive header records the database it was taken from (what
 * `pg_restore -l` prints as `dbname:`). The globals part must be a pg_dumpall globals dump; items
 * from before parts existed name no database and are checked by their magic only.
 */
export async function validateArtifact(input: Readable, part: Pick<ArtifactPart, "kind" | "name"> | undefined): Promise<void> {
  const head = await readHead(input, HEAD_BYTES);
  if (!part) return checkMagic(head, [PGDMP, GLOBALS], "a pg_dump custom-format archive or a pg_dumpall globals dump");
  if (part.kind === "globals") return checkMagic(head, [GLOBALS], "a pg_dumpall globals dump (the set's roles part)");
  checkDatabase(head, part.name);
}

/**
 * For restore, whichever way its input was checked before: reads the archive's head and refuses a
 * dump of another database than `part` before anything is written. The stream returned replays
 * the head, then the rest of `input`.
 */
export async function checkedArchive(input: Readable, part: Pick<ArtifactPart, "kind" | "name"> | undefined): Promise<Readable> {
  if (part?.kind !== "database") return input;
  const it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  while (size < HEAD_BYTES && !ended) {
    const next = await it.next();
    if (next.done) ended = true;
    else (chunks.push(next.value), (size += next.value.length));
  }
  const head = Buffer.concat(chunks);
  try {
    checkDatabase(head, part.name);
  } catch (err) {
    await it.return?.();
    throw err;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      yield head;
      for (let next = ended ? undefined : await it.next(); next && !next.done; next = await it.next()) yield next.value;
    } finally {
      await it.return?.();
    }
  }
  return Readable.from(replay(), { objectMode: false });
}

/**
 * The database name in a custom-format archive header (pg_backup_archiver.c, ReadHead): magic,
 * version (major, minor, revision), int and offset sizes, format, compression (a byte from archive
 * version 1.15, an int before), the creation time as seven ints, then the name as a string (an
 * int length and bytes). An int is a sign byte and `intSize` little-endian bytes.
 */
export function archiveDatabase(head: Buffer): string {
  let at = PGDMP.length;
  const cut = () => new IntegrityError("the pg_dump archive header is cut short or damaged");
  const byte = () => {
    if (at >= head.length) throw cut();
    return head[at++]!;
  };
  const [major, minor] = [byte(), byte()];
  const revision = major > 1 || (major === 1 && minor > 0) ? byte() : 0;
  const version = (major << 16) | (minor << 8) | revision;
  if (version < V(1, 4)) throw new IntegrityError(`pg_dump archive version ${major}.${minor}.${revision} is older than any this sdbackup wrote`);
  const intSize = byte();
  byte(); // offset size
  if (intSize < 1 || intSize > 8) throw cut();
  const format = byte();
  if (format !== CUSTOM_FORMAT) throw new IntegrityError(`not a pg_dump custom-format archive (format ${format})`);
  const int = () => {
    const negative = byte() !== 0;
    let n = 0;
    for (let i = 0; i < intSize; i++) n += byte() * 2 ** (8 * i);
    return negative ? -n : n;
  };
  if (version >= V(1, 15)) byte();
  else int();
  for (let i = 0; i < 7; i++) int();
  const length = int();
  if (length < 0 || at + length > head.length) throw cut();
  return head.subarray(at, at + length).toString("utf8");
}

// --- internal ---

function checkDatabase(head: Buffer, name: string): void {
  checkMagic(head, [PGDMP], `a pg_dump custom-format archive (the set's database ${name})`);
  const db = archiveDatabase(head);
  if (db !== name) throw new IntegrityError(`the artifact is a dump of database ${JSON.stringify(db)}, but the set names database ${JSON.stringify(name)}`);
}

const PGDMP = Buffer.from("PGDMP");
const GLOBALS = Buffer.from(GLOBALS_HEADER);
/** archCustom in pg_backup.h. */
const CUSTOM_FORMAT = 1;
/** A header with a database name of NAMEDATALEN (64) bytes fits many times over. */
const HEAD_BYTES = 4096;

function V(major: number, minor: number): number {
  return (major << 16) | (minor << 8);
}
