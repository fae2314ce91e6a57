// Flag value checks, the one place they live: commander runs the parsers below while it reads argv,
// so a bad value is a ConfigError (exit 2) before any container or target is touched.
import { ConfigError } from "../errors.ts";
import { normalizeProjectName } from "../compose/project-name.ts";
import { compressionLevel, type Compression } from "../pipeline/compress.ts";
import { parseElapsed, MAX_TIMER_MS } from "../runtime/duration.ts";
import { parseSchedule } from "../core/schedule/schedule.ts";

/** A value that is empty or blank is an unset shell variable far more often than a wish. */
export function nonEmpty(flag: string): (value: string) => string {
  return (value) => {
    if (value.trim() === "") throw new ConfigError(`${flag} is empty`, { hint: `give ${flag} a value (an unset shell variable?)` });
    return value;
  };
}

/** {@link nonEmpty} for a repeatable flag: each value is checked and collected. */
export function nonEmptyList(flag: string): (value: string, previous: string[] | undefined) => string[] {
  const check = nonEmpty(flag);
  return (value, previous) => [...(previous ?? []), check(value)];
}

/** A whole number in `[min, max]`; `5x`, `1.5` and `` are refused. */
export function wholeNumber(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const text = value.trim();
    const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
      throw new ConfigError(`${flag} must be a whole number ${range}, got "${value}"`);
    }
    return n;
  };
}

/** Elapsed time (`90s`, `5m`, `1h30m`): checked now, kept as typed for the command to read. */
export function elapsed(flag: string, maxMs = MAX_TIMER_MS): (value: string) => string {
  return (value) => {
    parseElapsed(value, flag, maxMs);
    return value;
  };
}

/** A time limit: {@link elapsed}, and more than zero (a limit of nothing would fail every run at once). */
export function timeLimit(flag: string): (value: string) => string {
  return (value) => {
    if (parseElapsed(value, flag) === 0) throw new ConfigError(`${flag} must be more than 0s, got "${value}"`, { hint: `leave ${flag} out for no limit` });
    return value;
  };
}

/** A cron schedule (`0 3 * * *`, optionally `CRON_TZ=Zone …`): checked now, kept as typed. */
export function cronExpr(flag: string): (value: string) => string {
  return (value) => {
    nonEmpty(flag)(value);
    parseSchedule(value, flag);
    return value;
  };
}

/** `--app`: must leave a usable compose project name once normalised like compose does. */
export function appName(value: string): string {
  nonEmpty("--app")(value);
  if (!normalizeProjectName(value)) throw new ConfigError(`--app "${value}" is not a usable compose project name`, { hint: "project names use a-z, 0-9, _ and -" });
  return value;
}

/** `--level` needs a compression that has levels, within its range; checked with `--dry-run` too. */
export function checkCompression(compression: Compression, level: number | undefined): void {
  compressionLevel(compression, level);
}
