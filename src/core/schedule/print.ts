import { formatSchedule, type Schedule } from "./schedule.ts";
import { toOnCalendar, toUtcCron } from "./cron-convert.ts";
import { envNames, mainSteps, sh, stepArgs, systemdQuote, type PrintContext, type Step } from "./job.ts";

export type { PrintContext } from "./job.ts";

export interface PrintedSchedule {
  crontab: string;
  systemd: { service: string; timer: string; verify?: { service: string; timer: string } };
  githubActions: string;
}

export function renderAll(s: Schedule, ctx: PrintContext): PrintedSchedule {
  return { crontab: renderCrontab(s, ctx), systemd: renderSystemd(s, ctx), githubActions: renderGithubActions(s, ctx) };
}

/**
 * Crontab lines. Each reads the environment file, holds a flock (a run still busy makes the next
 * one skip), and logs to `--log-file`: stdout is dropped and only warnings and errors reach
 * stderr, so cron's mail (MAILTO) carries trouble and nothing else.
 */
export function renderCrontab(s: Schedule, ctx: PrintContext): string {
  const steps = mainSteps(ctx);
  const lines = [
    `# sdbackup: compose project ${ctx.app} (${formatSchedule(s)}): ${steps.join(", then ")}`,
    `# Settings and credentials come from ${ctx.envFile} (create it, chmod 600; sdbackup never writes it):`,
    ...envNames(ctx).map((n) => `#   ${n}=…`),
    `# Everything is logged to ${ctx.logFile}; warnings and errors also reach cron's mail (MAILTO).`,
  ];
  if (s.timezone) {
    lines.push(`# CRON_TZ applies to every line below it; cronie honours it, other crons may not (man 5 crontab)`, `CRON_TZ=${s.timezone}`);
  }
  lines.push(cronLine(s, ctx, steps));
  if (ctx.verify) {
    const v = ctx.verify.schedule;
    lines.push(`# verify the newest set (${formatSchedule(v)})`);
    if (v.timezone && v.timezone !== s.timezone) lines.push(`CRON_TZ=${v.timezone}`);
    lines.push(cronLine(v, ctx, ["verify"]));
  }
  return lines.join("\n") + "\n";
}

/** A oneshot service and its timer (plus a verify pair); systemd never starts a oneshot unit that is still running. */
export function renderSystemd(s: Schedule, ctx: PrintContext): PrintedSchedule["systemd"] {
  const unit = `sdbackup-${ctx.app}`;
  const steps = mainSteps(ctx);
  const service = serviceUnit(ctx, unit, `${steps.join(", then ")} compose project ${ctx.app}`, steps, [
    `# A oneshot unit counts as starting until the last step exits, and the timer does not start a`,
    `# second copy meanwhile: runs never overlap, so no flock is needed. A step that fails (exit 1, or`,
    `# 3 for a partial backup) stops the rest and marks the unit failed (systemctl status ${unit}).`,
  ]);
  const out: PrintedSchedule["systemd"] = { service, timer: timerUnit(s, unit, `sdbackup schedule for compose project ${ctx.app}`) };
  if (ctx.verify) {
    out.verify = {
      service: serviceUnit(ctx, `${unit}-verify`, `verify the newest set of compose project ${ctx.app}`, ["verify"], []),
      timer: timerUnit(ctx.verify.schedule, `${unit}-verify`, `sdbackup verify schedule for compose project ${ctx.app}`),
    };
  }
  return out;
}

/** A workflow for a self-hosted runner on the app's Docker host, in UTC, that backs up only when due. */
export function renderGithubActions(s: Schedule, ctx: PrintContext): string {
  const utc = toUtcCron(s, ctx.now);
  const verify = ctx.verify ? toUtcCron(ctx.verify.schedule, ctx.now) : undefined;
  const ifDue = ["--if-due", ...(ctx.ifDueCron ? ["--cron", ctx.ifDueCron] : [])];
  const env = [`    env:`, ...envNames(ctx).map((n) => `      ${n}: \${{ secrets.${n} }}`)];
  const step = (name: string, argv: string[]) => [`      - name: ${name}`, `        working-directory: ${JSON.stringify(ctx.workingDir)}`, `        run: ${argv.map(sh).join(" ")}`];
  const lines = [
    `# .github/workflows/sdbackup-${ctx.app}.yml`,
    `# GitHub runs schedules in UTC and often late (or not at all under load): the job wakes up on`,
    `# the schedule and --if-due backs up only when a scheduled time has passed since the newest set.`,
    `# Credentials come from repository secrets named below (${envNames(ctx).join(", ")}).`,
    `name: sdbackup ${ctx.app}`,
    `on:`,
    `  schedule:`,
    `    # ${utc.note}`,
    `    - cron: ${JSON.stringify(utc.cron)}`,
    ...(verify ? [`    # verify: ${verify.note}`, `    - cron: ${JSON.stringify(verify.cron)}`] : []),
    `  workflow_dispatch: {}`,
    `concurrency:`,
    `  group: sdbackup-${ctx.app}`,
    `  cancel-in-progress: false`,
    `jobs:`,
    `  backup:`,
    ...(verify ? [`    if: github.event.schedule != '${verify.cron}'`] : []),
    `    # a runner on the host whose Docker engine runs the app`,
    `    runs-on: self-hosted`,
    ...env,
    `    steps:`,
    ...step(`back up ${ctx.app} if due`, stepArgs(ctx, "backup", ifDue)),
    ...(ctx.prune ? step("prune", stepArgs(ctx, "prune")) : []),
  ];
  if (verify) {
    lines.push(`  verify:`, `    if: github.event.schedule == '${verify.cron}'`, `    runs-on: self-hosted`, ...env, `    steps:`, ...step(`verify ${ctx.app}`, stepArgs(ctx, "verify")));
  }
  return lines.join("\n") + "\n";
}

// --- internal ---

function cronLine(s: Schedule, ctx: PrintContext, steps: Step[]): string {
  const lock = `/tmp/sdbackup-${ctx.app}.lock`;
  const job = steps.map((st) => `${stepArgs(ctx, st, ["--log-file", ctx.logFile]).map(sh).join(" ")} >/dev/null`).join(" && ");
  const command = `cd ${sh(ctx.workingDir)} && set -a && . ${sh(ctx.envFile)} && set +a && flock -n ${sh(lock)} sh -c ${sh(job)}`;
  // An unescaped % ends a crontab command (the rest becomes stdin).
  return `${s.expression} ${command.replace(/%/g, "\\%")}`;
}

function serviceUnit(ctx: PrintContext, unit: string, what: string, steps: Step[], notes: string[]): string {
  const esc = (v: string) => v.replace(/%/g, "%%");
  return [
    `# /etc/systemd/system/${unit}.service`,
    `[Unit]`,
    `Description=sdbackup: ${what}`,
    `Wants=network-online.target`,
    `After=network-online.target docker.service`,
    ``,
    `[Service]`,
    ...notes,
    `Type=oneshot`,
    `WorkingDirectory=${esc(ctx.workingDir)}`,
    `# credentials and settings (${envNames(ctx).join(", ")}); create it, chmod 600`,
    `EnvironmentFile=${esc(ctx.envFile)}`,
    ...steps.map((st) => `ExecStart=${esc(stepArgs(ctx, st).map(systemdQuote).join(" "))}`),
  ].join("\n") + "\n";
}

function timerUnit(s: Schedule, unit: string, what: string): string {
  return [
    `# /etc/systemd/system/${unit}.timer`,
    `# enable with: systemctl daemon-reload && systemctl enable --now ${unit}.timer`,
    `[Unit]`,
    `Description=${what} (${formatSchedule(s)})`,
    ``,
    `[Timer]`,
    ...toOnCalendar(s).map((c) => `OnCalendar=${c}`),
    `# after downtime, run once for the missed time(s)`,
    `Persistent=true`,
    ``,
    `[Install]`,
    `WantedBy=timers.target`,
  ].join("\n") + "\n";
}
