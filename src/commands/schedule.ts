import { Option, type Command } from "commander";
import type { CommandRegistrar } from "./options.ts";
import { addCommonOptions, addTargetOption, type CommonOptions } from "./options.ts";
import { cronExpr, nonEmpty } from "./validate.ts";
import { addRetentionOptions } from "./prune.ts";
import type { Deps } from "../deps.ts";
import { isSea } from "node:sea";
import path from "node:path";
import { flagKey, policyFromFlags, policyFromLabels, RETENTION_RULES, type RetentionFlags } from "../core/retention/policy.ts";
import { ConfigError } from "../errors.ts";
import { LABEL } from "../compose/labels.ts";
import { projectWithoutDocker } from "../core/schedule/due-check.ts";
import { formatSchedule, nextRunAfter, parseSchedule, projectSchedule, type Schedule } from "../core/schedule/schedule.ts";
import { renderAll, type PrintedSchedule } from "../core/schedule/print.ts";
import { hostZone } from "../core/schedule/zoned-time.ts";
import { redactTarget, resolveTargetUrl } from "../targets/index.ts";

export const PRINT_KINDS = ["crontab", "systemd", "github-actions"] as const;

export interface ScheduleOptions extends CommonOptions, RetentionFlags {
  envFile?: string;
  verifyCron?: string;
  print?: (typeof PRINT_KINDS)[number];
  cron?: string;
  target?: string;
  bin?: string;
  logFile?: string;
}

/** `--json` output; `schedule` is the five fields, `timezone` the CRON_TZ zone or null (host zone). */
export interface ScheduleResult extends PrintedSchedule {
  app: string;
  schedule: string;
  timezone: string | null;
  source: "label" | "flag";
  nextRun: string;
}

/**
 * Renders scheduler entries for the project's schedule: `--cron` if given, else the project's
 * label. Reads compose files without Docker where it can (as `backup --if-due` does).
 */
export async function runSchedule(opts: ScheduleOptions, deps: Deps, verifyArgs: string[] = []): Promise<ScheduleResult> {
  const project = await projectWithoutDocker(opts, deps);
  const fromFlag = opts.cron === undefined ? undefined : parseSchedule(opts.cron, "--cron");
  const fromLabel = fromFlag ? labelQuietly(project.services, deps) : projectSchedule(project.services)?.schedule;
  const schedule = fromFlag ?? fromLabel;
  if (!schedule) {
    throw new ConfigError(`project ${project.name} has no ${LABEL.schedule} label`, {
      hint: `add ${LABEL.schedule}="0 3 * * *" to a service, or pass --cron "0 3 * * *"`,
    });
  }
  if (fromFlag && fromLabel && formatSchedule(fromLabel) !== formatSchedule(fromFlag)) {
    deps.log.warn(`--cron "${formatSchedule(fromFlag)}" differs from the label "${formatSchedule(fromLabel)}"; the entries below use --cron`);
  }
  const ctx = {
    app: project.name, workingDir: project.workingDir, files: opts.file?.length ? project.files : [],
    bin: opts.bin ? [opts.bin] : selfCommand(), logFile: opts.logFile ?? `/var/log/sdbackup-${project.name}.log`, now: deps.now(),
    envFile: opts.envFile ?? `/etc/sdbackup/${project.name}.env`,
    ...pruneStep(opts, project.services),
    ...(opts.verifyCron !== undefined ? { verify: { schedule: verifySchedule(opts.verifyCron, schedule), args: verifyArgs } } : {}),
    ...targetOpt(opts.target ?? deps.env.SDBACKUP_TARGET, deps),
    // --if-due reads the label: a schedule that is not the label's must travel along
    ...(fromFlag && !sameSchedule(fromLabel, fromFlag) ? { ifDueCron: formatSchedule(fromFlag) } : {}),
  };
  const printed = renderAll(schedule, ctx);
  return {
    app: project.name, schedule: schedule.expression, timezone: schedule.timezone, source: fromFlag ? "flag" : "label",
    nextRun: new Date(nextRunAfter(schedule.fields, schedule.timezone ?? hostZone(), ctx.now.getTime())).toISOString(),
    ...printed,
  };
}

export const register: CommandRegistrar = (program: Command, deps: Deps) => {
  const cmd = program.command("schedule").description("print a crontab line, systemd timer or GitHub Actions workflow for the project's schedule");
  addRetentionOptions(addTargetOption(addCommonOptions(cmd)))
    .option("--env-file <path>", "file the entries read credentials and settings from (default /etc/sdbackup/<app>.env); never written")
    .option("--verify-cron <expr>", "also verify the newest set on this (slower) schedule, e.g. \"0 5 * * 0\"")
    .addOption(new Option("--print <kind>", "what to print").choices(PRINT_KINDS).default("crontab"))
    .addOption(new Option("--cron <expr>", `schedule to use instead of the ${LABEL.schedule} label`).argParser(cronExpr("--cron")))
    .addOption(new Option("--bin <path>", "program the entries run (default: this sdbackup, by absolute path)").argParser(nonEmpty("--bin")))
    .addOption(new Option("--log-file <path>", "--log-file of the crontab entries (default /var/log/sdbackup-<app>.log)").argParser(nonEmpty("--log-file")))
    .action(async (opts: ScheduleOptions) => {
      // drills when this sdbackup's verify has them
      const verifyHas = program.commands.find((c) => c.name() === "verify")?.options.some((o) => o.long === "--restore-test");
      const result = await runSchedule(opts, deps, verifyHas ? ["--restore-test"] : []);
      if (opts.json) return deps.out(JSON.stringify(result, null, 2));
      const zone = result.timezone ?? `${hostZone()}, the host's zone`;
      deps.log.info(`schedule ${result.schedule} (${zone}) from ${result.source === "flag" ? "--cron" : "the label"}; next run ${result.nextRun}`);
      const kind = opts.print ?? "crontab";
      const units = (u: { service: string; timer: string }) => `${u.service}\n${u.timer}`;
      deps.out(kind === "crontab" ? result.crontab : kind === "systemd" ? [result.systemd, ...(result.systemd.verify ? [result.systemd.verify] : [])].map(units).join("\n") : result.githubActions);
      deps.log.info(`other formats: ${PRINT_KINDS.filter((k) => k !== kind).map((k) => `--print ${k}`).join(", ")}`);
    });
};

// --- internal ---

/**
 * The entries invoke the very sdbackup that printed them, by absolute path: the single binary is
 * its own program; run from source, it is this Node binary with the absolute path of the entry script.
 */
function selfCommand(): string[] {
  return isSea() ? [process.execPath] : [process.execPath, path.resolve(process.argv[1] ?? "sdbackup")];
}

/** Prune after the backup when a policy exists: `--keep-*` flags (passed along) or the retention label. */
function pruneStep(opts: RetentionFlags, services: Parameters<typeof policyFromLabels>[0]): { prune?: string[] } {
  if (policyFromFlags(opts)) return { prune: RETENTION_RULES.flatMap((r) => (opts[flagKey(r.rule)] !== undefined ? [`--keep-${r.rule}`, opts[flagKey(r.rule)]!] : [])) };
  return policyFromLabels(services) ? { prune: [] } : {};
}

/** The verify cadence runs in the backup schedule's zone unless it names its own. */
function verifySchedule(expr: string, main: Schedule): Schedule {
  const s = parseSchedule(expr, "--verify-cron");
  return s.timezone === null ? { ...s, timezone: main.timezone } : s;
}

/** With --cron, a broken label does not block printing; it is still worth a warning. */
function labelQuietly(services: Parameters<typeof projectSchedule>[0], deps: Deps): Schedule | undefined {
  try {
    return projectSchedule(services)?.schedule;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    deps.log.warn(`${err.message} (ignored: --cron is given)`);
    return undefined;
  }
}

function sameSchedule(a: Schedule | undefined, b: Schedule): boolean {
  return a !== undefined && formatSchedule(a) === formatSchedule(b);
}

/** The target for the entries (flag, else SDBACKUP_TARGET), without credentials: those belong in the environment, not a crontab. */
function targetOpt(flag: string | undefined, deps: Deps): { target?: string } {
  if (flag === undefined) return {};
  const url = resolveTargetUrl(flag, deps.env, deps.cwd);
  const shown = redactTarget(url);
  if (shown !== url) deps.log.warn("credentials were removed from --target in the printed entries; give them through the environment (AWS_* variables)");
  return { target: shown };
}
