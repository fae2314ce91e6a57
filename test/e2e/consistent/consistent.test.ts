import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack, waitForPostgres } from "../../helpers/compose.ts";
import { sdbackup } from "../../helpers/cli.ts";

const run = promisify(execFile);
const stack = composeStack(join(import.meta.dirname, "compose.yaml"), "sdbcons");
let target: string;
let cwd: string;

const state = async (service: string) => {
  const { stdout } = await run("docker", ["inspect", "-f", "{{json .State}}", await stack.containerId(service)]);
  return JSON.parse(stdout) as { Running: boolean; StartedAt: string; FinishedAt: string };
};
const manifestOf = async (set: string) => JSON.parse(await readFile(join(target, stack.project, set, "manifest.json"), "utf8"));
const sets = async () => (await readdir(join(target, stack.project)).catch(() => [])) as string[];
const backup = (args: string[], onSpawn?: (pid: number) => void) =>
  sdbackup(["backup", "--app", stack.project, "--target", target, "--json", ...args], { cwd, ...(onSpawn ? { onSpawn } : {}) });
const overlaps = (a: { startedAt: string; durationMs: number }, b: { startedAt: string; durationMs: number }) => {
  const [as, bs] = [Date.parse(a.startedAt), Date.parse(b.startedAt)];
  return as < bs + b.durationMs && bs < as + a.durationMs;
};

beforeAll(async () => {
  target = await mkdtemp(join(tmpdir(), "sdb-cons-target-"));
  cwd = await mkdtemp(join(tmpdir(), "sdb-cons-cwd-"));
  await stack.up();
  await waitForPostgres(stack, "db", "app", "app");
  const sql = "create table big as select g as id, md5(g::text) || md5((g * 3)::text) as pad from generate_series(1, 1200000) g";
  await stack.exec("db", ["psql", "-U", "app", "-d", "app", "-v", "ON_ERROR_STOP=1", "-c", sql]);
}, 240_000);

afterAll(async () => {
  await stack.down();
  await rm(target, { recursive: true, force: true });
  await rm(cwd, { recursive: true, force: true });
}, 120_000);

describe("consistent sets, hooks and concurrency", () => {
  it("stops the labelled app while the set is taken, starts it again, records the downtime", async () => {
    const before = await state("app");
    const dbBefore = await state("db");
    const r = await backup(["--consistent"]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ status: "ok", consistent: true });
    expect(result.downtime).toEqual([expect.objectContaining({ service: "app", action: "stop", downtimeMs: expect.any(Number) })]);
    expect(result.downtime[0].downtimeMs).toBeGreaterThan(0);

    const after = await state("app");
    expect(after.Running).toBe(true);
    expect(after.StartedAt > before.StartedAt).toBe(true);
    // the app's archive was read between its stop and its new start
    const manifest = await manifestOf(result.set);
    const appItem = manifest.items.find((i: { service: string }) => i.service === "app");
    expect(Date.parse(appItem.startedAt)).toBeGreaterThanOrEqual(Date.parse(after.FinishedAt) - 5);
    expect(Date.parse(appItem.startedAt) + appItem.durationMs).toBeLessThanOrEqual(Date.parse(after.StartedAt) + 5);
    expect(manifest.stopped).toEqual([expect.objectContaining({ service: "app" })]);
    // database services keep running: their dump is transactional
    expect(await state("db")).toMatchObject({ Running: true, StartedAt: dbBefore.StartedAt });
    // pre and post hooks ran, in order, in the app's container
    expect(await stack.exec("app", ["cat", "/tmp/hooks.log"])).toBe("pre\npost\n");
    expect(result.hooks.map((h: { phase: string; status: string }) => `${h.phase}:${h.status}`)).toEqual(["pre:ok", "post:ok"]);
  }, 180_000);

  it("restores the app's volume with restore.pre/.post hooks around it, the app stopped meanwhile", async () => {
    await stack.exec("app", ["sh", "-c", "echo lost > /srv/app/extra && : > /tmp/hooks.log"]);
    const before = await state("app");
    const r = await sdbackup(["restore", "--app", stack.project, "--target", target, "--service", "app", "--yes", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.hooks.map((h: { phase: string; status: string }) => `${h.phase}:${h.status}`)).toEqual(["restore.pre:ok", "restore.post:ok"]);
    expect(await stack.exec("app", ["cat", "/tmp/hooks.log"])).toBe("restore-pre\nrestore-post\n");
    expect(await stack.exec("app", ["ls", "/srv/app"])).toBe("heartbeat\n");
    const after = await state("app");
    expect(after.Running).toBe(true);
    expect(after.StartedAt > before.StartedAt).toBe(true);
  }, 180_000);

  it("runs items in parallel with --concurrency 2 and one by one with --concurrency 1", async () => {
    const parallel = JSON.parse((await backup(["--concurrency", "2"])).stdout);
    const [a, b] = (await manifestOf(parallel.set)).items;
    expect(overlaps(a, b)).toBe(true);
    const serial = JSON.parse((await backup(["--concurrency", "1"])).stdout);
    const [c, d] = (await manifestOf(serial.set)).items;
    expect(overlaps(c, d)).toBe(false);
  }, 180_000);

  it("a failing pre hook aborts: exit 1, nothing committed, the app still running", async () => {
    const before = await sets();
    const override = join(import.meta.dirname, "failing-pre.override.yaml");
    const r = await sdbackup(["backup", "-f", stack.file, "-f", override, "--app", stack.project, "--target", target, "--consistent", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result.status).toBe("failed");
    expect(result.error).toMatch(/pre hook of app exited 3/);
    expect(r.stderr).toMatch(/about to fail/);
    expect(await sets()).toEqual(before);
    expect((await state("app")).Running).toBe(true);
  }, 120_000);

  it("SIGINT while the app is stopped: restarts it, commits nothing, exits 130", async () => {
    const before = await sets();
    let pid = 0;
    const running = backup(["--consistent", "--concurrency", "1"], (p) => (pid = p));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await state("app")).Running) await new Promise((r) => setTimeout(r, 50));
    expect((await state("app")).Running).toBe(false);
    process.kill(pid, "SIGINT");
    const r = await running;
    expect(r.code, r.stderr).toBe(130);
    expect((await state("app")).Running).toBe(true);
    expect(await sets()).toEqual(before);
    const leftovers = ((await readdir(target, { recursive: true })) as string[]).filter((f) => f.includes(".tmp-"));
    expect(leftovers).toEqual([]);
  }, 180_000);
});
