import { isDatabaseImage } from "../../strategies/index.ts";
import { createSecretRegistry } from "../../strategies/shared/secrets.ts";
import { errorMessage, throwIfAborted } from "../../errors.ts";
import type { PlanItem } from "../project/plan.ts";
import type { FailedOutcome, ItemOutcome } from "./backup-item.ts";
import type { BackupRun } from "./types.ts";

/**
 * Splits the items whose strategy stores a service as several artifacts (postgres: the roles, then
 * one dump per database) into one item per part, asking the running container which parts there
 * are. A service whose parts cannot be listed fails as a whole; the others go on.
 */
export async function expandParts(run: BackupRun, items: readonly PlanItem[]): Promise<{ items: PlanItem[]; failed: FailedOutcome[] }> {
  const out: PlanItem[] = [];
  const failed: FailedOutcome[] = [];
  for (const item of items) {
    const container = item.container;
    if (!item.strategy.parts || !container?.running) {
      out.push(item);
      continue;
    }
    const t0 = performance.now();
    try {
      throwIfAborted(run.signal);
      const ctx = {
        docker: run.docker, service: item.service, container, detection: item.detection,
        secrets: createSecretRegistry(), isDatabaseImage, signal: run.signal, log: run.log,
      };
      for (const part of await item.strategy.parts(ctx)) out.push({ ...item, part });
    } catch (err) {
      if (run.signal.aborted) throw err;
      run.log.error(`${item.service.name}: cannot list what to back up: ${errorMessage(err)}`);
      failed.push({ status: "failed", service: item.service.name, strategy: item.strategy.name, error: errorMessage(err), durationMs: Math.round(performance.now() - t0) });
    }
  }
  return { items: out, failed };
}

/**
 * A service stored in parts is kept whole or not at all: when one part failed, the parts that
 * succeeded are turned into failures too (their artifacts are returned for removal), so a set
 * never holds half of a service and a restore never has to guess what is missing.
 */
export function keepServicesWhole(results: ItemOutcome[]): { results: ItemOutcome[]; dropped: string[] } {
  const broken = new Map<string, string>();
  for (const r of results) if (r.status === "failed" && r.part !== undefined && !broken.has(r.service)) broken.set(r.service, r.part);
  for (const r of results) if (r.status === "failed" && r.part === undefined) broken.set(r.service, "listing its parts");
  const dropped: string[] = [];
  const out = results.map((r): ItemOutcome => {
    const cause = broken.get(r.service);
    if (r.status !== "ok" || r.part === undefined || cause === undefined) return r;
    dropped.push(r.key);
    return { status: "failed", service: r.service, strategy: r.strategy, part: r.part.name, error: `not kept: ${cause} of the same service failed`, durationMs: r.durationMs };
  });
  return { results: out, dropped };
}
