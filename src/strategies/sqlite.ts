import { posix } from "node:path";
import type { RunContext, Strategy } from "./types.ts";
import { sqliteInventory } from "./sqlite/inventory.ts";
import { LABEL, splitList } from "../compose/labels.ts";
import { StrategyError } from "../errors.ts";
import { onlineBackup, pausedCopy } from "./sqlite/backup.ts";
import { readSqliteTar, type SqliteMember } from "./sqlite/artifact.ts";
import { putContainerFile, readSpooled, spoolDir, statPath, type PathStat } from "./shared/container-file.ts";
import { onMount, runHelper, withStopped } from "./shared/lifecycle.ts";

/**
 * SQLite is never guessed from an image: a label names the strategy and the database files. The
 * artifact is a tar of the databases (see sqlite-artifact.ts). With `sqlite3` in the container the
 * copy is taken online with `.backup`; without it the container is paused while the files (and
 * their WAL or rollback journal) are copied. Restore works with the service stopped: the files
 * are uploaded beside the old ones, checked with `PRAGMA integrity_check` in a helper container
 * that has sqlite3, and renamed into place after the old `-wal`/`-shm`/`-journal` are removed.
 */
export const sqlite = {
  name: "sqlite" as const,
  ext: "sqlite.tar",
  description: "online .backup of SQLite database files (or a paused copy); restored with the service stopped",
  // Stopped containers are copied as they are, through the archive API.
  needsRunning: false,
  matchImage: () => 0,

  inspect(_service, labels) {
    const paths = splitList(labels[LABEL.paths]);
    const warnings = paths.length ? [] : [`set ${LABEL.paths} to the database file(s), e.g. /data/app.db`];
    const relative = paths.filter((p) => !p.startsWith("/"));
    if (relative.length) warnings.push(`database paths must be absolute: ${relative.join(", ")}`);
    return { paths, warnings };
  },

  async backup(ctx) {
    const paths = databasePaths(ctx);
    if (ctx.container.running && !ctx.container.paused && (await hasSqlite3(ctx))) return onlineBackup(ctx, paths);
    return pausedCopy(ctx, paths);
  },

  async restore(ctx, input) {
    const paths = databasePaths(ctx);
    const outside = paths.filter((p) => !onMount(ctx, p));
    if (outside.length) {
      throw new StrategyError(`cannot restore ${outside.join(", ")}: not on a volume or bind mount of service ${ctx.service.name}`, {
        hint: "sqlite restores swap the files in from a helper container, which sees only volumes and bind mounts",
      });
    }
    const spool = await spoolDir();
    try {
      const members = await readSqliteTar(input, paths, spool.dir);
      const owners = await Promise.all(paths.map((p) => ownerOf(ctx, p)));
      await withStopped(ctx, () => swapIn(ctx, paths, members, owners, spool.dir));
    } finally {
      await spool.cleanup();
    }
  },

  validate: async (input, detection) => void (await readSqliteTar(input, detection.paths)),
  // From the archived copy, on the stream as backup writes it and again in drills (no container).
  inventoryOf: (input, detection) => sqliteInventory(input, detection.paths),
} satisfies Strategy;

// --- internal ---

/** Name of the uploaded copy of `path` (and, with a suffix, of its companions) next to it. */
const tmpName = (path: string) => `.sdbackup-restore.${posix.basename(path)}`;

/*
 * Arguments: mode (swap|clean), then the database paths. Everything that can fail is checked
 * before anything changes: old companions that are not plain files, and every uploaded copy with
 * `PRAGMA integrity_check` when the image has sqlite3. Then, per database, the old companions go
 * and the copy (with its own companion, if any) is renamed into place; the database goes first, so
 * an interruption never pairs a new WAL with an old database. The EXIT trap removes leftovers.
 */
const SWAP_SCRIPT = `set -e
mode=$1; shift
tmp() { printf '%s/.sdbackup-restore.%s' "$(dirname -- "$1")" "$(basename -- "$1")"; }
cleanup() { for p in "$@"; do t=$(tmp "$p"); rm -f -- "$t" "$t-wal" "$t-journal" "$t-shm"; done; }
trap 'cleanup "$@"' EXIT
[ "$mode" = swap ] || exit 0
for p in "$@"; do for s in -wal -shm -journal; do
  if [ -e "$p$s" ] && [ ! -f "$p$s" ]; then echo "error: $p$s is not a regular file and cannot be replaced" >&2; exit 3; fi
done; done
if command -v sqlite3 >/dev/null 2>&1; then
  for p in "$@"; do
    r=$(sqlite3 "$(tmp "$p")" 'PRAGMA integrity_check' 2>&1) || true
    if [ "$r" != ok ]; then echo "error: PRAGMA integrity_check failed for the restored $p: $r" >&2; exit 3; fi
  done
  echo "sdbackup: integrity_check ok" >&2
else
  echo "sdbackup: no sqlite3 in this image, integrity_check skipped" >&2
fi
for p in "$@"; do
  t=$(tmp "$p")
  rm -f -- "$p-wal" "$p-shm" "$p-journal"
  mv -f -- "$t" "$p"
  for s in -wal -journal; do if [ -e "$t$s" ]; then mv -f -- "$t$s" "$p$s"; fi; done
done`;

async function swapIn(ctx: RunContext, paths: readonly string[], members: readonly SqliteMember[], owners: readonly PathStat[], spool: string): Promise<void> {
  try {
    for (const [i, path] of paths.entries()) {
      const owner = owners[i]!;
      for (const m of members.filter((x) => x.path === path)) {
        const entry = { name: tmpName(path) + m.suffix, size: m.size, mode: owner.mode, uid: owner.uid, gid: owner.gid, body: () => readSpooled(m.file!) };
        await putContainerFile(ctx.docker, ctx.container.id, posix.dirname(path), entry, ctx.signal);
      }
    }
  } catch (err) {
    await runHelper(ctx, "remove the uploaded copies", SWAP_SCRIPT, ["clean", ...paths]).catch(() => {});
    throw err;
  }
  const { image, output } = await runHelper(ctx, `check and swap in ${paths.join(", ")}`, SWAP_SCRIPT, ["swap", ...paths]);
  if (output.includes("integrity_check ok")) ctx.log.info(`${ctx.service.name}: PRAGMA integrity_check ok (sqlite3 of ${image})`);
  else ctx.log.warn(`${ctx.service.name}: integrity_check skipped: ${image} has no sqlite3 (set ${LABEL.helperImage} to an image with sqlite3)`);
}

function databasePaths(ctx: RunContext): string[] {
  const paths = ctx.detection.paths;
  if (paths.length === 0) throw new StrategyError(`service ${ctx.service.name} names no database files`, { hint: `set ${LABEL.paths}, e.g. /data/app.db` });
  const bad = paths.filter((p) => !p.startsWith("/") || p.endsWith("/") || p.split("/").includes(".."));
  if (bad.length) throw new StrategyError(`database paths must be absolute file paths: ${bad.join(", ")}`);
  return [...paths];
}

/** sqlite3 runnable through sh (which the exec needs to be interruptible). */
async function hasSqlite3(ctx: RunContext): Promise<boolean> {
  const r = await ctx.docker.exec(ctx.container.id, ["sqlite3", "-version"], { service: ctx.service.name, signal: ctx.signal });
  ctx.log.debug(`${ctx.service.name}: sqlite3 ${r.exitCode === 0 ? `found (${r.stdout.toString().split(" ")[0]})` : "not found; copying the files while paused"}`);
  return r.exitCode === 0;
}

/** The current database's owner and mode, else its directory's owner with mode 0644. */
async function ownerOf(ctx: RunContext, path: string): Promise<PathStat> {
  const current = await statPath(ctx.docker, ctx.container.id, path, ctx.signal);
  if (current) return current;
  const dir = await statPath(ctx.docker, ctx.container.id, posix.dirname(path), ctx.signal);
  if (!dir) throw new StrategyError(`cannot restore ${path}: ${posix.dirname(path)} does not exist in service ${ctx.service.name}`);
  return { ...dir, mode: 0o644 };
}
