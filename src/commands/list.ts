import type { Command } from "commander";
import type { CommandRegistrar } from "./options.ts";
import { addTargetOption, appOption, type CommonOptions } from "./options.ts";
import type { Deps } from "../deps.ts";
import { listSets } from "../manifest/store.ts";
import { normalizeProjectName } from "../compose/project-name.ts";
import { openTargetFlag } from "../targets/index.ts";
import { assertKnownApp } from "../core/project/known-app.ts";
import { formatBytes, renderTable } from "../ui/table.ts";

export interface ListOptions extends Pick<CommonOptions, "app" | "json"> {
  target?: string;
}

export interface ListResult {
  target: string;
  sets: {
    project: string;
    set: string;
    createdAt: string;
    complete: boolean;
    status: string | null;
    problem?: string;
    items: { service: string; strategy: string; bytes: number; sha256: string; key: string }[];
  }[];
}

/** Lists sets without Docker: the target alone is the source of truth. */
export async function runList(opts: ListOptions, deps: Deps): Promise<ListResult> {
  const target = (await openTargetFlag(opts.target, deps)).target;
  const app = opts.app ? normalizeProjectName(opts.app) : undefined;
  const sets = await listSets(target, app, deps.signal);
  if (app && sets.length === 0) await assertKnownApp(app, target, deps);
  return {
    target: target.display,
    sets: sets.map((s) => ({
      project: s.project,
      set: s.set,
      createdAt: s.createdAt.toISOString(),
      complete: s.complete,
      status: s.manifest?.status ?? null,
      ...(s.problem ? { problem: s.problem } : {}),
      items: (s.manifest?.items ?? []).map((i) => ({ service: i.service, strategy: i.strategy, bytes: i.bytes, sha256: i.sha256, key: i.key })),
    })),
  };
}

export const register: CommandRegistrar = (program: Command, deps: Deps) => {
  addTargetOption(program.command("list").description("list backup sets in the target, newest first"))
    .addOption(appOption("only this compose project"))
    .action(async (opts: ListOptions) => {
      const result = await runList(opts, deps);
      if (opts.json) return deps.out(JSON.stringify(result, null, 2));
      const rows = result.sets.map((s) => [
        s.project, s.set, s.createdAt, s.complete ? (s.status ?? "ok") : `incomplete${s.problem ? ` (${s.problem})` : ""}`,
        [...new Set(s.items.map((i) => i.service))].join(",") || "-", formatBytes(s.items.reduce((n, i) => n + i.bytes, 0)),
      ]);
      deps.out(renderTable(["PROJECT", "SET", "CREATED", "STATUS", "SERVICES", "SIZE"], rows));
    });
};
