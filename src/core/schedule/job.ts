// What a scheduled job runs, the same for every scheduler: backup, then prune (when there is a policy), verify on its own cadence.
import type { Schedule } from "./schedule.ts";

/** What a scheduler entry needs besides the schedule itself. */
export interface PrintContext {
  /** Normalised compose project name, passed as `--app`. */
  app: string;
  /** Directory the backup runs in (the compose project's). */
  workingDir: string;
  /** Compose files to pass as `-f`; empty to let `--app` and the working directory find them. */
  files: string[];
  /** How to invoke sdbackup: an absolute program path, plus its script for a run from source. */
  bin: string[];
  /** Where the crontab entries log (`--log-file`); systemd and CI have their own logs. */
  logFile: string;
  /** File of `NAME=value` lines the entries read credentials and settings from; never written by sdbackup. */
  envFile: string;
  /** `--target`, when not left to SDBACKUP_TARGET or ./backups. MUST NOT contain credentials. */
  target?: string;
  /** `--cron` for `backup --if-due` when the schedule is not the project's label. */
  ifDueCron?: string;
  /** Extra `prune` arguments (`--keep-*` flags); absent: the job does not prune (no policy anywhere). */
  prune?: string[];
  /** `verify` on a slower cadence, with its extra arguments. */
  verify?: { schedule: Schedule; args: string[] };
  /** For the zone offsets of the year ahead (GitHub Actions conversion). */
  now: Date;
}

export type Step = "backup" | "prune" | "verify";

/** argv of one step; `extra` is scheduler-specific (`--log-file`, `--if-due`). */
export function stepArgs(ctx: PrintContext, step: Step, extra: string[] = []): string[] {
  const args = [...ctx.bin, step, "--app", ctx.app];
  if (step === "backup") for (const f of ctx.files) args.push("-f", f);
  if (ctx.target) args.push("--target", ctx.target);
  if (step === "prune") args.push(...(ctx.prune ?? []));
  if (step === "verify") args.push(...(ctx.verify?.args ?? []));
  return [...args, ...extra];
}

/** The steps of the regular job, in order. */
export function mainSteps(ctx: PrintContext): Step[] {
  return ctx.prune ? ["backup", "prune"] : ["backup"];
}

/**
 * Variables the environment file (or CI secrets) may set; sdbackup names them and never fills
 * them in. The AWS ones only matter for an S3 target.
 */
export function envNames(ctx: PrintContext): string[] {
  const s3 = ctx.target === undefined || ctx.target.startsWith("s3://");
  return [...(ctx.target === undefined ? ["SDBACKUP_TARGET"] : []), ...(s3 ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] : []), "SDBACKUP_NOTIFY"];
}

const SAFE = /^[A-Za-z0-9_/.:=@+,-]+$/;

/** POSIX shell quoting. */
export function sh(value: string): string {
  return SAFE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** systemd's ExecStart= quoting: double quotes, C escapes, `$$` for a literal `$`. */
export function systemdQuote(value: string): string {
  return SAFE.test(value) ? value : `"${value.replace(/[\\"]/g, "\\$&").replace(/\$/g, "$$$$")}"`;
}
