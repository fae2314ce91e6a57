import type { Strategy } from "./types.ts";
import type { FamilyEnv } from "./mysql-family/family.ts";
import { backupFamily, familyReady, inspectFamily, restoreFamily } from "./mysql-family/family.ts";
import { validateDump } from "./mysql-family/dump-check.ts";
import { repoMatcher } from "./shared/image-match.ts";
import { familyInventory } from "./mysql-family/inventory.ts";

/** The official `mariadb` image reads MARIADB_* first and the MYSQL_* names as aliases; bitnami the same. */
const ENV: FamilyEnv = {
  rootUser: ["MARIADB_ROOT_USER"],
  rootPassword: ["MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD"],
  user: ["MARIADB_USER", "MYSQL_USER"],
  password: ["MARIADB_PASSWORD", "MYSQL_PASSWORD"],
  database: ["MARIADB_DATABASE", "MYSQL_DATABASE"],
  allowEmpty: ["MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "ALLOW_EMPTY_PASSWORD"],
};

/**
 * MariaDB: mariadb-dump (mysqldump on images older than 10.5) of the configured databases, or of
 * all of them, restored through the mariadb client. See docs/strategies/mariadb.md.
 */
export const mariadb = {
  name: "mariadb" as const,
  ext: "sql",
  description: "mariadb-dump (or mysqldump) of the configured or all databases; restored through the client",
  needsRunning: true,
  matchImage: repoMatcher(["mariadb"], ["mariadb-galera"]),
  signature: {
    env: ["MARIADB_ROOT_PASSWORD", "MARIADB_RANDOM_ROOT_PASSWORD", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD_HASH"],
    dataDirs: ["/bitnami/mariadb", "/var/lib/mysql"],
  },
  inspect: (service, labels) => inspectFamily(service, labels, ENV),
  ready: familyReady,
  backup: (ctx) => backupFamily(ctx, ENV),
  restore: (ctx, input) => restoreFamily(ctx, ENV, input),
  inventory: (ctx) => familyInventory(ctx, ENV),
  drill: { env: (password) => ({ MARIADB_ROOT_PASSWORD: password }) },
  validate: (input, item) => validateDump(input, item.databases),
} satisfies Strategy;
