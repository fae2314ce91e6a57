import type { Inventory } from "../../manifest/schema.ts";

/** How a drill's inventory relates to the one recorded at backup. */
export interface Comparison {
  /** `unavailable`: the set has no inventory (older sdbackup) or the strategy takes none. */
  outcome: "match" | "differs" | "unavailable";
  /** Every difference, for the report: `public.t: 1000 rows at backup, 990 after restore`. */
  differences: string[];
  /** The differences that make the drill fail. */
  failures: string[];
}

/**
 * An exact inventory (consistent set, idle service, an archive) must come back identical. Any other
 * one was taken while writes could go on, so only what was present at backup and is missing or
 * empty after restore fails; other differences are listed.
 */
export function compareInventory(recorded: Inventory | undefined, found: Inventory | undefined, exact: boolean): Comparison {
  if (!recorded || !found) return { outcome: "unavailable", differences: [], failures: [] };
  const differences: string[] = [];
  const failures: string[] = [];
  for (const [name, before] of Object.entries(recorded.counts)) {
    const after = found.counts[name];
    if (after === before) continue;
    const text = after === undefined ? `${name}: ${before} at backup, missing after restore` : `${name}: ${before} at backup, ${after} after restore`;
    differences.push(text);
    if (exact || after === undefined || (after === 0 && before > 0)) failures.push(text);
  }
  for (const [name, after] of Object.entries(found.counts)) {
    if (name in recorded.counts) continue;
    const text = `${name}: not at backup, ${after} after restore`;
    differences.push(text);
    if (exact) failures.push(text);
  }
  if (recorded.digest !== undefined && found.digest !== recorded.digest) {
    const text = `content digest ${found.digest ?? "missing"} differs from the backup's ${recorded.digest}`;
    differences.push(text);
    if (exact) failures.push(text);
  }
  return { outcome: differences.length ? "differs" : "match", differences, failures };
}
