import { randomBytes } from "node:crypto";
import type { Deps } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import { targetScope } from "../core/project/project.ts";
import { runDrillPlan, type DrillResult } from "../core/verify/run-drill.ts";
import { parseSetFlag } from "../manifest/select.ts";
import { openTargetFlag } from "../targets/index.ts";
import { renderTable } from "../ui/table.ts";
import { resolveKeyRing, type DecryptOptions } from "./encryption-options.ts";

/** The verify options a drill reads (verify.ts passes its own, a superset). */
export interface DrillOptions extends DecryptOptions {
  app?: string;
  file?: string[];
  profile?: string[];
  set?: string;
  target?: string;
  /** `--image SERVICE=IMAGE`, repeatable. */
  image?: string[];
}

/** `verify --restore-test`: a restore drill of one set (see core/verify/run-drill.ts). */
export async function runVerifyDrill(opts: DrillOptions, deps: Deps): Promise<DrillResult> {
  const images = parseImages(opts.image ?? []);
  if (opts.set === "all") throw new ConfigError("--restore-test drills one set: give --set ID or latest");
  parseSetFlag(opts.set);
  const project = (await targetScope(opts, deps)).name;
  const target = (await openTargetFlag(opts.target, deps)).target;
  const keys = await resolveKeyRing(opts, { ...deps, stdinIsTTY: false });
  const docker = await deps.docker();
  const runId = `${deps.now().toISOString().replace(/[^0-9]/g, "").slice(0, 14)}-${randomBytes(3).toString("hex")}`;
  return runDrillPlan({ target, keys, docker, images, runId, set: opts.set ?? "latest", signal: deps.signal, log: deps.log, ...(project ? { project } : {}) });
}

/** Human output: one row per artifact, then each difference and reason. */
export function printDrill(result: DrillResult, deps: Deps): void {
  const rows = result.items.map((i) => [i.part ? `${i.service}/${i.part}` : i.service, i.status, i.comparison, i.reasons.join("; ")]);
  deps.out(renderTable(["SERVICE", "DRILL", "INVENTORY", "REASON"], rows));
  for (const i of result.items) for (const d of i.differences) deps.out(`note: ${i.part ? `${i.service}/${i.part}` : i.service}: ${d}`);
  for (const i of result.items) if (i.note) deps.out(`note: ${i.part ? `${i.service}/${i.part}` : i.service}: ${i.note}`);
  const unavailable = result.items.filter((i) => i.comparison === "unavailable" && i.status === "proven" && !i.note).length;
  if (unavailable) deps.out(`note: ${unavailable} artifact(s) have no inventory from backup time (older set): restored, contents not compared`);
  const bad = result.items.filter((i) => i.status !== "proven").length;
  deps.out(bad === 0 ? `${result.project}/${result.set}: restore proven (${result.items.length} artifact(s))` : `${result.project}/${result.set}: NOT proven (${bad} of ${result.items.length} artifact(s))`);
}

function parseImages(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0 || i === v.length - 1) throw new ConfigError(`--image "${v}" is not SERVICE=IMAGE`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}
