import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTarget } from "../../../../src/targets/local.ts";
import { writeManifest } from "../../../../src/manifest/store.ts";
import { newSetId } from "../../../../src/manifest/keys.ts";
import { MANIFEST_VERSION } from "../../../../src/manifest/schema.ts";
import { sdbackupInProcess } from "../../../helpers/cli.ts";
import { CancelledError, DockerError } from "../../../../src/errors.ts";
import { reported } from "../../../../src/core/report/reported.ts";
import { silentLogger } from "../../../../src/ui/logger.ts";
import type { Deps } from "../../../../src/deps.ts";
import { startRecorder, type Recorder } from "../../../helpers/http-recorder.ts";

// The monitoring wrapper around a command, in process (no Docker: the fake engine refuses).
let dir: string;
let rec: Recorder;
const PROJECT = "shop";
const signal = new AbortController().signal;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sdbackup-reported-"));
  rec = await startRecorder();
  await writeFile(path.join(dir, "compose.yaml"), `name: ${PROJECT}\nservices:\n  db:\n    image: postgres:15\n    labels:\n      simpledeploy.backup.schedule: "CRON_TZ=UTC 0 0 1 1 *"\n`);
});
afterEach(async () => {
  await rec.close();
  await rm(dir, { recursive: true, force: true });
});

const run = (args: string[], env: NodeJS.ProcessEnv = {}, docker?: () => Promise<never>) =>
  sdbackupInProcess([...args, "--target", path.join(dir, "backups")], { cwd: dir, env, ...(docker ? { docker } : {}) });

async function set(daysAgo: number): Promise<void> {
  const at = new Date(Date.now() - daysAgo * 86_400_000);
  await writeManifest(createLocalTarget(path.join(dir, "backups")), {
    schemaVersion: MANIFEST_VERSION, tool: { name: "sdbackup", version: "test" }, project: PROJECT, set: newSetId(at), createdAt: at.toISOString(), completedAt: at.toISOString(), status: "ok", items: [], failed: [],
  }, signal);
}

describe("reported runs", () => {
  it("a run that throws is notified as failed with its error code (secrets scrubbed), reported to --report and --log-file, and rethrown", async () => {
    const report = path.join(dir, "report.json");
    const logFile = path.join(dir, "run.log");
    // an error message that (wrongly) carries a secret from the environment: the payload must not
    const refuse = () => Promise.reject(new DockerError("engine refused user admin:env-secret-123"));
    const r = await run(["backup", "--notify", `${rec.url}/hook`, "--report", report, "--log-file", logFile], { SDBACKUP_DB_PASSWORD: "env-secret-123" }, refuse);
    expect(r.code).toBe(1);
    const doc = JSON.parse(rec.requests[0]!.body) as { status: string; exitCode: number; error: { code: string; message: string } };
    expect(doc).toMatchObject({ status: "failed", exitCode: 1, error: { code: "E_DOCKER", message: "engine refused user admin:***" } });
    expect(JSON.parse(await readFile(report, "utf8"))).toEqual({
      error: { code: "E_DOCKER", message: "engine refused user admin:***", exitCode: 1 },
      notifications: [{ notifier: "webhook", to: `${rec.url}/hook`, phase: "finish", ok: true, attempts: 1 }],
    });
    const log = await readFile(logFile, "utf8");
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z error engine refused user admin:\*\*\*$/m);
    for (const text of [rec.everything(), log, await readFile(report, "utf8")]) expect(text).not.toContain("env-secret-123");
  });

  it("an unknown notification scheme is a usage error before any work", async () => {
    const r = await run(["backup", "--notify", "mailto:ops@example.com"]);
    expect({ code: r.code, dockerUsed: r.dockerUsed }).toEqual({ code: 2, dockerUsed: false });
    expect(r.stderr).toContain("no notifier for mailto:// URLs");
    expect(rec.requests).toEqual([]);
  });

  it("--log-file: every line with its time goes to the file, stderr keeps only warnings and errors", async () => {
    await set(3);
    await set(2);
    const logFile = path.join(dir, "prune.log");
    const r = await run(["prune", "--keep-last", "1", "--log-file", logFile]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("retention policy");
    const log = await readFile(logFile, "utf8");
    expect(log).toMatch(/^\S+Z info  retention policy \(from flags\): last=1$/m);
    expect(log).toMatch(/^\S+Z info  sdbackup prune shop: ok in \d+\.\ds$/m);
    expect(await readdir(path.join(dir, "backups", PROJECT))).toHaveLength(1);
  });

  it("a backup that is not due pings healthchecks as a success, sends nothing else and leaves the metrics alone", async () => {
    await set(0);
    const host = rec.url.replace("http://", "");
    const metrics = path.join(dir, "m.prom");
    const r = await run(["backup", "--if-due", "--json", "--notify", `${rec.url}/hook`, "--notify", `healthchecks+http://${host}/ping/abcdefgh`, "--metrics-file", metrics]);
    expect({ code: r.code, dockerUsed: r.dockerUsed }).toEqual({ code: 0, dockerUsed: false });
    expect(rec.requests.map((q) => q.url.replace(/\?rid=.*$/, ""))).toEqual(["/ping/abcdefgh/start", "/ping/abcdefgh"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "not-due", notifications: [{ phase: "start", ok: true }, { phase: "finish", ok: true }] });
    await expect(readFile(metrics)).rejects.toThrow(/ENOENT/);
  });

  it("after an interrupt, a silent endpoint costs seconds, not the full timeout and retry; the CancelledError is rethrown", async () => {
    const silent = await startRecorder(() => "hang");
    try {
      const controller = new AbortController();
      const deps = { env: {}, cwd: dir, log: silentLogger, signal: controller.signal, now: () => new Date(), out: () => {}, stdinIsTTY: false, docker: () => Promise.reject(new Error("no")) } as unknown as Deps;
      const t0 = Date.now();
      const interrupted = reported("backup", { notify: [`${silent.url}/hook`], app: PROJECT }, deps, async () => {
        controller.abort(new CancelledError("interrupted by SIGINT"));
        throw new CancelledError("interrupted by SIGINT");
      });
      await expect(interrupted).rejects.toThrow("interrupted by SIGINT");
      expect(Date.now() - t0).toBeLessThan(8000);
      expect(silent.requests).toHaveLength(2);
      expect(JSON.parse(silent.requests[0]!.body)).toMatchObject({ status: "failed", exitCode: 130, error: { code: "E_CANCELLED" } });
    } finally {
      await silent.close();
    }
  }, 15_000);
});
