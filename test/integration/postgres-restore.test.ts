// Postgres restores read their database artifact once (core/restore/single-read.ts): a bad
// artifact found while it streams is rolled back, so live data stays as it was. And they go over
// the fast transport in reverse (docker/fast-load.ts): a helper container fed through a FIFO.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresFixture } from "../helpers/postgres.ts";
import { sdbackup } from "../helpers/cli.ts";
import { forgeItem } from "../battery/forge.ts";
import { docker } from "../helpers/docker.ts";

const pg = postgresFixture("sdbpgrs");
const { stack, psql } = pg;
/** The live data in one line: tables, rows and a digest of t. */
const snapshot = async () => (await psql("select (select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public') || ' ' || count(*) || ' ' || md5(string_agg(g::text || s, ',' order by g)) from t")).trim();
let set: string;
let backedUp: string;

interface Item { service: string; key: string; sha256: string; bytes: number; compression: string; part?: { name: string } }
const manifestFile = () => join(pg.target, stack.project, set, "manifest.json");
const dbItem = async (): Promise<Item> => (JSON.parse(await readFile(manifestFile(), "utf8")) as { items: Item[] }).items.find((i) => i.part?.name === "appdb")!;
const cli = (args: string[]) => sdbackup([...args, "--app", stack.project, "--target", pg.target], { cwd: pg.cwd });

beforeAll(async () => {
  await pg.setup();
  await psql("create table t as select g, md5(g::text) as s from generate_series(1, 20000) g");
  backedUp = await snapshot();
  const r = await cli(["backup", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  set = (JSON.parse(r.stdout) as { set: string }).set;
}, 180_000);

afterAll(() => pg.teardown(), 120_000);

describe("postgres restore in one read", () => {
  it("reads the database artifact once (-v says so) and restores it", async () => {
    await psql("delete from t where g > 100");
    const r = await cli(["restore", "--set", set, "--yes", "-v"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/appdb\.pgdump\.zst is checked while it is restored \(read once/);
    expect(await snapshot()).toBe(backedUp);
  }, 180_000);

  it("an artifact cut at 90 % (sha256 and size forged valid) exits 1 with a clear message and leaves live data unchanged", async () => {
    const item = await dbItem();
    const whole = zlib.zstdDecompressSync(await readFile(join(pg.target, item.key)));
    const original = { sha256: item.sha256, bytes: item.bytes, data: await readFile(join(pg.target, item.key)) };
    try {
      await forgeItem(pg.target, stack.project, set, "db", whole.subarray(0, Math.floor(whole.length * 0.9)), { part: "appdb" });
      await psql("update t set s = 'changed' where g <= 10");
      const changed = await snapshot();
      const r = await cli(["restore", "--set", set, "--yes"]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/db: .*pg_restore exited 1/);
      expect(r.stderr).toMatch(/end of file/);
      expect(r.stderr).toContain("db/appdb was restored in one transaction, rolled back: its data is as it was");
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(await snapshot()).toBe(changed);
    } finally {
      await restoreItem(original);
    }
  }, 180_000);

  it("a complete, valid dump whose sha256 does not match is never committed (fast transport): exit 1, live data unchanged", async () => {
    // pg_restore could apply every byte here; only the checksum at the very end says no.
    const item = await dbItem();
    const original = { sha256: item.sha256, bytes: item.bytes, data: await readFile(join(pg.target, item.key)) };
    try {
      await rewrite((i) => (i.sha256 = createHash("sha256").update("not the artifact").digest("hex")));
      await psql("update t set s = 'changed again' where g <= 10");
      const changed = await snapshot();
      // over fast: the helper must be killed before its FIFO's write end closes (docker/fast-load.ts)
      const r = await cli(["restore", "--set", set, "--yes", "--transport", "fast"]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/sha256/);
      expect(await snapshot()).toBe(changed);
    } finally {
      await restoreItem(original);
    }
  }, 180_000);
});

describe("postgres restore over the fast transport", () => {
  const helpersOf = async (pid: number) => docker.listContainers({ all: true, filters: { label: [`sdbackup.transport.owner=${hostname()}/${pid}`] } });

  it("round trip: --transport fast restores the database through a helper; --json and -v name the transport", async () => {
    await psql("update t set s = 'fast' where g <= 500");
    const r = await cli(["restore", "--set", set, "--yes", "--transport", "fast", "--json", "-v"]);
    expect(r.code, r.stderr).toBe(0);
    const items = (JSON.parse(r.stdout) as { items: { key: string; transport?: string }[] }).items;
    expect(items.filter((i) => i.key.endsWith(".pgdump.zst")).map((i) => i.transport)).toEqual(["fast", "fast"]);
    expect(r.stderr).toMatch(/db: restored \(fast transport\)/);
    expect(await snapshot()).toBe(backedUp);
    const exec = await cli(["restore", "--set", set, "--yes", "--transport", "exec", "--json"]);
    expect(exec.code, exec.stderr).toBe(0);
    expect((JSON.parse(exec.stdout) as { items: { key: string; transport?: string }[] }).items.filter((i) => i.key.endsWith(".pgdump.zst")).map((i) => i.transport)).toEqual(["exec", "exec"]);
  }, 180_000);

  it("SIGINT during a fast restore exits 130, removes the helper and its FIFO directory, and live data is unchanged", async () => {
    await psql("update t set s = 'before the interrupt' where g <= 10");
    const before = await snapshot();
    // pg_restore --clean waits for this lock to drop t, so the helper is still restoring when the interrupt comes.
    const id = await stack.containerId("db");
    await promisify(execFile)("docker", ["exec", "-d", id, "psql", "-U", "app", "-d", "appdb", "-c", "begin; lock table t in access share mode; select pg_sleep(60); commit;"]);
    let pid = 0;
    const result = sdbackup(["restore", "--set", set, "--yes", "--transport", "fast", "--app", stack.project, "--target", pg.target], { cwd: pg.cwd, onSpawn: (p) => (pid = p) });
    let dirs: string[] = [];
    for (let i = 0; i < 600 && dirs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (pid) dirs = (await helpersOf(pid)).filter((c) => c.State === "running" && c.Labels["sdbackup.transport"] !== "probe").map((c) => c.Labels["sdbackup.transport.dir"]!);
    }
    expect(dirs.length, "no running helper container appeared").toBeGreaterThan(0);
    expect(dirs.every((d) => existsSync(join(d, "in")))).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    process.kill(pid, "SIGINT");
    const r = await result;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await helpersOf(pid)).toEqual([]);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    await psql("select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep%' and pid <> pg_backend_pid()");
    expect(await snapshot()).toBe(before);
  }, 180_000);
});

async function rewrite(change: (item: Item) => void): Promise<void> {
  const manifest = JSON.parse(await readFile(manifestFile(), "utf8")) as { items: Item[] };
  change(manifest.items.find((i) => i.part?.name === "appdb")!);
  await writeFile(manifestFile(), JSON.stringify(manifest, null, 2));
}

async function restoreItem(original: { sha256: string; bytes: number; data: Buffer }): Promise<void> {
  const item = await dbItem();
  await writeFile(join(pg.target, item.key), original.data);
  await rewrite((i) => Object.assign(i, { sha256: original.sha256, bytes: original.bytes }));
}
