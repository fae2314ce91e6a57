import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTarget } from "../../../src/targets/local.ts";
import type { Target } from "../../../src/targets/types.ts";
import { listSets, writeManifest } from "../../../src/manifest/store.ts";
import { MANIFEST_VERSION, type Manifest } from "../../../src/manifest/schema.ts";
import { parseSetFlag, selectSet, selectSets } from "../../../src/manifest/select.ts";
import { newerFirst } from "../../../src/manifest/order.ts";
import { runPrunePlan } from "../../../src/core/retention/run-prune.ts";
import { runVerifyPlan } from "../../../src/core/verify/run-verify.ts";
import { calendarBuckets } from "../../../src/core/retention/apply.ts";
import { ConfigError, NoSetError, exitCodeFor } from "../../../src/errors.ts";
import { silentLogger } from "../../../src/ui/logger.ts";

const signal = new AbortController().signal;
let dir: string;
let target: Target;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-select-"));
  target = createLocalTarget(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A set with a manifest; `createdAt` may carry milliseconds that the id does not. */
async function set(project: string, id: string, createdAt: string, opts: { status?: "ok" | "partial"; services?: string[] } = {}): Promise<void> {
  const items = (opts.services ?? ["db"]).map((service) => ({
    service, strategy: "volume" as const, image: null, key: `${project}/${id}/${service}.tar`, bytes: 1, sha256: "0".repeat(64),
    compression: "none" as const, paths: [], startedAt: createdAt, durationMs: 1,
  }));
  for (const i of items) await target.put(i.key, Readable.from([Buffer.from("x")]), { signal });
  const manifest: Manifest = {
    schemaVersion: MANIFEST_VERSION, tool: { name: "sdbackup", version: "test" }, project, set: id, createdAt, completedAt: createdAt,
    status: opts.status ?? "ok", items, failed: [],
  };
  await writeManifest(target, manifest, signal);
}

// Same second; the id suffixes sort the other way round from the start times.
const EARLY = "20260105T100000Z-ffff";
const LATE = "20260105T100000Z-0000";
async function sameSecond(): Promise<void> {
  await set("app", EARLY, "2026-01-05T10:00:00.100Z");
  await set("app", LATE, "2026-01-05T10:00:00.900Z");
}

describe("one order: createdAt, then id", () => {
  it("newerFirst breaks ties by id, then project", () => {
    const t = new Date("2026-01-05T10:00:00Z");
    const sorted = [{ createdAt: t, set: "a", project: "x" }, { createdAt: t, set: "b", project: "x" }, { createdAt: t, set: "b", project: "y" }].sort(newerFirst);
    expect(sorted.map((s) => `${s.project}/${s.set}`)).toEqual(["y/b", "x/b", "x/a"]);
  });

  it("list: sets started in the same second come newest first by createdAt", async () => {
    await sameSecond();
    expect((await listSets(target, "app", signal)).map((s) => s.set)).toEqual([LATE, EARLY]);
  });

  it("restore: latest is the later of two same-second sets", async () => {
    await sameSecond();
    expect((await selectSet(target, "app", undefined, [], signal)).set).toBe(LATE);
  });

  it("verify: latest is the later of two same-second sets", async () => {
    await sameSecond();
    const result = await runVerifyPlan({ target, project: "app", signal, log: silentLogger });
    expect(result.sets.map((s) => s.set)).toEqual([LATE]);
  });

  it("prune: last=1 keeps the later of two same-second sets", async () => {
    await sameSecond();
    const result = await runPrunePlan({
      target, project: "app", policy: { last: 1 }, policySource: "flags", dryRun: true, allowRemoveAll: false,
      now: new Date("2026-01-06T00:00:00Z"), bucketOf: calendarBuckets("UTC"), signal, log: silentLogger,
    });
    expect(result.sets.map((s) => `${s.set}:${s.action}`)).toEqual([`${LATE}:keep`, `${EARLY}:remove`]);
  });
});

describe("selectSets", () => {
  const display = "local:/x";
  it("latest skips partial sets and sets without the requested services", async () => {
    await set("app", "20260101T000000Z-aaaa", "2026-01-01T00:00:00Z", { services: ["db", "web"] });
    await set("app", "20260102T000000Z-bbbb", "2026-01-02T00:00:00Z", { services: ["db"] });
    await set("app", "20260103T000000Z-cccc", "2026-01-03T00:00:00Z", { status: "partial", services: ["db", "web"] });
    const sets = await listSets(target, "app", signal);
    expect(selectSets(sets, { project: "app", display })[0]!.set).toBe("20260102T000000Z-bbbb");
    expect(selectSets(sets, { project: "app", services: ["web"], display })[0]!.set).toBe("20260101T000000Z-aaaa");
    // By id, a partial set is what the user asked for.
    expect(selectSets(sets, { set: "20260103T000000Z-cccc", project: "app", display })[0]!.manifest!.status).toBe("partial");
  });

  it("no ok set is E_NO_SET (exit 1)", async () => {
    await set("app", "20260103T000000Z-cccc", "2026-01-03T00:00:00Z", { status: "partial" });
    const sets = await listSets(target, "app", signal);
    const err = (() => { try { selectSets(sets, { project: "app", display }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(NoSetError);
    expect(exitCodeFor(err)).toBe(1);
  });

  it("an unknown set id is E_UNKNOWN_SET (exit 2)", async () => {
    await sameSecond();
    const sets = await listSets(target, "app", signal);
    const err = (() => { try { selectSets(sets, { set: "20250101T000000Z-abcd", project: "app", display }); } catch (e) { return e; } })();
    expect(err).toMatchObject({ code: "E_UNKNOWN_SET", exitCode: 2 });
  });

  it("an incomplete set named by id: restore refuses it, verify gets it to report", async () => {
    await target.put("app/20260104T000000Z-dddd/db.tar", Readable.from([Buffer.from("half")]), { signal });
    const sets = await listSets(target, "app", signal);
    expect(() => selectSets(sets, { set: "20260104T000000Z-dddd", project: "app", display })).toThrow(/is incomplete/);
    expect(selectSets(sets, { set: "20260104T000000Z-dddd", project: "app", forVerify: true, display })[0]!.complete).toBe(false);
  });

  it("latest over several projects needs --app", async () => {
    await set("app", "20260101T000000Z-aaaa", "2026-01-01T00:00:00Z");
    await set("wiki", "20260102T000000Z-bbbb", "2026-01-02T00:00:00Z");
    await expect(listSets(target, undefined, signal).then((s) => selectSets(s, { forVerify: true, display }))).rejects.toThrow(/holds 2 projects \(app, wiki\)/);
  });
});

describe("parseSetFlag", () => {
  it.each([[undefined, "latest"], ["latest", "latest"], [LATE, { id: LATE }]])("%j", (value, wanted) => expect(parseSetFlag(value)).toEqual(wanted));

  it.each(["", " ", "nope", "2026-01-05", "all"])("rejects %j for restore with exit 2 (never latest)", (value) => {
    expect(() => parseSetFlag(value)).toThrow(ConfigError);
    expect(exitCodeFor((() => { try { parseSetFlag(value); } catch (e) { return e; } })())).toBe(2);
  });

  it("accepts all where allowed", () => expect(parseSetFlag("all", { allowAll: true })).toBe("all"));
});
