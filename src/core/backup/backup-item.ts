import { isDatabaseImage } from "../../strategies/index.ts";
import type { FailedItem, ManifestItem } from "../../manifest/schema.ts";
import { artifactKey, partArtifactName } from "../../manifest/keys.ts";
import { createCompressor, extFor } from "../../pipeline/compress.ts";
import { AGE_EXT, createEncryptor, describeEncryption } from "../../pipeline/encrypt.ts";
import { CancelledError, StrategyError, errorMessage, throwIfAborted } from "../../errors.ts";
import { storeArtifact } from "./store-artifact.ts";
import { inventoryTap } from "./inventory-tap.ts";
import type { Inventory } from "../../manifest/schema.ts";
import { DEFAULT_STALL_MS, childController, stallGuard, startWithin } from "../../pipeline/stall.ts";
import { byteCounter } from "../../pipeline/limit.ts";
import { formatElapsed } from "../../runtime/duration.ts";
import { createSecretRegistry } from "../../strategies/shared/secrets.ts";
import type { ProgressBoard } from "../../ui/progress.ts";
import type { PlanItem } from "../project/plan.ts";
import type { BackupItemResult, BackupRun } from "./types.ts";
import type { TransportName } from "../../docker/types.ts";

/** What one item produced: a manifest entry, or the reason it failed. */
export type OkOutcome = ManifestItem & { status: "ok"; transport?: TransportName };
export type FailedOutcome = FailedItem & { status: "failed"; durationMs: number; part?: string };
export type ItemOutcome = OkOutcome | FailedOutcome;

/** Streams one service into the target; failures become outcomes, never exceptions. */
export async function backupItem(run: BackupRun, set: string, item: PlanItem, board: ProgressBoard): Promise<ItemOutcome> {
  const startedAt = run.now();
  const t0 = performance.now();
  const name = item.service.name;
  const seal = run.encryption?.get(name);
  // A part (one database of a postgres service, say) is its own artifact, named after the part.
  const part = item.part;
  const label = part ? `${name}/${part.name}` : name;
  const key = artifactKey(run.project, set, part ? partArtifactName(name, part) : name, part?.ext ?? item.strategy.ext, extFor(run.compression) + (seal ? AGE_EXT : ""));
  // The item's own signal: a stall ends this item's work in the container, not the run.
  const stall = childController(run.signal);
  try {
    throwIfAborted(run.signal);
    const container = item.container;
    if (!container) throw new StrategyError(`service ${name} has no container; start the project first`);
    if (item.strategy.needsRunning && !container.running) throw new StrategyError(`service ${name} is not running (${container.state})`);
    run.log.info(`${label}: ${item.strategy.name} backup started`);
    const transport: { mode: NonNullable<BackupRun["transport"]>; used?: TransportName } = { mode: run.transport ?? "auto" };
    const stallMs = run.stallTimeoutMs ?? DEFAULT_STALL_MS;
    const stalled = (ms: number) => new StrategyError(`no data from ${label} for ${formatElapsed(ms)}: the dump stalled (is its container paused or its database locked?)`, { hint: "raise --stall-timeout if the dump is only slow" });
    let recorded: Inventory | undefined;
    let databases: string[] | undefined;
    const ctx = {
      docker: run.docker, transport, service: item.service, container, detection: item.detection,
      secrets: createSecretRegistry(), isDatabaseImage, signal: stall.controller.signal, log: run.log, ...(part ? { part } : {}),
      recordInventory: (inventory: Inventory) => void (recorded = inventory),
      recordDatabases: (names: readonly string[]) => void (databases = [...names]),
    };
    // The header (and scrypt, for a passphrase) before the dump starts: it cannot stall the exec.
    const encryptor = seal ? await createEncryptor(seal) : undefined;
    // Everything before the first byte is bounded too: a locked database blocks the inventory's queries.
    const { counted, source } = await startWithin(stallMs, stalled, stall.controller, async () => {
      const counted = await liveInventory(item, ctx, label, run.log);
      return { counted, source: await item.strategy.backup(ctx) };
    });
    const tap = item.strategy.inventoryOf ? inventoryTap((input) => item.strategy.inventoryOf!(input, item.detection)) : undefined;
    const raw = byteCounter();
    const transforms = [stallGuard(stallMs, stalled), raw, ...(tap ? [tap.stage] : []), board.track(label), createCompressor(run.compression, run.level), ...(encryptor ? [encryptor] : [])];
    const { bytes, sha256 } = await storeArtifact(run.target, key, source, transforms, run.signal).finally(() => board.done(label));
    const inventory = counted ?? recorded ?? (await tap?.inventory);
    const durationMs = Math.round(performance.now() - t0);
    run.log.info(`${label}: ok, ${bytes} bytes in ${(durationMs / 1000).toFixed(1)} s${transport.used ? ` (${transport.used} transport)` : ""}`);
    return {
      status: "ok", service: name, strategy: item.strategy.name, image: item.service.image ?? container.image,
      key, bytes, rawBytes: raw.bytes, sha256, compression: run.compression, ...(seal ? { encryption: describeEncryption(seal) } : {}), paths: item.detection.paths,
      ...(part ? { part: { kind: part.kind, name: part.name, ...(part.owner ? { owner: part.owner } : {}) } } : {}),
      ...(databases ? { databases } : {}),
      ...(inventory ? { inventory } : {}), startedAt: startedAt.toISOString(), durationMs, ...(transport.used ? { transport: transport.used } : {}),
    };
  } catch (err) {
    const error = run.signal.aborted ? new CancelledError().message : errorMessage(err);
    if (!run.signal.aborted) run.log.error(`${label}: ${err instanceof Error ? err.message : String(err)}`);
    // An interrupt that left something behind (an S3 upload the store did not confirm aborted) says so.
    else if (err instanceof CancelledError && err !== run.signal.reason) run.log.warn(`${label}: ${err.message}`);
    const failedPart = part ? { part: part.name } : {};
    return { status: "failed", service: name, strategy: item.strategy.name, error, durationMs: Math.round(performance.now() - t0), ...failedPart };
  } finally {
    stall.dispose();
  }
}

/** The strategy's inventory right before its dump; a failure costs the drill comparison, not the backup. */
async function liveInventory(item: PlanItem, ctx: Parameters<NonNullable<PlanItem["strategy"]["inventory"]>>[0], label: string, log: BackupRun["log"]): Promise<Inventory | undefined> {
  // A strategy that counts inside its dump's snapshot reports through ctx.recordInventory instead.
  if (!item.strategy.inventory || item.strategy.inventoryInBackup) return undefined;
  try {
    return await item.strategy.inventory(ctx);
  } catch (err) {
    throwIfAborted(ctx.signal);
    log.warn(`${label}: no inventory for restore drills: ${errorMessage(err)}`);
    return undefined;
  }
}

export function toResult(r: ItemOutcome): BackupItemResult {
  if (r.status === "ok") {
    const part = r.part ? { part: r.part.name } : {};
    const transport = r.transport ? { transport: r.transport } : {};
    return { service: r.service, ...part, strategy: r.strategy, key: r.key, bytes: r.bytes, sha256: r.sha256, durationMs: r.durationMs, status: "ok", ...transport };
  }
  const part = r.part ? { part: r.part } : {};
  return { service: r.service, ...part, strategy: r.strategy, key: null, bytes: null, sha256: null, durationMs: r.durationMs, status: "failed", error: r.error };
}

/** Best effort, with a fresh signal: cleanup must run even when the run was interrupted. */
export async function discard(run: Pick<BackupRun, "target" | "log">, keys: string[]): Promise<void> {
  const signal = AbortSignal.timeout(60_000);
  for (const key of keys) {
    await run.target.remove(key, { signal }).catch((err: unknown) => run.log.warn(`could not remove ${key}: ${errorMessage(err)}`));
  }
}
