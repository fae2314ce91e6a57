import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyRetention, calendarBuckets, type RetentionSet } from "../../../../src/core/retention/apply.ts";
import { parseRetentionLabel, type RetentionPolicy } from "../../../../src/core/retention/policy.ts";
import { parseCalendarSpan, parseElapsed } from "../../../../src/runtime/duration.ts";
import { setIdTime } from "../../../../src/manifest/keys.ts";
import { ConfigError } from "../../../../src/errors.ts";

interface Golden {
  description: string;
  timeZone: string;
  now: string;
  policy: string | null;
  grace?: string;
  allowRemoveAll?: boolean;
  sets: { id: string; services?: string[]; complete?: boolean }[];
  expected: { keep: string[]; remove: string[]; reasons: Record<string, string[]> };
}

const dir = join(import.meta.dirname, "../../../fixtures/retention");
const goldens = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();

function runGolden(g: Golden) {
  const sets: RetentionSet[] = g.sets.map((s) => ({ id: s.id, time: setIdTime(s.id)!, services: s.services ?? ["app", "db"], complete: s.complete ?? true }));
  return applyRetention(sets, g.policy === null ? undefined : parseRetentionLabel(g.policy), {
    now: new Date(g.now),
    bucketOf: calendarBuckets(g.timeZone),
    ...(g.grace ? { graceMs: parseElapsed(g.grace, "grace", Infinity) } : {}),
    allowRemoveAll: g.allowRemoveAll ?? false,
  });
}

describe("retention goldens (test/fixtures/retention)", () => {
  it("has the golden cases the design calls for", () => {
    for (const name of ["daily-weekly-monthly", "iso-week-year", "iso-week-53", "gaps", "keep-within", "keep-last-incomplete", "partial-services", "refuse-remove-all", "no-policy"]) {
      expect(goldens).toContain(`${name}.json`);
    }
  });

  it.each(goldens)("%s", (file) => {
    const g = JSON.parse(readFileSync(join(dir, file), "utf8")) as Golden;
    const result = runGolden(g);
    expect({ keep: result.keep.map((s) => s.id), remove: result.remove.map((s) => s.id), reasons: result.reasons }, g.description).toEqual(g.expected);
  });
});

describe("calendarBuckets", () => {
  const utc = calendarBuckets("UTC");
  it.each([
    ["2025-12-28T12:00:00Z", "2025-W52"],
    ["2025-12-29T00:00:00Z", "2026-W01"],
    ["2026-01-01T00:00:00Z", "2026-W01"],
    ["2026-01-04T23:59:59Z", "2026-W01"],
    ["2026-01-05T00:00:00Z", "2026-W02"],
    ["2020-12-31T00:00:00Z", "2020-W53"],
    ["2021-01-03T00:00:00Z", "2020-W53"],
    ["2021-01-04T00:00:00Z", "2021-W01"],
    ["2027-01-03T00:00:00Z", "2026-W53"],
    ["2024-12-30T00:00:00Z", "2025-W01"],
  ])("ISO week of %s is %s", (iso, week) => expect(utc("weekly", new Date(iso))).toBe(week));

  it("formats hour, day, month and year buckets", () => {
    const t = new Date("2026-03-07T05:09:00Z");
    expect([utc("hourly", t), utc("daily", t), utc("monthly", t), utc("yearly", t)]).toEqual(["2026-03-07 05", "2026-03-07", "2026-03", "2026"]);
    expect(utc("hourly", new Date("2026-03-07T00:30:00Z"))).toBe("2026-03-07 00");
  });

  it("uses the given zone, across a DST change too", () => {
    const berlin = calendarBuckets("Europe/Berlin");
    expect(berlin("daily", new Date("2026-01-01T23:30:00Z"))).toBe("2026-01-02");
    // 2026-03-29 01:00Z is when Berlin jumps from 02:00 to 03:00 local
    expect(berlin("hourly", new Date("2026-03-29T00:30:00Z"))).toBe("2026-03-29 01");
    expect(berlin("hourly", new Date("2026-03-29T01:30:00Z"))).toBe("2026-03-29 03");
  });

  it("defaults to the machine's local calendar", () => {
    const saved = process.env.TZ;
    // Node re-reads TZ at run time; a zone far from UTC makes the check meaningful on a UTC machine
    process.env.TZ = "Asia/Kolkata";
    try {
      const local = calendarBuckets();
      const t = new Date("2026-01-01T20:00:00Z");
      expect(local("daily", t)).toBe("2026-01-02");
      expect(local("daily", t)).toBe(`${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, "0")}-${String(t.getDate()).padStart(2, "0")}`);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it("rejects an unknown zone with a ConfigError", () => {
    expect(() => calendarBuckets("Mars/Olympus")).toThrow(ConfigError);
  });
});

describe("applyRetention invariants (seeded random sets and policies)", () => {
  it("partitions the sets, gives reasons, keeps the newest of each service, ignores input order", () => {
    const random = mulberry32(42);
    const pick = <T,>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    for (let round = 0; round < 300; round++) {
      const start = Date.UTC(2025, 0, 1);
      const sets: RetentionSet[] = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i) => ({
        id: `set-${round}-${i}`,
        time: new Date(start + Math.floor(random() * 400 * 86_400_000)),
        services: pick([["app", "db"], ["db"], ["app"], ["app", "db", "cache"]]),
        complete: random() > 0.15,
      }));
      const policy: RetentionPolicy = {};
      for (const rule of ["last", "hourly", "daily", "weekly", "monthly", "yearly"] as const) if (random() < 0.3) policy[rule] = pick([-1, 0, 1, 2, 5]);
      if (random() < 0.2) policy.within = parseCalendarSpan(pick(["0h", "36h", "2w", "1m"]), "within");
      const opts = { now: new Date(start + 410 * 86_400_000), bucketOf: calendarBuckets("UTC") };
      const result = applyRetention(sets, policy, opts);
      const ids = [...result.keep, ...result.remove].map((s) => s.id).sort();
      expect(ids).toEqual(sets.map((s) => s.id).sort());
      for (const s of sets) expect(result.reasons[s.id]?.length, s.id).toBeGreaterThan(0);
      const complete = sets.filter((s) => s.complete).sort((a, b) => b.time.getTime() - a.time.getTime());
      for (const service of ["app", "db", "cache"]) {
        const newest = complete.find((s) => s.services.includes(service));
        if (newest) expect(result.keep).toContain(newest);
      }
      const shuffled = [...sets].sort(() => random() - 0.5);
      expect(applyRetention(shuffled, policy, opts)).toEqual(result);
    }
  });
});

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
