import type { Command } from "commander";
import type { CommandRegistrar } from "./options.ts";
import { addCommonOptions, addTargetOption, addTimeoutOption } from "./options.ts";
import { addReportOptions, reported, type ReportOptions } from "./notify-options.ts";
import type { Deps } from "../deps.ts";
import { ConfigError, ExitCode, NoSetError } from "../errors.ts";
import { normalizeProjectName } from "../compose/project-name.ts";
import { targetScope } from "../core/project/project.ts";
import { assertKnownApp } from "../core/project/known-app.ts";
import { runVerifyPlan, type VerifyResult } from "../core/verify/run-verify.ts";
import { addDecryptOptions, resolveKeyRing, type DecryptOptions } from "./encryption-options.ts";
import { parseSetFlag } from "../manifest/select.ts";
import { openTargetFlag } from "../targets/index.ts";
import { renderTable } from "../ui/table.ts";
import { printDrill, runVerifyDrill } from "./verify-drill.ts";
import { collect } from "./options.ts";

export interface VerifyOptions extends DecryptOptions {
  app?: string;
  file?: string[];
  profile?: string[];
  set?: string;
  target?: string;
  json?: boolean;
  /** Restore drill (`--restore-test`), with `--image SERVICE=IMAGE` overrides. */
  restoreTest?: boolean;
  image?: string[];
}

/** Checks sets against their manifests without Docker: the target alone is read. */
export async function runVerify(opts: VerifyOptions, deps: Deps): Promise<VerifyResult> {
  if (opts.app !== undefined && !normalizeProjectName(opts.app)) throw new ConfigError(`--app "${opts.app}" is not a usable compose project name`);
  // Like every command: --app, else -f, else the compose project in the working directory.
  const project = (await targetScope(opts, deps)).name;
  parseSetFlag(opts.set, { allowAll: true });
  const target = (await openTargetFlag(opts.target, deps)).target;
  const keys = await resolveKeyRing(opts, { ...deps, stdinIsTTY: false });
  try {
    return await runVerifyPlan({ target, keys, set: opts.set ?? "latest", signal: deps.signal, log: deps.log, ...(project ? { project } : {}) });
  } catch (err) {
    if (opts.app && project && err instanceof NoSetError) await assertKnownApp(project, target, deps);
    throw err;
  }
}

export const register: CommandRegistrar = (program: Command, deps: Deps, setExit) => {
  addTimeoutOption(addDecryptOptions(addReportOptions(addTargetOption(addCommonOptions(program.command("verify").description("re-read sets from the target and check checksums, decompression and formats"), "compose project (needed when the target holds several); default: the project in this directory")))))
    .option("--set <id>", "set id, latest (newest complete set with status ok) or all", "latest")
    .option("--restore-test", "restore drill: restore each artifact into a throwaway container and compare with the backup's inventory")
    .option("--image <service=image>", "with --restore-test: image for a service's throwaway server (repeatable)", collect)
    .action(async (opts: VerifyOptions & ReportOptions) => {
      if (opts.restoreTest) {
        const drill = await reported("verify", opts, deps, (d) => runVerifyDrill(opts, d));
        for (const i of drill.items) for (const r of i.reasons) deps.log.error(`${drill.project}/${drill.set} ${i.service}${i.part ? `/${i.part}` : ""}: ${r}`);
        if (opts.json) deps.out(JSON.stringify(drill, null, 2));
        else printDrill(drill, deps);
        if (drill.status !== "proven") setExit(ExitCode.failed);
        return;
      }
      if (opts.image?.length) throw new ConfigError("--image needs --restore-test");
      const result = await reported("verify", opts, deps, (d) => runVerify(opts, d));
      for (const s of result.sets) {
        if (s.problem) deps.log.error(`${s.project}/${s.set}: ${s.problem}`);
        for (const i of s.items) if (i.status === "bad") deps.log.error(`${s.project}/${s.set} ${i.service} ${i.key}: ${i.problem ?? "bad"}`);
      }
      if (opts.json) deps.out(JSON.stringify(result, null, 2));
      else printHuman(result, deps);
      if (result.status !== "ok") setExit(ExitCode.failed);
    });
};

// --- internal ---

function printHuman(result: VerifyResult, deps: Deps): void {
  const rows = result.sets.flatMap((s) =>
    s.problem
      ? [[s.project, s.set, "-", "bad", s.problem]]
      : s.items.map((i) => [s.project, s.set, i.service, i.status, i.status === "ok" ? i.key : `${i.key}: ${i.problem ?? ""}`]),
  );
  if (rows.length) deps.out(renderTable(["PROJECT", "SET", "SERVICE", "STATUS", "ARTIFACT"], rows));
  for (const s of result.incomplete) {
    deps.out(`note: incomplete set ${s.project}/${s.set} (${s.problem ?? "no manifest"}) was not verified`);
  }
  const items = result.sets.flatMap((s) => s.items);
  const sealed = items.filter((i) => i.note).length;
  if (sealed) deps.out(`note: ${sealed} encrypted artifact(s) checked by size and sha256 only; pass --identity (or SDBACKUP_PASSPHRASE_FILE) to check their contents`);
  const bad = items.filter((i) => i.status === "bad").length + result.sets.filter((s) => s.problem).length;
  deps.out(bad === 0
    ? `${result.sets.length} set(s), ${items.length} artifact(s): all ok`
    : `${result.sets.length} set(s), ${items.length} artifact(s): ${bad} bad`);
}
