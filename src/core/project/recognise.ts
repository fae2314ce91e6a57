import type { ComposeService } from "../../compose/model.ts";
import type { DetectionSource, Strategy } from "../../strategies/types.ts";
import { strategies as registry } from "../../strategies/index.ts";
import { imageRepo } from "../../compose/image.ts";

/** A database strategy chosen for a service without a label, and what gave it away. */
export interface Recognised {
  strategy: Strategy;
  source: Extract<DetectionSource, "image" | "env" | "data-dir">;
  confidence: number;
}

const strategies: readonly Strategy[] = registry;

/** Confidences of the non-image evidence; an image match (0.8–0.95) wins over them. */
const ENV_AND_DIR = 0.75;
const DATA_DIR = 0.7;
const ENV_ONLY = 0.65;

/**
 * The dump strategy a service runs, judged by its image name first; when the image says nothing,
 * by server-side environment variables and mounted data directories. A service that sets a
 * connection target (`*_HOST`, `*_URL`, …) is a client of a database, so its database variables
 * are not counted. A service that replaces the image's entrypoint with something that does not
 * start a server (a permission fixer, a replica-set initialiser) runs a tool, not a database. Pure.
 */
export function recogniseDatabase(service: ComposeService): Recognised | undefined {
  if (runsATool(service)) return undefined;
  const repo = service.image ? imageRepo(service.image) : "";
  let best: Recognised | undefined;
  const consider = (strategy: Strategy, source: Recognised["source"], confidence: number) => {
    if (confidence > (best?.confidence ?? 0)) best = { strategy, source, confidence };
  };
  for (const strategy of strategies) if (repo) consider(strategy, "image", strategy.matchImage(repo));
  if (best) return best;

  const client = Object.keys(service.environment).some((k) => CLIENT_KEY.test(k));
  const targets = service.volumes.filter((m) => m.type !== "tmpfs").map((m) => m.target.replace(/\/+$/, ""));
  for (const strategy of strategies) {
    if (!strategy.signature) continue;
    const env = !client && strategy.signature.env.some((k) => service.environment[k] !== undefined || service.environment[`${k}_FILE`] !== undefined);
    const dir = strategy.signature.dataDirs.some((d) => targets.includes(d));
    if (env && dir) consider(strategy, "data-dir", ENV_AND_DIR);
    else if (dir) consider(strategy, "data-dir", DATA_DIR);
    else if (env) consider(strategy, "env", ENV_ONLY);
  }
  return best;
}

/** Whether `path` (inside a container) is where some database server keeps its files. */
export function isDatabaseDataDir(path: string): boolean {
  const p = path.replace(/\/+$/, "");
  return strategies.some((s) => s.signature?.dataDirs.includes(p));
}

// --- internal ---

/** Server programs (and the official images' entrypoint script) that mean the server is started. */
const SERVER = /\b(postgres|postmaster|mysqld|mysqld_safe|mariadbd|mongod|redis-server|valkey-server|keydb-server|docker-entrypoint(\.sh)?)\b/;

function runsATool(service: ComposeService): boolean {
  if (service.entrypoint === undefined) return false;
  const text = [service.entrypoint, service.command ?? []].flat().join(" ");
  return !SERVER.test(text);
}

/** Connection settings an application passes to its database client. */
const CLIENT_KEY = /(^|_)(HOST|HOSTNAME|SERVER|ADDR|ADDRESS|URL|URI|DSN)$|^DATABASE_URL$/;
