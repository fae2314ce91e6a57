// Postgres restores read their database artifact once (core/restore/single-read.ts): a bad
// artifact found while it streams is rolled back, so live data stays as it was.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeStack, waitForPostgres } from "../helpers/compose.ts";
import { sdbackup } from "../helpers/cli.ts";
import { forgeItem } from "../battery/forge.ts";

const stack = composeStack(join(import.meta.dirname, "../strategies/postgres/compose.yaml"), "sdbpgrs");
const psql = (sql: string) => stack.exec("db", ["psql", "-U", "app", "-d", "appdb", "-v", "ON_ERROR_STOP=1", "-tAc", sql]);
/** The live data in one line: tables, rows and a digest of t. */
const snapshot = async () => (await psql("select (select string_agg(tablename, ',' order by tablename) from pg_tables where schemaname = 'public') || ' ' || count(*) || ' ' || md5(string_agg(g::text || s, ',' order by g)) from t")).trim();
let target: string;
let cwd: string;
let set: string;
let backedUp: string;

interface Item { service: string; key: string; sha256: string; bytes: number; compression: string; part?: { name: string } }
const manifestFile = () => join(target, stack.project, set, "manifest.json");
const dbItem = async (): Promise<Item> => (JSON.parse(await readFile(manifestFile(), "utf8")) as { items: Item[] }).items.find((i) => i.part?.name === "appdb")!;
const cli = (args: string[]) => sdbackup([...args, "--app", stack.project, "--target", target], { cwd });

beforeAll(async () => {
  target = await mkdtemp(join(tmpdir(), "sdb-pgrs-target-"));
  cwd = await mkdtemp(join(tmpdir(), "sdb-pgrs-cwd-"));
  await stack.up();
  await waitForPostgres(stack, "db", "app", "appdb");
  await psql("create table t as select g, md5(g::text) as s from generate_series(1, 20000) g");
  backedUp = await snapshot();
  const r = await cli(["backup", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  set = (JSON.parse(r.stdout) as { set: string }).set;
}, 180_000);

afterAll(async () => {
  await stack.down();
  await rm(target, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
}, 120_000);

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
    const whole = zlib.zstdDecompressSync(await readFile(join(target, item.key)));
    const original = { sha256: item.sha256, bytes: item.bytes, data: await readFile(join(target, item.key)) };
    try {
      await forgeItem(target, stack.project, set, "db", whole.subarray(0, Math.floor(whole.length * 0.9)), { part: "appdb" });
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

  it("a complete, valid dump whose sha256 does not match is never committed: exit 1, live data unchanged", async () => {
    // pg_restore could apply every byte here; only the checksum at the very end says no.
    const item = await dbItem();
    const original = { sha256: item.sha256, bytes: item.bytes, data: await readFile(join(target, item.key)) };
    try {
      await rewrite((i) => (i.sha256 = createHash("sha256").update("not the artifact").digest("hex")));
      await psql("update t set s = 'changed again' where g <= 10");
      const changed = await snapshot();
      const r = await cli(["restore", "--set", set, "--yes"]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/sha256/);
      expect(await snapshot()).toBe(changed);
    } finally {
      await restoreItem(original);
    }
  }, 180_000);
});

async function rewrite(change: (item: Item) => void): Promise<void> {
  const manifest = JSON.parse(await readFile(manifestFile(), "utf8")) as { items: Item[] };
  change(manifest.items.find((i) => i.part?.name === "appdb")!);
  await writeFile(manifestFile(), JSON.stringify(manifest, null, 2));
}

async function restoreItem(original: { sha256: string; bytes: number; data: Buffer }): Promise<void> {
  const item = await dbItem();
  await writeFile(join(target, item.key), original.data);
  await rewrite((i) => Object.assign(i, { sha256: original.sha256, bytes: original.bytes }));
}
