import type { Strategy } from "./types.ts";
import { declaresEnv } from "../core/credentials.ts";
import { expectMagic } from "./validate.ts";
import { notImplemented, repoMatcher } from "./shared.ts";

const PASSWORD_KEYS = [] as const;

export const redis = {
  name: "redis",
  ext: "rdb",
  description: "BGSAVE, then the RDB file copied out; restored with the server stopped",
  needsRunning: true,
  matchImage: repoMatcher(["redis", "valkey", "keydb", "redis-stack-server", "redis-stack"], []),

  inspect(service) {
    const warnings: string[] = [];
    if (PASSWORD_KEYS.length > 0 && !declaresEnv(service, PASSWORD_KEYS)) {
      warnings.push("no credentials found in the compose file; the container's environment will be used");
    }
    return { warnings };
  },

  async backup() {
    return notImplemented("redis");
  },

  async restore() {
    return notImplemented("redis");
  },

  validate: (input) => expectMagic(input, [Buffer.from("REDIS")], "a Redis RDB file"),
} satisfies Strategy;
