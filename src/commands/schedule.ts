import { Option, type Command } from "commander";
import type { CommandRegistrar } from "./options.ts";
import { addCommonOptions, addTargetOption, type CommonOptions } from "./options.ts";
import { nonEmpty } from "./validate.ts";
import type { Deps } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import { LABEL } from "../compose/labels.ts";
import { projectWithoutDocker } from "../core/schedule/due-check.ts";
import { formatSchedule, nextRunAfter, parseSchedule, projectSchedule, type Schedule } from "../core/schedule/schedule.ts";
import { renderAll, type PrintedSchedule } from "../core/schedule/print.ts";
import { hostZone } from "../core/schedule/zoned-time.ts";
import { redactTarget, resolveTargetUrl } from "../targets/index.ts";

export const PRINT_KINDS = ["crontab", "systemd", "github-actions"] as const;

export interface ScheduleOptions extends CommonOptions {
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
export async function runSchedule(opts: ScheduleOptions, deps: Deps): Promise<ScheduleResult> {
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
    bin: opts.bin ?? "sdbackup", logFile: opts.logFile ?? `/var/log/sdbackup-${project.name}.log`, now: deps.now(),
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
  addTargetOption(addCommonOptions(cmd))
    .addOption(new Option("--print <kind>", "what to print").choices(PRINT_KINDS).default("crontab"))
    .addOption(new Option("--cron <expr>", `schedule to use instead of the ${LABEL.schedule} label`).argParser(nonEmpty("--cron")))
    .addOption(new Option("--bin <path>", "how the entries invoke sdbackup (an absolute path is safest under cron)").default("sdbackup").argParser(nonEmpty("--bin")))
    .addOption(new Option("--log-file <path>", "file the crontab line appends output to (default /var/log/sdbackup-<app>.log)").argParser(nonEmpty("--log-file")))
    .action(async (opts: ScheduleOptions) => {
      const result = await runSchedule(opts, deps);
      if (opts.json) return deps.out(JSON.stringify(result, null, 2));
      const zone = result.timezone ?? `${hostZone()}, the host's zone`;
      deps.log.info(`schedule ${result.schedule} (${zone}) from ${result.source === "flag" ? "--cron" : "the label"}; next run ${result.nextRun}`);
      const kind = opts.print ?? "crontab";
      deps.out(kind === "crontab" ? result.crontab : kind === "systemd" ? `${result.systemd.service}\n${result.systemd.timer}` : result.githubActions);
      deps.log.info(`other formats: ${PRINT_KINDS.filter((k) => k !== kind).map((k) => `--print ${k}`).join(", ")}`);
    });
};

// --- internal ---

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
