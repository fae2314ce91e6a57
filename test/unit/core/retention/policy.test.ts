import { describe, expect, it } from "vitest";
import {
  formatPolicy, isEmptyPolicy, parseRetentionLabel, policyFromFlags, policyFromLabels, policyToJson,
} from "../../../../src/core/retention/policy.ts";
import { ConfigError } from "../../../../src/errors.ts";

describe("parseRetentionLabel", () => {
  it("reads every rule", () => {
    const p = parseRetentionLabel("last=3,daily=7,weekly=4,monthly=6,yearly=2,within=7d,hourly=24");
    expect(p).toEqual({ last: 3, daily: 7, weekly: 4, monthly: 6, yearly: 2, hourly: 24, within: { years: 0, months: 0, days: 7, hours: 0 } });
    expect(formatPolicy(p)).toBe("last=3,hourly=24,daily=7,weekly=4,monthly=6,yearly=2,within=7d");
    expect(policyToJson(p)).toEqual({ last: 3, hourly: 24, daily: 7, weekly: 4, monthly: 6, yearly: 2, within: "7d" });
  });

  it("tolerates spaces, case and empty entries; -1 means unlimited", () => {
    expect(parseRetentionLabel(" Daily = 7 , ,weekly=-1 ")).toEqual({ daily: 7, weekly: -1 });
    expect(isEmptyPolicy(parseRetentionLabel(""))).toBe(true);
  });

  it.each([
    ["daily=7,fortnightly=2", /unknown retention rule "fortnightly".*/],
    ["daily", /has no value/],
    ["daily=", /has no value/],
    ["daily=7,daily=3", /given twice/],
    ["daily=seven", /whole number/],
    ["daily=-2", /whole number/],
    ["daily=1.5", /whole number/],
    ["within=7", /invalid duration/],
  ])("%j is a ConfigError (%s)", (label, message) => {
    expect(() => parseRetentionLabel(label)).toThrow(ConfigError);
    expect(() => parseRetentionLabel(label)).toThrow(message);
  });

  it("names the source in errors", () => {
    expect(() => parseRetentionLabel("x=1", "simpledeploy.backup.retention of service db")).toThrow(/of service db/);
  });
});

describe("policyFromFlags", () => {
  it("is undefined without flags, and keeps an explicit 0 as a rule", () => {
    expect(policyFromFlags({})).toBeUndefined();
    expect(policyFromFlags({ keepLast: "0" })).toEqual({ last: 0 });
  });

  it("parses every flag", () => {
    const p = policyFromFlags({ keepLast: "1", keepHourly: "2", keepDaily: "3", keepWeekly: "4", keepMonthly: "5", keepYearly: "-1", keepWithin: "2w" });
    expect(formatPolicy(p!)).toBe("last=1,hourly=2,daily=3,weekly=4,monthly=5,yearly=-1,within=14d");
  });

  it("names the bad flag", () => {
    expect(() => policyFromFlags({ keepDaily: "many" })).toThrow(/--keep-daily/);
    expect(() => policyFromFlags({ keepWithin: "soon" })).toThrow(/--keep-within/);
    expect(() => policyFromFlags({ keepWeekly: "-5" })).toThrow(ConfigError);
  });
});

describe("policyFromLabels", () => {
  const svc = (name: string, retention?: string): { name: string; labels: Record<string, string> } =>
    ({ name, labels: retention === undefined ? {} : { "simpledeploy.backup.retention": retention } });

  it("takes the one policy the labelled services share", () => {
    expect(policyFromLabels([svc("web"), svc("db", "daily=7,weekly=4"), svc("app", "weekly=4, daily=7")])).toEqual({ daily: 7, weekly: 4 });
  });

  it("is undefined when no service has the label", () => {
    expect(policyFromLabels([svc("web"), svc("db", " ")])).toBeUndefined();
  });

  it("refuses services that disagree, naming both", () => {
    expect(() => policyFromLabels([svc("db", "daily=7"), svc("app", "daily=3")])).toThrow(/db and app/);
  });

  it("reports a bad label with the service name", () => {
    expect(() => policyFromLabels([svc("db", "daily=oops")])).toThrow(/service db/);
  });
});
