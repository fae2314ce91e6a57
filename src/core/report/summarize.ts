// What a command's result means for notifications and metrics: status, exit code, per-service outcome, a summary.
import type { RunCommand, RunStatus } from "../../notify/index.ts";
import type { MetricsRun } from "../../notify/metrics.ts";
import type { BackupResult } from "../backup/types.ts";
import type { PruneResult } from "../retention/run-prune.ts";
import type { RestoreResult } from "../restore/run-restore.ts";
import type { VerifyResult } from "../verify/run-verify.ts";
import type { DrillResult } from "../verify/run-drill.ts";

export interface RunSummary {
  status: RunStatus;
  exitCode: number;
  project: string | null;
  services: MetricsRun["services"];
  /** What went wrong, one line each (empty when all is well). */
  problems: string[];
}

const EXIT: Record<RunStatus, number> = { ok: 0, partial: 3, failed: 1, skipped: 0 };

/** Reads a command's result document; the shapes are the commands' own result types. */
export function summarize(command: RunCommand, result: unknown): RunSummary {
  const r = result as Record<string, unknown>;
  const project = typeof r.project === "string" ? r.project : null;
  const done = (status: RunStatus, services: RunSummary["services"], problems: string[]): RunSummary => ({ status, exitCode: EXIT[status], project, services, problems });
  switch (command) {
    case "backup": {
      if (r.status === "not-due") return done("skipped", [], []);
      const b = result as BackupResult;
      const problems = [...(b.error ? [b.error] : []), ...b.items.filter((i) => i.status === "failed").map((i) => `${i.service}: ${i.error ?? "failed"}`)];
      return done(b.status, b.items.map((i) => ({ service: i.service, ok: i.status === "ok", durationMs: i.durationMs, ...(i.bytes !== null ? { bytes: i.bytes } : {}) })), problems);
    }
    case "restore": {
      const x = result as RestoreResult;
      const problems = [...(x.error ? [x.error] : []), ...x.items.filter((i) => i.status === "failed").map((i) => `${i.service}: ${i.error ?? "failed"}`)];
      return done(x.status === "ok" || x.status === "partial" ? x.status : "failed", x.items.map((i) => ({ service: i.service, ok: i.status === "ok", durationMs: i.durationMs })), problems);
    }
    case "verify": {
      if (typeof result === "object" && result !== null && "leftoversRemoved" in result) {
        // a restore drill (verify --restore-test)
        const d = result as DrillResult;
        const problems = d.items.flatMap((i) => i.reasons.map((r) => `${d.project}/${d.set} ${i.service}: ${r}`));
        return { ...done(d.status === "proven" ? "ok" : "failed", d.items.map((i) => ({ service: i.service, ok: i.status === "proven" })), problems), project: d.project };
      }
      const v = result as VerifyResult;
      const byService = new Map<string, boolean>();
      const problems: string[] = [];
      for (const s of v.sets) {
        if (s.problem) problems.push(`${s.project}/${s.set}: ${s.problem}`);
        for (const i of s.items) {
          byService.set(i.service, (byService.get(i.service) ?? true) && i.status === "ok");
          if (i.status === "bad") problems.push(`${s.project}/${s.set} ${i.service}: ${i.problem ?? "bad"}`);
        }
      }
      const projects = new Set(v.sets.map((s) => s.project));
      return { ...done(v.status === "ok" ? "ok" : "failed", [...byService].map(([service, ok]) => ({ service, ok })), problems), project: projects.size === 1 ? [...projects][0]! : null };
    }
    case "prune": {
      const p = result as PruneResult;
      const problems = p.sets.filter((s) => s.error).map((s) => `${s.project}/${s.set}: ${s.error}`);
      return { ...done(p.failed > 0 ? "failed" : "ok", [], problems), project: p.project ?? null };
    }
  }
}

/** "sdbackup backup shop: failed" */
export function titleOf(command: RunCommand, project: string | null, status: RunStatus): string {
  return `sdbackup ${command}${project ? ` ${project}` : ""}: ${status}`;
}
