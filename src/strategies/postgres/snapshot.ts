// The dump's own snapshot: one psql session exports it and holds it open while the inventory's
// counts and `pg_dump --snapshot` read it, so the recorded counts are exactly the rows dumped.
import { randomUUID } from "node:crypto";
import { PassThrough, Transform, pipeline, type Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { RunContext } from "../types.ts";
import { StrategyError, errorMessage, throwIfAborted } from "../../errors.ts";
import { transportDump } from "../shared/exec.ts";
import { databaseInventory } from "./inventory.ts";
import { dbArg, literal, query, type PgConnection } from "./sql.ts";

/** How long a released session may take to end before it is killed. */
const CLOSE_WAIT_MS = 10_000;

/**
 * `pg_dump` of `db` (`argv` without `--snapshot`) in a snapshot exported just before it; the
 * inventory counted in that snapshot goes to `ctx.recordInventory`. The returned stream ends (or
 * fails) only after the holding session has ended; after a failure or an abort every session this
 * dump opened is terminated on the server too, so no transaction is left idle behind it.
 */
export async function dumpInSnapshot(ctx: RunContext, conn: PgConnection, db: string, argv: string[], helperEnv?: Record<string, string>): Promise<Readable> {
  const held = await holdSnapshot(ctx, conn, db);
  try {
    if (ctx.recordInventory) await countInSnapshot(ctx, held, db);
    const dump = await transportDump(ctx, [...argv, `--snapshot=${held.id}`], held.conn.env, helperEnv);
    return releasedWith(dump, held);
  } catch (err) {
    await held.release(false);
    throw err;
  }
}

// --- internal ---

interface HeldSnapshot {
  /** For `SET TRANSACTION SNAPSHOT` and `pg_dump --snapshot`. */
  id: string;
  /** The connection, with every session of this dump tagged (`PGAPPNAME`) so release can find them. */
  conn: PgConnection;
  /** Ends the holding session; unless `clean`, also terminates every tagged session. Idempotent. */
  release(clean: boolean): Promise<void>;
}

/**
 * Opens a read-only repeatable-read transaction, exports its snapshot and keeps the session open
 * (psql reading a stdin that stays open) until released. An exported snapshot lives only as long
 * as the transaction that exported it.
 */
async function holdSnapshot(ctx: RunContext, conn: PgConnection, db: string): Promise<HeldSnapshot> {
  const tag = `sdbackup-${randomUUID().slice(0, 8)}`;
  const tagged = { ...conn, env: { ...conn.env, PGAPPNAME: tag } };
  const input = new PassThrough();
  const stop = new AbortController();
  const argv = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "--no-password", "--username", conn.user, "--dbname", dbArg(db)];
  const session = ctx.docker.execStream(ctx.container.id, argv, {
    env: tagged.env, stdin: input, secrets: ctx.secrets.values(), service: ctx.service.name, signal: AbortSignal.any([ctx.signal, stop.signal]),
  });
  const closed = new Promise<true>((resolve) => session.once("close", () => resolve(true)));
  const id = new Promise<string>((resolve, reject) => {
    let text = "";
    session.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const line = text.split("\n", 2);
      if (line.length === 2) resolve(line[0]!.trim());
    });
    // Also after the id: a session that fails later must not throw an unhandled error.
    session.on("error", reject);
    session.on("end", () => reject(new StrategyError(`psql ended before it exported a snapshot of ${db}`)));
  });
  let released: Promise<void> | undefined;
  const release = (clean: boolean) =>
    (released ??= (async () => {
      input.end(); // psql reads EOF, ends the transaction and disconnects
      if (clean && (await Promise.race([closed, sleep(CLOSE_WAIT_MS, false, { ref: false })]))) return;
      stop.abort(new Error("snapshot released"));
      await closed;
      await terminateTagged(ctx, conn, tag);
    })());
  input.write("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\nSELECT pg_export_snapshot();\n");
  try {
    return { id: await id, conn: tagged, release };
  } catch (err) {
    await release(false);
    throw err;
  }
}

/** The inventory in the held snapshot; a failure costs the drill comparison, not the backup. */
async function countInSnapshot(ctx: RunContext, held: HeldSnapshot, db: string): Promise<void> {
  try {
    ctx.recordInventory?.(await databaseInventory(ctx, held.conn, db, held.id));
  } catch (err) {
    throwIfAborted(ctx.signal);
    ctx.log.warn(`${ctx.service.name}/${db}: no inventory for restore drills: ${errorMessage(err)}`);
  }
}

/** `dump`, ending or failing only once `held` is released: no session outlives the stream. */
function releasedWith(dump: Readable, held: HeldSnapshot): Readable {
  let flushed = false;
  const out = new Transform({
    transform: (chunk: Buffer, _enc, done) => done(null, chunk),
    flush: (done) => {
      flushed = true;
      held.release(true).then(() => done(), done);
    },
    destroy: (err, done) => void held.release(flushed && err === null).then(() => done(err), () => done(err)),
  });
  pipeline(dump, out, () => {}); // a failed dump destroys `out` with its error
  return out;
}

/**
 * After a failure or an abort: a killed client does not end a backend that waits on a lock, so the
 * sessions tagged for this dump are terminated (allowed for one's own role), with a fresh signal.
 */
async function terminateTagged(ctx: RunContext, conn: PgConnection, tag: string): Promise<void> {
  const sql = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${literal(tag)} AND pid <> pg_backend_pid()`;
  await query({ ...ctx, signal: AbortSignal.timeout(CLOSE_WAIT_MS) }, conn, conn.home, sql).catch((err: unknown) => {
    ctx.log.warn(`${ctx.service.name}: could not end the dump's sessions (application_name ${tag}): ${errorMessage(err)}`);
  });
}
