import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile, readdir, writeFile, open } from "node:fs/promises";
import { join } from "node:path";
import { sdbackup, type CliRun } from "../../helpers/cli.ts";
import { postgresFixture } from "../../helpers/postgres.ts";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { hostname } from "node:os";

const run = promisify(execFile);

/**
 * A drill must not prove what would not restore: a set whose manifest says a table held rows that
 * the dump does not bring back (the "lost rows" case), and a corrupted artifact, are exit 1 with the
 * reason named; a good set is exit 0. One postgres set is copied and altered for each case.
 */
describe("e2e: verify --restore-test fails on lost rows and on a corrupted artifact", () => {
  const pg = postgresFixture("sdbdrill");
  const stack = pg.stack;
  let set: string;
  const cli = (args: string[]) => sdbackup([...args, "--app", stack.project, "--target", pg.target, "--json"], { cwd: pg.cwd });
  const manifestPath = () => join(pg.target, stack.project, set, "manifest.json");

  beforeAll(async () => {
    await pg.setup();
    await pg.psql("create table t (id int primary key); insert into t select generate_series(1, 500)");
    // enough rows that pg_restore runs for a moment in the throwaway server (the SIGINT case)
    await pg.psql("create table big as select g, md5(g::text) as h from generate_series(1, 400000) g; create index on big (h)");
    const backup = await cli(["backup"]);
    expect(backup.code, backup.stderr).toBe(0);
    set = (JSON.parse(backup.stdout) as { set: string }).set;
  }, 240_000);

  afterAll(() => pg.teardown(), 120_000);

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

  it("one SIGINT while the throwaway server restores: exit 130 within seconds, no drill container or volume left", async () => {
    let pid = 0;
    const running = sdbackup(["verify", "--restore-test", "--set", set, "--app", stack.project, "--target", pg.target], { cwd: pg.cwd, onSpawn: (p) => (pid = p) });
    const labelled = async (label: string) => (await run("docker", ["ps", "-aq", "--filter", `label=${label}`])).stdout.split("\n").filter(Boolean);
    const drillContainers = () => labelled(`sdbackup.drill.project=${stack.project}`);
    // pg_restore runs in the throwaway server, or beside it in a transport helper (auto picks fast for large artifacts)
    const ours = async () => [...(await drillContainers()), ...(await labelled(`sdbackup.transport.owner=${hostname()}/${pid}`))];
    let restoring: string | undefined;
    let ended: CliRun | undefined;
    void running.then((r) => (ended = r));
    const deadline = Date.now() + 120_000;
    while (!restoring && !ended && Date.now() < deadline) {
      for (const id of await ours()) {
        const ps = await run("docker", ["top", id, "-o", "pid,args"]).then((r) => r.stdout, () => "");
        if (/^\s*\d+\s+\S*\bpg_restore /m.test(ps)) restoring = id;
      }
    }
    expect(restoring, `pg_restore never seen running for the drill; ${ended ? `the drill ended: ${ended.code} ${ended.stderr}` : ""}`).toBeDefined();
    const [throwaway] = await drillContainers();
    const volumes = JSON.parse((await run("docker", ["inspect", "--format", "{{json .Mounts}}", throwaway!])).stdout) as { Type: string; Name?: string }[];
    const anonymous = volumes.filter((m) => m.Type === "volume").map((m) => m.Name!);
    expect(anonymous.length).toBeGreaterThan(0);
    const sent = Date.now();
    process.kill(pid, "SIGINT");
    const r = await running;
    expect(r.code, r.stderr).toBe(130);
    expect(Date.now() - sent).toBeLessThan(20_000);
    expect(await ours()).toEqual([]);
    for (const name of anonymous) await expect(run("docker", ["volume", "inspect", name])).rejects.toThrow();
  }, 300_000);

  it("a corrupted artifact: exit 1 naming the checksum", async () => {
    const dir = join(pg.target, stack.project, set);
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
