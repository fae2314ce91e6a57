/**
 * Recognising a database server from its image repository (last path segment, lowercased, no tag).
 * Three tiers: an exact name (`postgres`), a known family or vendor build (`postgis`,
 * `timescaledb-ha`), and a name fragment (`acme-postgresql`, `app_mariadb`): a token of the name,
 * split on `-`, `_` and `.`, that is one of the exact or family names. Tools that only talk to a
 * server (`postgres-exporter`, `mongo-express`, `redis-sentinel`) carry a token that rules them out.
 */
export function repoMatcher(exact: readonly string[], family: readonly string[] = [], high = 0.95, low = 0.85) {
  const names = new Set([...exact, ...family]);
  return (repo: string): number => {
    if (exact.includes(repo)) return high;
    const tokens = repo.split(/[-_.]+/);
    if (tokens.some((t) => NOT_A_SERVER.has(t))) return 0;
    if (family.some((f) => repo === f || repo.startsWith(`${f}-`))) return low;
    return tokens.some((t) => names.has(t)) ? FRAGMENT : 0;
  };
}

/** Confidence of a match on a fragment of the image name. */
export const FRAGMENT = 0.8;

// --- internal ---

const NOT_A_SERVER = new Set([
  "exporter", "admin", "commander", "express", "backup", "backups", "insight", "ui", "web", "gui", "proxy", "router",
  "operator", "client", "cli", "migrate", "migration", "migrations", "tools", "metrics", "monitor", "bouncer",
  "sentinel", "dump", "restore", "browser", "studio", "dashboard", "upgrade", "init",
]);
