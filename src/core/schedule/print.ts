import { formatSchedule, type Schedule } from "./schedule.ts";
import { toOnCalendar, toUtcCron } from "./cron-convert.ts";

/** What a scheduler entry needs besides the schedule itself. */
export interface PrintContext {
  /** Normalised compose project name, passed as `--app`. */
  app: string;
  /** Directory the backup runs in (the compose project's). */
  workingDir: string;
  /** Compose files to pass as `-f`; empty to let `--app` and the working directory find them. */
  files: string[];
  /** How to invoke sdbackup (cron's PATH is short: an absolute path is safest). */
  bin: string;
  /** Where cron appends the output. */
  logFile: string;
  /** `--target`, when not left to SDBACKUP_TARGET or ./backups. MUST NOT contain credentials. */
  target?: string;
  /** `--cron` for `backup --if-due` when the schedule is not the project's label. */
  ifDueCron?: string;
  /** For the zone offsets of the year ahead (GitHub Actions conversion). */
  now: Date;
}

export interface PrintedSchedule {
  crontab: string;
  systemd: { service: string; timer: string };
  githubActions: string;
}

export function renderAll(s: Schedule, ctx: PrintContext): PrintedSchedule {
  return { crontab: renderCrontab(s, ctx), systemd: renderSystemd(s, ctx), githubActions: renderGithubActions(s, ctx) };
}

/** One crontab line (plus CRON_TZ= and comments); flock skips a run while the previous one is busy. */
export function renderCrontab(s: Schedule, ctx: PrintContext): string {
  const lock = `/tmp/sdbackup-${ctx.app}.lock`;
  const command = `cd ${sh(ctx.workingDir)} && flock -n ${sh(lock)} ${backupCommand(ctx)} >> ${sh(ctx.logFile)} 2>&1`;
  const lines = [`# sdbackup: back up compose project ${ctx.app} (${formatSchedule(s)})`];
  if (s.timezone) {
    lines.push(
      `# CRON_TZ applies to every line below it; cronie honours it, other crons may not (man 5 crontab)`,
      `CRON_TZ=${s.timezone}`,
    );
  }
  // An unescaped % ends a crontab command (the rest becomes stdin).
  lines.push(`${s.expression} ${command.replace(/%/g, "\\%")}`);
  return lines.join("\n") + "\n";
}

/** A oneshot service and its timer; systemd never starts a oneshot unit that is still running. */
export function renderSystemd(s: Schedule, ctx: PrintContext): { service: string; timer: string } {
  const unit = `sdbackup-${ctx.app}`;
  const esc = (v: string) => v.replace(/%/g, "%%");
  const service = [
    `# /etc/systemd/system/${unit}.service`,
    `[Unit]`,
    `Description=sdbackup: back up compose project ${ctx.app}`,
    `Wants=network-online.target`,
    `After=network-online.target docker.service`,
    ``,
    `[Service]`,
    `# A oneshot unit counts as starting until the backup exits, and the timer does not start a`,
    `# second copy meanwhile: runs never overlap, so no flock is needed. Exit 3 (partial) and 1 mark`,
    `# the unit failed (see systemctl status ${unit}, journalctl -u ${unit}).`,
    `Type=oneshot`,
    `WorkingDirectory=${esc(ctx.workingDir)}`,
    `ExecStart=${esc(backupCommand(ctx, systemdQuote))}`,
  ];
  const timer = [
    `# /etc/systemd/system/${unit}.timer`,
    `# enable with: systemctl daemon-reload && systemctl enable --now ${unit}.timer`,
    `[Unit]`,
    `Description=sdbackup schedule for compose project ${ctx.app} (${formatSchedule(s)})`,
    ``,
    `[Timer]`,
    ...toOnCalendar(s).map((c) => `OnCalendar=${c}`),
    `# after downtime, run once for the missed time(s)`,
    `Persistent=true`,
    ``,
    `[Install]`,
    `WantedBy=timers.target`,
  ];
  return { service: service.join("\n") + "\n", timer: timer.join("\n") + "\n" };
}

/** A workflow for a self-hosted runner on the app's Docker host, in UTC, that backs up only when due. */
export function renderGithubActions(s: Schedule, ctx: PrintContext): string {
  const utc = toUtcCron(s, ctx.now);
  return [
    `# .github/workflows/sdbackup-${ctx.app}.yml`,
    `# GitHub runs schedules in UTC and often late (or not at all under load): the job wakes up on`,
    `# the schedule and --if-due backs up only when a scheduled time has passed since the newest set.`,
    `name: sdbackup ${ctx.app}`,
    `on:`,
    `  schedule:`,
    `    # ${utc.note}`,
    `    - cron: ${JSON.stringify(utc.cron)}`,
    `  workflow_dispatch: {}`,
    `concurrency:`,
    `  group: sdbackup-${ctx.app}`,
    `  cancel-in-progress: false`,
    `jobs:`,
    `  backup:`,
    `    # a runner on the host whose Docker engine runs the app`,
    `    runs-on: self-hosted`,
    `    steps:`,
    `      - name: back up ${ctx.app} if due`,
    `        working-directory: ${JSON.stringify(ctx.workingDir)}`,
    `        run: |`,
    `          ${backupCommand(ctx)} --if-due${ctx.ifDueCron ? ` --cron ${sh(ctx.ifDueCron)}` : ""}`,
  ].join("\n") + "\n";
}

// --- internal ---

const SAFE = /^[A-Za-z0-9_/.:=@+,-]+$/;

function backupCommand(ctx: PrintContext, quote: (v: string) => string = sh): string {
  const args = [ctx.bin, "backup", "--app", ctx.app];
  for (const f of ctx.files) args.push("-f", f);
  if (ctx.target) args.push("--target", ctx.target);
  return args.map(quote).join(" ");
}

/** POSIX shell quoting. */
function sh(value: string): string {
  return SAFE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** systemd's ExecStart= quoting: double quotes, C escapes, `$$` for a literal `$`. */
function systemdQuote(value: string): string {
  return SAFE.test(value) ? value : `"${value.replace(/[\\"]/g, "\\$&").replace(/\$/g, "$$$$")}"`;
}
