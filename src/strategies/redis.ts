import { join, posix } from "node:path";
import type { RunContext, Strategy } from "./types.ts";
import { StrategyError } from "../errors.ts";
import { repoMatcher } from "./shared/image-match.ts";
import { openContainerFile, putContainerFile, readSpooled, spoolDir, spoolTo, statPath } from "./shared/container-file.ts";
import { onMount, runHelper, withStopped } from "./shared/lifecycle.ts";
import { info, redisConnection, type RedisConnection } from "./redis/cli.ts";
import { readLayout, type RedisLayout } from "./redis/layout.ts";
import { freshSnapshot, waitForRedis } from "./redis/save.ts";
import { checkRdb } from "./redis/rdb-check.ts";
import { redisReady } from "./redis/ready.ts";

/** Name of the uploaded RDB next to the real one until the helper renames it. */
const TMP_RDB = ".sdbackup-restore.rdb";
/** Suffix of the previous RDB and AOF, kept until the server has loaded the new ones. */
const KEEP = ".sdbackup-before-restore";

/**
 * Redis and its forks: a fresh `BGSAVE`, then the RDB file streamed out through the archive API
 * (no shell or buffering). Restore swaps the file in while the server is stopped and, when the
 * server loads an append-only file at start, replaces that AOF with one built from the RDB: an
 * AOF always wins over the RDB, and Redis 7 with no AOF starts empty instead of reading the RDB.
 * The previous RDB (and AOF) stay beside the new ones until the server answers again; a server
 * that cannot load the new files gets the old ones back, and the restore fails saying so.
 */
export const redis = {
  name: "redis" as const,
  ext: "rdb",
  description: "BGSAVE, then the RDB file copied out; restored with the server stopped (AOF rebuilt from it)",
  needsRunning: true,
  matchImage: repoMatcher(["redis", "valkey", "keydb", "redis-stack-server", "redis-stack"], []),
  signature: { env: ["REDIS_PASSWORD", "REDIS_AOF_ENABLED", "REDIS_DISABLE_COMMANDS", "VALKEY_PASSWORD"], dataDirs: ["/bitnami/redis/data", "/bitnami/valkey/data"] },

  inspect() {
    return { warnings: [] };
  },

  ready: redisReady,

  // INFO keyspace: `db0:keys=12,expires=0,…` per non-empty logical database, right before BGSAVE.
  async inventory(ctx) {
    const keyspace = await info(ctx, await redisConnection(ctx), "keyspace");
    const counts: Record<string, number> = {};
    for (const [db, value] of Object.entries(keyspace)) counts[db] = Number(/keys=(\d+)/.exec(value)?.[1] ?? 0);
    return { counts, how: "keys per database (INFO keyspace) right before BGSAVE" };
  },

  drill: { env: () => ({}) },

  async backup(ctx) {
    const conn = await redisConnection(ctx);
    const { dir, dbfilename } = await readLayout(ctx, conn, false);
    await freshSnapshot(ctx, conn);
    const { body } = await openContainerFile(ctx.docker, ctx.container.id, posix.join(dir, dbfilename), ctx.signal);
    return body;
  },

  async restore(ctx, input) {
    const running = ctx.container.running && !ctx.container.paused;
    const conn = running ? await redisConnection(ctx) : undefined;
    const layout = await readLayout(ctx, conn, true);
    if (layout.aof && !onMount(ctx, layout.dir)) {
      throw new StrategyError(`cannot replace the append-only file: ${layout.dir} is not on a volume or bind mount of service ${ctx.service.name}`);
    }
    const spool = await spoolDir();
    let swapped = false;
    try {
      const file = join(spool.dir, "dump.rdb");
      const size = await spoolTo(input, file, ctx.signal);
      await withStopped(ctx, async () => void (swapped = await putInPlace(ctx, layout, file, size)));
    } finally {
      await spool.cleanup();
    }
    if (!swapped) return;
    if (!conn) {
      ctx.log.warn(`${ctx.service.name}: the server is not running, so whether it loads the restored RDB is unknown; the previous files are kept with the suffix ${KEEP}`);
      return;
    }
    await loadedOrRolledBack(ctx, conn, layout);
  },

  validate: (input) => checkRdb(input),
} satisfies Strategy;

// --- internal ---

/*
 * Runs as root in a helper that shares the service's volumes. Everything is built next to the
 * target and renamed into place, so a failure leaves the old files. The old RDB and AOF are kept
 * as `<name>${KEEP}` until the server loaded the new ones (the AOF's copy stays: one generation).
 * Arguments: dir tmp dbfilename kind aof-name aof-filename owner.
 */
const SWAP_SCRIPT = `set -e
cd -- "$1"
tmp=$2 db=$3 kind=$4 aof=$5 file=$6 owner=$7 new=.sdbackup-restore.aof
trap 'rm -rf -- "$tmp" "$new"' EXIT
rm -rf -- "$new"
case "$kind" in
dir)
  mkdir -m 700 -- "$new"
  cp -p -- "$tmp" "$new/$file.1.base.rdb"
  printf 'file %s seq 1 type b\\n' "$file.1.base.rdb" > "$new/$file.manifest"
  chmod 600 "$new/$file.manifest"
  chown -R "$owner" "$new" ;;
file)
  cp -p -- "$tmp" "$new" ;;
esac
rm -f -- "$db${KEEP}"
if [ -e "$db" ]; then cp -p -- "$db" "$db${KEEP}"; fi
if [ "$kind" != none ]; then
  rm -rf -- "$aof${KEEP}"
  if [ -e "$aof" ] || [ -L "$aof" ]; then mv -- "$aof" "$aof${KEEP}"; fi
  mv -- "$new" "$aof"
fi
mv -f -- "$tmp" "$db"`;

/*
 * Puts the kept files back: the previous RDB (or none, when there was none) and the previous AOF
 * (or none). Arguments: dir dbfilename aof-name (empty without an AOF).
 */
const ROLLBACK_SCRIPT = `set -e
cd -- "$1"
db=$2 aof=$3
if [ -e "$db${KEEP}" ]; then mv -f -- "$db${KEEP}" "$db"; else rm -f -- "$db"; fi
if [ -n "$aof" ]; then
  rm -rf -- "$aof"
  if [ -e "$aof${KEEP}" ] || [ -L "$aof${KEEP}" ]; then mv -- "$aof${KEEP}" "$aof"; fi
fi`;

/**
 * With the server started again: waits until it answers. When it does not (it could not load the
 * new files), puts the previous ones back, starts it again and fails saying so.
 */
async function loadedOrRolledBack(ctx: RunContext, conn: RedisConnection, layout: RedisLayout): Promise<void> {
  try {
    await waitForRedis(ctx, conn);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    ctx.log.warn(`${ctx.service.name}: Redis did not come up with the restored data; putting the previous files back`);
    const fresh = { ...ctx, container: { ...ctx.container, running: true, paused: false } };
    await withStopped(fresh, () => runHelper(ctx, `put the previous RDB back in ${layout.dir}`, ROLLBACK_SCRIPT, [layout.dir, layout.dbfilename, layout.aof?.name ?? ""]));
    await waitForRedis(ctx, conn);
    throw new StrategyError(`Redis in service ${ctx.service.name} could not load the restored RDB; the previous data was put back and the server is running again`, {
      cause: err,
      hint: "the artifact passed its checks, so the server likely cannot read this RDB version; see the container's logs",
    });
  }
  await runHelper(ctx, `remove the previous RDB kept in ${layout.dir}`, `rm -f -- "$1/$2${KEEP}"`, [layout.dir, layout.dbfilename]).catch((err: unknown) => {
    ctx.log.warn(`${ctx.service.name}: could not remove ${posix.join(layout.dir, layout.dbfilename + KEEP)}: ${(err as Error).message}`);
  });
}

/**
 * With the server stopped: upload the RDB beside the old one, then swap it (and the AOF) in.
 * True when the previous files were kept (the directory is on a mount a helper can reach).
 */
async function putInPlace(ctx: RunContext, layout: RedisLayout, file: string, size: number): Promise<boolean> {
  const { docker, container, signal } = ctx;
  const { dir, dbfilename, aof } = layout;
  const current = await statPath(docker, container.id, posix.join(dir, dbfilename), signal);
  const parent = await statPath(docker, container.id, dir, signal);
  if (!parent) throw new StrategyError(`the Redis data directory ${dir} does not exist in service ${ctx.service.name}`);
  const owner = current ?? parent;
  const entry = { size, mode: current?.mode ?? 0o600, uid: owner.uid, gid: owner.gid, body: () => readSpooled(file) };
  if (!onMount(ctx, dir)) {
    // Not visible to a helper: write in place (not atomic, but the only way into the container's own layer).
    await putContainerFile(docker, container.id, dir, { name: dbfilename, ...entry }, signal);
    return false;
  }
  await putContainerFile(docker, container.id, dir, { name: TMP_RDB, ...entry }, signal);
  const args = [dir, TMP_RDB, dbfilename, aof?.kind ?? "none", aof?.name ?? "", aof?.filename ?? "", `${owner.uid}:${owner.gid}`];
  await runHelper(ctx, `put the RDB${aof ? " and a new append-only file" : ""} in place in ${dir}`, SWAP_SCRIPT, args);
  if (aof) ctx.log.info(`${ctx.service.name}: the previous append-only file is kept as ${posix.join(dir, `${aof.name}${KEEP}`)}`);
  return true;
}
