import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import tar from "tar-stream";
import type { ComposeService } from "../../compose/model.ts";
import type { RunContext } from "../types.ts";
import { ConfigError, StrategyError } from "../../errors.ts";
import { declaresEnv, resolveEnv } from "../shared/credentials.ts";
import { LABEL, splitList } from "../../compose/labels.ts";
import { passwordKeys, runWithInput, transportDump } from "../shared/exec.ts";
import { besideServer } from "./beside.ts";
import { firstTool, probe } from "../shared/ready.ts";

/**
 * What MySQL and MariaDB share: both dump with mysqldump's options through whichever of
 * `mariadb-dump`/`mysqldump` the image has, and restore through `mariadb`/`mysql`. The password
 * reaches the client in an option file written into the container through the archive API (mode
 * 0600, owned by the exec user, removed afterwards), never on argv; MYSQL_PWD (deprecated by MySQL)
 * is only the fallback for containers whose filesystem refuses the file.
 */

/** The environment variables an image family reads, in the order its documentation gives them. */
export interface FamilyEnv {
  rootUser: readonly string[];
  rootPassword: readonly string[];
  user: readonly string[];
  password: readonly string[];
  database: readonly string[];
  allowEmpty: readonly string[];
}

export interface Account {
  user: string;
  password?: string;
}

export interface DumpCommand {
  tool: string;
  /** Oracle MySQL's (or Percona's) mysqldump, which knows `--set-gtid-purged`. */
  mysqlTool: boolean;
  user: string;
  optionFile?: string;
  /** Empty: every database, the `mysql` system schema (users, grants) included. */
  databases: readonly string[];
}

export const DUMP_TOOLS = ["mariadb-dump", "mysqldump"] as const;
export const CLIENTS = ["mariadb", "mysql"] as const;

/**
 * `--hex-blob` and utf8mb4 keep binary and 4-byte characters intact whatever the client's default
 * charset (utf8mb3 or latin1 in older clients). `--no-tablespaces` only drops NDB tablespace
 * statements and spares non-root users MySQL ≥ 8.0.21's PROCESS requirement. GTIDs are not written:
 * restoring into a server that already executed them would fail, and SQL_LOG_BIN=0 would hide the
 * restore from replicas. `--add-drop-database` is only safe for named databases: MySQL 8 rejects
 * DROP DATABASE mysql, so a full dump replaces tables instead and reloads the restored grants.
 */
export function dumpArgv(cmd: DumpCommand): string[] {
  for (const db of cmd.databases) {
    if (db.startsWith("-")) throw new ConfigError(`invalid database name "${db}" in ${LABEL.databases}`);
  }
  return [
    cmd.tool,
    ...(cmd.optionFile ? [`--defaults-extra-file=${cmd.optionFile}`] : []),
    `--user=${cmd.user}`,
    "--single-transaction", "--routines", "--triggers", "--events",
    "--hex-blob", "--default-character-set=utf8mb4", "--no-tablespaces",
    ...(cmd.mysqlTool ? ["--set-gtid-purged=OFF"] : []),
    ...(cmd.databases.length ? ["--add-drop-database", "--databases", ...cmd.databases] : ["--all-databases", "--flush-privileges"]),
  ];
}

/**
 * Without `--force` the client stops at the first failing statement and exits 1. `--binary-mode`
 * also turns off `\!` and the other client commands a dump has no business running.
 */
export function restoreArgv(cmd: { tool: string; user: string; optionFile?: string }): string[] {
  return [
    cmd.tool,
    ...(cmd.optionFile ? [`--defaults-extra-file=${cmd.optionFile}`] : []),
    `--user=${cmd.user}`,
    "--default-character-set=utf8mb4", "--binary-mode",
  ];
}

/** A `[client]` option file; the escapes are the ones both parsers undo inside double quotes. */
export function optionFile(password: string): string {
  const escapes: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b" };
  return `[client]\npassword="${password.replace(/[\\"\n\r\t\b]/g, (c) => escapes[c] ?? c)}"\n`;
}

/**
 * A label's user (with the password-env variable or the user password), else root when a root
 * password is known or empty ones are allowed, else MYSQL_USER/MYSQL_PASSWORD, else root without
 * a password (the error then says "Access denied … using password: NO").
 */
export async function resolveAccount(ctx: RunContext, env: FamilyEnv): Promise<Account> {
  const labels = { ...ctx.container.labels, ...ctx.service.labels };
  const root = (await resolveEnv(ctx, env.rootUser, { secret: false })) ?? "root";
  const named = labels[LABEL.user];
  if (named !== undefined && named !== root) {
    return { user: named, password: await resolveEnv(ctx, passwordKeys(ctx, env.password), { secret: true }) };
  }
  const rootPassword = await resolveEnv(ctx, passwordKeys(ctx, env.rootPassword), { secret: true });
  if (rootPassword !== undefined || named !== undefined || labels[LABEL.passwordEnv]) return { user: root, password: rootPassword };
  // the official entrypoints accept any non-empty value here
  const allowEmpty = await resolveEnv(ctx, env.allowEmpty, { secret: false });
  if (allowEmpty !== undefined && !/^(0|no|false|off)$/i.test(allowEmpty.trim())) return { user: root };
  const user = await resolveEnv(ctx, env.user, { secret: false });
  const password = user === undefined ? undefined : await resolveEnv(ctx, env.password, { secret: true });
  return user !== undefined && password !== undefined ? { user, password } : { user: root };
}

/**
 * `ping` over TCP: the images' init runs a `--skip-networking` temporary server first, so only the
 * final server answers here. The admin tool exits 0 for a live server even when it refuses the
 * (absent) password, which is all readiness asks.
 */
export function familyReady(ctx: RunContext): Promise<string | undefined> {
  return probe(ctx, firstTool(["mariadb-admin", "mysqladmin"], ["--protocol=TCP", "--host=127.0.0.1", "--connect-timeout=5", "ping"]));
}

/** The label's databases, else the image's database variable; empty means all of them. */
export async function resolveDatabases(ctx: RunContext, env: FamilyEnv): Promise<string[]> {
  const labelled = splitList(ctx.service.labels[LABEL.databases] ?? ctx.container.labels[LABEL.databases]);
  if (labelled.length) return labelled;
  const db = await resolveEnv(ctx, env.database, { secret: false });
  return db ? [db] : [];
}

export function inspectFamily(service: ComposeService, labels: Record<string, string>, env: FamilyEnv): { warnings: string[] } {
  const warnings: string[] = [];
  const creds = [...env.rootPassword, ...env.password, ...env.allowEmpty];
  if (!labels[LABEL.passwordEnv] && !declaresEnv(service, creds)) {
    warnings.push("no credentials found in the compose file; the container's environment will be used");
  }
  if (!labels[LABEL.databases] && !declaresEnv(service, env.database)) {
    warnings.push("no database configured: every database is dumped, including the mysql schema (users and grants)");
  }
  return { warnings };
}

export async function backupFamily(ctx: RunContext, env: FamilyEnv): Promise<Readable> {
  const probe = await findTool(ctx, DUMP_TOOLS);
  const account = await resolveAccount(ctx, env);
  const databases = await resolveDatabases(ctx, env);
  const session = await openSession(ctx, account, probe);
  const mysqlTool = !/mariadb/i.test(`${probe.tool} ${probe.version}`);
  const argv = dumpArgv({ tool: probe.tool, mysqlTool, user: account.user, databases, ...session.file });
  ctx.log.debug(`${ctx.service.name}: ${probe.tool} as ${account.user}, ${databases.length ? databases.join(", ") : "all databases"}`);
  if (databases.length) ctx.recordDatabases?.(databases);
  const argvFor = (file?: string) => dumpArgv({ tool: probe.tool, mysqlTool, user: account.user, databases, ...(file ? { optionFile: file } : {}) });
  const beside = besideServer(ctx, account.user, argvFor, account.password === undefined ? undefined : optionFile(account.password));
  try {
    return withCleanup(await transportDump(ctx, argv, session.env, beside?.helperEnv, beside), session.close);
  } catch (err) {
    await session.close();
    throw err;
  }
}

export async function restoreFamily(ctx: RunContext, env: FamilyEnv, input: Readable): Promise<void> {
  const probe = await findTool(ctx, CLIENTS);
  const account = await resolveAccount(ctx, env);
  const session = await openSession(ctx, account, probe);
  try {
    await runWithInput(ctx, restoreArgv({ tool: probe.tool, user: account.user, ...session.file }), session.env, input);
  } catch (err) {
    // DDL commits implicitly: unlike pg_restore there is no transaction to roll back. The client
    // names the line only for statement errors; a refused login changed nothing.
    const line = err instanceof StrategyError && err.exec ? /^ERROR \d+ \(\w+\) at line (\d+)/m.exec(err.exec.stderrTail)?.[1] : undefined;
    if (!line || !(err instanceof StrategyError) || !err.exec) throw err;
    throw new StrategyError(`restore stopped at line ${line} of the dump; the statements before it stay applied`, {
      exec: err.exec, cause: err,
      hint: "fix the cause shown above and restore again: the dump drops and recreates what it contains",
    });
  } finally {
    await session.close();
  }
}

// --- internal ---

/** The tool found, its `--version` line and the exec user's ids (the option file's owner). */
export type Probe = { tool: string; version: string; uid: number; gid: number };
export type Session = { file: { optionFile?: string }; env: Record<string, string>; close(): Promise<void> };

const PROBE_SCRIPT =
  'for t in "$@"; do command -v "$t" >/dev/null 2>&1 || continue; ' +
  'printf "tool=%s\\nversion=%s\\nuid=%s\\ngid=%s\\n" "$t" "$("$t" --version 2>&1)" "$(id -u)" "$(id -g)"; exit 0; done; exit 127';
const CLEANUP_TIMEOUT_MS = 15_000;
/** Option files left by a killed run (SIGKILL, issue 11 case 11) older than this are removed. */
const OPTION_FILE_PREFIX = ".sdbackup-opt-";
const STALE_OPTION_FILE_S = 3600;
const SWEEP_SCRIPT = `now=$(date +%s) || exit 0
for f in /tmp/${OPTION_FILE_PREFIX}*.cnf; do
  [ -f "$f" ] || continue
  t=\${f#/tmp/${OPTION_FILE_PREFIX}}; t=\${t%%-*}
  case $t in ''|*[!0-9]*) continue ;; esac
  [ $((now - t)) -gt "$1" ] && rm -f -- "$f"
done
exit 0`;

/** The first of `names` on the image's PATH. */
export async function findTool(ctx: RunContext, names: readonly string[]): Promise<Probe> {
  const r = await ctx.docker.exec(ctx.container.id, ["sh", "-c", PROBE_SCRIPT, "sh", ...names], {
    secrets: ctx.secrets.values(), service: ctx.service.name, signal: ctx.signal,
  });
  const out = r.stdout.toString("utf8");
  const field = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(out)?.[1] ?? "";
  const tool = field("tool");
  if (r.exitCode !== 0 || !tool) {
    throw new StrategyError(`neither ${names.join(" nor ")} found in service ${ctx.service.name}`, {
      hint: `the image has no ${names.join(" or ")}; set ${LABEL.strategy} or use an image that ships them`,
    });
  }
  const id = (key: string) => (/^\d+$/.test(field(key)) ? Number(field(key)) : 0);
  return { tool, version: field("version"), uid: id("uid"), gid: id("gid") };
}

/** Puts the password where the client reads it; `close` removes it and never throws. */
export async function openSession(ctx: RunContext, account: Account, probe: Probe): Promise<Session> {
  const none = { file: {}, env: {}, close: async () => {} };
  if (account.password === undefined) return none;
  // Named with its creation time: a run killed before `close` leaves it, and the next one removes it.
  const path = `/tmp/${OPTION_FILE_PREFIX}${Math.floor(Date.now() / 1000)}-${randomBytes(8).toString("hex")}.cnf`;
  await ctx.docker.exec(ctx.container.id, ["sh", "-c", SWEEP_SCRIPT, "sh", String(STALE_OPTION_FILE_S)], { service: ctx.service.name, signal: ctx.signal }).catch((err: unknown) => {
    if (ctx.signal.aborted) throw err;
  });
  const pack = tar.pack();
  pack.entry({ name: path.slice("/tmp/".length), mode: 0o600, uid: probe.uid, gid: probe.gid }, optionFile(account.password));
  pack.finalize();
  try {
    await ctx.docker.putArchive(ctx.container.id, "/tmp", Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false }), { signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    ctx.log.debug(`${ctx.service.name}: cannot write a client option file (${(err as Error).message}); passing the password in MYSQL_PWD`);
    return { ...none, env: { MYSQL_PWD: account.password } };
  }
  const close = async () => {
    const failed = (why: string) => ctx.log.warn(`${ctx.service.name}: could not remove ${path} from the container (${why}); remove it by hand`);
    try {
      const r = await ctx.docker.exec(ctx.container.id, ["rm", "-f", path], { service: ctx.service.name, signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS) });
      if (r.exitCode !== 0) failed(r.stderr.trim() || `exit ${r.exitCode}`);
    } catch (err) {
      failed((err as Error).message);
    }
  };
  return { file: { optionFile: path }, env: {}, close };
}

/** The dump's stream, ending (or failing) only after `cleanup` ran, also when the reader gives up. */
function withCleanup(source: Readable, cleanup: () => Promise<void>): Readable {
  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) yield chunk;
    } finally {
      await cleanup();
    }
  }
  return Readable.from(guarded(), { objectMode: false });
}
