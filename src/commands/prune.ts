import { Option, type Command } from "commander";
import type { CommandRegistrar } from "./options.ts";
import { addCommonOptions, addTargetOption, addTimeoutOption, type CommonOptions } from "./options.ts";
import { elapsed } from "./validate.ts";
import { addReportOptions, reported, type ReportOptions } from "./notify-options.ts";
import type { Deps } from "../deps.ts";
import { ConfigError, ExitCode, errorMessage } from "../errors.ts";
import { normalizeProjectName } from "../compose/project-name.ts";
import { resolveProject, targetScope } from "../core/project/project.ts";
import type { ComposeProject } from "../compose/model.ts";
import { LABEL } from "../compose/labels.ts";
import { DEFAULT_GRACE_MS } from "../core/retention/apply.ts";
import { formatPolicy, policyFromFlags, policyFromLabels, RETENTION_RULES, type RetentionFlags, type RetentionPolicy } from "../core/retention/policy.ts";
import { parseElapsed } from "../runtime/duration.ts";
import { runPrunePlan, type PruneResult, type PruneRun } from "../core/retention/run-prune.ts";
import { openTargetFlag } from "../targets/index.ts";
import { renderTable } from "../ui/table.ts";

export interface PruneOptions extends RetentionFlags, Pick<CommonOptions, "file" | "profile"> {
  app?: string;
  target?: string;
  dryRun?: boolean;
  json?: boolean;
  grace?: string;
  allowRemoveAll?: boolean;
}

/**
 * `--keep-*` flags, when any is given, replace the label's policy as a whole (no per-rule merge:
 * what is typed is what applies). Only without flags is the project's label looked up, which needs
 * the compose project; when it cannot be resolved, there is no policy and nothing is removed.
 */
export async function runPrune(opts: PruneOptions, deps: Deps): Promise<PruneResult> {
  if (opts.app !== undefined && !normalizeProjectName(opts.app)) throw new ConfigError(`--app "${opts.app}" is not a usable compose project name`);
  // Elapsed time: `--grace 30m` is thirty minutes (the calendar parser of --keep-within reads months).
  const graceMs = opts.grace === undefined ? DEFAULT_GRACE_MS : parseElapsed(opts.grace, "--grace", MAX_GRACE_MS);
  // Like every command: --app, else -f, else the compose project in the working directory.
  const scope = await targetScope(opts, deps);
  const project = scope.name;
  const { policy, source } = await resolvePolicy(opts, scope.project, deps);
  const target = (await openTargetFlag(opts.target, deps)).target;
  if (policy) deps.log.info(`retention policy (${source === "flags" ? "from flags" : `from label ${LABEL.retention}`}): ${formatPolicy(policy)}`);
  const run: PruneRun = {
    target, policy, policySource: source, graceMs, dryRun: Boolean(opts.dryRun), allowRemoveAll: Boolean(opts.allowRemoveAll),
    now: deps.now(), signal: deps.signal, log: deps.log, ...(project ? { project } : {}),
  };
  const result = await runPrunePlan(run);
  // a mistyped --app finds nothing to prune; say so rather than pass silently
  if (project && result.sets.length === 0) deps.log.warn(`no sets of project ${project} in ${target.display}; sdbackup list shows the projects there`);
  return result;
}

export const register: CommandRegistrar = (program: Command, deps: Deps, setExit) => {
  const cmd = program.command("prune").description("remove backup sets that the retention policy no longer keeps");
  addTimeoutOption(addRetentionOptions(addReportOptions(addTargetOption(addCommonOptions(cmd, "only this compose project (its retention label is the default policy); default: the project in this directory")))))
    .addOption(new Option("--grace <duration>", "age after which an incomplete set counts as abandoned").default("24h").argParser(elapsed("--grace", MAX_GRACE_MS)))
    .option("--allow-remove-all", "let the policy remove every set, including the newest backup of each service")
    .option("--dry-run", "show what would be kept and removed, and why; remove nothing")
    .action(async (opts: PruneOptions & ReportOptions) => {
      const result = await reported("prune", opts, deps, (d) => runPrune(opts, d));
      if (opts.json) deps.out(JSON.stringify(result, null, 2));
      else printHuman(result, deps);
      if (result.failed > 0) setExit(ExitCode.failed);
    });
};

// --- internal ---

/** Grace is an age, never a timer: it may exceed the timer limit of parseElapsed. */
const MAX_GRACE_MS = 3650 * 86_400_000;

/** One `--keep-<rule>` flag per row of the retention rule table. */
export function addRetentionOptions(cmd: Command): Command {
  for (const r of RETENTION_RULES) cmd.option(`--keep-${r.rule} <${r.kind === "count" ? "n" : "duration"}>`, r.help);
  return cmd;
}

/** `here`: the project found from -f or the working directory, whose label needs no Docker. */
async function resolvePolicy(opts: PruneOptions, here: ComposeProject | undefined, deps: Deps): Promise<{ policy: RetentionPolicy | undefined; source: PruneRun["policySource"] }> {
  const fromFlags = policyFromFlags(opts);
  if (fromFlags) return { policy: fromFlags, source: "flags" };
  const services = here?.services ?? (opts.app ? await servicesOf(opts.app, deps) : undefined);
  if (!services) return { policy: undefined, source: "none" };
  // a malformed label is the user's to fix: its ConfigError propagates
  const fromLabel = policyFromLabels(services);
  return fromLabel ? { policy: fromLabel, source: "label" } : { policy: undefined, source: "none" };
}

/** The services of the `--app` project, or undefined (with a warning) when it cannot be found. */
async function servicesOf(app: string, deps: Deps): Promise<ComposeProject["services"] | undefined> {
  try {
    return (await resolveProject({ app }, deps)).project.services;
  } catch (err) {
    if (deps.signal.aborted) throw err;
    deps.log.warn(`cannot read the ${LABEL.retention} label of project ${app} (${errorMessage(err)}); only --keep-* flags apply`);
    return undefined;
  }
}

function printHuman(result: PruneResult, deps: Deps): void {
  if (!result.policy) {
    deps.out(`no retention policy (no --keep-* flags${result.project ? ` and no ${LABEL.retention} label` : ", and no compose project here or --app to read a label from"}): nothing removed`);
    return;
  }
  const rows = result.sets.map((s) => [
    s.project, s.set, s.createdAt, s.complete ? "complete" : "incomplete",
    s.error ? "FAILED" : s.action === "keep" ? "keep" : result.dryRun ? "would remove" : "removed",
    s.error ? `${s.reasons.join(", ")}: ${s.error}` : s.reasons.join(", "),
  ]);
  if (rows.length) deps.out(renderTable(["PROJECT", "SET", "CREATED", "STATE", "ACTION", "REASONS"], rows));
  const removing = result.sets.filter((s) => s.action === "remove").length;
  const kept = result.sets.length - removing;
  deps.out(result.dryRun
    ? `dry run: would remove ${removing} of ${result.sets.length} sets, keep ${kept}`
    : `removed ${result.removed} of ${result.sets.length} sets, kept ${kept}${result.failed ? `, ${result.failed} could not be removed` : ""}`);
}
