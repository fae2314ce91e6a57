import type { Readable } from "node:stream";
import { Readable as NodeReadable } from "node:stream";
import type { RunContext } from "../types.ts";
import { dumpStream, runWithInput } from "../shared/exec.ts";

/** How postgres tools reach the server inside the container: the user, its password in the env. */
export interface PgConnection {
  user: string;
  /** The database the image created (`POSTGRES_DB`, else the user's name): always there to connect to. */
  home: string;
  env: Record<string, string>;
}

/**
 * A `--dbname` value that names exactly `db`: as a conninfo string, so that a database called
 * `a=b` or `postgres://x` is not read as connection options.
 */
export function dbArg(db: string): string {
  return `dbname='${db.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** An SQL string literal (standard_conforming_strings is on in every supported version). */
export function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const FIELD = "\x1f";
const RECORD = "\x1e";

/**
 * Runs one query with psql in `db` and returns its rows as arrays of text fields; with `snapshot`
 * (an id from `pg_export_snapshot()`), inside a read-only transaction that sees exactly that snapshot.
 */
export async function query(ctx: RunContext, conn: PgConnection, db: string, sql: string, snapshot?: string): Promise<string[][]> {
  const statements = snapshot ? ["BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", `SET TRANSACTION SNAPSHOT ${literal(snapshot)}`, sql, "COMMIT"] : [sql];
  const argv = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "--no-password", "-F", FIELD, "-R", RECORD, "--username", conn.user, "--dbname", dbArg(db), ...statements.flatMap((s) => ["-c", s])];
  const text = await collect(dumpStream(ctx, argv, conn.env));
  return text.split(RECORD).map((r) => r.replace(/\n$/, "")).filter((r) => r !== "").map((r) => r.split(FIELD));
}

/** Feeds `sql` to psql in `db`, stopping at the first error; in one transaction when asked. */
export async function runSql(ctx: RunContext, conn: PgConnection, db: string, sql: string, opts: { transaction: boolean }): Promise<void> {
  const once = opts.transaction ? ["--single-transaction"] : [];
  const argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", ...once, "--no-password", "--username", conn.user, "--dbname", dbArg(db)];
  await runWithInput(ctx, argv, conn.env, NodeReadable.from([Buffer.from(sql)]));
}

// --- internal ---

async function collect(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
