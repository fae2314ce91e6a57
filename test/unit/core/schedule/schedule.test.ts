import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CronExpressionParser } from "cron-parser";
import { formatSchedule, isDue, parseSchedule, projectSchedule } from "../../../../src/core/schedule/schedule.ts";
import { nextMatch, parseCronFields, prevMatch } from "../../../../src/core/schedule/cron.ts";
import { fromFloating, toFloating } from "../../../../src/core/schedule/zoned-time.ts";
import { ConfigError } from "../../../../src/errors.ts";

interface Golden {
  description: string;
  schedule: string;
  localZone: string;
  cases: { name: string; now: string; lastSet: string | null; due: boolean; previousRun: string; nextRun: string }[];
}

const dir = join(import.meta.dirname, "../../../fixtures/schedule");
const goldens = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();

describe("isDue goldens (test/fixtures/schedule)", () => {
  it("has the cases the design calls for", () => {
    for (const name of ["daily-utc", "missed-window", "every-15-runner-10", "set-near-run", "dst-spring-berlin", "dst-fall-berlin", "github-delay", "cron-tz-prefix"]) {
      expect(goldens).toContain(`${name}.json`);
    }
  });

  it.each(goldens)("%s", (file) => {
    const g = JSON.parse(readFileSync(join(dir, file), "utf8")) as Golden;
    const schedule = parseSchedule(g.schedule);
    for (const c of g.cases) {
      const got = isDue(schedule, c.lastSet === null ? undefined : new Date(c.lastSet), new Date(c.now), g.localZone);
      expect({ due: got.due, previousRun: got.previousRun.toISOString(), nextRun: got.nextRun.toISOString() }, `${g.description}: ${c.name}`)
        .toEqual({ due: c.due, previousRun: c.previousRun, nextRun: c.nextRun });
      expect(got.reason).toMatch(got.due ? /no complete set|later than the newest set/ : /not older than the last scheduled run/);
    }
  });
});

describe("parseSchedule", () => {
  it.each([
    ["0 3 * * *", "0 3 * * *", null],
    ["  CRON_TZ=Europe/Berlin   0  3 * * * ", "0 3 * * *", "Europe/Berlin"],
    ["@daily", "0 0 * * *", null],
    ["CRON_TZ=UTC @weekly", "0 0 * * 0", "UTC"],
    ["*/15 8-18/2 1,15 jan-mar MON-FRI", "*/15 8-18/2 1,15 jan-mar MON-FRI", null],
  ])("%j", (raw, expression, timezone) => {
    const s = parseSchedule(raw);
    expect({ expression: s.expression, timezone: s.timezone }).toEqual({ expression, timezone });
  });

  it("expands fields to value sets with vixie day semantics", () => {
    const f = parseCronFields("5-20/5 */6 */10 feb,4-5 5-7");
    expect(f).toEqual({ minute: [5, 10, 15, 20], hour: [0, 6, 12, 18], dayOfMonth: [1, 11, 21, 31], month: [2, 4, 5], dayOfWeek: [0, 5, 6], domStar: true, dowStar: false });
  });

  it.each([
    ["0 3 * *", /expected 5 fields .* got 4/],
    ["0 0 3 * * *", /expected 5 fields .* got 6/],
    ["", /got 0/],
    ["60 * * * *", /minute 60 is out of range 0-59/],
    ["0 24 * * *", /hour 24 is out of range 0-23/],
    ["0 3 0 * *", /day of month 0 is out of range 1-31/],
    ["0 3 * 13 *", /month 13 is out of range 1-12/],
    ["0 3 * * 8", /day of week 8 is out of range 0-7/],
    ["5/15 * * * *", /a step needs \* or a range before it; write 5-59\/15/],
    ["*/0 * * * *", /step "0" is not a whole number of at least 1/],
    ["30-10 * * * *", /range "30-10" runs backwards/],
    ["0 3 L * *", /day of month "L" is not a number/],
    ["0 3 * * 1#2", /day of week "1#2" is not a number or sun-sat/],
    ["H 3 * * *", /minute "H" is not a number/],
    ["0 3 ? * *", /day of month "\?" is not a number/],
    ["0 3 1,,2 * *", /empty list entry/],
    ["0 3 31 2 *", /never occurs in month 2: the schedule never runs/],
    ["@reboot", /@reboot is not supported/],
    ["CRON_TZ=Mars/Olympus 0 3 * * *", /unknown time zone "Mars\/Olympus"/],
    ["CRON_TZ= 0 3 * * *", /unknown time zone ""/],
  ])("rejects %j", (raw, message) => {
    let err: unknown;
    try {
      parseSchedule(raw, "label of service db");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^label of service db: ".*" is not a valid schedule: /);
    expect((err as ConfigError).message).toContain(JSON.stringify(raw));
    expect((err as ConfigError).message).toMatch(message);
    expect((err as ConfigError).hint).toMatch(/CRON_TZ=Europe\/Berlin 0 3/);
  });

  it("accepts Feb 29 and the 31st of some month (they do occur)", () => {
    expect(() => parseSchedule("0 0 29 2 *")).not.toThrow();
    expect(() => parseSchedule("0 0 31 1-3 *")).not.toThrow();
    // with both day fields restricted either one suffices, so a Feb 31 with Mondays runs
    expect(() => parseSchedule("0 0 31 2 mon")).not.toThrow();
  });
});

describe("projectSchedule", () => {
  const svc = (name: string, schedule?: string): { name: string; labels: Record<string, string> } =>
    ({ name, labels: schedule === undefined ? {} : { "simpledeploy.backup.schedule": schedule } });

  it("is undefined without a label and collects agreeing services", () => {
    expect(projectSchedule([svc("a"), svc("b", " ")])).toBeUndefined();
    const found = projectSchedule([svc("db", "0 3 * * *"), svc("web"), svc("app", "0  3 * * *")]);
    expect(found?.services).toEqual(["db", "app"]);
    expect(formatSchedule(found!.schedule)).toBe("0 3 * * *");
  });

  it("refuses different schedules, naming both services and values", () => {
    expect(() => projectSchedule([svc("db", "0 3 * * *"), svc("app", "CRON_TZ=UTC 0 3 * * *")])).toThrow(
      /services db and app have different simpledeploy\.backup\.schedule labels \("0 3 \* \* \*" vs "CRON_TZ=UTC 0 3 \* \* \*"\)/,
    );
  });

  it("names the service whose label is malformed", () => {
    expect(() => projectSchedule([svc("db", "0 3 * * *"), svc("cache", "0 25 * * *")])).toThrow(
      /simpledeploy\.backup\.schedule of service cache: "0 25 \* \* \*" is not a valid schedule: hour 25/,
    );
  });
});

describe("cron matching agrees with cron-parser in UTC", () => {
  // Expressions where vixie's day rule and cron-parser's agree (no `*`-prefixed restricted day field).
  const expressions = ["0 3 * * *", "*/15 * * * *", "5-50/15 8-18 * * 1-5", "0 0 1 * *", "30 4 1,15 * 5", "0 12 * 2 sun", "7 */5 31 * *", "0 0 29 2 *", "59 23 * * 7", "0 9 1-7 * 1"];
  const starts = ["2026-01-01T00:00:00Z", "2026-02-28T23:59:30Z", "2026-07-15T08:07:00Z", "2027-12-31T23:59:59Z", "2028-02-28T12:00:00Z"];
  it.each(expressions)("%s", (expr) => {
    const f = parseCronFields(expr);
    for (const start of starts) {
      const t = new Date(start).getTime();
      const parsed = CronExpressionParser.parse(expr, { currentDate: new Date(t), tz: "UTC" });
      let next = t;
      for (let i = 0; i < 5; i++) {
        next = nextMatch(f, next)!;
        expect(new Date(next).toISOString(), `${expr} next #${i} after ${start}`).toBe(parsed.next().toISOString());
      }
      // cron-parser's prev() excludes the current second; ours includes it, so step 1 ms back.
      const back = CronExpressionParser.parse(expr, { currentDate: new Date(t), tz: "UTC" });
      let prev = t - 1;
      for (let i = 0; i < 5; i++) {
        prev = prevMatch(f, prev)!;
        expect(new Date(prev).toISOString(), `${expr} prev #${i} before ${start}`).toBe(back.prev().toISOString());
        prev -= 1;
      }
    }
  });
});

describe("zoned wall-clock conversion", () => {
  const at = (iso: string) => new Date(iso).getTime();
  it.each([
    ["UTC", "2026-03-29T02:30:00Z", "2026-03-29T02:30:00.000Z"],
    ["Europe/Berlin", "2026-01-10T03:00:00Z", "2026-01-10T02:00:00.000Z"],
    ["Europe/Berlin", "2026-07-10T03:00:00Z", "2026-07-10T01:00:00.000Z"],
    // skipped by spring-forward: the moment of the jump
    ["Europe/Berlin", "2026-03-29T02:30:00Z", "2026-03-29T01:00:00.000Z"],
    ["America/New_York", "2026-03-08T02:15:00Z", "2026-03-08T07:00:00.000Z"],
    // repeated by fall-back: the first occurrence
    ["Europe/Berlin", "2026-10-25T02:30:00Z", "2026-10-25T00:30:00.000Z"],
    ["America/New_York", "2026-11-01T01:30:00Z", "2026-11-01T05:30:00.000Z"],
    // half-hour zone
    ["Asia/Kolkata", "2026-01-10T03:00:00Z", "2026-01-09T21:30:00.000Z"],
  ])("%s wall %s is %s", (zone, wall, instant) => {
    expect(new Date(fromFloating(zone, at(wall))).toISOString()).toBe(instant);
  });

  it("round-trips every instant of a DST day", () => {
    for (let t = at("2026-10-24T22:00:00Z"); t < at("2026-10-25T04:00:00Z"); t += 15 * 60_000) {
      const wall = toFloating("Europe/Berlin", t);
      const back = fromFloating("Europe/Berlin", wall);
      // the repeated hour maps back to its first occurrence, one hour earlier
      expect(back === t || back === t - 3_600_000).toBe(true);
    }
  });
});
