import { Option, type Command } from "commander";
import type { CommandRegistrar } from "./options.ts";
import { addTargetOption, appOption } from "./options.ts";
import type { Deps } from "../deps.ts";
import { ConfigError, ExitCode } from "../errors.ts";
import { normalizeProjectName } from "../compose/project-name.ts";
import { listSets } from "../manifest/store.ts";
import { formatAge, HISTORY, projectFreshness, type FreshnessLimits, type ProjectFreshness } from "../core/status/freshness.ts";
import { parseElapsed, formatElapsed } from "../runtime/duration.ts";
import { openTargetFlag } from "../targets/index.ts";
import { formatBytes, renderTable } from "../ui/table.ts";
import { sparkline } from "../ui/sparkline.ts";

export interface StatusOptions {
  app?: string;
  target?: string;
  maxAge?: string;
  maxShrink?: string;
  json?: boolean;
}

export interface StatusResult {
  target: string;
  checkedAt: string;
  status: "ok" | "problem";
  limits: { maxAge: string | null; maxShrinkPct: number | null };
  projects: ProjectFreshness[];
  problems: string[];
}

/** Reads only the target (no Docker, no compose file): a check that runs anywhere the target is reachable. */
export async function runStatus(opts: StatusOptions, deps: Deps): Promise<StatusResult> {
  const project = opts.app === undefined ? undefined : normalizeProjectName(opts.app);
  const limits: FreshnessLimits = {
    ...(opts.maxAge !== undefined ? { maxAgeMs: parseElapsed(opts.maxAge, "--max-age", MAX_AGE_MS) } : {}),
    ...(opts.maxShrink !== undefined ? { maxShrinkPct: parsePercent(opts.maxShrink) } : {}),
  };
  const target = (await openTargetFlag(opts.target, deps)).target;
  const sets = await listSets(target, project, deps.signal);
  const names = project ? [project] : [...new Set(sets.map((s) => s.project))].sort();
  const now = deps.now();
  const projects = names.map((p) => projectFreshness(p, sets, now, limits));
  const problems = [
    ...(names.length === 0 ? [`no backup sets in ${target.display}`] : []),
    ...projects.flatMap((p) => [...p.problems, ...p.services.flatMap((s) => s.problems.map((x) => `${p.project}/${s.service}: ${x}`))]),
  ];
  return {
    target: target.display, checkedAt: now.toISOString(), status: problems.length ? "problem" : "ok",
    limits: { maxAge: limits.maxAgeMs === undefined ? null : formatElapsed(limits.maxAgeMs), maxShrinkPct: limits.maxShrinkPct ?? null },
    projects, problems,
  };
}

export const register: CommandRegistrar = (program: Command, deps: Deps, setExit) => {
  addTargetOption(program.command("status").description("check from the target alone that every service has a fresh, plausible backup"))
    .addOption(appOption("only this compose project"))
    .addOption(new Option("--max-age <duration>", "a service whose newest backup is older than this fails the check (e.g. 26h, 8d)"))
    .addOption(new Option("--max-shrink <percent>", "a service whose newest backup is smaller than the previous one by more than this fails (e.g. 50%)"))
    .action(async (opts: StatusOptions) => {
      const result = await runStatus(opts, deps);
      if (opts.json) deps.out(JSON.stringify(result, null, 2));
      else printHuman(result, deps);
      for (const p of result.problems) deps.log.error(p);
      if (result.status !== "ok") setExit(ExitCode.failed);
    });
};

// --- internal ---

/** An age limit, not a timer: weeks of tolerance are fine. */
const MAX_AGE_MS = 3650 * 86_400_000;

function parsePercent(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 0 && n <= 100)) throw new ConfigError(`--max-shrink must be a percentage from 0 to 100, e.g. 50%, got "${value}"`);
  return n;
}

/** The trend column only on a terminal: in a pipe or a monitoring check it is noise. */
function printHuman(result: StatusResult, deps: Deps): void {
  const trend = deps.log.interactive;
  const rows = result.projects.flatMap((p) => p.services.map((s) => [
    p.project, s.service, s.set ?? "-", s.ageMs === null ? "-" : formatAge(s.ageMs), s.bytes === null ? "-" : formatBytes(s.bytes),
    s.changePct === null ? "-" : `${s.changePct >= 0 ? "+" : ""}${s.changePct.toFixed(1)}%`,
    ...(trend ? [sparkline(s.history)] : []), s.problems.length ? s.problems.join("; ") : "ok",
  ]));
  const headers = ["PROJECT", "SERVICE", "NEWEST SET", "AGE", "SIZE", "CHANGE", ...(trend ? [`LAST ${HISTORY}`] : []), "STATUS"];
  if (rows.length) deps.out(renderTable(headers, rows));
  deps.out(result.status === "ok" ? `all ${rows.length} service(s) ok` : `${result.problems.length} problem(s)`);
}
