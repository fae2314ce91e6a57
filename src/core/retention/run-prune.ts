import type { Target } from "../../targets/types.ts";
import type { Logger } from "../../ui/logger.ts";
import { listSets, type SetInfo } from "../../manifest/store.ts";
import { manifestKey } from "../../manifest/keys.ts";
import { errorMessage, isAbortError, throwIfAborted } from "../../errors.ts";
import { applyRetention, DEFAULT_GRACE_MS, REASON, type BucketOf } from "./apply.ts";
import { policyToJson, type RetentionPolicy } from "./policy.ts";
import { formatElapsed } from "../../runtime/duration.ts";
import { sweepLeftovers } from "./sweep-leftovers.ts";

export interface PruneRun {
  target: Target;
  /** Only this project; otherwise every project in the target, each on its own. */
  project?: string;
  /** Undefined: no policy, nothing is removed. */
  policy: RetentionPolicy | undefined;
  policySource: "flags" | "label" | "none";
  /** Elapsed time after which an incomplete set is abandoned. */
  graceMs?: number;
  dryRun: boolean;
  allowRemoveAll: boolean;
  now: Date;
  bucketOf?: BucketOf;
  signal: AbortSignal;
  log: Logger;
}

export interface PruneSetResult {
  project: string;
  set: string;
  createdAt: string;
  complete: boolean;
  action: "keep" | "remove";
  reasons: string[];
  /** Set when removing it failed; the set may be left incomplete, which the next prune collects. */
  error?: string;
}

export interface PruneResult {
  project?: string;
  target: string;
  dryRun: boolean;
  policy: Record<string, number | string> | null;
  policySource: PruneRun["policySource"];
  grace: string;
  sets: PruneSetResult[];
  /** Sets actually removed (0 in a dry run). */
  removed: number;
  /** Sets whose removal failed. */
  failed: number;
  /** Temporary objects and unfinished uploads of dead runs removed (none in a dry run). */
  leftovers: string[];
}

/**
 * Lists the sets, decides per project with {@link applyRetention} and, unless it is a dry run,
 * removes sets oldest first. A complete set loses its manifest first, so an interrupted prune never
 * leaves a set that looks complete but lacks artifacts. The signal is checked between deletions.
 */
export async function runPrunePlan(run: PruneRun): Promise<PruneResult> {
  const sets = await listSets(run.target, run.project, run.signal);
  const byProject = new Map<string, SetInfo[]>();
  for (const s of sets) byProject.set(s.project, [...(byProject.get(s.project) ?? []), s]);

  const results: { info: SetInfo; result: PruneSetResult }[] = [];
  for (const [project, group] of byProject) {
    const decided = applyRetention(
      group.map((s) => ({ id: s.set, time: s.createdAt, services: s.manifest?.items.map((i) => i.service) ?? [], complete: s.complete })),
      run.policy,
      { now: run.now, graceMs: run.graceMs ?? DEFAULT_GRACE_MS, allowRemoveAll: run.allowRemoveAll, ...(run.bucketOf ? { bucketOf: run.bucketOf } : {}) },
    );
    if (Object.values(decided.reasons).some((r) => r.includes(REASON.refuseRemoveAll))) {
      run.log.warn(`the policy would remove every complete set of project ${project}; keeping the newest (--allow-remove-all removes it too)`);
    }
    const removing = new Set(decided.remove.map((s) => s.id));
    for (const s of group) {
      results.push({
        info: s,
        result: {
          project, set: s.set, createdAt: s.createdAt.toISOString(), complete: s.complete,
          action: removing.has(s.set) ? "remove" : "keep", reasons: decided.reasons[s.set] ?? [],
        },
      });
    }
  }

  let removed = 0;
  let failed = 0;
  if (!run.dryRun) {
    const doomed = results.filter((r) => r.result.action === "remove").reverse();
    for (const { info, result } of doomed) {
      try {
        await removeSet(run.target, info, run.signal);
        removed++;
        run.log.info(`removed ${info.project}/${info.set} (${result.reasons.join(", ")})`);
      } catch (err) {
        throwIfAborted(run.signal);
        if (isAbortError(err)) throw err;
        failed++;
        result.error = errorMessage(err);
        run.log.error(`could not remove ${info.project}/${info.set}: ${result.error}`);
      }
    }
  }
  // What no set lists (rclone temporary objects, S3 multipart uploads) goes after the same grace.
  const leftovers = run.dryRun ? [] : await sweepLeftovers({
    targets: [run.target], prefix: run.project ? `${run.project}/` : "", now: () => run.now, signal: run.signal, log: run.log,
    ...(run.graceMs !== undefined ? { graceMs: run.graceMs } : {}),
  });
  return {
    ...(run.project ? { project: run.project } : {}),
    target: run.target.display,
    dryRun: run.dryRun,
    policy: run.policy ? policyToJson(run.policy) : null,
    policySource: run.policySource,
    grace: formatElapsed(run.graceMs ?? DEFAULT_GRACE_MS),
    sets: results.map((r) => r.result),
    removed,
    failed,
    leftovers,
  };
}

/** Manifest first (the set stops counting as complete), then every other object of the set. */
export async function removeSet(target: Target, set: SetInfo, signal: AbortSignal): Promise<void> {
  const manifest = manifestKey(set.project, set.set);
  const keys = set.objects.map((o) => o.key);
  const ordered = [...keys.filter((k) => k === manifest), ...keys.filter((k) => k !== manifest).sort()];
  for (const key of ordered) {
    throwIfAborted(signal);
    await target.remove(key, { signal });
  }
}
