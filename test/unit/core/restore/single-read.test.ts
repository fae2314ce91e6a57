import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { runBackupPlan } from "../../../../src/core/backup/run-backup.ts";
import { runRestorePlan } from "../../../../src/core/restore/run-restore.ts";
import { HoldLastChunk, streamedItem } from "../../../../src/core/restore/single-read.ts";
import type { Manifest } from "../../../../src/manifest/schema.ts";
import type { Strategy } from "../../../../src/strategies/types.ts";
import { createMemoryTarget, type MemoryTarget } from "../../../../src/targets/memory.ts";
import { backupRun, planItem, restoreRun, testStrategy } from "../../../helpers/builders.ts";
import { createFakeDocker } from "../../../helpers/fake-docker.ts";

// Restore reads the one item a strategy restores atomically once, checking it while it streams;
// every other item is read twice (verification pass, then apply). Counted on the memory target.

const BIG = 3 << 20;

/** A committed zstd set of db (BIG bytes of varied data) and cache in a fresh memory target. */
async function committedSet(): Promise<{ target: MemoryTarget; manifest: Manifest }> {
  const target = createMemoryTarget();
  const run = backupRun(["db", "cache"], createFakeDocker().api, { target, compression: "zstd" });
  const dbData = Buffer.alloc(BIG);
  for (let i = 0; i < BIG; i += 4) dbData.writeUInt32LE((i * 2654435761) >>> 0, i);
  run.docker = createFakeDocker({ containers: run.containers, exec: ({ argv }) => ({ stdout: argv[1] === "db" ? dbData : "cache data\n" }) }).api;
  const result = await runBackupPlan(run);
  expect(result.status).toBe("ok");
  return { target, manifest: JSON.parse(target.objects.get(result.manifest!)!.data.toString()) as Manifest };
}

/** Bytes each key sent from the target, counted as they are read. */
function counting(target: MemoryTarget): Map<string, number> {
  const read = new Map<string, number>();
  const get = target.get.bind(target);
  target.get = async (key, opts) => {
    const body = await get(key, opts);
    body.on("data", (c: Buffer) => read.set(key, (read.get(key) ?? 0) + c.length));
    return body;
  };
  return read;
}

/** The test strategy, atomic for db: its restore records what it received and whether it saw the end. */
function atomicDb(seen: { bytes: number; ended: boolean }): Strategy {
  return testStrategy({
    restoreSafety: () => "atomic",
    async restore(_ctx, input) {
      for await (const c of input as AsyncIterable<Buffer>) seen.bytes += c.length;
      seen.ended = true;
    },
  });
}

function restoring(target: MemoryTarget, manifest: Manifest, db: Strategy) {
  const probe = restoreRun(manifest, { target, docker: createFakeDocker().api });
  const run = restoreRun(manifest, { target, docker: createFakeDocker({ containers: probe.containers }).api });
  run.items = run.items.map((e) => (e.item.service === "db" ? { ...e, plan: planItem("db", { strategy: db }) } : e));
  return run;
}

describe("restore in one read", () => {
  it("reads an atomic item's artifact once and every other artifact twice (measured: bytes from the target)", async () => {
    const { target, manifest } = await committedSet();
    const read = counting(target);
    const seen = { bytes: 0, ended: false };
    const result = await runRestorePlan(restoring(target, manifest, atomicDb(seen)));
    expect(result.status).toBe("ok");
    const [db, cache] = manifest.items;
    expect(read.get(db!.key)).toBe(db!.bytes);
    expect(read.get(cache!.key)).toBe(2 * cache!.bytes);
    expect(seen).toEqual({ bytes: BIG, ended: true });
  });

  it("without the atomic declaration the same set is read twice", async () => {
    const { target, manifest } = await committedSet();
    const read = counting(target);
    expect((await runRestorePlan(restoring(target, manifest, testStrategy()))).status).toBe("ok");
    expect(read.get(manifest.items[0]!.key)).toBe(2 * manifest.items[0]!.bytes);
  });

  it("a bad tail (checksum) fails the item and the restore never gets the last chunk nor the end", async () => {
    const { target, manifest } = await committedSet();
    const stored = target.objects.get(manifest.items[0]!.key)!;
    stored.data = Buffer.from(stored.data);
    stored.data[stored.data.length - 3]! ^= 0xff;
    const seen = { bytes: 0, ended: false };
    const result = await runRestorePlan(restoring(target, manifest, atomicDb(seen)));
    expect(result.status).toBe("failed");
    expect(result.items.map((i) => [i.service, i.status])).toEqual([["db", "failed"], ["cache", "not-started"]]);
    expect(result.items[0]!.error).toMatch(/sha256|checksum|zstd|corrupt/i);
    expect(seen.ended).toBe(false);
    expect(seen.bytes).toBeLessThan(BIG);
  });

  it("a format the strategy rejects stops the streamed restore with the validation error", async () => {
    const { target, manifest } = await committedSet();
    const seen = { bytes: 0, ended: false };
    const db = atomicDb(seen);
    db.validate = async (input) => {
      for await (const _ of input) void _;
      throw new Error("not a dump");
    };
    const result = await runRestorePlan(restoring(target, manifest, db));
    expect(result.items[0]).toMatchObject({ status: "failed", error: "not a dump" });
    expect(seen.ended).toBe(false);
  });

  it("picks the first item that changes data, after additive ones, and only when it is atomic", () => {
    const s = (safety?: "atomic" | "additive") => ({ strategy: testStrategy(safety ? { restoreSafety: () => safety } : {}) });
    const e = (safety?: "atomic" | "additive") => ({ item: {}, plan: s(safety) });
    const roles = e("additive");
    const db = e("atomic");
    expect(streamedItem([roles, db, e("atomic")])).toBe(db);
    expect(streamedItem([e(), db])).toBeUndefined();
    expect(streamedItem([roles, e()])).toBeUndefined();
  });

  it("HoldLastChunk passes the last chunk on only at a clean end", async () => {
    const held = Readable.from([Buffer.from("a"), Buffer.from("b"), Buffer.from("c")]).pipe(new HoldLastChunk());
    const got: string[] = [];
    for await (const c of held) got.push(String(c));
    expect(got.join("")).toBe("abc");
    const cut = new HoldLastChunk();
    const out: string[] = [];
    cut.on("data", (c: Buffer) => out.push(String(c)));
    cut.write("a");
    cut.write("b");
    await new Promise((r) => setImmediate(r));
    cut.on("error", () => {});
    cut.destroy(new Error("bad tail"));
    expect(out).toEqual(["a"]);
    const refused = Readable.from([Buffer.from("a"), Buffer.from("b")]).pipe(new HoldLastChunk(Promise.reject(new Error("bad format"))));
    const parts: string[] = [];
    await expect((async () => {
      for await (const c of refused) parts.push(String(c));
    })()).rejects.toThrow("bad format");
    expect(parts.join("")).not.toContain("b");
  });
});
