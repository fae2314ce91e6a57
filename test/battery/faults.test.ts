import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { readdir, utimes } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { postgresFixture } from "../helpers/postgres.ts";
import { sdbackup } from "../helpers/cli.ts";

// Issue 11: faults while a dump runs. A lock held by another session blocks pg_dump before its
// first byte, which is what a paused or wedged database looks like from outside (case 8); a run
// killed with SIGKILL mid-dump leaves a tmp file that prune must really remove (case 10).

const run = promisify(execFile);
const pg = postgresFixture("sdbflt", { compose: join(import.meta.dirname, "compose-db.yaml"), db: "app" });
const { stack, psql } = pg;
/** Holds an exclusive lock on t for `seconds` in a session of its own (detached exec). */
const holdLock = async (seconds: number) => {
  const id = await stack.containerId("db");
  const held = async () => (await psql("select count(*) from pg_locks where mode = 'AccessExclusiveLock' and granted and relation = 't'::regclass")).trim();
  for (let i = 0; i < 200 && (await held()) !== "0"; i++) await new Promise((r) => setTimeout(r, 100));
  await run("docker", ["exec", "-d", id, "psql", "-U", "app", "-d", "app", "-c", `begin; lock table t in access exclusive mode; select pg_sleep(${seconds}); commit;`]);
  for (let i = 0; i < 50; i++) {
    if ((await held()) === "1") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the lock was not taken");
};
const processes = async () => (await run("docker", ["top", await stack.containerId("db")])).stdout;
const files = async (dir: string): Promise<string[]> => {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await files(join(dir, e.name))).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out;
};
const running = async () => (await run("docker", ["inspect", "-f", "{{.State.Running}}", await stack.containerId("db")])).stdout.trim();

beforeAll(async () => {
  await pg.setup();
  await psql("create table t as select g from generate_series(1, 1000) g");
}, 180_000);

afterAll(() => pg.teardown(), 120_000);

describe("faults mid-dump", () => {
  it("case 8: a dump that sends nothing fails after --stall-timeout, says so, and ends the dump in the container", async () => {
    await holdLock(8);
    const t0 = Date.now();
    const r = await sdbackup(["backup", "--app", stack.project, "--target", pg.target, "--stall-timeout", "3s", "--json"], { cwd: pg.cwd });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no data from db\/app for 3s: the dump stalled/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "failed" });
    for (let i = 0; i < 30 && /pg_dump/.test(await processes()); i++) await new Promise((res) => setTimeout(res, 200));
    expect(await processes()).not.toMatch(/pg_dump/);
    expect((await files(pg.target)).filter((f) => /manifest\.json|\.tmp-/.test(f))).toEqual([]);
    expect(await running()).toBe("true");
  }, 120_000);

  it("case 10: the tmp file of a run killed mid-dump is shown as an incomplete set and really removed by prune", async () => {
    await holdLock(40);
    const child = spawn(process.execPath, [join(import.meta.dirname, "../../src/main.ts"), "backup", "--app", stack.project, "--target", pg.target], { cwd: pg.cwd, stdio: "ignore" });
    let tmp: string | undefined;
    for (let i = 0; i < 100 && !tmp; i++) {
      tmp = (await files(pg.target)).find((f) => /\.tmp-[0-9a-f]{16}$/.test(f));
      if (!tmp) await new Promise((res) => setTimeout(res, 100));
    }
    child.kill("SIGKILL");
    await new Promise((res) => child.once("close", res));
    expect(tmp).toBeDefined();
    // the killed run's file has not been written for over an hour
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(join(pg.target, tmp!), old, old);
    const list = await sdbackup(["list", "--app", stack.project, "--target", pg.target, "--json"], { cwd: pg.cwd });
    expect(list.stdout).toContain(tmp!.split("/")[1]!);
    const prune = await sdbackup(["prune", "--app", stack.project, "--target", pg.target, "--keep-last", "5", "--grace", "1s", "--json"], { cwd: pg.cwd });
    expect(prune.code, prune.stderr).toBe(0);
    // the killed run's set (and any set the stalled run of case 8 left unfinished)
    expect(JSON.parse(prune.stdout), prune.stdout + prune.stderr).toMatchObject({ failed: 0 });
    expect(prune.stderr).toContain(`removed ${stack.project}/${tmp!.split("/")[1]!} (incomplete`);
    expect(await files(pg.target)).toEqual([]);
    expect(await running()).toBe("true");
  }, 120_000);
});
