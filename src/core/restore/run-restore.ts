import { isDatabaseImage } from "../../strategies/index.ts";
import type { DockerApi } from "../../docker/types.ts";
import type { Target } from "../../targets/types.ts";
import type { Logger } from "../../ui/logger.ts";
import type { Manifest, ManifestItem } from "../../manifest/schema.ts";
import type { PlanItem } from "../project/plan.ts";
import { errorMessage, throwIfAborted } from "../../errors.ts";
import { createSecretRegistry } from "../../strategies/shared/secrets.ts";
import { checkKeys, readArtifact } from "./read-artifact.ts";
import { checkItemPaths } from "./check-paths.ts";
import type { KeyRing } from "../../pipeline/encrypt.ts";
import type { ComposeService } from "../../compose/model.ts";
import type { ContainerDetails } from "../../docker/types.ts";
import { withHooks, type HookResult } from "../lifecycle/hooks.ts";

export interface RestoreRun {
  manifest: Manifest;
  /** Each manifest item with the live service and container it goes back into. */
  items: { item: ManifestItem; plan: PlanItem }[];
  target: Target;
  docker: DockerApi;
  /** For `simpledeploy.backup.restore.pre/.post` hooks, which may live on any service. */
  services: ComposeService[];
  containers: ContainerDetails[];
  hookTimeoutMs: number;
  /** Opens encrypted artifacts (identities, passphrase); not needed for plaintext sets. */
  keys?: KeyRing;
  signal: AbortSignal;
  log: Logger;
}

export interface RestoreItemResult {
  service: string;
  strategy: string;
  key: string;
  status: "ok" | "failed" | "skipped";
  durationMs: number;
  error?: string;
}

export interface RestoreResult {
  project: string;
  set: string;
  status: "ok" | "failed";
  items: RestoreItemResult[];
  hooks: HookResult[];
  error?: string;
}

/**
 * Two passes. First every artifact is read whole: checksum, size, decompression and the strategy's
 * format validation; nothing is touched unless all of them pass. Then each item is applied in
 * order; the first failure stops the run and the rest are reported as skipped.
 */
export async function runRestorePlan(run: RestoreRun): Promise<RestoreResult> {
  for (const { item, plan } of run.items) checkItemPaths(item, plan);
  await checkKeys(run.target, run.items.map((i) => i.item), run.keys, run.signal);
  for (const { item, plan } of run.items) {
    throwIfAborted(run.signal);
    run.log.info(`${item.service}: verifying ${item.key}`);
    await readArtifact(run.target, item, run.signal, (input) => plan.strategy.validate(input, { paths: item.paths }), run.keys);
  }
  const hookDeps = { docker: run.docker, log: run.log, signal: run.signal, timeoutMs: run.hookTimeoutMs };
  const { value, hooks, stopReason } = await withHooks({ pre: "restore.pre", post: "restore.post" }, run.services, run.containers, hookDeps, () => applyAll(run));
  const results = value ?? [];
  const failed = Boolean(stopReason) || results.some((r) => r.status === "failed");
  return { project: run.manifest.project, set: run.manifest.set, status: failed ? "failed" : "ok", items: results, hooks, ...(stopReason ? { error: stopReason } : {}) };
}

async function applyAll(run: RestoreRun): Promise<RestoreItemResult[]> {
  const results: RestoreItemResult[] = [];
  let failed = false;
  for (const { item, plan } of run.items) {
    const base = { service: item.service, strategy: item.strategy, key: item.key };
    if (failed) {
      results.push({ ...base, status: "skipped", durationMs: 0 });
      continue;
    }
    const t0 = performance.now();
    try {
      throwIfAborted(run.signal);
      run.log.info(`${item.service}: restoring with ${item.strategy}`);
      const ctx = {
        docker: run.docker, service: plan.service, container: plan.container!, signal: run.signal, log: run.log,
        detection: { ...plan.detection, paths: item.paths }, secrets: createSecretRegistry(), isDatabaseImage,
        ...(item.part ? { part: item.part } : {}),
      };
      await readArtifact(run.target, item, run.signal, (input) => plan.strategy.restore(ctx, input), run.keys);
      results.push({ ...base, status: "ok", durationMs: Math.round(performance.now() - t0) });
      run.log.info(`${item.service}: restored`);
    } catch (err) {
      throwIfAborted(run.signal);
      failed = true;
      run.log.error(`${item.service}: ${err instanceof Error ? err.message : String(err)}`);
      results.push({ ...base, status: "failed", durationMs: Math.round(performance.now() - t0), error: errorMessage(err) });
    }
  }
  return results;
}
