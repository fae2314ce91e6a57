import type { Readable } from "node:stream";
import { isDatabaseImage } from "../../strategies/index.ts";
import type { DockerApi, TransportMode, TransportName } from "../../docker/types.ts";
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
import type { RunContext } from "../../strategies/types.ts";
import { checkRunning, waitReady } from "./preflight.ts";
import { createProgressBoard } from "../../ui/progress.ts";
import { restoreWhileChecking, streamedItem } from "./single-read.ts";

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
  /** `--wait`: how long preflight waits for each database to accept connections (default 60 s). */
  waitMs?: number;
  /** A target read that sends nothing for this long fails the run (default pipeline/stall.ts). */
  stallTimeoutMs?: number;
  /** Opens encrypted artifacts (identities, passphrase); not needed for plaintext sets. */
  keys?: KeyRing;
  /** How restore bytes reach the database (`--transport`, default auto; docker/transport.ts). */
  transport?: TransportMode;
  signal: AbortSignal;
  log: Logger;
}

export interface RestoreItemResult {
  service: string;
  strategy: string;
  key: string;
  /** `not-started`: an earlier item failed, so this one was left as it was. */
  status: "ok" | "failed" | "not-started";
  durationMs: number;
  error?: string;
  /** How the bytes reached the database, for strategies that choose (postgres databases). */
  transport?: TransportName;
}

export interface RestoreResult {
  project: string;
  set: string;
  /** `partial`: everything chosen was restored, but the set lacks services the project has. */
  status: "ok" | "failed" | "partial";
  items: RestoreItemResult[];
  hooks: HookResult[];
  error?: string;
  /** The project the set was stored under, when restored elsewhere (`--from-app`). */
  from?: string;
  /** Services of the project with backups that this set lacks, and the newest set that holds each. */
  missing?: { service: string; heldBy: string | null }[];
  /** Things a person should know, e.g. a newer set that is partial and was passed over. */
  notes?: string[];
  /** The command that restores what a failed run did not: failed and not-started services. */
  finish?: string;
}

/**
 * Preflight, then apply. Preflight touches nothing: paths and keys, a running container for each
 * server, every artifact read whole (checksum, size, decompression and the strategy's format
 * validation), then each database accepting connections within `waitMs`. Then each item is
 * applied in order; the first failure stops the run and the rest are reported as not started.
 * One item may skip the verification pass and be checked while it is restored (single-read.ts).
 */
export async function runRestorePlan(run: RestoreRun): Promise<RestoreResult> {
  for (const { item, plan } of run.items) checkItemPaths(item, plan);
  await checkKeys(run.target, run.items.map((i) => i.item), run.keys, run.signal);
  const servers = [...new Map(run.items.map(({ item, plan }) => [item.service, { service: item.service, strategy: plan.strategy, ctx: contextFor(run, item, plan) }])).values()];
  checkRunning(servers);
  const board = createProgressBoard(run.log);
  const streamed = streamedItem(run.items);
  try {
    for (const entry of run.items) {
      const { item, plan } = entry;
      throwIfAborted(run.signal);
      if (entry === streamed) {
        run.log.debug(`${item.service}: ${item.key} is checked while it is restored (read once; a bad tail rolls the restore back)`);
        continue;
      }
      run.log.info(`${item.service}: verifying ${item.key}`);
      const name = `${itemName(item)} (verify)`;
      await readArtifact(run.target, item, run.signal, (input) => plan.strategy.validate(input, item), run.keys, run.stallTimeoutMs, board.track(name, item.bytes));
      board.done(name);
    }
  } finally {
    board.stop();
  }
  await waitReady(servers, run.waitMs ?? 60_000, run.signal, run.log);
  const hookDeps = { docker: run.docker, log: run.log, signal: run.signal, timeoutMs: run.hookTimeoutMs };
  const { value, hooks, stopReason } = await withHooks({ pre: "restore.pre", post: "restore.post" }, run.services, run.containers, hookDeps, () => applyAll(run, streamed));
  const results = value ?? [];
  const failed = Boolean(stopReason) || results.some((r) => r.status === "failed");
  return { project: run.manifest.project, set: run.manifest.set, status: failed ? "failed" : "ok", items: results, hooks, ...(stopReason ? { error: stopReason } : {}) };
}

async function applyAll(run: RestoreRun, streamed: RestoreRun["items"][number] | undefined): Promise<RestoreItemResult[]> {
  const board = createProgressBoard(run.log);
  try {
    return await applyEach(run, board, streamed);
  } finally {
    board.stop();
  }
}

async function applyEach(run: RestoreRun, board: ReturnType<typeof createProgressBoard>, streamed: RestoreRun["items"][number] | undefined): Promise<RestoreItemResult[]> {
  const results: RestoreItemResult[] = [];
  let failed = false;
  for (const entry of run.items) {
    const { item, plan } = entry;
    const base = { service: item.service, strategy: item.strategy, key: item.key };
    if (failed) {
      results.push({ ...base, status: "not-started", durationMs: 0 });
      continue;
    }
    const name = itemName(item);
    const t0 = performance.now();
    try {
      throwIfAborted(run.signal);
      run.log.info(`${item.service}: restoring with ${item.strategy}`);
      const transport: { mode: TransportMode; used?: TransportName } = { mode: transportFor(run.transport ?? "auto", item) };
      const ctx = { ...contextFor(run, item, plan), transport };
      const progress = board.track(name, item.bytes);
      const apply = entry === streamed ? (input: Readable) => restoreWhileChecking(plan.strategy, ctx, item, input) : (input: Readable) => plan.strategy.restore(ctx, input);
      await readArtifact(run.target, item, run.signal, apply, run.keys, run.stallTimeoutMs, progress);
      board.done(name);
      const via = transport.used ? { transport: transport.used } : {};
      results.push({ ...base, status: "ok", durationMs: Math.round(performance.now() - t0), ...via });
      run.log.info(`${item.service}: restored${transport.used ? ` (${transport.used} transport)` : ""}`);
    } catch (err) {
      throwIfAborted(run.signal);
      failed = true;
      board.done(name);
      run.log.error(`${item.service}: ${err instanceof Error ? err.message : String(err)}`);
      if (entry === streamed) run.log.error(`${item.service}: ${name} was restored in one transaction, rolled back: its data is as it was`);
      results.push({ ...base, status: "failed", durationMs: Math.round(performance.now() - t0), error: errorMessage(err) });
    }
  }
  return results;
}

/** What a strategy gets for one item; preflight probes with the same context restore will use. */
function contextFor(run: RestoreRun, item: ManifestItem, plan: PlanItem): RunContext {
  return {
    docker: run.docker, service: plan.service, container: plan.container!, signal: run.signal, log: run.log,
    detection: { ...plan.detection, paths: item.paths }, secrets: createSecretRegistry(), isDatabaseImage,
    ...(item.part ? { part: item.part } : {}),
  };
}

/**
 * Auto picks exec for small artifacts: a helper container costs about a second to start on a busy
 * machine (docs/benchmarks.md), more than the exec stream costs for a few megabytes.
 */
const SMALL_FOR_FAST = 16 << 20;
export function transportFor(mode: TransportMode, item: ManifestItem): TransportMode {
  return mode === "auto" && item.bytes < SMALL_FOR_FAST ? "exec" : mode;
}

/** `db/appdb` for a part, else the service: what a progress line calls an artifact. */
function itemName(item: ManifestItem): string {
  return item.part ? `${item.service}/${item.part.name}` : item.service;
}
