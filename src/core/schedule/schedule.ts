import { ConfigError, InternalError } from "../../errors.ts";
import { LABEL } from "../../compose/labels.ts";
import { nextMatch, parseCronFields, prevMatch, MINUTE_MS, DAY_MS, type CronFields } from "./cron.ts";
import { fromFloating, hostZone, isValidZone, zoneOffset } from "./zoned-time.ts";

/** A validated `simpledeploy.backup.schedule` value. */
export interface Schedule {
  /** The five cron fields, single-spaced (a `@daily`-style macro expanded): what a crontab line gets. */
  expression: string;
  /** IANA zone of a `CRON_TZ=` prefix; null means the host's zone, as for cron and systemd. */
  timezone: string | null;
  fields: CronFields;
}

/** The outcome of {@link isDue}; `reason` is one human sentence. */
export interface DueCheck {
  due: boolean;
  reason: string;
  /** The latest scheduled time at or before `now`. */
  previousRun: Date;
  /** The first scheduled time after `now`. */
  nextRun: Date;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
};

export const SCHEDULE_HINT = `write five cron fields, e.g. "0 3 * * *", optionally after a zone: "CRON_TZ=Europe/Berlin 0 3 * * *"`;

/**
 * Parses `[CRON_TZ=Zone ]m h dom mon dow` (or a macro such as `@daily`). `where` names the source in
 * the ConfigError, which always quotes the value and says what is wrong with it.
 */
export function parseSchedule(raw: string, where: string = LABEL.schedule): Schedule {
  const fail = (problem: string) => new ConfigError(`${where}: "${raw}" is not a valid schedule: ${problem}`, { hint: SCHEDULE_HINT });
  let text = raw.trim();
  let timezone: string | null = null;
  const tz = /^CRON_TZ=(\S*)\s*(.*)$/s.exec(text);
  if (tz) {
    timezone = tz[1]!;
    if (!timezone || !isValidZone(timezone)) throw fail(`unknown time zone "${timezone}" (use an IANA name such as Europe/Berlin or UTC)`);
    text = tz[2]!.trim();
  }
  if (text.startsWith("@")) {
    const expanded = MACROS[text.toLowerCase()];
    if (!expanded) throw fail(`${text} is not supported (use ${Object.keys(MACROS).join(", ")} or five fields)`);
    text = expanded;
  }
  try {
    const fields = parseCronFields(text);
    return { expression: text.split(/\s+/).join(" "), timezone, fields };
  } catch (err) {
    if (err instanceof ConfigError) throw fail(err.message);
    throw err;
  }
}

/** `CRON_TZ=Europe/Berlin 0 3 * * *`: the canonical text, used to compare labels. */
export function formatSchedule(s: Schedule): string {
  return s.timezone ? `CRON_TZ=${s.timezone} ${s.expression}` : s.expression;
}

/**
 * The project's schedule: one backup run makes one set for the whole project, so there is one
 * schedule. Several services may carry the label if they agree; different values are a
 * ConfigError naming both services, as for the retention label.
 */
export function projectSchedule(services: readonly { name: string; labels: Record<string, string> }[]): { schedule: Schedule; services: string[] } | undefined {
  let found: { schedule: Schedule; services: string[]; text: string } | undefined;
  for (const svc of services) {
    const value = svc.labels[LABEL.schedule];
    if (value === undefined || value.trim() === "") continue;
    const schedule = parseSchedule(value, `${LABEL.schedule} of service ${svc.name}`);
    const text = formatSchedule(schedule);
    if (found && found.text !== text) {
      throw new ConfigError(`services ${found.services[0]} and ${svc.name} have different ${LABEL.schedule} labels ("${found.text}" vs "${text}")`, {
        hint: "one backup run covers the whole project: put the label on one service, or give every service the same value",
      });
    }
    if (found) found.services.push(svc.name);
    else found = { schedule, services: [svc.name], text };
  }
  return found && { schedule: found.schedule, services: found.services };
}

/**
 * Whether a backup is due: the latest scheduled time at or before `now` is later than the newest
 * set (`lastSetTime`, its start time). No set yet means due. Several missed runs make one backup.
 * Times without CRON_TZ are read in `localZone` (default: this process's zone).
 */
export function isDue(schedule: Schedule, lastSetTime: Date | undefined, now: Date, localZone: string = hostZone()): DueCheck {
  const zone = schedule.timezone ?? localZone;
  const previousRun = new Date(previousRunAt(schedule.fields, zone, now.getTime()));
  const nextRun = new Date(nextRunAfter(schedule.fields, zone, now.getTime()));
  const at = (d: Date) => d.toISOString();
  if (!lastSetTime) return { due: true, reason: "there is no complete set yet", previousRun, nextRun };
  if (previousRun.getTime() > lastSetTime.getTime()) {
    return { due: true, reason: `the run scheduled for ${at(previousRun)} is later than the newest set (${at(lastSetTime)})`, previousRun, nextRun };
  }
  return { due: false, reason: `the newest set (${at(lastSetTime)}) is not older than the last scheduled run (${at(previousRun)}); next run ${at(nextRun)}`, previousRun, nextRun };
}

/** The latest scheduled instant at or before `now` (ms) in `zone`. */
export function previousRunAt(fields: CronFields, zone: string, now: number): number {
  // Start from the latest wall clock `now` can read: after clocks went back, a run of the repeated
  // hour may lie at a wall-clock time above the current one.
  const offsets = [zoneOffset(zone, now), zoneOffset(zone, now - DAY_MS)];
  let wall = prevMatch(fields, now + Math.max(...offsets));
  for (let i = 0; wall !== undefined && i < 24 * 60; i++) {
    const instant = fromFloating(zone, wall);
    if (instant <= now) return instant;
    wall = prevMatch(fields, wall - MINUTE_MS);
  }
  throw new InternalError(`no previous run found for a valid schedule in ${zone}`);
}

/** The first scheduled instant after `now` (ms) in `zone`. */
export function nextRunAfter(fields: CronFields, zone: string, now: number): number {
  const offsets = [zoneOffset(zone, now), zoneOffset(zone, now + DAY_MS)];
  let wall = nextMatch(fields, now + Math.min(...offsets) - MINUTE_MS);
  for (let i = 0; wall !== undefined && i < 24 * 60; i++) {
    const instant = fromFloating(zone, wall);
    if (instant > now) return instant;
    wall = nextMatch(fields, wall);
  }
  throw new InternalError(`no next run found for a valid schedule in ${zone}`);
}
