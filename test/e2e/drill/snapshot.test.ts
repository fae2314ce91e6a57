import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { sdbackup } from "../../helpers/cli.ts";
import { postgresFixture } from "../../helpers/postgres.ts";

const run = promisify(execFile);

/**
 * Issue 10: the postgres inventory is taken in the dump's own snapshot. With rows inserted all
 * through the backup, the recorded counts are exactly the rows in the dump (read back from the
 * artifact with pg_restore) and marked exact, so a drill must match them exactly, over both
 * transports. No session of the backup stays on the server afterwards, nor after an interrupt
 * while the snapshot is held.
 */
describe("e2e: postgres inventory in the dump's own snapshot", () => {
  const pg = postgresFixture("sdbsnap");
  const { stack, psql: sql } = pg;
  let id: string;
  const cli = (args: string[]) => sdbackup([...args, "--app", stack.project, "--target", pg.target, "--json"], { cwd: pg.cwd });
  /** Client sessions other than this query's and the test's own (writer, locker). */
  const others = () => sql("select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid() and application_name not in ('writer', 'locker')");
  const noSessionsLeft = async () => {
    let n = "";
    for (let i = 0; i < 50 && (n = (await others()).trim()) !== "0"; i++) await new Promise((r) => setTimeout(r, 100));
    expect(n, await sql("select application_name, state, wait_event_type, query from pg_stat_activity")).toBe("0");
  };
  /** A psql in the db container fed `input`, stdin left open until the returned child is killed. */
  const session = (app: string, input: string): ChildProcess => {
    const child = spawn("docker", ["exec", "-i", "-e", `PGAPPNAME=${app}`, id, "psql", "-X", "-q", "-U", "app", "-d", "appdb", "-v", "ON_ERROR_STOP=1"], { stdio: ["pipe", "ignore", "ignore"] });
    child.stdin!.write(input);
    return child;
  };
  const stop = async (child: ChildProcess, app: string) => {
    child.kill("SIGKILL");
    await sql(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${app}'`);
  };
  /** Rows of public.t in a stored appdb artifact, as pg_restore reads them. */
  const rowsInDump = async (set: string): Promise<number> => {
    const dir = join(pg.target, stack.project, set);
    const file = join(dir, (await readdir(dir)).find((f) => f.includes("appdb"))!);
    const { stdout } = await run("sh", ["-c", `zstd -dc "$1" | docker exec -i "$2" pg_restore --data-only --table=t -f -`, "sh", file, id], { maxBuffer: 256 << 20 });
    const lines = stdout.split("\n");
    const start = lines.findIndex((l) => l.startsWith("COPY public.t "));
    return lines.indexOf("\\.", start) - start - 1;
  };

  beforeAll(async () => {
    await pg.setup();
    id = await stack.containerId("db");
    await sql("create table t (id bigserial primary key, v text); insert into t (v) select 'seed ' || g from generate_series(1, 50000) g; create table quiet (id int); insert into quiet select generate_series(1, 7)");
  }, 240_000);

  afterAll(() => pg.teardown(), 120_000);

  for (const transport of ["fast", "exec"]) {
    it(`rows inserted throughout a backup (${transport} transport): counts equal the dump's rows, exact, and the drill matches them`, async () => {
      const writer = session("writer", "DO $$ BEGIN LOOP INSERT INTO t (v) SELECT 'w' FROM generate_series(1, 20); COMMIT; PERFORM pg_sleep(0.002); END LOOP; END $$;\n");
      let set: string;
      try {
        await new Promise((r) => setTimeout(r, 500));
        const backup = await cli(["backup", "--transport", transport, "-v"]);
        expect(backup.code, backup.stderr).toBe(0);
        expect(backup.stderr).toContain(`(${transport} transport)`);
        set = (JSON.parse(backup.stdout) as { set: string }).set;
        await noSessionsLeft();
      } finally {
        await stop(writer, "writer");
      }
      const manifest = JSON.parse(await readFile(join(pg.target, stack.project, set, "manifest.json"), "utf8")) as { items: { part?: { name: string }; inventory?: { counts: Record<string, number>; exact?: boolean } }[] };
      const inventory = manifest.items.find((i) => i.part?.name === "appdb")!.inventory!;
      expect(inventory.exact).toBe(true);
      const recorded = inventory.counts["public.t"]!;
      expect(recorded).toBeGreaterThan(50000); // the writer was running
      expect(Number(await sql("select count(*) from t"))).toBeGreaterThan(recorded); // and went on writing
      expect(await rowsInDump(set)).toBe(recorded);
      expect(inventory.counts["public.quiet"]).toBe(7);

      const drill = await cli(["verify", "--restore-test", "--set", set]);
      expect(drill.code, drill.stderr).toBe(0);
      const doc = JSON.parse(drill.stdout) as { items: { part?: string; comparison: string; differences: string[] }[] };
      expect(doc.items.find((i) => i.part === "appdb")).toMatchObject({ comparison: "match", differences: [] });
    }, 400_000);
  }

  it("SIGINT while the snapshot is held and the counts wait on a lock: exit 130, no session of the backup left", async () => {
    const locker = session("locker", "BEGIN; LOCK TABLE quiet IN ACCESS EXCLUSIVE MODE;\n");
    try {
      let pid = 0;
      const running = sdbackup(["backup", "--app", stack.project, "--target", pg.target, "--service", "db"], { cwd: pg.cwd, onSpawn: (p) => (pid = p) });
      const waiting = async () => (await sql("select count(*) from pg_stat_activity where wait_event_type = 'Lock'")).trim() !== "0";
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !(await waiting())) await new Promise((r) => setTimeout(r, 100));
      expect(await waiting()).toBe(true);
      // the snapshot's holder is open in a transaction beside the blocked counts
      const holders = await sql("select application_name, datname, state, wait_event_type from pg_stat_activity where state = 'idle in transaction' and application_name <> 'locker'");
      expect(holders, holders).toMatch(/^sdbackup-\w+\|appdb\|idle in transaction\|/m);
      const sent = Date.now();
      process.kill(pid, "SIGINT");
      const r = await running;
      expect(r.code, r.stderr).toBe(130);
      expect(Date.now() - sent).toBeLessThan(20_000);
      // checked while the lock is still held: a blocked backend whose client died would still be here
      await noSessionsLeft();
    } finally {
      await stop(locker, "locker");
    }
  }, 180_000);
});
