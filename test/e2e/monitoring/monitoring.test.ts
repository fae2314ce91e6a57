import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeStack } from "../../helpers/compose.ts";
import { sdbackup } from "../../helpers/cli.ts";
import { requireDocker } from "../../helpers/docker.ts";
import { deadPort, startRecorder, type Recorder } from "../../helpers/http-recorder.ts";
import { promtoolCheckMetrics } from "../../helpers/promtool.ts";
import { createLocalTarget } from "../../../src/targets/local.ts";
import { writeManifest } from "../../../src/manifest/store.ts";
import { newSetId } from "../../../src/manifest/keys.ts";
import { MANIFEST_VERSION } from "../../../src/manifest/schema.ts";

const run = promisify(execFile);
const CANARY = "Canary-Pw-7f3e9c";
const stack = composeStack(join(import.meta.dirname, "compose.yaml"), "sdbmon");
const broken = composeStack(join(import.meta.dirname, "broken.yaml"), "sdbmonx");
let dir: string;
let target: string;
let rec: Recorder;

const cli = (args: string[], app = stack.project) => sdbackup([...args, "--app", app, "--target", target], { cwd: dir });

beforeAll(async () => {
  await requireDocker();
  dir = await mkdtemp(join(tmpdir(), "sdbackup-mon-"));
  target = join(dir, "backups");
  rec = await startRecorder();
  await Promise.all([stack.up(), broken.up()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([stack.down(), broken.down()]);
  await rec?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe("unattended runs tell someone (real containers, a recording HTTP server)", () => {
  it("a failed backup sends the error to every channel, healthchecks start before fail, and no secret anywhere", async () => {
    const from = rec.requests.length;
    const host = rec.url.replace("http://", "");
    const r = await cli(["backup", "--json", "--notify", `${rec.url}/hook`, "--notify", `ntfy+http://${host}/backups`, "--notify", `healthchecks+http://${host}/ping/uuid-0001-failed`], broken.project);
    expect(r.code).toBe(1);
    const sent = rec.requests.slice(from);
    const hook = sent.find((q) => q.url === "/hook")!;
    const doc = JSON.parse(hook.body) as { status: string; exitCode: number; summary: string; result: { status: string } };
    expect({ status: doc.status, exitCode: doc.exitCode, result: doc.result.status }).toEqual({ status: "failed", exitCode: 1, result: "failed" });
    // the image has no PostgreSQL client: whichever tool the strategy runs first fails
    expect(doc.summary).toMatch(/^broken: .*\b(pg_dump|psql) exited \d+/);
    expect(sent.find((q) => q.url === "/backups")).toMatchObject({ headers: { priority: "5", title: `sdbackup backup ${broken.project}: failed` } });
    const pings = sent.filter((q) => q.url.startsWith("/ping/")).map((q) => q.url.replace(/\?rid=[0-9a-f-]+$/, ""));
    expect(pings).toEqual(["/ping/uuid-0001-failed/start", "/ping/uuid-0001-failed/1"]);
    expect(sent.filter((q) => q.url.startsWith("/ping/")).at(-1)!.body).toMatch(/\b(pg_dump|psql) exited \d+/);
    const outcomes = (JSON.parse(r.stdout) as { notifications: { notifier: string; phase: string; ok: boolean }[] }).notifications;
    expect(outcomes.map((o) => `${o.notifier} ${o.phase} ${o.ok}`)).toEqual(["healthchecks start true", "webhook finish true", "ntfy finish true", "healthchecks finish true"]);
    for (const text of [rec.everything(), r.stdout, r.stderr]) expect(text).not.toContain(CANARY);
  }, 120_000);

  it("a dead notification endpoint leaves the exit code alone and is reported; metrics and report files are written", async () => {
    const port = await deadPort();
    const metrics = join(dir, "sdbackup.prom");
    const report = join(dir, "report.json");
    const r = await cli(["backup", "--service", "files", "--json", "--notify", `http://127.0.0.1:${port}/dead`, "--notify-on", "always", "--metrics-file", metrics, "--report", report]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { status: string; notifications: unknown[] };
    expect(doc.status).toBe("ok");
    expect(doc.notifications).toEqual([{ notifier: "webhook", to: `http://127.0.0.1:${port}/dead`, phase: "finish", ok: false, attempts: 2, error: "ECONNREFUSED" }]);
    expect(r.stderr).toContain(`notification (webhook http://127.0.0.1:${port}/dead, finish) failed after 2 attempt(s): ECONNREFUSED`);
    expect(JSON.parse(await readFile(report, "utf8"))).toEqual(doc);
    const text = await readFile(metrics, "utf8");
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: "" });
    expect(text).toContain(`sdbackup_last_run_success{command="backup",project="${stack.project}",service="files"} 1\n`);
    expect(text).toMatch(new RegExp(`sdbackup_sets\\{project="${stack.project}",service="files"\\} 1\\n`));
    expect(text).toMatch(/sdbackup_last_run_bytes\{project="[^"]+",service="files"\} [1-9]\d*\n/);
  }, 120_000);

  it("the crontab line printed by schedule runs under env -i: reads the env file, backs up, then prunes", async () => {
    // an old set that the label's retention (last=1) removes once the new one exists
    const old = newSetId(new Date(Date.now() - 10 * 86_400_000));
    const at = new Date(Date.now() - 10 * 86_400_000).toISOString();
    await writeManifest(createLocalTarget(target), {
      schemaVersion: MANIFEST_VERSION, tool: { name: "sdbackup", version: "test" }, project: stack.project, set: old, createdAt: at, completedAt: at, status: "ok", items: [], failed: [],
    }, new AbortController().signal);
    const envFile = join(dir, "cron.env");
    const logFile = join(dir, "cron.log");
    const host = rec.url.replace("http://", "");
    await writeFile(envFile, `SDBACKUP_NOTIFY=healthchecks+http://${host}/ping/uuid-0002-cron\n`, { mode: 0o600 });
    const printed = await cli(["schedule", "--env-file", envFile, "--log-file", logFile, "--json"]);
    expect(printed.code).toBe(0);
    const crontab = (JSON.parse(printed.stdout) as { crontab: string }).crontab;
    const line = crontab.split("\n").find((l) => l.startsWith("0 3 * * * "))!;
    expect(line).toContain(" prune --app ");
    // cron hands the command (after the five fields, with \% turned back into %) to sh
    const command = line.slice("0 3 * * * ".length).replace(/\\%/g, "%");
    const from = rec.requests.length;
    const { stdout, stderr } = await run("env", ["-i", "sh", "-c", command], { cwd: tmpdir(), timeout: 120_000 });
    expect({ stdout, stderr }).toEqual({ stdout: "", stderr: "" });
    const sets = (await readdir(join(target, stack.project))).sort();
    expect(sets).toHaveLength(1);
    expect(sets[0]).not.toBe(old);
    const log = await readFile(logFile, "utf8");
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  /m);
    expect(log).toMatch(/sdbackup backup \S+: ok in/);
    expect(log).toMatch(/sdbackup prune \S+: ok in/);
    expect(rec.requests.slice(from).map((q) => q.url.replace(/\?rid=[0-9a-f-]+$/, ""))).toEqual([
      "/ping/uuid-0002-cron/start", "/ping/uuid-0002-cron", "/ping/uuid-0002-cron/start", "/ping/uuid-0002-cron",
    ]);
  }, 180_000);
});
