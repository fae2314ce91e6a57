import type { Strategy, RunContext } from "./types.ts";
import { declaresEnv, resolveEnv } from "./shared/credentials.ts";
import { LABEL, splitList } from "../compose/labels.ts";
import { expectMagic } from "./shared/validate.ts";
import { dumpStream, passwordKeys, runWithInput } from "./shared/exec.ts";
import { repoMatcher } from "./shared/image-match.ts";

const USER_KEYS = ["POSTGRES_USER", "POSTGRESQL_USERNAME", "POSTGRESQL_USER"] as const;
const DB_KEYS = ["POSTGRES_DB", "POSTGRESQL_DATABASE"] as const;
const PASSWORD_KEYS = ["POSTGRES_PASSWORD", "POSTGRESQL_PASSWORD", "POSTGRESQL_POSTGRES_PASSWORD"] as const;

/**
 * PostgreSQL: `pg_dump --format=custom` inside the container, uncompressed (`-Z0`) because sdbackup
 * compresses with zstd on the host side: faster than pg_dump's internal zlib and smaller output.
 * Restore is one transaction that stops at the first error, so a failed restore changes nothing.
 */
export const postgres = {
  name: "postgres" as const,
  ext: "pgdump",
  description: "pg_dump custom format of one database; pg_restore in a single transaction",
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
    const named = splitList(service.labels[LABEL.databases]);
    if (named.length > 1) warnings.push(`only the first of ${LABEL.databases} (${named[0]}) is dumped; ${named.slice(1).join(", ")} are not`);
    return { warnings };
  },

  async backup(ctx) {
    const { user, db, env } = await connection(ctx);
    return dumpStream(ctx, ["pg_dump", "--format=custom", "--compress=0", "--no-password", "--username", user, "--dbname", db], env);
  },

  async restore(ctx, input) {
    const { user, db, env } = await connection(ctx);
    const argv = [
      "pg_restore", "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-password",
      "--username", user, "--dbname", db,
    ];
    await runWithInput(ctx, argv, env, input);
  },

  validate: (input) => expectMagic(input, [Buffer.from("PGDMP")], "a pg_dump custom-format archive"),
} satisfies Strategy;

// --- internal ---

async function connection(ctx: RunContext): Promise<{ user: string; db: string; env: Record<string, string> }> {
  const labels = { ...ctx.container.labels, ...ctx.service.labels };
  const user = labels[LABEL.user] ?? (await resolveEnv(ctx, USER_KEYS, { secret: false })) ?? "postgres";
  const db = splitList(labels[LABEL.databases])[0] ?? (await resolveEnv(ctx, DB_KEYS, { secret: false })) ?? user;
  const password = await resolveEnv(ctx, passwordKeys(ctx, PASSWORD_KEYS), { secret: true });
  return { user, db, env: password ? { PGPASSWORD: password } : {} };
}
