import type { Strategy } from "./types.ts";
import { postgres } from "./postgres.ts";
import { mariadb } from "./mariadb.ts";
import { mysql } from "./mysql.ts";
import { mongo } from "./mongo.ts";
import { redis } from "./redis.ts";
import { sqlite } from "./sqlite.ts";
import { volume } from "./volume.ts";
import { ConfigError } from "../errors.ts";
import { imageRepo } from "../compose/image.ts";

/**
 * Every strategy, in detection order: the first image match with the highest confidence wins;
 * `volume` is the fallback for services that only mount volumes.
 */
export const strategies = [postgres, mariadb, mysql, mongo, redis, sqlite, volume] as const satisfies readonly Strategy[];

/** The name of a registered strategy, derived from the registry (the only list of them). */
export type StrategyName = (typeof strategies)[number]["name"];

export const strategyNames: readonly StrategyName[] = strategies.map((s) => s.name);

export function getStrategy(name: string): Strategy {
  const found = strategies.find((s) => s.name === name);
  if (!found) {
    throw new ConfigError(`unknown strategy "${name}"`, { hint: `valid strategies: ${strategyNames.join(", ")}, or none to exclude a service` });
  }
  return found;
}

/** A database server must not have its files replaced under it: any dump strategy's image counts. */
export function isDatabaseImage(image: string): boolean {
  const repo = imageRepo(image);
  return strategies.some((s) => s.needsRunning && s.matchImage(repo) > 0);
}
