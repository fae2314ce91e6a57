import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { RunContext, Strategy } from "./types.ts";
import { declaresEnv, resolveEnv } from "./shared/credentials.ts";
import { LABEL, splitList } from "../compose/labels.ts";
import { errorMessage } from "../errors.ts";
import { expectMagic } from "./shared/validate.ts";
import { dumpStream, passwordKeys, runWithInput } from "./shared/exec.ts";
import { firstTool, probe } from "./shared/ready.ts";
import { repoMatcher } from "./shared/image-match.ts";
import { putContainerFile } from "./shared/container-file.ts";
import { labelOf } from "./shared/lifecycle.ts";

const USER_KEYS = ["MONGO_INITDB_ROOT_USERNAME", "MONGODB_ROOT_USER"] as const;
const PASSWORD_KEYS = ["MONGO_INITDB_ROOT_PASSWORD", "MONGODB_ROOT_PASSWORD"] as const;
/** Where the tools' config file goes: every MongoDB image has it, and it is not a data volume. */
const CONFIG_DIR = "/tmp";

/**
 * MongoDB: `mongodump --archive` of every database (or the one labelled) as the root user, and
 * `mongorestore --archive --drop`. The password never reaches argv: it goes into a YAML file that
 * the tools read with `--config` (mode 0600, owned by the exec user), removed when the tool is done.
 */
export const mongo = {
  name: "mongo" as const,
  ext: "archive",
  description: "mongodump --archive; mongorestore --archive --drop",
  needsRunning: true,
  matchImage: repoMatcher(["mongo", "mongodb", "mongodb-community-server", "mongodb-enterprise-server", "percona-server-mongodb"], []),
  signature: {
    env: ["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD", "MONGODB_ROOT_PASSWORD", "MONGODB_REPLICA_SET_MODE"],
    dataDirs: ["/data/db", "/bitnami/mongodb"],
  },

  // `ping` needs no credentials; mongosh since 6, the legacy shell before.
  ready: (ctx) => probe(ctx, firstTool(["mongosh", "mongo"], ["--quiet", "--eval", "db.adminCommand({ ping: 1 }).ok"])),

  // No inventory yet: a drill proves the restore succeeds and reports the comparison as unavailable.
  drill: { env: (password) => ({ MONGO_INITDB_ROOT_USERNAME: "root", MONGO_INITDB_ROOT_PASSWORD: password }) },

  inspect(service, labels) {
    const warnings: string[] = [];
    if (!declaresEnv(service, PASSWORD_KEYS)) {
      warnings.push("no credentials found in the compose file; the container's environment will be used");
    }
    if (splitList(labels[LABEL.databases]).length > 1) warnings.push(`mongodump takes one --db: only the first of ${LABEL.databases} is dumped`);
    return { warnings };
  },

  async backup(ctx) {
    const { args, cleanup } = await connection(ctx);
    try {
      const db = splitList(labelOf(ctx, LABEL.databases))[0];
      const out = dumpStream(ctx, ["mongodump", "--archive", ...args, ...(db ? ["--db", db] : [])], {});
      finished(out).catch(() => {}).finally(cleanup);
      return out;
    } catch (err) {
      await cleanup();
      throw err;
    }
  },

  async restore(ctx, input) {
    const { args, cleanup } = await connection(ctx);
    try {
      await runWithInput(ctx, ["mongorestore", "--archive", "--drop", ...args], {}, input);
    } finally {
      await cleanup();
    }
  },

  // A mongodump archive starts with its magic number 0x8199e26d, little-endian.
  validate: (input) => expectMagic(input, [Buffer.from([0x6d, 0xe2, 0x99, 0x81])], "a mongodump archive"),
} satisfies Strategy;

/** The tools' YAML config holding only the password, as a double-quoted (JSON) string. */
export function configFileText(password: string): string {
  return `password: ${JSON.stringify(password)}\n`;
}

// --- internal ---

interface Connection {
  /** Arguments for mongodump/mongorestore: user, auth database, config file. No secrets. */
  args: string[];
  /** Removes the config file; never rejects. */
  cleanup: () => Promise<void>;
}

async function connection(ctx: RunContext): Promise<Connection> {
  const password = await resolveEnv(ctx, passwordKeys(ctx, PASSWORD_KEYS), { secret: true });
  if (!password) return { args: [], cleanup: async () => {} };
  const user = labelOf(ctx, LABEL.user) ?? (await resolveEnv(ctx, USER_KEYS, { secret: false })) ?? "root";
  const path = await writeConfig(ctx, password);
  return {
    args: ["--username", user, "--authenticationDatabase", "admin", "--config", path],
    cleanup: () => removeConfig(ctx, path),
  };
}

/** Puts the config file into the container, owned by the user that `docker exec` runs as. */
async function writeConfig(ctx: RunContext, password: string): Promise<string> {
  const who = await ctx.docker.exec(ctx.container.id, ["id"], { killable: false, service: ctx.service.name, signal: ctx.signal });
  const text = who.exitCode === 0 ? who.stdout.toString() : "";
  const uid = Number(/uid=(\d+)/.exec(text)?.[1] ?? 0);
  const gid = Number(/gid=(\d+)/.exec(text)?.[1] ?? 0);
  const name = `.sdbackup-mongo-${randomBytes(6).toString("hex")}.yaml`;
  const content = Buffer.from(configFileText(password));
  await putContainerFile(ctx.docker, ctx.container.id, CONFIG_DIR, { name, size: content.length, mode: 0o600, uid, gid, body: () => Readable.from([content]) }, ctx.signal);
  return `${CONFIG_DIR}/${name}`;
}

/** Best effort with its own deadline: it also runs after the run was aborted. */
async function removeConfig(ctx: RunContext, path: string): Promise<void> {
  try {
    const r = await ctx.docker.exec(ctx.container.id, ["rm", "-f", path], { killable: false, service: ctx.service.name, signal: AbortSignal.timeout(30_000) });
    if (r.exitCode !== 0) ctx.log.warn(`${ctx.service.name}: could not remove ${path}: ${r.stderr.trim()}`);
  } catch (err) {
    ctx.log.warn(`${ctx.service.name}: could not remove ${path}: ${errorMessage(err)}`);
  }
}
