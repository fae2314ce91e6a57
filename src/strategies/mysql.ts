import type { Strategy } from "./types.ts";
import type { FamilyEnv } from "./mysql-family/family.ts";
import { backupFamily, familyReady, inspectFamily, restoreFamily } from "./mysql-family/family.ts";
import { validateDump } from "./mysql-family/dump-check.ts";
import { repoMatcher } from "./shared/image-match.ts";
import { familyInventory } from "./mysql-family/inventory.ts";

/** The official `mysql` image's variables; Percona and bitnami/mysql read the same names. */
const ENV: FamilyEnv = {
  rootUser: ["MYSQL_ROOT_USER"],
  rootPassword: ["MYSQL_ROOT_PASSWORD"],
  user: ["MYSQL_USER"],
  password: ["MYSQL_PASSWORD"],
  database: ["MYSQL_DATABASE"],
  allowEmpty: ["MYSQL_ALLOW_EMPTY_PASSWORD", "ALLOW_EMPTY_PASSWORD"],
};

/**
 * MySQL (and Percona): a single-transaction mysqldump of the configured databases, or of all of
 * them, restored through the mysql client. See docs/strategies/mysql.md.
 */
export const mysql = {
  name: "mysql" as const,
  ext: "sql",
  description: "mysqldump of the configured or all databases; restored through the mysql client",
  needsRunning: true,
  matchImage: repoMatcher(["mysql", "mysql-server", "percona-server", "percona"], ["percona-xtradb-cluster"]),
  signature: {
    env: ["MYSQL_ROOT_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_ROOT_HOST"],
    dataDirs: ["/var/lib/mysql", "/bitnami/mysql"],
  },
  inspect: (service, labels) => inspectFamily(service, labels, ENV),
  ready: familyReady,
  backup: (ctx) => backupFamily(ctx, ENV),
  restore: (ctx, input) => restoreFamily(ctx, ENV, input),
  inventory: (ctx) => familyInventory(ctx, ENV),
  drill: { env: (password) => ({ MYSQL_ROOT_PASSWORD: password }) },
  validate: (input, item) => validateDump(input, item.databases),
} satisfies Strategy;
