import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getEventListeners } from "node:events";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTarget } from "../../src/targets/local.ts";
import type { Target } from "../../src/targets/types.ts";
import { storeArtifact } from "../../src/core/backup/store-artifact.ts";
import { createCompressor, extFor, type Compression } from "../../src/pipeline/compress.ts";
import { writeManifest } from "../../src/manifest/store.ts";
import { artifactKey } from "../../src/manifest/keys.ts";
import { MANIFEST_VERSION, type ManifestItem } from "../../src/manifest/schema.ts";
import type { StrategyName } from "../../src/strategies/index.ts";
import { runVerifyPlan } from "../../src/core/verify/run-verify.ts";
import { CancelledError, ConfigError } from "../../src/errors.ts";
import { silentLogger } from "../../src/ui/logger.ts";
import { sdbackup } from "../helpers/cli.ts";

const signal = new AbortController().signal;
let dir: string;
let target: Target;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-pv-"));
  target = createLocalTarget(path.join(dir, "backups"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const pgDump = () => Buffer.concat([Buffer.from("PGDMP\u0001\u000e\u0000"), randomBytes(200_000)]);

async function volumeTar(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: "var/lib/data", type: "directory" });
  pack.entry({ name: "var/lib/data/notes.txt" }, "hello from the volume\n".repeat(1000));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The smallest RDB Redis loads: magic, the EOF opcode, and a zero checksum (as with rdbchecksum no). */
const EMPTY_RDB = Buffer.concat([Buffer.from("REDIS0011"), Buffer.from([0xff]), Buffer.alloc(8)]);

interface Spec { service: string; strategy: StrategyName; ext: string; body: Buffer; compression?: Compression; paths?: string[] }

/** A set written the way backup writes one: artifacts through the real pipeline, then the manifest. */
async function makeSet(project: string, set: string, specs: Spec[]): Promise<ManifestItem[]> {
  const items: ManifestItem[] = [];
  for (const s of specs) {
    const compression = s.compression ?? "zstd";
    const key = artifactKey(project, set, s.service, s.ext, extFor(compression));
    const { bytes, sha256 } = await storeArtifact(target, key, Readable.from([s.body]), [createCompressor(compression)], signal);
    items.push({ service: s.service, strategy: s.strategy, image: null, key, bytes, sha256, compression, paths: s.paths ?? [], startedAt: new Date().toISOString(), durationMs: 1 });
  }
  const createdAt = idTime(set).toISOString();
  await writeManifest(target, { schemaVersion: MANIFEST_VERSION, tool: { name: "sdbackup", version: "test" }, project, set, createdAt, completedAt: createdAt, status: "ok", items, failed: [] }, signal);
  return items;
}

async function standardSet(project: string, set: string): Promise<ManifestItem[]> {
  return makeSet(project, set, [
    { service: "db", strategy: "postgres", ext: "pgdump", body: pgDump() },
    { service: "app", strategy: "volume", ext: "tar", body: await volumeTar(), paths: ["/var/lib/data"] },
    { service: "cache", strategy: "redis", ext: "rdb", body: EMPTY_RDB, compression: "gzip" },
  ]);
}

const idAt = (t: Date) => `${t.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z")}-${randomBytes(2).toString("hex")}`;
const idTime = (id: string) => new Date(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`);
const fileOf = (key: string) => path.join(dir, "backups", ...key.split("/"));
async function keys(): Promise<string[]> {
  const out: string[] = [];
  for await (const o of target.list("", { signal })) out.push(o.key);
  return out.sort();
}

describe("verify", () => {
  it("passes a good set and names corrupted, truncated, missing and wrong-format artifacts", async () => {
    const good = "20260105T030000Z-a001";
    await standardSet("shop", good);
    const bad = "20260106T030000Z-b002";
    const items = await makeSet("shop", bad, [
      { service: "db", strategy: "postgres", ext: "pgdump", body: pgDump() },
      { service: "app", strategy: "volume", ext: "tar", body: await volumeTar(), paths: ["/var/lib/data"] },
      { service: "cache", strategy: "redis", ext: "rdb", body: EMPTY_RDB },
      { service: "notes", strategy: "postgres", ext: "pgdump", body: randomBytes(50_000) },
      { service: "files", strategy: "volume", ext: "tar", body: await volumeTar(), paths: ["/srv/other"] },
    ]);
    const [db, app, cache] = items;
    const stored = await readFile(fileOf(db!.key));
    stored[Math.floor(stored.length / 2)]! ^= 0xff;
    await writeFile(fileOf(db!.key), stored);
    await truncate(fileOf(app!.key), Math.floor(app!.bytes / 2));
    await rm(fileOf(cache!.key));
    await target.put("shop/20260107T030000Z-c003/db.pgdump.zst", Readable.from([Buffer.from("partial")]), { signal });

    const all = await runVerifyPlan({ target, project: "shop", set: "all", signal, log: silentLogger });
    expect(all.status).toBe("bad");
    expect(all.sets.find((s) => s.set === good)).toMatchObject({ status: "ok", items: [{ status: "ok" }, { status: "ok" }, { status: "ok" }] });
    const problems = Object.fromEntries(all.sets.find((s) => s.set === bad)!.items.map((i) => [i.service, i.problem ?? "ok"]));
    expect(problems.db).toMatch(/sha256 .* does not match .*\(corrupted\)/);
    expect(problems.app).toMatch(/size \d+ bytes, the manifest says \d+/);
    expect(problems.cache).toMatch(/missing/);
    expect(problems.notes).toMatch(/not a valid postgres artifact: not a pg_dump custom-format archive/);
    expect(problems.files).toMatch(/unsafe entry .* outside the backed-up paths/);
    expect(all.incomplete).toEqual([{ project: "shop", set: "20260107T030000Z-c003", createdAt: "2026-01-07T03:00:00.000Z" }]);

    const latest = await runVerifyPlan({ target, project: "shop", signal, log: silentLogger });
    expect(latest.sets.map((s) => s.set)).toEqual([bad]);
    const one = await runVerifyPlan({ target, set: good, signal, log: silentLogger });
    expect(one).toMatchObject({ status: "ok", sets: [{ project: "shop", set: good, status: "ok" }] });
  });

  it("honours an abort mid-artifact and leaves no abort listeners behind", async () => {
    await makeSet("shop", "20260105T030000Z-a001", [{ service: "db", strategy: "postgres", ext: "pgdump", body: Buffer.concat([Buffer.from("PGDMP"), randomBytes(8 << 20)]) }]);
    const quiet = new AbortController();
    expect((await runVerifyPlan({ target, signal: quiet.signal, log: silentLogger })).status).toBe("ok");
    expect(getEventListeners(quiet.signal, "abort")).toEqual([]);
    const controller = new AbortController();
    const slow: Target = { ...target, get: async (key, opts) => {
      const inner = await target.get(key, opts);
      let chunks = 0;
      return Readable.from((async function* () {
        for await (const c of inner as AsyncIterable<Buffer>) {
          if (++chunks === 3) controller.abort(new CancelledError("test abort"));
          yield c;
        }
      })());
    } };
    await expect(runVerifyPlan({ target: slow, signal: controller.signal, log: silentLogger })).rejects.toBeInstanceOf(CancelledError);
  });

  it("needs --app for latest when the target holds several projects", async () => {
    await standardSet("shop", "20260105T030000Z-a001");
    await standardSet("wiki", "20260105T040000Z-a002");
    await expect(runVerifyPlan({ target, signal, log: silentLogger })).rejects.toBeInstanceOf(ConfigError);
    expect((await runVerifyPlan({ target, set: "all", signal, log: silentLogger })).sets).toHaveLength(2);
  });

  it("CLI: exit 0 and JSON for a good set, exit 1 naming the bad artifact", async () => {
    const set = "20260105T030000Z-a001";
    const items = await standardSet("shop", set);
    const root = path.join(dir, "backups");
    const ok = await sdbackup(["verify", "--target", root, "--json"], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout) as { target: string; sets: { items: unknown[] }[] };
    expect(doc).toMatchObject({ target: root, status: "ok", sets: [{ project: "shop", set, status: "ok" }] });
    expect(doc.sets[0]!.items).toHaveLength(3);

    await truncate(fileOf(items[0]!.key), 10);
    const badRun = await sdbackup(["verify", "--app", "shop", "--set", set, "--target", root], { cwd: dir });
    expect(badRun.code).toBe(1);
    expect(badRun.stdout).toMatch(/shop\s+20260105T030000Z-a001\s+db\s+bad\s+shop\/20260105T030000Z-a001\/db\.pgdump\.zst: size 10 bytes/);
    expect(badRun.stderr).toContain(`shop/${set} db ${items[0]!.key}: size 10 bytes`);
    expect(badRun.stdout).toMatch(/1 bad/);
  });
});

describe("prune", () => {
  it("CLI: dry run prints reasons and deletes nothing; a real run removes, keeping young incomplete sets", async () => {
    const now = Date.now();
    const hours = (h: number) => new Date(now - h * 3_600_000);
    const sets = [idAt(hours(2)), idAt(hours(26)), idAt(hours(50)), idAt(hours(74))];
    for (const id of sets) await makeSet("shop", id, [{ service: "db", strategy: "postgres", ext: "pgdump", body: pgDump() }]);
    const young = idAt(hours(1));
    const old = idAt(hours(30));
    await target.put(`shop/${young}/db.pgdump.zst`, Readable.from([Buffer.from("in progress")]), { signal });
    await target.put(`shop/${old}/db.pgdump.zst`, Readable.from([Buffer.from("abandoned")]), { signal });
    const root = path.join(dir, "backups");
    const before = await keys();

    const dry = await sdbackup(["prune", "--target", root, "--keep-last", "2", "--dry-run"], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`${sets[0]}.*keep\\s+last`));
    expect(dry.stdout).toMatch(new RegExp(`${sets[3]}.*would remove\\s+expired`));
    expect(dry.stdout).toMatch(new RegExp(`${old}.*incomplete\\s+would remove\\s+incomplete`));
    expect(dry.stdout).toMatch(new RegExp(`${young}.*keep\\s+incomplete-within-grace`));
    expect(await keys()).toEqual(before);

    const real = await sdbackup(["prune", "--app", "shop", "--target", root, "--keep-last", "2", "--json"], { cwd: dir });
    expect(real.code, real.stderr).toBe(0);
    const doc = JSON.parse(real.stdout) as { sets: { set: string; action: string; reasons: string[] }[] };
    expect(doc).toMatchObject({ project: "shop", target: root, dryRun: false, policy: { last: 2 }, removed: 3 });
    expect(doc.sets.filter((s) => s.action === "remove").map((s) => s.set).sort()).toEqual([sets[2], sets[3], old].sort());
    const left = [...new Set((await keys()).map((k) => k.split("/")[1]))].sort();
    expect(left).toEqual([sets[0], sets[1], young].sort());
  });

  it("CLI: no policy removes nothing and says so; bad flags exit 2", async () => {
    await makeSet("shop", "20200101T000000Z-a001", [{ service: "db", strategy: "postgres", ext: "pgdump", body: pgDump() }]);
    const root = path.join(dir, "backups");
    const none = await sdbackup(["prune", "--target", root], { cwd: dir });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/no retention policy.*nothing removed/);
    expect(await keys()).toHaveLength(2);
    const badFlag = await sdbackup(["prune", "--target", root, "--keep-daily", "lots"], { cwd: dir });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--keep-daily/);
  });
});
