import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, readdir, rm, writeFile, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack, waitForPostgres } from "../../helpers/compose.ts";
import { sdbackup } from "../../helpers/cli.ts";

/**
 * A drill must not prove what would not restore: a set whose manifest says a table held rows that
 * the dump does not bring back (the "lost rows" case), and a corrupted artifact, are exit 1 with the
 * reason named; a good set is exit 0. One postgres set is copied and altered for each case.
 */
describe("e2e: verify --restore-test fails on lost rows and on a corrupted artifact", () => {
  const stack = composeStack(join(import.meta.dirname, "../../strategies/postgres/compose.yaml"), "sdbdrill");
  let target: string;
  let cwd: string;
  let set: string;
  const cli = (args: string[]) => sdbackup([...args, "--app", stack.project, "--target", target, "--json"], { cwd });
  const manifestPath = () => join(target, stack.project, set, "manifest.json");

  beforeAll(async () => {
    target = await mkdtemp(join(tmpdir(), "sdb-drill-target-"));
    cwd = await mkdtemp(join(tmpdir(), "sdb-drill-cwd-"));
    await stack.up();
    await waitForPostgres(stack, "db", "app", "appdb");
    await stack.exec("db", ["psql", "-U", "app", "-d", "appdb", "-v", "ON_ERROR_STOP=1", "-c", "create table t (id int primary key); insert into t select generate_series(1, 500)"]);
    const backup = await cli(["backup"]);
    expect(backup.code, backup.stderr).toBe(0);
    set = (JSON.parse(backup.stdout) as { set: string }).set;
  }, 240_000);

  afterAll(async () => {
    await stack.down();
    await rm(target, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  }, 120_000);

  it("a good set is proven, with the recorded counts matched", async () => {
    const r = await cli(["verify", "--restore-test", "--set", set]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { status: string; items: { part?: string; comparison: string }[] };
    expect(doc.status).toBe("proven");
    expect(doc.items.find((i) => i.part === "appdb")?.comparison).toBe("match");
  }, 300_000);

  it("rows the backup recorded that the dump does not bring back: exit 1 naming the table", async () => {
    const original = await readFile(manifestPath(), "utf8");
    try {
      const m = JSON.parse(original) as { items: { part?: { name: string }; inventory?: { counts: Record<string, number> } }[] };
      const appdb = m.items.find((i) => i.part?.name === "appdb")!;
      expect(appdb.inventory?.counts["public.t"]).toBe(500);
      appdb.inventory!.counts["public.lost"] = 42; // a table that held rows at backup time and is not in the dump
      await writeFile(manifestPath(), JSON.stringify(m));
      const r = await cli(["verify", "--restore-test", "--set", set]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("public.lost: 42 at backup, missing after restore");
      expect((JSON.parse(r.stdout) as { status: string }).status).toBe("not-proven");
    } finally {
      await writeFile(manifestPath(), original);
    }
  }, 300_000);

  it("a corrupted artifact: exit 1 naming the checksum", async () => {
    const dir = join(target, stack.project, set);
    const file = join(dir, (await readdir(dir)).find((f) => f.includes("appdb"))!);
    const before = await readFile(file);
    try {
      const fh = await open(file, "r+");
      await fh.write(Buffer.from([before[before.length >> 1]! ^ 0xff]), 0, 1, before.length >> 1);
      await fh.close();
      const r = await cli(["verify", "--restore-test", "--set", set]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/db\/appdb: artifact: sha256 \w+ does not match the manifest's \w+ \(corrupted\)/);
    } finally {
      await writeFile(file, before);
    }
  }, 300_000);
});
