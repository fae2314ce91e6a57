import type { ComposeService } from "../../compose/model.ts";
import type { ContainerDetails, DockerApi } from "../../docker/types.ts";
import type { Target } from "../../targets/types.ts";
import type { Logger } from "../../ui/logger.ts";
import type { Compression, Manifest } from "../../manifest/schema.ts";
import { MANIFEST_VERSION } from "../../manifest/schema.ts";
import { newSetId } from "../../manifest/keys.ts";
import { writeManifest } from "../../manifest/store.ts";
import { throwIfAborted } from "../../errors.ts";
import { mapPool } from "../../runtime/pool.ts";
import { createProgressBoard } from "../../ui/progress.ts";
import type { PlanItem } from "../project/plan.ts";
import { backupItem, discard, toResult, type FailedOutcome, type ItemOutcome, type OkOutcome } from "./backup-item.ts";
import { withHooks } from "../lifecycle/hooks.ts";
import { expandParts, keepServicesWhole } from "./expand-parts.ts";
import type { BackupResult, BackupRun } from "./types.ts";
import { quiesce, type Downtime } from "../lifecycle/quiesce.ts";
import { commitToEach } from "./commit-each.ts";
import { isFanOut } from "./fan-out.ts";
import { sweepLeftovers } from "../retention/sweep-leftovers.ts";
export type { BackupItemResult, BackupResult, BackupRun } from "./types.ts";

/**
 * leftovers of dead runs swept → pre hooks → stop/pause (consistent mode) → items, `concurrency`
 * at a time → start/unpause → post hooks → manifest, written last. Post hooks and restarts run in
 * `finally` with their own deadlines, also on failure or interrupt. Failed items leave nothing
 * behind; with some failed the set is committed as partial; with all failed, a failed pre hook,
 * or an interrupt, nothing is committed and stored artifacts are removed again.
 */
export async function runBackupPlan(run: BackupRun): Promise<BackupResult> {
  const started = run.now();
  const set = newSetId(started);
  await sweepLeftovers({ ...run, targets: isFanOut(run.target) ? run.target.members : [run.target], prefix: `${run.project}/` });
  let downtime: Downtime[] = [];
  let results: ItemOutcome[] = [];
  const hookDeps = { docker: run.docker, log: run.log, signal: run.signal, timeoutMs: run.hookTimeoutMs };
  const { hooks, stopReason } = await withHooks({ pre: "pre", post: "post" }, run.services, run.containers, hookDeps, async () => {
    const keepRunning = new Set(run.items.filter((i) => i.strategy.needsRunning).map((i) => i.service.name));
    const quiet = run.consistent ? await quiesce(run.services, run.containers, keepRunning, run) : undefined;
    const board = createProgressBoard(run.log);
    try {
      const expanded = await expandParts(run, run.items);
      const whole = keepServicesWhole([...expanded.failed, ...(await mapPool(expanded.items, run.concurrency, (item) => backupItem(run, set, item, board)))]);
      results = whole.results;
      await discard(run, whole.dropped);
    } finally {
      board.stop();
      if (quiet) downtime = await quiet.resume();
    }
  });

  const ok = results.filter((r): r is OkOutcome => r.status === "ok");
  const failed = results.filter((r): r is FailedOutcome => r.status === "failed");
  const summary = (status: BackupResult["status"], manifest: string | null): BackupResult => ({
    project: run.project, set, status, target: run.target.display, manifest, consistent: run.consistent,
    items: results.map(toResult), hooks, downtime, ...(stopReason ? { error: stopReason } : {}),
  });
  const restartFailed = downtime.some((d) => d.error);
  if (run.signal.aborted || ok.length === 0 || stopReason) {
    await discard(run, ok.map((i) => i.key));
    throwIfAborted(run.signal);
    return summary("failed", null);
  }
  const manifest: Manifest = {
    schemaVersion: MANIFEST_VERSION,
    tool: { name: "sdbackup", version: run.version },
    project: run.project,
    set,
    createdAt: started.toISOString(),
    completedAt: run.now().toISOString(),
    status: failed.length || restartFailed ? "partial" : "ok",
    items: ok.map(({ status: _s, transport: _t, ...item }) => item),
    failed: failed.map(({ service, strategy, error }) => ({ service, strategy, error })),
    ...(run.consistent ? { consistent: true, stopped: downtime.map(({ service, container, downtimeMs }) => ({ service, container, downtimeMs })) } : {}),
  };
  try {
    const hookFailed = hooks.some((h) => h.status === "failed");
    if (isFanOut(run.target)) {
      const each = await commitToEach(run.target, manifest, ok.map((i) => i.key), run);
      const someFailed = each.targets.some((t) => t.status === "failed");
      return { ...summary(manifest.status === "partial" || hookFailed || someFailed ? "partial" : "ok", each.manifest), targets: each.targets };
    }
    const key = await writeManifest(run.target, manifest, run.signal);
    return summary(manifest.status === "partial" || hookFailed ? "partial" : "ok", key);
  } catch (err) {
    await discard(run, ok.map((i) => i.key));
    throw err;
  }
}
