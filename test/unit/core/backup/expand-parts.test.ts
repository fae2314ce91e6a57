import { describe, expect, it } from "vitest";
import { keepServicesWhole } from "../../../../src/core/backup/expand-parts.ts";
import type { ItemOutcome } from "../../../../src/core/backup/backup-item.ts";

// issue 12: a service stored in parts (postgres: roles + one dump per database) is kept whole or not at all.

const ok = (service: string, part?: string): ItemOutcome => ({
  status: "ok", service, strategy: "postgres", image: null, key: `p/s/${service}.${part ?? "x"}`, bytes: 1, sha256: "0".repeat(64),
  compression: "zstd", paths: [], startedAt: "2026-01-01T00:00:00Z", durationMs: 5, ...(part ? { part: { kind: part === "globals" ? "globals" : "database", name: part } } : {}),
});
const failed = (service: string, part?: string): ItemOutcome => ({ status: "failed", service, strategy: "postgres", error: "boom", durationMs: 1, ...(part ? { part } : {}) });

describe("keepServicesWhole", () => {
  it("turns the good parts of a service with a failed part into failures and hands back their keys", () => {
    const { results, dropped } = keepServicesWhole([ok("db", "globals"), failed("db", "appdb"), ok("db", "other"), ok("files")]);
    expect(results.map((r) => `${r.service}:${r.status}`)).toEqual(["db:failed", "db:failed", "db:failed", "files:ok"]);
    expect(results[0]).toMatchObject({ error: "not kept: appdb of the same service failed", part: "globals" });
    expect(dropped).toEqual(["p/s/db.globals", "p/s/db.other"]);
  });

  it("a service whose parts could not be listed fails whole; other services and whole-service items are untouched", () => {
    const { results, dropped } = keepServicesWhole([failed("db"), ok("cache"), ok("pg", "globals"), ok("pg", "app")]);
    expect(results.map((r) => r.status)).toEqual(["failed", "ok", "ok", "ok"]);
    expect(dropped).toEqual([]);
  });
});
