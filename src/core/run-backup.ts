import type { DockerApi } from "../docker/types.ts";
import type { Target } from "../targets/types.ts";
import type { Logger } from "../ui/logger.ts";
import type { Compression, FailedItem, Manifest, ManifestItem } from "../manifest/schema.ts";
import { MANIFEST_VERSION } from "../manifest/schema.ts";
import { artifactKey, newSetId } from "../manifest/keys.ts";
import { writeManifest } from "../manifest/store.ts";
import { createCompressor, extFor } from "../pipeline/compress.ts";
import { CancelledError, StrategyError, errorMessage, throwIfAborted } from "../errors.ts";
import { storeArtifact } from "./store-artifact.ts";
import { createSecretRegistry } from "./secrets.ts";
import { mapPool } from "./pool.ts";
import { createProgressBoard, type ProgressBoard } from "../ui/progress.ts";
import type { PlanItem } from "./plan.ts";

export interface BackupRun {
  project: string;
  items: PlanItem[];
  target: Target;
  docker: DockerApi;
  compression: Compression;
  level?: number;
  concurrency: number;
  version: string;
  now: () => Date;
  signal: AbortSignal;
  log: Logger;
}

export interface BackupItemResult {
  service: string;
  strategy: string;
  key: string | null;
  bytes: number | null;
  sha256: string | null;
  durationMs: number;
  status: "ok" | "failed";
  error?: string;
}

export interface BackupResult {
  project: string;
  set: string;
  status: "ok" | "partial" | "failed";
  target: string;
  manifest: string | null;
  items: BackupItemResult[];
}

/**
 * Streams every item into the target, then commits the set by writing its manifest last. Failed
 * items leave nothing behind; with some items failed the set is committed as partial; with all
 * failed, or on interruption, nothing is committed and stored artifacts are removed again.
 */
export async function runBackupPlan(run: BackupRun): Promise<BackupResult> {
  const started = run.now();
  const set = newSetId(started);
  const board = createProgressBoard(run.log);
  const results = await mapPool(run.items, run.concurrency, (item) => backupItem(run, set, item, board)).finally(() => board.stop());
  const ok = results.filter((r): r is OkOutcome => r.status === "ok");
  const failed = results.filter((r): r is FailedOutcome => r.status === "failed");

  const display = run.target.display;
  const summary = (status: BackupResult["status"], manifest: string | null): BackupResult => ({
    project: run.project, set, status, target: display, manifest, items: results.map(toResult),
  });
  if (run.signal.aborted || ok.length === 0) {
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
    status: failed.length ? "partial" : "ok",
    items: ok.map(({ status: _s, ...item }) => item),
    failed: failed.map(({ service, strategy, error }) => ({ service, strategy, error })),
  };
  try {
    const key = await writeManifest(run.target, manifest, run.signal);
    return summary(manifest.status, key);
  } catch (err) {
    await discard(run, ok.map((i) => i.key));
    throw err;
  }
}

// --- internal ---

type OkOutcome = ManifestItem & { status: "ok" };
type FailedOutcome = FailedItem & { status: "failed"; durationMs: number };
type ItemOutcome = OkOutcome | FailedOutcome;

async function backupItem(run: BackupRun, set: string, item: PlanItem, board: ProgressBoard): Promise<ItemOutcome> {
  const startedAt = run.now();
  const t0 = performance.now();
  const name = item.service.name;
  const key = artifactKey(run.project, set, name, item.strategy.ext, extFor(run.compression));
  try {
    throwIfAborted(run.signal);
    const container = item.container;
    if (!container) throw new StrategyError(`service ${name} has no container; start the project first`);
    if (item.strategy.needsRunning && !container.running) throw new StrategyError(`service ${name} is not running (${container.state})`);
    run.log.info(`${name}: ${item.strategy.name} backup started`);
    const ctx = {
      docker: run.docker, service: item.service, container, detection: item.detection,
      secrets: createSecretRegistry(), signal: run.signal, log: run.log,
    };
    const source = await item.strategy.backup(ctx);
    const transforms = [board.track(name), createCompressor(run.compression, run.level)];
    const { bytes, sha256 } = await storeArtifact(run.target, key, source, transforms, run.signal).finally(() => board.done(name));
    const durationMs = Math.round(performance.now() - t0);
    run.log.info(`${name}: ok, ${bytes} bytes in ${(durationMs / 1000).toFixed(1)} s`);
    return {
      status: "ok", service: name, strategy: item.strategy.name, image: item.service.image ?? container.image,
      key, bytes, sha256, compression: run.compression, paths: item.detection.paths,
      startedAt: startedAt.toISOString(), durationMs,
    };
  } catch (err) {
    const error = run.signal.aborted ? new CancelledError().message : errorMessage(err);
    if (!run.signal.aborted) run.log.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    return { status: "failed", service: name, strategy: item.strategy.name, error, durationMs: Math.round(performance.now() - t0) };
  }
}

function toResult(r: ItemOutcome): BackupItemResult {
  if (r.status === "ok") {
    return { service: r.service, strategy: r.strategy, key: r.key, bytes: r.bytes, sha256: r.sha256, durationMs: r.durationMs, status: "ok" };
  }
  return { service: r.service, strategy: r.strategy, key: null, bytes: null, sha256: null, durationMs: r.durationMs, status: "failed", error: r.error };
}

/** Best effort, with a fresh signal: cleanup must run even when the run was interrupted. */
async function discard(run: BackupRun, keys: string[]): Promise<void> {
  const signal = AbortSignal.timeout(60_000);
  for (const key of keys) {
    await run.target.remove(key, { signal }).catch((err: unknown) => run.log.warn(`could not remove ${key}: ${errorMessage(err)}`));
  }
}
