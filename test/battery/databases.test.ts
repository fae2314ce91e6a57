import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { composeStack, waitForPostgres } from "../helpers/compose.ts";
import { sdbackup, type CliRun } from "../helpers/cli.ts";
import { forgeItem } from "./forge.ts";

// Issue 11: a valid dump of a *different* database than the one the set names (sha256 and size
// rewritten to match) is refused before anything is touched, by restore and by verify; and a run
// whose database is paused mid-dump ends at --timeout as a failure (case 8 without a stall limit).

const run = promisify(execFile);
const stack = composeStack(join(import.meta.dirname, "compose-dbs.yaml"), "sdbdbs");
let target: string;
let cwd: string;

const cli = (args: string[]) => sdbackup([...args, "--app", stack.project, "--target", target], { cwd });
const psql = (db: string, sql: string) => stack.exec("db", ["psql", "-U", "app", "-d", db, "-v", "ON_ERROR_STOP=1", "-tAc", sql]);
const maria = (sql: string) => stack.exec("maria", ["mariadb", "-uroot", "-pbattery-root", "-N", "-B", "-e", sql]);
const backup = async (service: string): Promise<{ set: string }> => {
  const r = await cli(["backup", "--service", service, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};
const states = async () => (await run("docker", ["ps", "-a", "--filter", `label=com.docker.compose.project=${stack.project}`, "--format", "{{.State}}"])).stdout.trim().split("\n");
/** One line naming both databases, no stack trace. */
const refused = (r: CliRun, found: string, named: string) => {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toContain(`the artifact is a dump of database "${found}", but the set names database "${named}"`);
  expect(r.stderr).not.toMatch(/^\s+at /m);
};

beforeAll(async () => {
  target = await mkdtemp(join(tmpdir(), "sdb-dbs-target-"));
  cwd = await mkdtemp(join(tmpdir(), "sdb-dbs-cwd-"));
  await stack.up();
  await waitForPostgres(stack, "db", "app", "app");
  await psql("app", "create table t (v text); insert into t values ('app')");
  await psql("app", "create database other");
  await psql("other", "create table t (v text); insert into t values ('other')");
  for (let i = 0; i < 120; i++) {
    if (await maria("select 1").then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await maria("create table app.t (v text); insert into app.t values ('app'); create database other; create table other.t (v text); insert into other.t values ('other')");
}, 180_000);

afterAll(async () => {
  await stack.down();
  await rm(target, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
}, 120_000);

describe("a valid dump of another database (sha256 and size valid)", () => {
  it("postgres: the set's app database holding the other database's real dump is refused by verify and restore; nothing changes", async () => {
    const { set } = await backup("db");
    // a real pg_dump of the other database, made the way the strategy makes its dumps
    const id = await stack.containerId("db");
    const { stdout: dump } = await run("docker", ["exec", id, "pg_dump", "-U", "app", "--format=custom", "--compress=0", "--dbname", "other"], { encoding: "buffer", maxBuffer: 64 << 20 });
    await forgeItem(target, stack.project, set, "db", dump, { part: "app" });
    await psql("app", "insert into t values ('after the backup')");

    refused(await cli(["verify", "--set", set]), "other", "app");
    const r = await cli(["restore", "--set", set, "--service", "db", "--yes"]);
    refused(r, "other", "app");
    expect((await psql("app", "select string_agg(v, ',' order by v) from t")).trim()).toBe("after the backup,app");
    expect((await psql("other", "select string_agg(v, ',' order by v) from t")).trim()).toBe("other");
    expect(await states()).toEqual(["running", "running"]);
  }, 120_000);

  it("mariadb: a real dump of another database in the set of database app is refused by verify and restore; nothing changes", async () => {
    const { set } = await backup("maria");
    const manifest = JSON.parse(await readFile(join(target, stack.project, set, "manifest.json"), "utf8"));
    expect(manifest.items[0].databases).toEqual(["app"]);
    const dump = await stack.exec("maria", ["mariadb-dump", "-uroot", "-pbattery-root", "--single-transaction", "--add-drop-database", "--databases", "other"]);
    await forgeItem(target, stack.project, set, "maria", Buffer.from(dump));
    await maria("insert into app.t values ('after the backup')");

    refused(await cli(["verify", "--set", set]), "other", "app");
    const r = await cli(["restore", "--set", set, "--service", "maria", "--yes"]);
    refused(r, "other", "app");
    expect((await maria("select group_concat(v order by v) from app.t")).trim()).toBe("after the backup,app");
    expect((await maria("select group_concat(v order by v) from other.t")).trim()).toBe("other");
    expect(await states()).toEqual(["running", "running"]);
  }, 120_000);
});

describe("--timeout", () => {
  /** Holds an exclusive lock on app's table t for `seconds` from a detached session: the dump of app waits on it. */
  const holdLock = async (seconds: number) => {
    await run("docker", ["exec", "-d", await stack.containerId("db"), "psql", "-U", "app", "-d", "app", "-c", `begin; lock table t in access exclusive mode; select pg_sleep(${seconds}); commit;`]);
    for (let i = 0; i < 50; i++) {
      if ((await psql("app", "select count(*) from pg_locks where mode = 'AccessExclusiveLock' and granted and relation = 't'::regclass")).trim() === "1") return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the lock was not taken");
  };
  /**
   * Pauses the container once app's dump waits on the lock (a backend of it waits on a Lock), so that
   * no exec is being started then: a pause racing an exec's start fails ("unable to freeze") or can
   * wedge the engine's cgroup v1 freezer. A failed freeze leaves the container running: try again.
   */
  const pauseWhenWaiting = async (id: string) => {
    const waiting = async () => (await psql("app", "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()")).trim() !== "0";
    for (let i = 0; i < 100 && !(await waiting()); i++) await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; ; i++) {
      await new Promise((r) => setTimeout(r, 300));
      try {
        return await run("docker", ["pause", id], { timeout: 30_000 });
      } catch (err) {
        if (i >= 10 || !/unable to freeze/.test(String(err))) throw err;
      }
    }
  };
  /** Runs the CLI and calls `onStderr` with its stderr as it grows. */
  const watched = (args: string[], onStderr: (text: string) => void) =>
    new Promise<CliRun>((resolve, reject) => {
      const child = spawn(process.execPath, [join(import.meta.dirname, "../../src/main.ts"), ...args, "--app", stack.project, "--target", target], { cwd, env: { ...process.env, NO_COLOR: "1" } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => onStderr((stderr += d.toString())));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });

  it("a backup whose database is paused mid-dump gives up at --timeout: exit 1 (not 130), one line, nothing committed", async () => {
    const id = await stack.containerId("db");
    const sets = async () => (await readdir(join(target, stack.project), { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    const before = await sets();
    await holdLock(60);
    let paused: Promise<unknown> | undefined;
    const t0 = Date.now();
    try {
      const r = await watched(["backup", "--service", "db", "--stall-timeout", "10m", "--timeout", "10s", "--json"], (text) => {
        if (!paused && text.includes("db/globals: ok") && text.includes("db/app: postgres backup started")) paused = pauseWhenWaiting(id);
      });
      const took = Date.now() - t0;
      await paused;
      expect(paused, r.stderr).toBeDefined();
      expect(r.code, r.stderr).toBe(1);
      expect(took, r.stderr).toBeLessThan(30_000);
      expect(r.stderr).toMatch(/gave up after 10s \(--timeout\)/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: "E_TIMEOUT", exitCode: 1 } });
      // nothing committed: no new set has a manifest, and no temporary file is left
      for (const set of (await sets()).filter((s) => !before.includes(s))) {
        expect(await readdir(join(target, stack.project, set))).not.toContain("manifest.json");
      }
    } finally {
      await run("docker", ["unpause", id], { timeout: 30_000 }).catch(() => {});
    }
    expect(await states()).toEqual(["running", "running"]);
  }, 120_000);
});

it("leaves no temporary file in the target", async () => {
  const walk = async (dir: string): Promise<string[]> =>
    (await Promise.all((await readdir(dir, { withFileTypes: true })).map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [e.name])))).flat();
  expect((await walk(target)).filter((n) => /\.tmp-/.test(n))).toEqual([]);
});
