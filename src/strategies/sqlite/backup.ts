import { randomBytes } from "node:crypto";
import { join, posix } from "node:path";
import type { Readable } from "node:stream";
import type { RunContext } from "../types.ts";
import { StrategyError, errorMessage } from "../../errors.ts";
import { COMPANIONS, memberName, type Suffix } from "./artifact.ts";
import { openContainerFile, packEntries, readSpooled, spoolDir, spoolTo, statPath, type PackEntry, type PathStat } from "../shared/container-file.ts";
import { withPaused } from "../shared/lifecycle.ts";

/** How long `.backup` waits for a writer's lock before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * `sqlite3 <db> ".backup <copy>"` per database, run as the database's owner so that nothing it
 * creates is unreadable for the application; each copy is streamed out and removed again.
 */
export function onlineBackup(ctx: RunContext, paths: readonly string[]): Readable {
  async function* entries(): AsyncGenerator<PackEntry> {
    for (const path of paths) {
      const stat = await existingFile(ctx, path);
      const user = `${stat.uid}:${stat.gid}`;
      const copy = posix.join(posix.dirname(path), `.sdbackup-backup.${posix.basename(path)}.${randomBytes(4).toString("hex")}`);
      try {
        const argv = ["sqlite3", path, `.timeout ${BUSY_TIMEOUT_MS}`, `.backup ${dotArg(copy)}`];
        const r = await ctx.docker.exec(ctx.container.id, argv, { user, service: ctx.service.name, signal: ctx.signal });
        if (r.exitCode !== 0 || /^Error/m.test(r.stderr)) {
          throw new StrategyError(`could not copy ${path} with sqlite3 .backup`, {
            exec: { service: ctx.service.name, container: ctx.container.id, argv, exitCode: r.exitCode, stderrTail: r.stderr },
          });
        }
        const { stat: copied, body } = await openContainerFile(ctx.docker, ctx.container.id, copy, ctx.signal);
        yield { name: memberName(path), size: copied.size, mode: stat.mode, uid: stat.uid, gid: stat.gid, body: () => body };
      } finally {
        await removeCopy(ctx, copy, user);
      }
    }
  }
  return packEntries(entries());
}

/**
 * Copies each database with its `-wal` or `-journal` (a copy taken mid-transaction needs them) to
 * the host while the container is paused, so the pause lasts as long as a local copy and not as
 * long as the upload. Stopped (or already paused) containers are copied as they are.
 */
export async function pausedCopy(ctx: RunContext, paths: readonly string[]): Promise<Readable> {
  const spool = await spoolDir();
  try {
    const files = await withPaused(ctx, async () => {
      const out: (PackEntry & { file: string })[] = [];
      for (const [i, path] of paths.entries()) {
        const stat = await existingFile(ctx, path);
        for (const suffix of ["", ...COMPANIONS] as Suffix[]) {
          if (suffix && (await statPath(ctx.docker, ctx.container.id, path + suffix, ctx.signal))?.type !== "file") continue;
          const { stat: s, body } = await openContainerFile(ctx.docker, ctx.container.id, path + suffix, ctx.signal);
          const file = join(spool.dir, `${i}${suffix || ".db"}`);
          const size = await spoolTo(body, file, ctx.signal);
          out.push({ name: memberName(path, suffix), size, mode: s.mode || stat.mode, uid: s.uid, gid: s.gid, file });
        }
      }
      return out;
    });
    const stream = packEntries(files.map((f) => ({ ...f, body: () => readSpooled(f.file) })));
    stream.once("close", () => void spool.cleanup());
    return stream;
  } catch (err) {
    await spool.cleanup();
    throw err;
  }
}

// --- internal ---

/** sqlite3 creates a database that does not exist: a typo in the label must not back up an empty one. */
async function existingFile(ctx: RunContext, path: string): Promise<PathStat> {
  const stat = await statPath(ctx.docker, ctx.container.id, path, ctx.signal);
  if (!stat) throw new StrategyError(`${path} does not exist in service ${ctx.service.name}`, { hint: "check simpledeploy.backup.paths" });
  if (stat.type !== "file") throw new StrategyError(`${path} in service ${ctx.service.name} is not a regular file (${stat.type})`);
  return stat;
}

/** Quotes a dot-command argument for the sqlite3 shell: single quotes are literal, double quotes take escapes. */
export function dotArg(value: string): string {
  return value.includes("'") ? `"${value.replace(/[\\"]/g, "\\$&")}"` : `'${value}'`;
}

/** Best effort, with its own deadline: also runs after an abort. */
async function removeCopy(ctx: RunContext, copy: string, user: string): Promise<void> {
  try {
    const r = await ctx.docker.exec(ctx.container.id, ["rm", "-f", copy], { user, killable: false, service: ctx.service.name, signal: AbortSignal.timeout(30_000) });
    if (r.exitCode !== 0) ctx.log.warn(`${ctx.service.name}: could not remove the temporary copy ${copy}: ${r.stderr.trim()}`);
  } catch (err) {
    ctx.log.warn(`${ctx.service.name}: could not remove the temporary copy ${copy}: ${errorMessage(err)}`);
  }
}
