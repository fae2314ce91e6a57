import { posix } from "node:path";
import type { RunContext } from "../types.ts";
import { imageRepo } from "../../compose/image.ts";
import { StrategyError } from "../../errors.ts";
import { statPath } from "../shared/container-file.ts";
import { RedisReplyError, configGet, serverArgs, serverOption, type RedisConnection } from "./cli.ts";

/** Where the server keeps its data files, and the append-only file a restore has to replace. */
export interface RedisLayout {
  dir: string;
  dbfilename: string;
  /**
   * Set when the server loads an AOF at start (which would win over the RDB): `dir` is Redis 7's
   * multi-part directory (`appenddirname`), `file` the single file of Redis < 7.
   */
  aof?: { kind: "dir" | "file"; name: string; filename: string };
}

/**
 * `CONFIG GET` when the server answers it; otherwise (stopped container, CONFIG renamed or denied)
 * the server's command line, then the image's defaults, with a warning.
 */
export async function readLayout(ctx: RunContext, conn: RedisConnection | undefined, withAof: boolean): Promise<RedisLayout> {
  const names = withAof ? ["dir", "dbfilename", "appendonly", "appenddirname", "appendfilename"] : ["dir", "dbfilename"];
  const cfg = conn ? await tryConfig(ctx, conn, names) : undefined;
  const args = serverArgs(ctx);
  const arg = (name: string) => serverOption(args, name);
  if (!cfg) {
    const why = conn ? "CONFIG GET is not available" : "the container is not running";
    ctx.log.warn(`${ctx.service.name}: ${why}; assuming the data directory from the command line or the image's default`);
  }
  const dir = posix.resolve("/", cfg?.dir ?? arg("dir") ?? defaultDir(ctx.container.image));
  const dbfilename = plainName(cfg?.dbfilename ?? arg("dbfilename") ?? "dump.rdb", "dbfilename");
  const layout: RedisLayout = { dir, dbfilename };
  if (!withAof) return layout;

  const filename = plainName(cfg?.appendfilename ?? arg("appendfilename") ?? "appendonly.aof", "appendfilename");
  if (cfg) {
    if (cfg.appendonly === "yes") {
      layout.aof = cfg.appenddirname ? { kind: "dir", name: plainName(cfg.appenddirname, "appenddirname"), filename } : { kind: "file", name: filename, filename };
    }
    return layout;
  }
  // Without CONFIG, an AOF on disk is replaced whether or not it is in use: that is harmless, keeping it is not.
  const dirName = plainName(arg("appenddirname") ?? "appendonlydir", "appenddirname");
  if ((await statPath(ctx.docker, ctx.container.id, posix.join(dir, dirName), ctx.signal))?.type === "directory") {
    layout.aof = { kind: "dir", name: dirName, filename };
  } else if (await statPath(ctx.docker, ctx.container.id, posix.join(dir, filename), ctx.signal)) {
    layout.aof = { kind: "file", name: filename, filename };
  } else if (arg("appendonly") === "yes") {
    ctx.log.warn(`${ctx.service.name}: appendonly is on and no AOF exists yet; writing a Redis 7 AOF directory`);
    layout.aof = { kind: "dir", name: dirName, filename };
  }
  return layout;
}

// --- internal ---

async function tryConfig(ctx: RunContext, conn: RedisConnection, names: readonly string[]): Promise<Record<string, string | undefined> | undefined> {
  const out: Record<string, string | undefined> = {};
  try {
    for (const name of names) out[name] = await configGet(ctx, conn, name);
  } catch (err) {
    if (err instanceof RedisReplyError && /unknown command|NOPERM|no permissions/i.test(err.reply)) return undefined;
    throw err;
  }
  return out;
}

/** Bitnami images keep their data below /bitnami; the official ones (and forks) use /data. */
function defaultDir(image: string): string {
  return /(^|\/)bitnami\//.test(image) ? `/bitnami/${imageRepo(image)}/data` : "/data";
}

/** Redis refuses paths in these settings; a name with whitespace could not go into a manifest. */
function plainName(name: string, setting: string): string {
  if (!name || name.includes("/") || /\s|"|'/.test(name) || name === "." || name === "..") {
    throw new StrategyError(`unsupported Redis ${setting} "${name}"`);
  }
  return name;
}
