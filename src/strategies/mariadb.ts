import type { Strategy } from "./types.ts";
import { declaresEnv } from "../core/credentials.ts";
import { expectMagic } from "./validate.ts";
import { notImplemented, repoMatcher } from "./shared.ts";

const PASSWORD_KEYS = ["MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD", "MARIADB_PASSWORD", "MYSQL_PASSWORD"] as const;

export const mariadb = {
  name: "mariadb",
  ext: "sql",
  description: "mariadb-dump (or mysqldump) of the configured or all databases; restored through the client",
  needsRunning: true,
  matchImage: repoMatcher(["mariadb"], ["mariadb-galera"]),

  inspect(service) {
    const warnings: string[] = [];
    if (PASSWORD_KEYS.length > 0 && !declaresEnv(service, PASSWORD_KEYS)) {
      warnings.push("no credentials found in the compose file; the container's environment will be used");
    }
    return { warnings };
  },

  async backup() {
    return notImplemented("mariadb");
  },

  async restore() {
    return notImplemented("mariadb");
  },

  validate: (input) => expectMagic(input, [Buffer.from("-- M"), Buffer.from("/*M!")], "a mariadb-dump SQL file"),
} satisfies Strategy;
