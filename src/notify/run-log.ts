// A Logger wrapper for unattended runs: keeps the tail for notifications and, with --log-file, appends timestamped lines to a file.
import { appendFileSync } from "node:fs";
import type { Logger } from "../ui/logger.ts";
import { redact } from "../docker/redact.ts";

export interface RunLog {
  log: Logger;
  /** The last lines logged, scrubbed, oldest first. */
  tail(): string;
  /** A line for the file only (the caller shows it elsewhere, e.g. main.ts prints the error). */
  fileOnly(level: "info" | "warn" | "error", msg: string): void;
}

const TAIL_LINES = 60;

/**
 * Wraps `inner`. With `logFile`, every line (debug included) is appended to the file with an ISO
 * time and level, and `inner` only gets warnings and errors: cron mails whatever reaches stderr, so
 * it mails trouble, not every night's progress. Appends are synchronous: lines are few, and a run
 * that is killed keeps everything written so far.
 */
export function createRunLog(inner: Logger, opts: { logFile?: string; secrets: readonly string[]; now: () => Date }): RunLog {
  const lines: string[] = [];
  let fileBroken = false;
  const record = (level: string, msg: string, toFile: boolean) => {
    const clean = redact(msg, opts.secrets);
    lines.push(`${level === "info" ? "" : `${level}: `}${clean}`);
    if (lines.length > TAIL_LINES) lines.shift();
    if (!toFile || !opts.logFile || fileBroken) return;
    try {
      const text = clean.split("\n").map((l) => `${opts.now().toISOString()} ${level.padEnd(5)} ${l}\n`).join("");
      appendFileSync(opts.logFile, text, { mode: 0o600 });
    } catch (err) {
      fileBroken = true;
      inner.warn(`cannot append to --log-file ${opts.logFile}: ${(err as Error).message}`);
    }
  };
  const quiet = Boolean(opts.logFile);
  const log: Logger = {
    info: (m) => (record("info", m, true), quiet ? undefined : inner.info(m)),
    warn: (m) => (record("warn", m, true), inner.warn(m)),
    error: (m) => (record("error", m, true), inner.error(m)),
    debug: (m) => {
      if (opts.logFile) record("debug", m, true);
      inner.debug(m);
    },
    get interactive() {
      return !quiet && inner.interactive;
    },
    status: (line) => (quiet ? undefined : inner.status(line)),
  };
  return { log, tail: () => lines.join("\n"), fileOnly: (level, msg) => record(level, msg, true) };
}
