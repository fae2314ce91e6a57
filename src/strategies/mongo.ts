import type { Strategy } from "./types.ts";
import { declaresEnv } from "../core/credentials.ts";
import { expectMagic } from "./validate.ts";
import { notImplemented, repoMatcher } from "./shared.ts";

const PASSWORD_KEYS = ["MONGO_INITDB_ROOT_PASSWORD", "MONGODB_ROOT_PASSWORD"] as const;

export const mongo = {
  name: "mongo",
  ext: "archive",
  description: "mongodump --archive; mongorestore --archive --drop",
  needsRunning: true,
  matchImage: repoMatcher(["mongo", "mongodb", "mongodb-community-server", "mongodb-enterprise-server"], []),

  inspect(service) {
    const warnings: string[] = [];
    if (PASSWORD_KEYS.length > 0 && !declaresEnv(service, PASSWORD_KEYS)) {
      warnings.push("no credentials found in the compose file; the container's environment will be used");
    }
    return { warnings };
  },

  async backup() {
    return notImplemented("mongo");
  },

  async restore() {
    return notImplemented("mongo");
  },

  validate: (input) => expectMagic(input, [Buffer.from([0x6d, 0xe2, 0x99, 0x81])], "a mongodump archive"),
} satisfies Strategy;
