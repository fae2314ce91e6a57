import type { Strategy } from "./types.ts";
import { declaresEnv } from "../core/credentials.ts";
import { expectMagic } from "./validate.ts";
import { notImplemented, repoMatcher } from "./shared.ts";

const PASSWORD_KEYS = ["MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD"] as const;

export const mysql = {
  name: "mysql",
  ext: "sql",
  description: "mysqldump of the configured or all databases; restored through the mysql client",
  needsRunning: true,
  matchImage: repoMatcher(["mysql", "mysql-server", "percona-server", "percona"], ["percona-xtradb-cluster"]),

  inspect(service) {
    const warnings: string[] = [];
    if (PASSWORD_KEYS.length > 0 && !declaresEnv(service, PASSWORD_KEYS)) {
      warnings.push("no credentials found in the compose file; the container's environment will be used");
    }
    return { warnings };
  },

  async backup() {
    return notImplemented("mysql");
  },

  async restore() {
    return notImplemented("mysql");
  },

  validate: (input) => expectMagic(input, [Buffer.from("-- M"), Buffer.from("/*M!")], "a mysqldump SQL file"),
} satisfies Strategy;
