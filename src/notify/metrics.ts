// Prometheus textfile-collector metrics: this run's samples merged into the previous file, written atomically.
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-file.ts";
import type { RunCommand, RunStatus } from "./types.ts";

/** What one run contributes; `target` only for commands that listed the target afterwards (backup, prune). */
export interface MetricsRun {
  command: RunCommand;
  project: string | null;
  status: RunStatus;
  exitCode: number;
  finishedAt: Date;
  durationMs: number;
  services: { service: string; ok: boolean; bytes?: number; durationMs?: number }[];
  target?: TargetFacts[];
}

/** Per project and service, from the target's complete sets. */
export interface TargetFacts {
  project: string;
  service: string;
  /** Complete sets holding a good artifact of the service. */
  sets: number;
  newestSet: Date | null;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every family: name → help. All are gauges. */
export const FAMILIES = {
  sdbackup_last_run_timestamp_seconds: "When the last run of the command ended, as a Unix time.",
  sdbackup_last_run_success: "1 when the last run of the command succeeded (for a service: its item did), else 0.",
  sdbackup_last_run_exit_code: "Exit code of the last run of the command (0 ok, 1 failed, 2 usage, 3 partial, 130 interrupted).",
  sdbackup_last_run_duration_seconds: "How long the last run of the command (or its item for a service) took.",
  sdbackup_last_success_timestamp_seconds: "When the command last succeeded, as a Unix time (kept across runs from the previous file and the target).",
  sdbackup_last_run_bytes: "Stored size of the service's artifact made by the last backup run.",
  sdbackup_sets: "Complete sets in the target that hold the service.",
  sdbackup_newest_set_timestamp_seconds: "Start time of the newest complete set in the target that holds the service, as a Unix time.",
} as const;
type Family = keyof typeof FAMILIES;

/** Reads `file` (if any), replaces what this run knows better, writes it back atomically. */
export async function writeMetricsFile(file: string, run: MetricsRun): Promise<void> {
  const previous = parseMetrics(await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? "" : Promise.reject(err))));
  await writeFileAtomic(file, renderMetrics(mergeRun(previous, run)));
}

/**
 * The previous samples minus those this run supersedes, plus this run's. A service this run did not
 * touch (`backup --service x`, a run that failed before its items) keeps its samples.
 */
export function mergeRun(previous: readonly Sample[], run: MetricsRun): Sample[] {
  const project = run.project ?? "";
  const touched = new Set(run.services.map((s) => s.service));
  const sameRun = (s: Sample) => s.labels.command === run.command && (s.labels.project ?? "") === project;
  const mine = (s: Sample) => sameRun(s) && (s.labels.service === undefined || touched.has(s.labels.service));
  const targetProjects = new Set(run.target?.map((f) => f.project) ?? []);
  const fromTarget = (s: Sample) => (s.name === "sdbackup_sets" || s.name === "sdbackup_newest_set_timestamp_seconds") && run.target !== undefined && (run.project === null || targetProjects.has(s.labels.project ?? ""));
  const kept = previous.filter((s) => !mine(s) && !fromTarget(s) && !(run.command === "backup" && s.name === "sdbackup_last_run_bytes" && (s.labels.project ?? "") === project && touched.has(s.labels.service ?? "")));
  const lastSuccess = (service?: string) =>
    previous.find((s) => s.name === "sdbackup_last_success_timestamp_seconds" && sameRun(s) && s.labels.service === service)?.value ??
    (service !== undefined && run.command === "backup" ? seconds(run.target?.find((f) => f.project === project && f.service === service)?.newestSet ?? null) : undefined);
  return [...kept, ...runSamples(run, lastSuccess)];
}

export function renderMetrics(samples: readonly Sample[]): string {
  const lines: string[] = [];
  for (const name of Object.keys(FAMILIES) as Family[]) {
    const family = samples.filter((s) => s.name === name).sort((a, b) => labelText(a.labels).localeCompare(labelText(b.labels)));
    if (family.length === 0) continue;
    lines.push(`# HELP ${name} ${FAMILIES[name]}`, `# TYPE ${name} gauge`);
    for (const s of family) lines.push(`${name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  return lines.join("\n") + "\n";
}

/** Reads samples of known families back from a file this module wrote; anything else is dropped. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || !(m[1]! in FAMILIES)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    const value = Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

// --- internal ---

function runSamples(run: MetricsRun, lastSuccess: (service?: string) => number | undefined): Sample[] {
  const base: Record<string, string> = { command: run.command, ...(run.project ? { project: run.project } : {}) };
  const at = seconds(run.finishedAt)!;
  const ok = run.status === "ok" || run.status === "skipped";
  const out: Sample[] = [];
  const add = (name: Family, labels: Record<string, string>, value: number | undefined) => {
    if (value !== undefined) out.push({ name, labels, value });
  };
  add("sdbackup_last_run_timestamp_seconds", base, at);
  add("sdbackup_last_run_success", base, ok ? 1 : 0);
  add("sdbackup_last_run_exit_code", base, run.exitCode);
  add("sdbackup_last_run_duration_seconds", base, run.durationMs / 1000);
  add("sdbackup_last_success_timestamp_seconds", base, ok ? at : lastSuccess());
  for (const s of run.services) {
    const labels = { ...base, service: s.service };
    add("sdbackup_last_run_timestamp_seconds", labels, at);
    add("sdbackup_last_run_success", labels, s.ok ? 1 : 0);
    add("sdbackup_last_run_duration_seconds", labels, s.durationMs === undefined ? undefined : s.durationMs / 1000);
    add("sdbackup_last_success_timestamp_seconds", labels, s.ok ? at : lastSuccess(s.service));
    if (run.command === "backup" && s.ok && s.bytes !== undefined) add("sdbackup_last_run_bytes", { project: run.project ?? "", service: s.service }, s.bytes);
  }
  for (const f of run.target ?? []) {
    add("sdbackup_sets", { project: f.project, service: f.service }, f.sets);
    add("sdbackup_newest_set_timestamp_seconds", { project: f.project, service: f.service }, seconds(f.newestSet));
  }
  return out;
}

function seconds(d: Date | null): number | undefined {
  return d === null ? undefined : d.getTime() / 1000;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.keys(labels).sort().filter((k) => labels[k] !== "").map((k) => `${k}="${labels[k]!.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
}
