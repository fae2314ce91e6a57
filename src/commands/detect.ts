import type { Command } from "commander";
import type { CommandRegistrar } from "../cli.ts";
import { addCommonOptions, type CommonOptions } from "../cli.ts";
import type { Deps } from "../deps.ts";
import { detectProject, type ServiceDetection } from "../core/detect.ts";
import { resolveProject } from "../core/project.ts";
import { renderTable } from "../ui/table.ts";

export interface DetectResult {
  project: string;
  /** `files` when read from compose files, `containers` when built from running containers. */
  origin: "files" | "containers";
  services: ServiceDetection[];
}

export async function runDetect(opts: CommonOptions, deps: Deps): Promise<DetectResult> {
  const { project, origin } = await resolveProject(opts, deps);
  return { project: project.name, origin, services: detectProject(project) };
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
      s.warnings.join("; "),
    ]);
    deps.out(renderTable(["SERVICE", "IMAGE", "STRATEGY", "WHY", "PATHS", "WARNINGS"], rows));
  });
};
