import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTarget } from "../../../../src/targets/local.ts";
import type { Target } from "../../../../src/targets/types.ts";
import { writeManifest } from "../../../../src/manifest/store.ts";
import { MANIFEST_VERSION, type Manifest } from "../../../../src/manifest/schema.ts";
import { runPrunePlan, type PruneRun } from "../../../../src/core/retention/run-prune.ts";
import { calendarBuckets } from "../../../../src/core/retention/apply.ts";
import { parseRetentionLabel } from "../../../../src/core/retention/policy.ts";
import { CancelledError, TargetError } from "../../../../src/errors.ts";
import { silentLogger, type Logger } from "../../../../src/ui/logger.ts";
import { runPrune } from "../../../../src/commands/prune.ts";
import type { Deps } from "../../../../src/deps.ts";
import type { DockerApi } from "../../../../src/docker/types.ts";

const signal = new AbortController().signal;
let dir: string;
let local: Target;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-prune-"));
  local = createLocalTarget(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A set with a manifest naming one small artifact per service (the bytes do not matter to prune). */
async function completeSet(project: string, set: string, services = ["app", "db"]): Promise<void> {
  const items = [];
  for (const service of services) {
    const key = `${project}/${set}/${service}.tar.zst`;
    await local.put(key, Readable.from([Buffer.from(service)]), { signal });
    items.push({ service, strategy: "volume" as const, image: null, key, bytes: 3, sha256: "0".repeat(64), compression: "zstd" as const, paths: [], startedAt: "", durationMs: 1 });
  }
  const createdAt = `${set.slice(0, 4)}-${set.slice(4, 6)}-${set.slice(6, 8)}T${set.slice(9, 11)}:${set.slice(11, 13)}:${set.slice(13, 15)}Z`;
  const manifest: Manifest = {
    schemaVersion: MANIFEST_VERSION, tool: { name: "sdbackup", version: "test" }, project, set, createdAt, completedAt: createdAt,
    status: "ok", items, failed: [],
  };
  await writeManifest(local, manifest, signal);
}

async function keys(): Promise<string[]> {
  const out: string[] = [];
  for await (const o of local.list("", { signal })) out.push(o.key);
  return out.sort();
}

/** The local target, recording every remove; `failOn` makes removing that key fail. */
function recording(inner: Target, failOn?: string, onRemove?: (key: string) => void): Target & { removed: string[] } {
  const removed: string[] = [];
  return {
    scheme: inner.scheme, display: inner.display, capabilities: inner.capabilities, removed,
    put: (k, b, o) => inner.put(k, b, o),
    get: (k, o) => inner.get(k, o),
    list: (p, o) => inner.list(p, o),
    async remove(key, opts) {
      if (key === failOn) throw new TargetError(`cannot remove ${key}: permission denied`);
      removed.push(key);
      await inner.remove(key, opts);
      onRemove?.(key);
    },
  };
}

function run(target: Target, over: Partial<PruneRun> = {}): Promise<Awaited<ReturnType<typeof runPrunePlan>>> {
  return runPrunePlan({
    target, policy: parseRetentionLabel("last=1"), policySource: "flags", dryRun: false, allowRemoveAll: false,
    now: new Date("2026-01-05T12:00:00Z"), bucketOf: calendarBuckets("UTC"), signal, log: silentLogger, ...over,
  });
}

describe("runPrunePlan", () => {
  it("removes the manifest of each set before its artifacts, oldest set first", async () => {
    await completeSet("app", "20260103T030000Z-aaaa");
    await completeSet("app", "20260102T030000Z-bbbb");
    await completeSet("app", "20260101T030000Z-cccc");
    const target = recording(local);
    const result = await run(target);
    expect(result.removed).toBe(2);
    expect(target.removed).toEqual([
      "app/20260101T030000Z-cccc/manifest.json", "app/20260101T030000Z-cccc/app.tar.zst", "app/20260101T030000Z-cccc/db.tar.zst",
      "app/20260102T030000Z-bbbb/manifest.json", "app/20260102T030000Z-bbbb/app.tar.zst", "app/20260102T030000Z-bbbb/db.tar.zst",
    ]);
    expect(await keys()).toEqual(["app/20260103T030000Z-aaaa/app.tar.zst", "app/20260103T030000Z-aaaa/db.tar.zst", "app/20260103T030000Z-aaaa/manifest.json"]);
    expect(result.sets.map((s) => [s.set, s.action, s.reasons])).toEqual([
      ["20260103T030000Z-aaaa", "keep", ["last"]],
      ["20260102T030000Z-bbbb", "remove", ["expired"]],
      ["20260101T030000Z-cccc", "remove", ["expired"]],
    ]);
  });

  it("dry run removes nothing but reports the plan", async () => {
    await completeSet("app", "20260103T030000Z-aaaa");
    await completeSet("app", "20260102T030000Z-bbbb");
    const before = await keys();
    const target = recording(local);
    const result = await run(target, { dryRun: true });
    expect(target.removed).toEqual([]);
    expect(await keys()).toEqual(before);
    expect(result).toMatchObject({ dryRun: true, removed: 0, policy: { last: 1 }, sets: [{ action: "keep" }, { action: "remove", reasons: ["expired"] }] });
  });

  it("stops between deletions when aborted, never leaving a manifest without its artifacts", async () => {
    await completeSet("app", "20260103T030000Z-aaaa");
    await completeSet("app", "20260102T030000Z-bbbb");
    await completeSet("app", "20260101T030000Z-cccc");
    const controller = new AbortController();
    const target = recording(local, undefined, () => controller.abort(new CancelledError("test abort")));
    await expect(run(target, { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(target.removed).toEqual(["app/20260101T030000Z-cccc/manifest.json"]);
    const left = await keys();
    expect(left).not.toContain("app/20260101T030000Z-cccc/manifest.json");
    expect(left).toContain("app/20260101T030000Z-cccc/db.tar.zst");
    expect(left).toContain("app/20260102T030000Z-bbbb/manifest.json");
    expect(getEventListeners(controller.signal, "abort")).toEqual([]);
  });

  it("records a failed removal and carries on with the other sets", async () => {
    await completeSet("app", "20260103T030000Z-aaaa");
    await completeSet("app", "20260102T030000Z-bbbb");
    await completeSet("app", "20260101T030000Z-cccc");
    const target = recording(local, "app/20260101T030000Z-cccc/manifest.json");
    const result = await run(target);
    expect(result).toMatchObject({ removed: 1, failed: 1 });
    expect(result.sets.find((s) => s.set === "20260101T030000Z-cccc")?.error).toMatch(/permission denied/);
    expect(await keys()).toContain("app/20260101T030000Z-cccc/manifest.json");
    expect((await keys()).some((k) => k.startsWith("app/20260102T030000Z-bbbb/"))).toBe(false);
  });

  it("decides per project, and removes old incomplete sets but not young ones", async () => {
    await completeSet("app", "20260103T030000Z-aaaa");
    await completeSet("app", "20260102T030000Z-bbbb");
    await completeSet("wiki", "20260101T030000Z-dddd");
    await local.put("app/20260105T100000Z-eeee/db.tar.zst", Readable.from([Buffer.from("half")]), { signal });
    await local.put("app/20260104T100000Z-ffff/db.tar.zst", Readable.from([Buffer.from("old")]), { signal });
    await local.put("app/20260104T090000Z-1111/manifest.json", Readable.from([Buffer.from("{broken")]), { signal });
    const result = await run(recording(local));
    const plan = Object.fromEntries(result.sets.map((s) => [`${s.project}/${s.set}`, `${s.action}:${s.reasons.join(",")}`]));
    expect(plan).toEqual({
      "app/20260105T100000Z-eeee": "keep:incomplete-within-grace",
      "app/20260104T100000Z-ffff": "remove:incomplete",
      "app/20260104T090000Z-1111": "remove:incomplete",
      "app/20260103T030000Z-aaaa": "keep:last",
      "app/20260102T030000Z-bbbb": "remove:expired",
      "wiki/20260101T030000Z-dddd": "keep:last",
    });
    expect(result.removed).toBe(3);
    expect((await keys()).filter((k) => k.includes("eeee"))).toEqual(["app/20260105T100000Z-eeee/db.tar.zst"]);
  });

  it("removes nothing without a policy", async () => {
    await completeSet("app", "20260103T030000Z-aaaa");
    await local.put("app/20200101T000000Z-ffff/db.tar.zst", Readable.from([Buffer.from("old")]), { signal });
    const target = recording(local);
    const result = await run(target, { policy: undefined, policySource: "none" });
    expect(target.removed).toEqual([]);
    expect(result).toMatchObject({ policy: null, removed: 0 });
    expect(result.sets.every((s) => s.action === "keep" && s.reasons[0] === "no-policy")).toBe(true);
  });
});

describe("runPrune policy source", () => {
  /** Deps for a project directory; `docker` lists no containers, so the compose file in `cwd` is read. */
  function deps(docker: () => Promise<DockerApi>, warnings: string[] = []): Deps {
    const log: Logger = { ...silentLogger, warn: (m) => void warnings.push(m) };
    return { env: {}, cwd: dir, log, signal, docker, out: () => {}, now: () => new Date("2026-01-05T12:00:00Z"), stdinIsTTY: false };
  }
  const noContainers = async () => ({ listContainers: async () => [] }) as unknown as DockerApi;

  beforeEach(async () => {
    // `name: shop`: --app shop is the project of this directory (another name would be a usage error)
    await writeFile(path.join(dir, "compose.yaml"), 'name: shop\nservices:\n  db:\n    image: postgres:15\n    labels:\n      simpledeploy.backup.retention: "last=1"\n');
    await completeSet("shop", "20260103T030000Z-aaaa");
    await completeSet("shop", "20260102T030000Z-bbbb");
  });

  it("takes the label of the --app project when no --keep-* flag is given", async () => {
    const result = await runPrune({ app: "shop", target: dir, dryRun: true }, deps(noContainers));
    expect(result).toMatchObject({ project: "shop", policySource: "label", policy: { last: 1 } });
    expect(result.sets.map((s) => s.action)).toEqual(["keep", "remove"]);
  });

  it("lets flags replace the label as a whole, without asking Docker", async () => {
    const result = await runPrune({ app: "shop", target: dir, dryRun: true, keepDaily: "7" }, deps(() => Promise.reject(new Error("must not be called"))));
    expect(result).toMatchObject({ policySource: "flags", policy: { daily: 7 } });
    expect(result.sets.map((s) => s.action)).toEqual(["keep", "keep"]);
  });

  it("falls back to no policy, with a warning, when the project cannot be resolved", async () => {
    const warnings: string[] = [];
    const result = await runPrune({ app: "shop", target: dir }, deps(() => Promise.reject(new Error("no docker here")), warnings));
    expect(result).toMatchObject({ policySource: "none", policy: null, removed: 0 });
    expect(warnings.join()).toMatch(/no docker here/);
  });
});
