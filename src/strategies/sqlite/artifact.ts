import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { IntegrityError, SdbackupError, errorMessage, isAbortError } from "../../errors.ts";

/**
 * The sqlite artifact is a tar with one member per database path, named like the path without its
 * leading slash (`/data/app.db` → `data/app.db`), optionally followed by the `-wal` or `-journal`
 * file that was copied with it (a database copied while paused can need either to be complete).
 * `-shm` is never stored: SQLite rebuilds it from the WAL.
 */

export const COMPANIONS = ["-wal", "-journal"] as const;
export type Suffix = "" | (typeof COMPANIONS)[number];

const DB_MAGIC = Buffer.from("SQLite format 3\0", "latin1");
const WAL_MAGICS = [Buffer.from([0x37, 0x7f, 0x06, 0x82]), Buffer.from([0x37, 0x7f, 0x06, 0x83])];

/** A member read from an artifact: which database it belongs to, as what, and where it was spooled. */
export interface SqliteMember {
  path: string;
  suffix: Suffix;
  size: number;
  file?: string;
}

export function memberName(path: string, suffix: Suffix = ""): string {
  return path.replace(/^\/+/, "") + suffix;
}

/** Checks names, types and each member's header; with `spool`, writes each member there too. */
export async function readSqliteTar(input: Readable, paths: readonly string[], spool?: string): Promise<SqliteMember[]> {
  const known = new Map<string, { path: string; suffix: Suffix }>();
  for (const path of paths) for (const suffix of ["", ...COMPANIONS] as const) known.set(memberName(path, suffix), { path, suffix });
  const members: SqliteMember[] = [];
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    stream.on("error", () => {}); // the failure is reported once, through the pipeline
    const body = stream as unknown as AsyncIterable<Buffer>;
    const target = known.get(header.name.replace(/^\.\//, ""));
    const run = async () => {
      if (!target) throw new IntegrityError(`unexpected entry "${header.name}" in sqlite archive (database paths: ${paths.join(", ")})`);
      if (header.type !== "file") throw new IntegrityError(`entry "${header.name}" in sqlite archive is not a regular file`);
      if (members.some((m) => m.path === target.path && m.suffix === target.suffix)) throw new IntegrityError(`entry "${header.name}" appears twice in sqlite archive`);
      const file = spool === undefined ? undefined : join(spool, `${members.length}${target.suffix || ".db"}`);
      const { head, size } = await consume(body, file);
      headerProblem(target.suffix, head, header.name);
      members.push({ ...target, size, ...(file ? { file } : {}) });
    };
    run().then(() => next(), (err: unknown) => extract.destroy(err as Error));
  });
  try {
    await pipeline(input, extract as unknown as Writable);
  } catch (err) {
    // tar-stream's own errors mean the bytes are no tar; aborts, target and spool (fs) errors pass through
    if (err instanceof SdbackupError || isAbortError(err) || (err as { syscall?: string }).syscall) throw err;
    throw new IntegrityError(`not a sqlite archive: ${errorMessage(err)}`, { cause: err });
  }
  const missing = paths.filter((p) => !members.some((m) => m.path === p && m.suffix === ""));
  if (missing.length) {
    throw new IntegrityError(members.length === 0 ? "sqlite archive is empty" : `sqlite archive has no copy of ${missing.join(", ")}`);
  }
  return members;
}

// --- internal ---

/** Reads a member to its end, keeping its first bytes and, with `file`, writing it there (0600). */
async function consume(body: AsyncIterable<Buffer>, file?: string): Promise<{ head: Buffer; size: number }> {
  const out = file === undefined ? undefined : await open(file, "wx", 0o600);
  let head = Buffer.alloc(0);
  let size = 0;
  try {
    for await (const chunk of body) {
      if (head.length < DB_MAGIC.length) head = Buffer.concat([head, chunk.subarray(0, DB_MAGIC.length - head.length)]);
      size += chunk.length;
      if (out) await out.write(chunk);
    }
  } finally {
    await out?.close();
  }
  return { head, size };
}

function headerProblem(suffix: Suffix, head: Buffer, name: string): void {
  const starts = (magic: Buffer) => head.length >= magic.length && head.subarray(0, magic.length).equals(magic);
  if (suffix === "" && !starts(DB_MAGIC)) {
    throw new IntegrityError(head.length === 0 ? `"${name}" in sqlite archive is empty` : `"${name}" in sqlite archive is not an SQLite database (unexpected header)`);
  }
  // An empty WAL is valid (nothing to replay); anything else must carry the WAL magic.
  if (suffix === "-wal" && head.length > 0 && !WAL_MAGICS.some(starts)) throw new IntegrityError(`"${name}" in sqlite archive is not an SQLite WAL file`);
}
