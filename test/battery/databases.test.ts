import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { composeStack, waitForPostgres } from "../helpers/compose.ts";
import { sdbackup, type CliRun } from "../helpers/cli.ts";
import { forgeItem } from "./forge.ts";

// Issue 11: a valid dump of a *different* database than the one the set names (sha256 and size
// rewritten to match) is refused before anything is touched, by restore and by verify.

const run = promisify(execFile);
const stack = composeStack(join(import.meta.dirname, "compose-dbs.yaml"), "sdbdbs");
let target: string;
let cwd: string;

const cli = (args: string[]) => sdbackup([...args, "--app", stack.project, "--target", target], { cwd });
const psql = (db: string, sql: string) => stack.exec("db", ["psql", "-U", "app", "-d", db, "-v", "ON_ERROR_STOP=1", "-tAc", sql]);
const maria = (sql: string) => stack.exec("maria", ["mariadb", "-uroot", "-pbattery-root", "-N", "-B", "-e", sql]);
const backup = async (service: string): Promise<{ set: string; items: { key: string; part?: string }[] }> => {
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
    const { set, items } = await backup("db");
    // the other database's artifact from the same set: a real pg_dump, only of the wrong database
    const other = items.find((i) => i.part === "other")!;
    const dump = zlib.zstdDecompressSync(await readFile(join(target, other.key)));
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

it("leaves no temporary file in the target", async () => {
  const walk = async (dir: string): Promise<string[]> =>
    (await Promise.all((await readdir(dir, { withFileTypes: true })).map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [e.name])))).flat();
  expect((await walk(target)).filter((n) => /\.tmp-/.test(n))).toEqual([]);
});
