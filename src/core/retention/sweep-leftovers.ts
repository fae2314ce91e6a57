import type { Target } from "../../targets/types.ts";
import type { Logger } from "../../ui/logger.ts";
import { errorMessage, throwIfAborted } from "../../errors.ts";
import { formatElapsed } from "../../runtime/duration.ts";
import { DEFAULT_GRACE_MS } from "./apply.ts";

/**
 * Before a backup writes anything, each of its targets removes what killed runs of the same
 * project left there (issue 11), and prune does the same for its scope: local `.tmp-` files, rclone temporary objects, unfinished S3
 * multipart uploads, each older than prune's default grace period. Best effort: it is bounded in
 * time, says what it removed in one line, and never fails the backup; only an interrupt ends it.
 */

/** A sweep that takes longer is given up: the backup matters more. */
const SWEEP_MS = 30_000;

export interface SweepRun {
  /** Each target on its own (a backup to several gives each of them). */
  targets: readonly Target[];
  /** `<project>/` for a backup; prune sweeps its scope (every project: ""). */
  prefix: string;
  now: () => Date;
  signal: AbortSignal;
  log: Logger;
  /** Leftovers untouched for this long are dead; prune's default `--grace`. */
  graceMs?: number;
}

/** What was removed, as each target names it; never throws but for an interrupt. */
export async function sweepLeftovers(run: SweepRun): Promise<string[]> {
  const graceMs = run.graceMs ?? DEFAULT_GRACE_MS;
  const before = new Date(run.now().getTime() - graceMs);
  const removed = await Promise.all(run.targets.map(async (target): Promise<string[]> => {
    if (!target.sweep) return [];
    try {
      const removed = await target.sweep(run.prefix, before, { signal: AbortSignal.any([run.signal, AbortSignal.timeout(SWEEP_MS)]) });
      if (removed.length) run.log.info(`removed ${removed.length} leftover(s) of interrupted runs older than ${formatElapsed(graceMs)} from ${target.display}: ${shortList(removed)}`);
      return removed;
    } catch (err) {
      throwIfAborted(run.signal);
      run.log.warn(`could not remove leftovers of interrupted runs from ${target.display}: ${errorMessage(err)}`);
      return [];
    }
  }));
  return removed.flat();
}

// --- internal ---

function shortList(keys: readonly string[]): string {
  return keys.length <= 3 ? keys.join(", ") : `${keys.slice(0, 3).join(", ")} and ${keys.length - 3} more`;
}
