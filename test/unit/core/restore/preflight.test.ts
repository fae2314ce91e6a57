import { describe, expect, it } from "vitest";
import { checkRunning, waitReady, type ServiceToCheck } from "../../../../src/core/restore/preflight.ts";
import { StrategyError } from "../../../../src/errors.ts";
import { collectingLogger, container, runContext } from "../../../helpers/builders.ts";

// Restore's preflight: a server still starting is waited for; one that never comes up fails by name.

function check(service: string, answers: (string | undefined)[], running = true): ServiceToCheck & { probes: () => number } {
  let n = 0;
  return {
    service,
    strategy: { needsRunning: true, ready: async () => answers[Math.min(n++, answers.length - 1)] },
    ctx: runContext({ container: container(service, { running }) }),
    probes: () => n,
  };
}

describe("restore preflight", () => {
  it("waits while a database is starting up and returns once it accepts connections", async () => {
    const db = check("db", ["the database system is starting up", "the database system is starting up", undefined]);
    const cache = check("cache", [undefined]);
    const log = collectingLogger();
    await waitReady([db, cache], 5_000, new AbortController().signal, log, 10);
    expect(db.probes()).toBe(3);
    expect(cache.probes()).toBe(1);
    expect(log.lines.join("\n")).toContain("db (the database system is starting up)");
  });

  it("fails after --wait naming the service and its last reason", async () => {
    const db = check("db", ["no response"]);
    const err = await waitReady([db], 50, new AbortController().signal, collectingLogger(), 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrategyError);
    expect((err as Error).message).toMatch(/not ready after .*db \(no response\); nothing was restored/);
    expect(db.probes()).toBeGreaterThan(1);
  });

  it("a probe that rejects (no client tool) fails at once, without waiting", async () => {
    const broken: ServiceToCheck = { service: "db", strategy: { needsRunning: true, ready: () => Promise.reject(new StrategyError("no pg_isready")) }, ctx: runContext() };
    const t0 = performance.now();
    await expect(waitReady([broken], 60_000, new AbortController().signal, collectingLogger(), 10)).rejects.toThrow("no pg_isready");
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it("a stopped server is refused before anything; a stopped volume service is fine", () => {
    expect(() => checkRunning([check("db", [undefined], false)])).toThrow(/needs a running server in db \(not running\)/);
    const files: ServiceToCheck = { service: "files", strategy: { needsRunning: false }, ctx: runContext({ container: container("files", { running: false }) }) };
    expect(() => checkRunning([files])).not.toThrow();
  });
});
