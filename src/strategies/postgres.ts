import type { Readable } from "node:stream";
import type { Strategy, RunContext } from "./types.ts";
import { declaresEnv, resolveEnv } from "./shared/credentials.ts";
import { LABEL, splitList } from "../compose/labels.ts";
import { checkedArchive, validateArtifact } from "./postgres/archive.ts";
import { passwordKeys, transportDump, transportLoad } from "./shared/exec.ts";
import { probe } from "./shared/ready.ts";
import { repoMatcher } from "./shared/image-match.ts";
import { labelOf } from "./shared/lifecycle.ts";
import { createMissingRoles } from "./postgres/globals.ts";
import { isSuperuser, listParts } from "./postgres/parts.ts";
import { dbArg, literal, runSql, type PgConnection } from "./postgres/sql.ts";
import { databaseInventory } from "./postgres/inventory.ts";
import { dumpInSnapshot } from "./postgres/snapshot.ts";

const USER_KEYS = ["POSTGRES_USER", "POSTGRESQL_USERNAME", "POSTGRESQL_USER"] as const;
const DB_KEYS = ["POSTGRES_DB", "POSTGRESQL_DATABASE"] as const;
const PASSWORD_KEYS = ["POSTGRES_PASSWORD", "POSTGRESQL_PASSWORD", "POSTGRESQL_POSTGRES_PASSWORD"] as const;

/**
 * PostgreSQL: the roles (`pg_dumpall --globals-only`), then every database the dump user can read
 * with `pg_dump --format=custom`, one artifact each, uncompressed (`-Z0`) because sdbackup
 * compresses with zstd on the host side. Restore creates missing roles and databases first, then
 * restores each database in one transaction that stops at the first error.
 */
export const postgres = {
  name: "postgres" as const,
  ext: "pgdump",
  description: "roles (pg_dumpall --globals-only) and one pg_dump per database; restored creating missing roles and databases",
  needsRunning: true,
  matchImage: repoMatcher(["postgres", "postgresql"], ["postgis", "timescaledb", "pgvector", "pgvecto-rs", "postgresql-repmgr", "supabase-postgres", "cloudnative-pg"], 0.95, 0.9),
  signature: {
    env: ["POSTGRES_PASSWORD", "POSTGRES_HOST_AUTH_METHOD", "POSTGRES_INITDB_ARGS", "POSTGRESQL_PASSWORD", "POSTGRESQL_POSTGRES_PASSWORD"],
    dataDirs: ["/var/lib/postgresql/data", "/var/lib/postgresql", "/bitnami/postgresql", "/home/postgres/pgdata"],
  },

  inspect(service) {
    const warnings: string[] = [];
    const trust = service.environment.POSTGRES_HOST_AUTH_METHOD === "trust";
    if (!trust && !declaresEnv(service, PASSWORD_KEYS)) {
      warnings.push("no credentials found in the compose file; the container's environment will be used");
    }
    return { warnings };
  },

  // One artifact per part (see postgres/parts.ts); without a part, the single-database form that
  // sets written before parts existed still restore with.
  parts: async (ctx) => listParts(ctx, await connect(ctx)),

  // Over TCP: the image's init runs a socket-only temporary server first, then restarts; only the
  // final server listens on the network (PGPORT, when the container sets it, reaches pg_isready too).
  ready: (ctx) => probe(ctx, ["pg_isready", "--host", "127.0.0.1"]),

  // Roles are not counted: a drill's server has its own superuser and the image's defaults. At
  // backup the counts run inside the dump's own snapshot instead (postgres/snapshot.ts).
  inventoryInBackup: true,
  async inventory(ctx) {
    const conn = await connect(ctx);
    if (ctx.part?.kind === "globals") return { counts: {} };
    return databaseInventory(ctx, conn, ctx.part?.name ?? (await legacyDatabase(ctx, conn)));
  },

  drill: { env: (password) => ({ POSTGRES_PASSWORD: password }) },

  async backup(ctx) {
    const conn = await connect(ctx);
    const part = ctx.part;
    if (part?.kind === "globals") {
      const passwords = (await isSuperuser(ctx, conn)) ? [] : ["--no-role-passwords"];
      ctx.recordInventory?.({ counts: {} });
      if (passwords.length) ctx.log.warn(`${ctx.service.name}: ${conn.user} is not a superuser; roles are saved without their passwords`);
      // A few kilobytes: starting a helper container costs more than the exec stream does.
      return transportDump(ctx, ["pg_dumpall", "--globals-only", ...passwords, "--no-password", "--username", conn.user, "--dbname", dbArg(conn.home)], conn.env);
    }
    const db = part?.name ?? (await legacyDatabase(ctx, conn));
    return dumpInSnapshot(ctx, conn, db, ["pg_dump", "--format=custom", "--compress=0", "--no-password", "--username", conn.user, "--dbname", dbArg(db)], overTcp(ctx, conn));
  },

  // Roles are only created when missing; pg_restore --single-transaction reads its archive to the
  // last byte before it commits (tested), so a bad tail rolls the whole database back.
  restoreSafety: (part) => (part?.kind === "globals" ? "additive" : "atomic"),

  async restore(ctx, input) {
    const conn = await connect(ctx);
    const part = ctx.part;
    if (part?.kind === "globals") {
      const { sql, skipped } = createMissingRoles(await text(input));
      if (skipped.length) ctx.log.warn(`${ctx.service.name}: tablespaces ${skipped.join(", ")} are not restored; create them by hand`);
      return runSql(ctx, conn, conn.home, sql, { transaction: true });
    }
    // Checked here too, before anything is written: a restore may read its artifact only once.
    const archive = await checkedArchive(input, part);
    const db = part?.name ?? (await legacyDatabase(ctx, conn));
    if (part) await runSql(ctx, conn, conn.home, createDatabaseIfMissing(part.name, part.owner), { transaction: false });
    const argv = [
      "pg_restore", "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-password",
      "--username", conn.user, "--dbname", dbArg(db),
    ];
    await transportLoad(ctx, argv, conn.env, archive, overTcp(ctx, conn));
  },

  // A database part must be a dump of that very database (postgres/archive.ts).
  validate: (input, item) => validateArtifact(input, item.part),
} satisfies Strategy;

// --- internal ---

async function connect(ctx: RunContext): Promise<PgConnection> {
  const labels = { ...ctx.container.labels, ...ctx.service.labels };
  const user = labels[LABEL.user] ?? (await resolveEnv(ctx, USER_KEYS, { secret: false })) ?? "postgres";
  const home = (await resolveEnv(ctx, DB_KEYS, { secret: false })) ?? user;
  const password = await resolveEnv(ctx, passwordKeys(ctx, PASSWORD_KEYS), { secret: true });
  return { user, home, env: password ? { PGPASSWORD: password } : {} };
}

/**
 * A helper beside the server (docker/transport.ts) reaches it over TCP only, which the images
 * allow with a password (or trust): without either, the dump keeps the exec path's unix socket.
 */
function overTcp(ctx: RunContext, conn: PgConnection): Record<string, string> | undefined {
  const trust = ctx.container.env.POSTGRES_HOST_AUTH_METHOD === "trust";
  if (!conn.env.PGPASSWORD && !trust) return undefined;
  const port = ctx.container.env.PGPORT;
  return { PGHOST: "127.0.0.1", ...(port ? { PGPORT: port } : {}) };
}

/** Sets from before parts: the first labelled database, else the image's own. */
async function legacyDatabase(ctx: RunContext, conn: PgConnection): Promise<string> {
  return splitList(labelOf(ctx, LABEL.databases))[0] ?? conn.home;
}

/** Creates `name` (owned by `owner` when that role exists) unless it exists; run in the home database. */
function createDatabaseIfMissing(name: string, owner: string | undefined): string {
  const withOwner = owner ? `|| CASE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(owner)}) THEN format(' OWNER %I', ${literal(owner)}) ELSE '' END` : "";
  // CREATE DATABASE cannot run in a transaction block: \gexec runs it as its own statement.
  return `SELECT format('CREATE DATABASE %I', ${literal(name)}) ${withOwner} WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${literal(name)})\\gexec\n`;
}

async function text(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
