import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack, waitForPostgres, type Stack } from "../../helpers/compose.ts";
import { sdbackup } from "../../helpers/cli.ts";

// issue 12 end to end: data in bind mounts, a shared volume backed up once, an inactive profile,
// and a postgres with two databases and an extra role restored onto a fresh server.

let dir: string;
let target: string;
let stack: Stack;
const psql = (db: string, sql: string) => stack.exec("db", ["psql", "-U", "app", "-d", db, "-v", "ON_ERROR_STOP=1", "-tAc", sql]);

beforeAll(async () => {
  // not under /tmp: a bind mount from a system path (/tmp, /etc, …) is not data by the rules
  dir = await mkdtemp("/var/tmp/sdb-cov-");
  target = await mkdtemp(join(tmpdir(), "sdb-cov-target-"));
  await cp(join(import.meta.dirname, "compose.yaml"), join(dir, "compose.yaml"));
  await mkdir(join(dir, "uploads"));
  await writeFile(join(dir, "uploads", "photo.jpg"), "original photo");
  stack = composeStack(join(dir, "compose.yaml"), "sdbcov");
  await stack.up();
  await stack.exec("app", ["sh", "-c", "echo shared-v1 > /srv/shared/s.txt && echo junk > /srv/cache/c"]);
  await waitForPostgres(stack, "db", "app", "appdb");
  await psql("appdb", "create role reporter login password 'rep-Pw-2'");
  await psql("appdb", "create database analytics owner reporter");
  await psql("appdb", "create table orders (id int primary key); insert into orders select generate_series(1, 50)");
  await psql("analytics", "set role reporter; create table visits (n int); insert into visits values (7), (8)");
}, 180_000);

afterAll(async () => {
  await stack?.down();
  await rm(dir, { recursive: true, force: true });
  await rm(target, { recursive: true, force: true });
}, 120_000);

describe("coverage of a real stack", () => {
  it("backs up the bind-mounted directory and the shared volume once, every database and the roles; skips the inactive profile; exits 0", async () => {
    const r = await sdbackup(["backup", "--json", "--app", stack.project, "--target", target], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; manifest: string; warnings?: string[] };
    expect(result.status).toBe("ok");
    expect(result.warnings).toEqual(['the "SDB_TEST_UNSET_SUFFIX" variable is not set, defaulting to a blank string']);
    expect(r.stderr).toMatch(/SDB_TEST_UNSET_SUFFIX/);
    expect(r.stderr).toMatch(/debug: skipped, profile debug is not active/);
    const manifest = JSON.parse(await readFile(join(target, result.manifest), "utf8")) as { items: { service: string; paths: string[]; part?: { name: string } }[] };
    const items = manifest.items.map((i) => `${i.service}${i.part ? `/${i.part.name}` : ""}`).sort();
    expect(items).toEqual(["app", "db/analytics", "db/appdb", "db/globals", "db/postgres"]);
    expect(manifest.items.find((i) => i.service === "app")!.paths).toEqual(["/srv/uploads", "/srv/shared"]);
  }, 120_000);

  it("restores files and volumes, and both databases and the role onto a fresh server", async () => {
    await writeFile(join(dir, "uploads", "photo.jpg"), "overwritten");
    await stack.down(); // removes the volumes: a fresh server
    await stack.up();
    await waitForPostgres(stack, "db", "app", "appdb");
    expect(await psql("appdb", "select count(*) from pg_roles where rolname = 'reporter'")).toBe("0\n");
    const r = await sdbackup(["restore", "--yes", "--app", stack.project, "--target", target], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await stack.exec("app", ["cat", "/srv/uploads/photo.jpg"])).toBe("original photo");
    expect(await stack.exec("reader", ["cat", "/srv/shared/s.txt"])).toBe("shared-v1\n");
    expect(await psql("appdb", "select count(*) from orders")).toBe("50\n");
    expect(await psql("analytics", "select string_agg(n::text, ',' order by n) from visits")).toBe("7,8\n");
    expect(await psql("appdb", "select pg_get_userbyid(datdba) from pg_database where datname = 'analytics'")).toBe("reporter\n");
    // the role came back with its password
    const login = await stack.exec("db", ["sh", "-c", "PGPASSWORD=rep-Pw-2 psql -h 127.0.0.1 -U reporter -d analytics -tAc 'select count(*) from visits'"]);
    expect(login).toBe("2\n");
  }, 180_000);

  it("--database restores one database", async () => {
    await psql("analytics", "set role reporter; delete from visits");
    await psql("appdb", "delete from orders");
    const r = await sdbackup(["restore", "--yes", "--database", "analytics", "--app", stack.project, "--target", target], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await psql("analytics", "select count(*) from visits")).toBe("2\n");
    expect(await psql("appdb", "select count(*) from orders")).toBe("0\n");
  }, 120_000);
});
