import { Option, type Command } from "commander";
import type { CommandRegistrar } from "./options.ts";
import { addCommonOptions, addStallTimeoutOption, addTargetOption, addTimeoutOption, type CommonOptions } from "./options.ts";
import { checkCompression, cronExpr, elapsed, nonEmptyList, wholeNumber } from "./validate.ts";
import { addReportOptions, reported, type ReportOptions } from "./notify-options.ts";
import type { Deps } from "../deps.ts";
import { ConfigError, ExitCode } from "../errors.ts";
import type { Compression } from "../manifest/schema.ts";
import { openProject } from "../core/project/open-project.ts";
import { planItems } from "../core/project/plan.ts";
import { runBackupPlan, type BackupResult } from "../core/backup/run-backup.ts";
import { addEncryptOptions, resolveEncryption, type EncryptOptions } from "./encryption-options.ts";
import { checkIfDue, type NotDueResult } from "../core/schedule/due-check.ts";
import { openTargetFlags } from "../targets/index.ts";
import { createFanOut } from "../core/backup/fan-out.ts";
import { guardPuts } from "../core/backup/guard-puts.ts";
import { VERSION } from "../version.ts";
import { TRANSPORT_MODES } from "../docker/transport.ts";
import type { TransportMode } from "../docker/types.ts";
import { LABEL, isTrue } from "../compose/labels.ts";
import { parseElapsed } from "../runtime/duration.ts";
import { renderTable, formatBytes } from "../ui/table.ts";

export interface BackupOptions extends CommonOptions, EncryptOptions {
  service?: string[];
  target?: string;
  compression?: Compression;
  level?: number;
  concurrency?: number;
  dryRun?: boolean;
  ifDue?: boolean;
  cron?: string;
  consistent?: boolean;
  hookTimeout?: string;
  stallTimeout?: string;
  transport?: TransportMode;
}

export interface BackupPlanResult {
  project: string;
  dryRun: true;
  target: string;
  items: { service: string; strategy: string; container: string | null; paths: string[] }[];
}

export async function runBackup(opts: BackupOptions, deps: Deps): Promise<BackupResult | BackupPlanResult | NotDueResult> {
  // Flags that only make sense together are checked before Docker or the target (also with --dry-run).
  checkCompression(opts.compression ?? "zstd", opts.level);
  if (opts.cron !== undefined && !opts.ifDue) throw new ConfigError("--cron only applies with --if-due");
  if (opts.ifDue) {
    // before Docker: a runner that wakes up often must not touch the engine when nothing is due
    const notDue = await checkIfDue(opts, deps);
    if (notDue) return notDue;
  }
  const { project, containers, docker } = await openProject(opts, deps);
  for (const w of project.warnings ?? []) deps.log.warn(w);
  const consistent = Boolean(opts.consistent) || project.services.some((s) => isTrue(s.labels[LABEL.consistent]));
  const items = planItems(project, containers, { only: opts.service ?? [], consistent, info: (m) => deps.log.info(m) });
  if (items.length === 0) throw new ConfigError(`nothing to back up in project ${project.name}`, { hint: "see sdbackup detect" });
  const stallTimeoutMs = parseElapsed(opts.stallTimeout ?? "5m", "--stall-timeout");
  const opened = await openTargetFlags(opts.target, { ...deps, stallTimeoutMs });
  const guarded = opened.map((o) => guardPuts(o.target, stallTimeoutMs));
  const target = guarded.length === 1 ? guarded[0]! : createFanOut(guarded);
  const display = opened.map((o) => o.display).join(", ");
  if (opts.dryRun) {
    return {
      project: project.name, dryRun: true, target: display,
      items: items.map((i) => ({ service: i.service.name, strategy: i.strategy.name, container: i.container?.name ?? null, paths: i.detection.paths })),
    };
  }
  const encryption = await resolveEncryption(opts, deps, items.map((i) => i.service));
  const result = await runBackupPlan({
    ...(encryption ? { encryption } : {}),
    project: project.name, items, target, docker,
    compression: opts.compression ?? "zstd",
    ...(opts.level !== undefined ? { level: opts.level } : {}),
    concurrency: Math.max(1, opts.concurrency ?? 2),
    services: project.services, containers,
    consistent,
    hookTimeoutMs: parseElapsed(opts.hookTimeout ?? "5m", "--hook-timeout"),
    stallTimeoutMs,
    transport: opts.transport ?? "auto",
    version: VERSION, now: deps.now, signal: deps.signal, log: deps.log,
  });
  return project.warnings?.length ? { ...result, warnings: project.warnings } : result;
}

export const register: CommandRegistrar = (program: Command, deps: Deps, setExit) => {
  const cmd = program.command("backup").description("back up every data service of a compose project into one set");
  addTimeoutOption(addStallTimeoutOption(addEncryptOptions(addReportOptions(addTargetOption(addCommonOptions(cmd), true)))))
    .addOption(new Option("--service <name>", "only this service (repeatable)").argParser(nonEmptyList("--service")))
    .addOption(new Option("--compression <kind>", "artifact compression").choices(["zstd", "gzip", "none"]).default("zstd"))
    .addOption(new Option("--transport <kind>", "how dump bytes leave the container: fast (helper container + FIFO, local engines), exec, or auto").choices([...TRANSPORT_MODES]).default("auto"))
    .addOption(new Option("--level <n>", "compression level (zstd 1-19, gzip 1-9; none has none)").argParser(wholeNumber("--level", 1, 19)))
    .addOption(new Option("--concurrency <n>", "items backed up in parallel").default(2).argParser(wholeNumber("--concurrency", 1, 64)))
    .option("--consistent", "stop (or pause) services labelled simpledeploy.backup.stop=true while the set is taken")
    .addOption(new Option("--hook-timeout <duration>", "timeout for each pre/post hook (e.g. 90s, 5m)").default("5m").argParser(elapsed("--hook-timeout")))
    .option("--dry-run", "print the plan without backing up")
    .option("--if-due", "back up only when the schedule label has a run due since the newest set in the target")
    .addOption(new Option("--cron <expr>", "with --if-due: this schedule instead of the label").argParser(cronExpr("--cron")))
    .action(async (opts: BackupOptions & ReportOptions) => {
      const result = await reported("backup", opts, deps, (d) => runBackup(opts, d));
      if (opts.json) deps.out(JSON.stringify(result, null, 2));
      else printHuman(result, deps);
      if ("dryRun" in result || result.status === "not-due") return;
      setExit(result.status === "ok" ? ExitCode.ok : result.status === "partial" ? ExitCode.partial : ExitCode.failed);
    });
};

function printHuman(result: BackupResult | BackupPlanResult | NotDueResult, deps: Deps): void {
  if ("status" in result && result.status === "not-due") return; // checkIfDue said so on stderr
  if ("dryRun" in result) {
    deps.out(`would back up project ${result.project} to ${result.target}:`);
    deps.out(renderTable(["SERVICE", "STRATEGY", "CONTAINER", "PATHS"], result.items.map((i) => [i.service, i.strategy, i.container ?? "(none)", i.paths.join(",") || "-"])));
    return;
  }
  deps.out(`set ${result.set} (${result.status}) in ${result.target}`);
  deps.out(renderTable(["SERVICE", "STRATEGY", "STATUS", "SIZE", "TIME"], result.items.map((i) => [
    i.service, i.strategy, i.status === "ok" ? "ok" : `failed: ${i.error ?? ""}`, i.bytes === null ? "-" : formatBytes(i.bytes), `${(i.durationMs / 1000).toFixed(1)}s`,
  ])));
  for (const t of result.targets ?? []) if (t.status === "failed") deps.out(`target ${t.target} failed, the set is not on it: ${t.error ?? ""}`);
}
