import type { Command } from "commander";
import type { CommandRegistrar } from "./options.ts";
import { addCommonOptions, type CommonOptions } from "./options.ts";
import type { Deps } from "../deps.ts";
import { detectProject, type ServiceDetection } from "../core/project/detect.ts";
import { resolveProject } from "../core/project/project.ts";
import { projectSchedule } from "../core/schedule/schedule.ts";
import { renderTable } from "../ui/table.ts";

export interface DetectResult {
  project: string;
  /** `files` when read from compose files, `containers` when built from running containers. */
  origin: "files" | "containers";
  services: ServiceDetection[];
  /**
   * The project's `simpledeploy.backup.schedule` and the services carrying it; null without one.
   * A malformed or conflicting label is a ConfigError (exit 2), not a row warning.
   */
  schedule: { expression: string; timezone: string | null; services: string[] } | null;
  /** The loader's findings: unset variables, unsupported keys. */
  warnings: string[];
}

export async function runDetect(opts: CommonOptions, deps: Deps): Promise<DetectResult> {
  const { project, origin } = await resolveProject(opts, deps);
  const found = projectSchedule(project.services);
  const schedule = found ? { expression: found.schedule.expression, timezone: found.schedule.timezone, services: found.services } : null;
  return { project: project.name, origin, services: detectProject(project), schedule, warnings: project.warnings ?? [] };
}

export const register: CommandRegistrar = (program: Command, deps: Deps) => {
  addCommonOptions(
    program.command("detect").description("show which services hold data and how each would be backed up"),
  ).action(async (opts: CommonOptions) => {
    const result = await runDetect(opts, deps);
    if (opts.json) return deps.out(JSON.stringify(result, null, 2));
    deps.out(`project ${result.project}${result.origin === "containers" ? " (from running containers)" : ""}`);
    const rows = result.services.map((s) => [
      s.service,
      s.image ?? "-",
      s.strategy ?? "-",
      s.source ? `${s.source} ${s.confidence.toFixed(2)}` : "-",
      s.paths.join(",") || "-",
      s.mounts.filter((m) => !m.included).map((m) => `${m.target} (${m.reason})`).join("; ") || "-",
      s.warnings.join("; "),
    ]);
    deps.out(renderTable(["SERVICE", "IMAGE", "STRATEGY", "WHY", "PATHS", "NOT BACKED UP", "WARNINGS"], rows));
    for (const w of result.warnings) deps.out(`warning: ${w}`);
    if (result.schedule) {
      const zone = result.schedule.timezone ? ` (CRON_TZ=${result.schedule.timezone})` : "";
      deps.out(`schedule: ${result.schedule.expression}${zone}, from ${result.schedule.services.join(", ")}`);
    }
  });
};
