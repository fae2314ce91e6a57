import type { RunContext } from "../types.ts";
import { resolveEnv } from "../shared/credentials.ts";
import { LABEL } from "../../compose/labels.ts";
import { StrategyError } from "../../errors.ts";
import { labelOf } from "../shared/lifecycle.ts";

/** Variables that hold the server password in the official, Bitnami and fork images. */
export const REDIS_PASSWORD_KEYS = ["REDIS_PASSWORD", "VALKEY_PASSWORD", "KEYDB_PASSWORD"] as const;
const PORT_KEYS = ["REDIS_PORT_NUMBER", "VALKEY_PORT_NUMBER"] as const;
/** An error reply: redis-cli prints it on stdout and still exits 0 when stdout is not a TTY. */
const ERROR_REPLY = /^(?:\(error\) )?([A-Z][A-Z0-9_]+) /;

/** How to reach the server with redis-cli. The password travels only in `env` (REDISCLI_AUTH). */
export interface RedisConnection {
  /** Arguments before the command: `--user`, `-p`. No secrets. */
  args: string[];
  env: Record<string, string>;
}

/** A reply of Redis that is an error (`ERR …`, `NOAUTH …`). */
export class RedisReplyError extends StrategyError {
  override name = "RedisReplyError";
  readonly reply: string;
  constructor(message: string, reply: string, hint?: string) {
    super(message, hint ? { hint } : {});
    this.reply = reply;
  }
}

/**
 * The server's own command line (compose `command`, else the container's Cmd), as words. A shell
 * form string is split on whitespace, which is enough to find `--requirepass` and friends.
 */
export function serverArgs(ctx: Pick<RunContext, "service" | "container">): string[] {
  const command = ctx.service.command;
  if (Array.isArray(command)) return command;
  if (typeof command === "string") return command.trim().split(/\s+/);
  return ctx.container.cmd;
}

/** The value after `--name` on a redis-server command line (`--name value`), if any. */
export function serverOption(args: readonly string[], name: string): string | undefined {
  const i = args.lastIndexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Password, in this order: the variable named by `simpledeploy.backup.password-env`; `--requirepass`
 * on the server's command line (a `$VAR` there is looked up); `REDIS_PASSWORD` (or `_FILE`).
 */
export async function redisConnection(ctx: RunContext): Promise<RedisConnection> {
  const args = serverArgs(ctx);
  const override = labelOf(ctx, LABEL.passwordEnv);
  let password: string | undefined;
  if (override) {
    password = await resolveEnv(ctx, [override], { secret: true });
  } else {
    const fromArgs = serverOption(args, "requirepass");
    const ref = fromArgs === undefined ? undefined : /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(fromArgs)?.[1];
    if (ref) password = await resolveEnv(ctx, [ref], { secret: true });
    else if (fromArgs) ctx.secrets.add((password = fromArgs));
    else password = await resolveEnv(ctx, REDIS_PASSWORD_KEYS, { secret: true });
  }
  const user = labelOf(ctx, LABEL.user);
  const port = serverOption(args, "port") ?? (await resolveEnv(ctx, PORT_KEYS, { secret: false }));
  return {
    args: [...(user ? ["--user", user] : []), ...(port && port !== "6379" ? ["-p", port] : [])],
    env: password ? { REDISCLI_AUTH: password } : {},
  };
}

/** `redis-cli <command>` in the service's container; its stdout without the final newline. */
export async function redisCall(ctx: RunContext, conn: RedisConnection, command: readonly string[]): Promise<string> {
  const argv = ["redis-cli", ...conn.args, ...command];
  const r = await ctx.docker.exec(ctx.container.id, argv, {
    env: conn.env,
    secrets: ctx.secrets.values(),
    service: ctx.service.name,
    signal: ctx.signal,
  });
  if (r.exitCode !== 0) {
    throw new StrategyError(`redis ${command[0]} failed`, {
      exec: { service: ctx.service.name, container: ctx.container.id, argv, exitCode: r.exitCode, stderrTail: r.stderr },
    });
  }
  const out = r.stdout.toString("utf8").replace(/\r?\n$/, "");
  const m = ERROR_REPLY.exec(out);
  if (m) {
    const reply = out.split("\n")[0]!.replace(/^\(error\) /, "");
    const auth = /^(NOAUTH|WRONGPASS|NOPERM)$/.test(m[1]!);
    const detail = r.stderr.trim() ? ` (${r.stderr.trim().split("\n").pop()})` : "";
    throw new RedisReplyError(
      `Redis in service ${ctx.service.name} refused ${command.join(" ")}: ${reply}${detail}`,
      reply,
      auth ? `check the password: --requirepass, REDIS_PASSWORD(_FILE) or ${LABEL.passwordEnv}` : undefined,
    );
  }
  return out;
}

/** `CONFIG GET name` → its value; undefined for an unknown parameter. */
export async function configGet(ctx: RunContext, conn: RedisConnection, name: string): Promise<string | undefined> {
  const lines = (await redisCall(ctx, conn, ["CONFIG", "GET", name])).split("\n");
  return lines[0] === name ? (lines[1] ?? "") : undefined;
}

/** `INFO <section>` as a map of its `key:value` lines. */
export async function info(ctx: RunContext, conn: RedisConnection, section: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await redisCall(ctx, conn, ["INFO", section])).split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export async function integerReply(ctx: RunContext, conn: RedisConnection, command: readonly string[]): Promise<number> {
  const out = await redisCall(ctx, conn, command);
  const n = Number(out.split("\n")[0]);
  if (!Number.isSafeInteger(n)) throw new StrategyError(`redis ${command[0]} gave an unexpected reply in service ${ctx.service.name}: ${out.slice(0, 80)}`);
  return n;
}
