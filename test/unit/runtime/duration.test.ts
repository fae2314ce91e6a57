import { describe, expect, it } from "vitest";
import { formatCalendarSpan, formatElapsed, parseCalendarSpan, parseElapsed, subtractCalendarSpan, MAX_TIMER_MS } from "../../../src/runtime/duration.ts";
import { ConfigError } from "../../../src/errors.ts";

describe("parseElapsed", () => {
  it.each([
    ["30m", 30 * 60_000],
    ["30", 30_000],
    ["90s", 90_000],
    ["1h30m", 90 * 60_000],
    ["2d", 2 * 86_400_000],
    ["250ms", 250],
    ["1M", 60_000],
    [" 5m ", 300_000],
  ])("%j is %d ms", (text, ms) => expect(parseElapsed(text, "--hook-timeout")).toBe(ms));

  it.each(["", "m", "1y", "1w", "-1s", "1.5h", "5 m", "1m1m", "30mins", "25d"])("rejects %j with a ConfigError naming the flag", (text) => {
    expect(() => parseElapsed(text, "--hook-timeout")).toThrow(ConfigError);
    expect(() => parseElapsed(text, "--hook-timeout")).toThrow(/--hook-timeout/);
  });

  it("stays under Node's timer limit unless the caller allows more", () => {
    expect(() => parseElapsed("25d", "x")).toThrow(/at most 576h/);
    expect(MAX_TIMER_MS).toBeLessThan(2 ** 31);
    expect(parseElapsed("30d", "--grace", 365 * 86_400_000)).toBe(30 * 86_400_000);
  });

  it("formats in hours and below", () => {
    expect(formatElapsed(24 * 3_600_000)).toBe("24h");
    expect(formatElapsed(90_000)).toBe("1m30s");
    expect(formatElapsed(parseElapsed("1h30m", "x"))).toBe("1h30m");
    expect(formatElapsed(0)).toBe("0s");
  });
});

describe("the two meanings of 30m", () => {
  it("elapsed: thirty minutes; calendar span: thirty months", () => {
    expect(parseElapsed("30m", "--grace")).toBe(30 * 60_000);
    expect(parseCalendarSpan("30m", "--keep-within")).toEqual({ years: 0, months: 30, days: 0, hours: 0 });
  });
});

describe("parseCalendarSpan", () => {
  it.each([
    ["7d", { years: 0, months: 0, days: 7, hours: 0 }],
    ["2w", { years: 0, months: 0, days: 14, hours: 0 }],
    ["1y6m", { years: 1, months: 6, days: 0, hours: 0 }],
    ["36h", { years: 0, months: 0, days: 0, hours: 36 }],
    ["1w2d", { years: 0, months: 0, days: 9, hours: 0 }],
    ["2Y1D", { years: 2, months: 0, days: 1, hours: 0 }],
    ["0h", { years: 0, months: 0, days: 0, hours: 0 }],
  ])("%s", (text, expected) => expect(parseCalendarSpan(text, "--keep-within")).toEqual(expected));

  it.each(["", "7", "d", "7x", "-1d", "1.5d", "7d 2h", "1d1d", "7 days", "1000000d"])("rejects %j with a ConfigError naming the flag", (text) => {
    expect(() => parseCalendarSpan(text, "--keep-within")).toThrow(ConfigError);
    expect(() => parseCalendarSpan(text, "--keep-within")).toThrow(/--keep-within/);
  });

  it("formats canonically", () => {
    expect(formatCalendarSpan(parseCalendarSpan("6m1y", "x"))).toBe("1y6m");
    expect(formatCalendarSpan(parseCalendarSpan("2w", "x"))).toBe("14d");
    expect(formatCalendarSpan(parseCalendarSpan("0d", "x"))).toBe("0h");
  });
});

describe("subtractCalendarSpan", () => {
  const at = (iso: string, d: string) => subtractCalendarSpan(new Date(iso), parseCalendarSpan(d, "x")).toISOString();
  it("works on the calendar like Go's AddDate", () => {
    expect(at("2026-03-31T00:00:00Z", "1m")).toBe("2026-03-03T00:00:00.000Z");
    expect(at("2026-03-15T12:00:00Z", "1y6m")).toBe("2024-09-15T12:00:00.000Z");
    expect(at("2024-02-29T00:00:00Z", "1y")).toBe("2023-03-01T00:00:00.000Z");
    expect(at("2026-01-10T12:00:00Z", "2d")).toBe("2026-01-08T12:00:00.000Z");
    expect(at("2026-01-10T12:00:00Z", "36h")).toBe("2026-01-09T00:00:00.000Z");
  });
});

