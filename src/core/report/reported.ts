// Runs one command with monitoring around it: start pings, the run (within its --timeout), finish notifications, metrics file, JSON report.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Deps } from "../../deps.ts";
import { ConfigError, SdbackupError, TimeoutError, errorMessage, exitCodeFor, isAbortError } from "../../errors.ts";
import { withDeadline } from "../../runtime/deadline.ts";
import { parseElapsed } from "../../runtime/duration.ts";
import { redact, secretValues } from "../../docker/redact.ts";
import { NOTIFY_ON, notifyFinish, notifyStart, parseNotifyUrls, type NotifyOn, type NotifyOutcome, type RunCommand, type RunEvent } from "../../notify/index.ts";
import { createSend, type SendOptions } from "../../notify/http.ts";
import { createRunLog } from "../../notify/run-log.ts";
import { writeMetricsFile, type TargetFacts } from "../../notify/metrics.ts";
import { writeFileAtomic } from "../../notify/atomic-file.ts";
import { listSets } from "../../manifest/store.ts";
import { openTargetFlag } from "../../targets/index.ts";
import { targetFacts } from "../status/freshness.ts";
import { summarize, titleOf, type RunSummary } from "./summarize.ts";

/** The monitoring flags, as commander hands them over. */
export interface ReportOptions {
  notify?: string[];
  notifyOn?: string;
  metricsFile?: string;
  report?: string;
  logFile?: string;
}

/** What the command's own options tell the wrapper: its project, its target, whether it only plans. */
export interface RunScope {
  app?: string;
  target?: string;
  dryRun?: boolean;
  /** `--timeout`: the run's total time limit, as typed (checked by the option's parser). */
  timeout?: string;
}

/** Added to a result document when `--notify` (or SDBACKUP_NOTIFY) is in use. */
export interface Reported {
  notifications?: NotifyOutcome[];
}

/**
 * Wraps `run`. Notification, metrics and report failures are warnings and entries in
 * `notifications`: they never change the run's outcome or exit code. A thrown run error is
 * reported like a failed result, then rethrown unchanged. Dry runs are not reported.
 */
export async function reported<R extends object>(
  command: RunCommand, opts: ReportOptions & RunScope, deps: Deps, run: (deps: Deps) => Promise<R>, sendOptions?: SendOptions,
): Promise<R & Reported> {
  // The one place a run's signal gets its deadline: every command with --timeout runs through here.
  const timeoutMs = opts.timeout === undefined ? undefined : parseElapsed(opts.timeout, "--timeout");
  const limited = (d: Deps) => withDeadline(d.signal, timeoutMs, "--timeout", (signal) => run({ ...d, signal }));
  if (opts.dryRun) return limited(deps);
  const notifyOn = parseNotifyOn(opts.notifyOn);
  const channels = parseNotifyUrls(opts.notify, deps.env);
  const secrets = payloadSecrets(deps.env, channels.flatMap((c) => c.secrets));
  const runLog = createRunLog(deps.log, { ...(opts.logFile ? { logFile: opts.logFile } : {}), secrets, now: deps.now });
  const log = runLog.log;
  const send = createSend(sendOptions);
  const started = deps.now();
  const start = { command, project: opts.app ?? null, host: hostname(), startedAt: started.toISOString(), runId: randomUUID() };
  const outcomes = await notifyStart(channels, start, send);

  let result: R | undefined;
  let error: unknown;
  try {
    result = await limited({ ...deps, log });
  } catch (err) {
    error = err;
  }
  const finished = deps.now();
  const summary: RunSummary = result !== undefined ? summarize(command, result) : failedRun(error, opts.app);
  const scrub = (s: string) => redact(s, secrets);
  const event: RunEvent = {
    ...start, project: summary.project ?? start.project, status: summary.status, exitCode: summary.exitCode,
    finishedAt: finished.toISOString(), durationMs: finished.getTime() - started.getTime(),
    title: titleOf(command, summary.project ?? start.project, summary.status),
    summary: scrub(summary.problems.join("\n") || `${command} ${summary.status}`),
    ...(error !== undefined ? { error: errorDoc(error, scrub) } : {}),
    ...(result !== undefined ? { result: JSON.parse(scrub(JSON.stringify(result))) as unknown } : {}),
    logTail: runLog.tail(),
  };
  if (opts.logFile) {
    if (error !== undefined) runLog.fileOnly("error", errorMessage(error)); // main.ts prints it on stderr
    else if (summary.status === "failed" || summary.status === "partial") log.error(`${event.title}: ${event.summary}`);
    else runLog.fileOnly("info", `${event.title} in ${(event.durationMs / 1000).toFixed(1)}s`);
  }
  // an interrupted run still reports, but must end within seconds of Ctrl-C
  const finishSend = deps.signal.aborted || error instanceof TimeoutError ? createSend({ timeoutMs: INTERRUPTED_TIMEOUT_MS, retryDelayMs: 0 }) : send;
  outcomes.push(...(await notifyFinish(channels, event, notifyOn, finishSend)));
  for (const o of outcomes.filter((x) => !x.ok)) log.warn(`notification (${o.notifier} ${o.to}, ${o.phase}) failed after ${o.attempts} attempt(s): ${o.error}`);

  if (opts.metricsFile && summary.status !== "skipped") {
    const target = command === "backup" || command === "prune" ? await factsQuietly(opts, event.project, deps, log) : undefined;
    await writeMetricsFile(opts.metricsFile, {
      command, project: event.project, status: summary.status, exitCode: summary.exitCode, finishedAt: finished,
      durationMs: event.durationMs, services: summary.services, ...(target ? { target } : {}),
    }).catch((err: unknown) => log.warn(`cannot write --metrics-file ${opts.metricsFile}: ${errorMessage(err)}`));
  }
  const doc = result !== undefined ? { ...result, ...(channels.length ? { notifications: outcomes } : {}) } : undefined;
  if (opts.report) {
    const body = doc ?? { error: { ...event.error, exitCode: exitCodeFor(error) }, ...(channels.length ? { notifications: outcomes } : {}) };
    await writeFileAtomic(opts.report, JSON.stringify(body, null, 2) + "\n", 0o600)
      .catch((err: unknown) => log.warn(`cannot write --report ${opts.report}: ${errorMessage(err)}`));
  }
  if (error !== undefined) throw error;
  return doc as R & Reported;
}

export function parseNotifyOn(value: string | undefined): NotifyOn {
  if (value === undefined) return "partial";
  if ((NOTIFY_ON as readonly string[]).includes(value)) return value as NotifyOn;
  throw new ConfigError(`--notify-on must be one of ${NOTIFY_ON.join(", ")}, got "${value}"`);
}

// --- internal ---

/** Per attempt after SIGINT/SIGTERM: two attempts stay within five seconds. */
const INTERRUPTED_TIMEOUT_MS = 2500;

/** Values never to send: notification URL credentials and env values under secret-looking names (not the working directory in PWD). */
function payloadSecrets(env: NodeJS.ProcessEnv, fromUrls: string[]): string[] {
  const named = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !/^(OLD)?PWD$/.test(e[0])));
  return secretValues({ env: named, secrets: fromUrls }).filter((s) => s.length >= 4);
}

function failedRun(error: unknown, app: string | undefined): RunSummary {
  const interrupted = isAbortError(error);
  return { status: "failed", exitCode: interrupted ? 130 : exitCodeFor(error), project: app ?? null, services: [], problems: [errorMessage(error)] };
}

function errorDoc(error: unknown, scrub: (s: string) => string): NonNullable<RunEvent["error"]> {
  const code = error instanceof SdbackupError ? error.code : "E_INTERNAL";
  const hint = error instanceof SdbackupError ? error.hint : undefined;
  return { code, message: scrub(errorMessage(error)), ...(hint ? { hint: scrub(hint) } : {}) };
}

/** Set counts from the target after the run; a target that cannot be listed only costs those metrics. */
async function factsQuietly(opts: RunScope, project: string | null, deps: Deps, log: Deps["log"]): Promise<TargetFacts[] | undefined> {
  try {
    const target = (await openTargetFlag(opts.target, deps)).target;
    return targetFacts(await listSets(target, project ?? undefined, AbortSignal.timeout(60_000)));
  } catch (err) {
    log.warn(`set counts for --metrics-file: cannot list the target (${errorMessage(err)})`);
    return undefined;
  }
}
