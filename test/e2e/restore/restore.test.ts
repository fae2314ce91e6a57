import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { composeStack, waitForPostgres, type Stack } from "../../helpers/compose.ts";
import { sdbackup, type CliRun } from "../../helpers/cli.ts";

// Issue 10 end to end, one app started as projects A and B: links round-trip as links, a partial
// set exits 3 naming the missing service and the set holding it, a restore right after `up -d`
// waits for postgres, --from-app restores A's set into B, and docs/restore.md's recipes work as written.

const run = promisify(execFile);
const FILE = join(import.meta.dirname, "compose.yaml");
const a = composeStack(FILE, "sdbrsa");
const b = composeStack(FILE, "sdbrsb");
let target: string;
let workdir: string;

const psql = (s: Stack, sql: string) => s.exec("db", ["psql", "-U", "app", "-d", "appdb", "-v", "ON_ERROR_STOP=1", "-tAc", sql]);
const rows = (s: Stack) => psql(s, "select count(*), sum(id), max(name) from items");
const keys = (s: Stack) => s.exec("cache", ["sh", "-c", "redis-cli --scan | sort | while read k; do printf '%s=%s\\n' \"$k\" \"$(redis-cli get \"$k\")\"; done"]);
/** Every entry with its type, link target, size, mode and link count, plus each file's md5. */
const web = (s: Stack) => s.exec("web", ["sh", "-c", "cd /srv/www && find . -printf '%p %y %l %s %m %n\\n' | sort && find . -type f -exec md5sum {} + | sort"]);
const state = async (s: Stack) => ({ rows: await rows(s), keys: await keys(s), web: await web(s) });
const cli = (args: string[], app: string): Promise<CliRun> => sdbackup([...args, "--app", app, "--target", target], { cwd: workdir });
const waitForRedis = async (s: Stack) => {
  for (let i = 0; i < 60; i++) if (await s.exec("cache", ["redis-cli", "ping"]).then((o) => o.trim() === "PONG", () => false)) return;
  throw new Error("redis did not answer");
};

const SEED_WEB = [
  "mkdir -p /srv/www/releases/42 /srv/www/logs",
  "echo '<h1>42</h1>' > /srv/www/releases/42/index.html",
  "ln /srv/www/releases/42/index.html /srv/www/releases/42/hard.html",
  "ln -s /dev/stdout /srv/www/logs/access.log", // outward, to a device
  "ln -s /srv/releases/42 /srv/www/elsewhere", // outward, dangling
  "ln -s /srv/www/releases/42 /srv/www/current", // inward, absolute
  "ln -s releases/42 /srv/www/latest", // inward, relative
  "printf 'x%.0s' $(seq 1 5000) > /srv/www/big.bin && chmod 600 /srv/www/big.bin",
].join(" && ");

let before: Awaited<ReturnType<typeof state>>;
let full: string;
let partial: string;

beforeAll(async () => {
  target = await mkdtemp(join(tmpdir(), "sdb-rs-target-"));
  workdir = await mkdtemp(join(tmpdir(), "sdb-rs-cwd-"));
  await Promise.all([a.up(), b.up()]);
  await Promise.all([waitForPostgres(a, "db", "app", "appdb"), waitForPostgres(b, "db", "app", "appdb"), waitForRedis(a), waitForRedis(b)]);
  await psql(a, "create table items (id int primary key, name text not null); insert into items select g, 'item ' || g from generate_series(1, 300) g");
  await a.exec("cache", ["redis-cli", "mset", "k1", "one", "k2", "two", "k3", "three"]);
  await a.exec("web", ["sh", "-c", SEED_WEB]);
  before = await state(a);
  const r = await cli(["backup", "--json"], a.project);
  expect(r.code, r.stderr).toBe(0);
  full = JSON.parse(r.stdout).set;
}, 240_000);

afterAll(async () => {
  await Promise.all([a.down(), b.down()]);
  await rm(target, { recursive: true, force: true });
  await rm(workdir, { recursive: true, force: true });
}, 120_000);

describe("restore (issue 10)", () => {
  it("a volume's outward and inward symlinks and hard links round-trip byte- and link-exactly", async () => {
    expect(before.web).toMatch(/\.\/logs\/access\.log l \/dev\/stdout/);
    expect(before.web).toMatch(/\.\/elsewhere l \/srv\/releases\/42/);
    await a.exec("web", ["sh", "-c", "rm -rf /srv/www/* && echo changed > /srv/www/current && ln -s /etc /srv/www/latest"]);
    const r = await cli(["restore", "--set", full, "--service", "web", "--yes"], a.project);
    expect(r.code, r.stderr).toBe(0);
    expect(await web(a)).toBe(before.web);
  }, 120_000);

  it("a partial set exits 3 naming the missing service and the set that holds it; latest says it passed it over", async () => {
    await run("docker", ["stop", "-t", "5", await a.containerId("db")]);
    try {
      const r = await cli(["backup", "--json"], a.project);
      expect(r.code, r.stderr).toBe(3);
      partial = JSON.parse(r.stdout).set;
    } finally {
      await run("docker", ["start", await a.containerId("db")]);
    }
    await waitForPostgres(a, "db", "app", "appdb");

    const p = await cli(["restore", "--set", partial, "--yes"], a.project);
    expect(p.code, p.stderr).toBe(3);
    expect(p.stdout).toContain(`set ${partial}: partial`);
    expect(p.stdout).toContain(`db: not in set ${partial}, so not restored; its newest backup is in set ${full}`);
    const json = await cli(["restore", "--set", partial, "--yes", "--json"], a.project);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "partial", missing: [{ service: "db", heldBy: full }] });

    const latest = await cli(["restore", "--yes", "--json"], a.project);
    expect(latest.code, latest.stderr).toBe(0);
    expect(JSON.parse(latest.stdout)).toMatchObject({ set: full, status: "ok" });
    expect(latest.stderr).toContain(`set ${partial} is newer but partial (db failed`);
  }, 180_000);

  it("a restore started right after `up -d` on an empty host waits for postgres and restores everything", async () => {
    await a.down();
    await a.up();
    const r = await cli(["restore", "--yes", "--wait", "120s"], a.project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/waiting up to 2m.* for .*db/);
    await waitForRedis(a);
    expect(await state(a)).toEqual(before);
  }, 240_000);

  it("--from-app restores project A's set into project B", async () => {
    const r = await cli(["restore", "--from-app", a.project, "--set", full, "--yes", "--json"], b.project);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ project: b.project, from: a.project, set: full, status: "ok" });
    await waitForRedis(b);
    expect(await state(b)).toEqual(before);
  }, 180_000);

  it("docs/restore.md: the postgres, volume and redis recipes, run exactly as written, bring the data back", async () => {
    await psql(b, "drop table items");
    await b.exec("cache", ["redis-cli", "flushall"]);
    await b.exec("web", ["sh", "-c", "rm -rf /srv/www/* && echo stray > /srv/www/stray"]);
    const doc = await readFile(join(import.meta.dirname, "../../../docs/restore.md"), "utf8");
    const env = { ...process.env, P: b.project, SET: join(target, a.project, full), U: "app" };
    for (const [name, vars] of [["postgres", { S: "db" }], ["volume", { S: "web", D: "/srv/www" }], ["redis", { S: "cache" }]] as const) {
      const script = recipe(doc, name);
      const { stderr } = await run("bash", ["-euo", "pipefail", "-c", script], { env: { ...env, ...vars }, timeout: 120_000 }).catch((err: { stderr?: string; message: string }) => {
        throw new Error(`recipe ${name} failed: ${err.stderr ?? err.message}`);
      });
      void stderr;
    }
    await waitForRedis(b);
    expect(await state(b)).toEqual(before);
    // AOF is on: what the recipe loaded survives a restart from the AOF alone
    await run("docker", ["restart", await b.containerId("cache")]);
    await waitForRedis(b);
    expect(await keys(b)).toBe(before.keys);
  }, 240_000);
});

/** The fenced block right after `<!-- recipe: NAME -->`. */
function recipe(doc: string, name: string): string {
  const m = new RegExp(`<!-- recipe: ${name} -->\\n\`\`\`bash\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  if (!m) throw new Error(`docs/restore.md has no recipe "${name}"`);
  return m[1]!;
}
