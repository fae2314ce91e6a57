import { join, posix } from "node:path";
import type { RunContext, Strategy } from "./types.ts";
import { StrategyError } from "../errors.ts";
import { expectMagic } from "./shared/validate.ts";
import { repoMatcher } from "./shared/image-match.ts";
import { openContainerFile, putContainerFile, readSpooled, spoolDir, spoolTo, statPath } from "./shared/container-file.ts";
import { onMount, runHelper, withStopped } from "./shared/lifecycle.ts";
import { redisConnection } from "./redis/cli.ts";
import { readLayout, type RedisLayout } from "./redis/layout.ts";
import { freshSnapshot, waitForRedis } from "./redis/save.ts";

/** Name of the uploaded RDB next to the real one until the helper renames it. */
const TMP_RDB = ".sdbackup-restore.rdb";

/**
 * Redis and its forks: a fresh `BGSAVE`, then the RDB file streamed out through the archive API
 * (no shell or buffering). Restore swaps the file in while the server is stopped and, when the
 * server loads an append-only file at start, replaces that AOF with one built from the RDB: an
 * AOF always wins over the RDB, and Redis 7 with no AOF starts empty instead of reading the RDB.
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
    try {
      const file = join(spool.dir, "dump.rdb");
      const size = await spoolTo(input, file, ctx.signal);
      await withStopped(ctx, () => putInPlace(ctx, layout, file, size));
    } finally {
      await spool.cleanup();
    }
    if (conn) await waitForRedis(ctx, conn);
  },

  validate: (input) => expectMagic(input, [Buffer.from("REDIS")], "a Redis RDB file"),
} satisfies Strategy;

// --- internal ---

/*
 * Runs as root in a helper that shares the service's volumes. Everything is built next to the
 * target and renamed into place, so a failure leaves the old files. The old AOF is kept once, as
 * `<name>.sdbackup-before-restore`. Arguments: dir tmp dbfilename kind aof-name aof-filename owner.
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
if [ "$kind" != none ]; then
  rm -rf -- "$aof.sdbackup-before-restore"
  if [ -e "$aof" ] || [ -L "$aof" ]; then mv -- "$aof" "$aof.sdbackup-before-restore"; fi
  mv -- "$new" "$aof"
fi
mv -f -- "$tmp" "$db"`;

/** With the server stopped: upload the RDB beside the old one, then swap it (and the AOF) in. */
async function putInPlace(ctx: RunContext, layout: RedisLayout, file: string, size: number): Promise<void> {
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
    return;
  }
  await putContainerFile(docker, container.id, dir, { name: TMP_RDB, ...entry }, signal);
  const args = [dir, TMP_RDB, dbfilename, aof?.kind ?? "none", aof?.name ?? "", aof?.filename ?? "", `${owner.uid}:${owner.gid}`];
  await runHelper(ctx, `put the RDB${aof ? " and a new append-only file" : ""} in place in ${dir}`, SWAP_SCRIPT, args);
  if (aof) ctx.log.info(`${ctx.service.name}: the previous append-only file is kept as ${posix.join(dir, `${aof.name}.sdbackup-before-restore`)}`);
}
