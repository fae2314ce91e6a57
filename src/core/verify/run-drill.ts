import { PassThrough, type Readable } from "node:stream";
import type { DockerApi } from "../../docker/types.ts";
import type { Target } from "../../targets/types.ts";
import type { Logger } from "../../ui/logger.ts";
import type { Manifest, ManifestItem } from "../../manifest/schema.ts";
import type { KeyRing } from "../../pipeline/encrypt.ts";
import type { Strategy } from "../../strategies/types.ts";
import { listSets } from "../../manifest/store.ts";
import { selectSets } from "../../manifest/select.ts";
import { strategies } from "../../strategies/index.ts";
import { checkKeys, readArtifact } from "../restore/read-artifact.ts";
import { StrategyError, errorMessage, throwIfAborted } from "../../errors.ts";
import { createProgressBoard, type ProgressBoard } from "../../ui/progress.ts";
import { compareInventory, type Comparison } from "./compare.ts";
import { verifyItem } from "./run-verify.ts";
import { DRILL_LABEL, isLeftover, startDrillServer } from "./drill-server.ts";

export interface DrillRun {
  target: Target;
  project?: string;
  /** `latest` (default) or a set id. */
  set?: string;
  /** `--image SERVICE=IMAGE`: overrides the image recorded in the manifest. */
  images: Record<string, string>;
  keys?: KeyRing;
  docker: DockerApi;
  /** Labels this run's throwaway containers; leftovers of other runs are removed first. */
  runId: string;
  /** How long each throwaway server may take to accept connections (default 120 s). */
  waitMs?: number;
  signal: AbortSignal;
  log: Logger;
}

export interface DrillItemResult {
  service: string;
  key: string;
  part?: string;
  status: "proven" | "not-proven";
  comparison: Comparison["outcome"];
  differences: string[];
  /** Why it is not proven: each failed comparison, or the step that failed. */
  reasons: string[];
  /** What a person should know, e.g. why the comparison is unavailable. */
  note?: string;
}

export interface DrillResult {
  target: string;
  project: string;
  set: string;
  status: "proven" | "not-proven";
  items: DrillItemResult[];
  /** Throwaway containers of earlier, crashed runs removed before this one started. */
  leftoversRemoved: number;
}

/**
 * `verify --restore-test`: every artifact of one set restored through its strategy's own `restore`
 * into a throwaway server (or, for archives, read whole), its inventory taken again and compared
 * with the one recorded at backup. Throwaway containers go in `finally`, also on abort.
 */
export async function runDrillPlan(run: DrillRun): Promise<DrillResult> {
  const all = await listSets(run.target, run.project, run.signal);
  const [chosen] = selectSets(all, { set: run.set ?? "latest", project: run.project, display: run.target.display });
  const manifest = chosen!.manifest!;
  await checkKeys(run.target, manifest.items, run.keys, run.signal);
  const leftoversRemoved = await run.docker.removeLabelled(DRILL_LABEL, { signal: run.signal, which: (c) => isLeftover(c.labels) });
  if (leftoversRemoved) run.log.warn(`removed ${leftoversRemoved} throwaway container(s) left by an earlier drill`);
  run.log.info(`drilling ${manifest.project}/${manifest.set} (${manifest.items.length} artifacts)`);
  const board = createProgressBoard(run.log);
  const items: DrillItemResult[] = [];
  try {
    for (const [service, group] of groupByService(manifest.items)) items.push(...(await drillService(run, manifest, service, group, board)));
  } finally {
    board.stop();
    await run.docker.removeLabelled(`${DRILL_LABEL}=${run.runId}`, { signal: AbortSignal.timeout(60_000) })
      .catch((err: unknown) => run.log.warn(`could not remove the drill's containers (label ${DRILL_LABEL}=${run.runId}): ${errorMessage(err)}`));
  }
  const status = items.every((i) => i.status === "proven") ? "proven" : "not-proven";
  return { target: run.target.display, project: manifest.project, set: manifest.set, status, items, leftoversRemoved };
}

// --- internal ---

type Board = ProgressBoard;

async function drillService(run: DrillRun, manifest: Manifest, service: string, items: ManifestItem[], board: Board): Promise<DrillItemResult[]> {
  const strategy: Strategy | undefined = strategies.find((s) => s.name === items[0]!.strategy);
  if (!strategy) return items.map((i) => failed(i, `unknown strategy "${i.strategy}" in the manifest`));
  const exact = (i: ManifestItem) => manifest.consistent === true || i.inventory?.exact === true;
  const image = run.images[service] ?? items[0]!.image;
  // The throwaway server initialises (seconds) while the artifacts are checked, not after.
  const starting = strategy.drill && image
    ? startDrillServer({ docker: run.docker, strategy, image, project: manifest.project, service, runId: run.runId, waitMs: run.waitMs ?? 120_000, signal: run.signal, log: run.log })
      .then((server) => ({ server }), (error: unknown) => ({ error }))
    : undefined;
  // Like restore's preflight: a corrupted or truncated artifact is named as such, not by whatever
  // the restore tool tripped over; a drill restores only what verified.
  const bad = new Map<ManifestItem, string>();
  let checked = false;
  try {
    for (const item of items) {
      const result = await verifyItem(run.target, item, run.signal, run.keys);
      if (result.status === "bad") bad.set(item, `artifact: ${result.problem ?? "bad"}`);
    }
    checked = true;
  } finally {
    // Settled before anything returns: the run's clean-up must not race a container being created.
    if (!checked || bad.size) await starting;
  }
  if (bad.size) return items.map((i) => failed(i, bad.get(i) ?? "not restored: another artifact of the service is bad"));
  run.log.debug(`${service}: ${items.length} artifact(s) checked`);
  if (!strategy.drill) {
    if (!strategy.inventoryOf) return items.map((i) => failed(i, `${strategy.name} has no restore drill`));
    // Archives need no server: the stored archive, read whole and validated, is what restore unpacks.
    const out: DrillItemResult[] = [];
    for (const item of items) {
      out.push(await step(item, () => readWhole(run, item, strategy, board), (found) => compareInventory(item.inventory, found, exact(item))));
    }
    return out;
  }
  if (!image || !starting) return items.map((i) => failed(i, `the manifest records no image for ${service}; pass --image ${service}=IMAGE`));
  const started = await starting;
  if ("error" in started) {
    throwIfAborted(run.signal);
    return items.map((i) => failed(i, `cannot start a throwaway server from ${image}: ${errorMessage(started.error)}`));
  }
  const server = started.server;
  run.log.debug(`${service}: throwaway server ready`);
  const restored = new Map<ManifestItem, string | undefined>();
  for (const item of items) {
    const ctx = server.forItem(item);
    const name = label(item);
    try {
      await readArtifact(run.target, item, run.signal, (input) => strategy.restore(ctx, input), run.keys, undefined, board.track(name, item.bytes));
      restored.set(item, undefined);
      run.log.debug(`${name}: restored`);
    } catch (err) {
      throwIfAborted(run.signal);
      restored.set(item, `restore failed: ${errorMessage(err)}`);
    } finally {
      board.done(name);
    }
  }
  // Counted once everything is back: a later part (roles) can matter to an earlier one.
  const out: DrillItemResult[] = [];
  for (const item of items) {
    const problem = restored.get(item);
    if (problem) {
      out.push(failed(item, problem));
      continue;
    }
    const take = async () => (strategy.inventory ? strategy.inventory(server.forItem(item)) : undefined);
    out.push(await step(item, take, (found) => compareInventory(item.inventory, found, exact(item))));
    run.log.debug(`${label(item)}: inventory taken`);
  }
  return out;
}

/** Runs what takes the inventory, then the comparison; every failure becomes a named reason. */
async function step(item: ManifestItem, take: () => Promise<Awaited<ReturnType<NonNullable<Strategy["inventory"]>>> | undefined>, compare: (found: Awaited<ReturnType<typeof take>>) => Comparison): Promise<DrillItemResult> {
  let found;
  try {
    found = await take();
  } catch (err) {
    // A full MySQL/MariaDB dump carries the mysql schema: once restored, the drill server's fresh
    // root password is gone with the old grant tables. The restore itself succeeded; say why the
    // contents could not be compared instead of calling the set unrestorable.
    const text = err instanceof StrategyError ? `${err.message} ${err.exec?.stderrTail ?? ""}` : errorMessage(err);
    if (!/Access denied/i.test(text)) return failed(item, `inventory after restore failed: ${errorMessage(err)}`);
    const note = "restored; inventory unavailable: the restored grant tables replaced the drill server's password (name the databases with simpledeploy.backup.databases to compare)";
    return { service: item.service, key: item.key, ...(item.part ? { part: item.part.name } : {}), status: "proven", comparison: "unavailable", differences: [], reasons: [], note };
  }
  const c = compare(found);
  const base = { service: item.service, key: item.key, ...(item.part ? { part: item.part.name } : {}), comparison: c.outcome, differences: c.differences };
  return c.failures.length ? { ...base, status: "not-proven", reasons: c.failures } : { ...base, status: "proven", reasons: [] };
}

async function readWhole(run: DrillRun, item: ManifestItem, strategy: Strategy, board: Board) {
  let inventory;
  const name = label(item);
  try {
    await readArtifact(run.target, item, run.signal, async (input: Readable) => {
      const a = new PassThrough();
      const b = new PassThrough();
      input.pipe(a);
      input.pipe(b);
      [, inventory] = await Promise.all([strategy.validate(a, item), strategy.inventoryOf!(b, { paths: item.paths })]);
    }, run.keys, undefined, board.track(name, item.bytes));
  } finally {
    board.done(name);
  }
  return inventory;
}

function failed(item: ManifestItem, reason: string): DrillItemResult {
  return { service: item.service, key: item.key, ...(item.part ? { part: item.part.name } : {}), status: "not-proven", comparison: "unavailable", differences: [], reasons: [reason] };
}

function label(item: ManifestItem): string {
  return item.part ? `${item.service}/${item.part.name}` : item.service;
}

function groupByService(items: readonly ManifestItem[]): Map<string, ManifestItem[]> {
  const groups = new Map<string, ManifestItem[]>();
  for (const item of items) groups.set(item.service, [...(groups.get(item.service) ?? []), item]);
  return groups;
}
