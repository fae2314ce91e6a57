import { createHash } from "node:crypto";
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { runBackupPlan } from "../../../../src/core/backup/run-backup.ts";
import { DockerError, TargetError, isAbortError } from "../../../../src/errors.ts";
import { LABEL } from "../../../../src/compose/labels.ts";
import type { Manifest } from "../../../../src/manifest/schema.ts";
import type { MemoryTarget } from "../../../../src/targets/memory.ts";
import { backupRun, container, service } from "../../../helpers/builders.ts";
import { createFakeDocker, type ExecScript, type FakeDockerOptions } from "../../../helpers/fake-docker.ts";

// runBackupPlan over the fake engine and the memory target: what gets committed, and what is left.

const dumps: ExecScript = ({ argv }) => ({ stdout: [`dump of ${argv[1]}\n`, "more rows\n"] });
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const keys = (t: MemoryTarget) => [...t.objects.keys()].sort();
const manifestOf = (t: MemoryTarget, key: string) => JSON.parse(t.objects.get(key)!.data.toString()) as Manifest;

describe("runBackupPlan", () => {
  it("all items ok: every artifact, then the manifest naming them with their sha256", async () => {
    const { run, fake } = setup(dumps);
    const result = await runBackupPlan(run);
    const target = run.target as MemoryTarget;
    expect(result).toMatchObject({ status: "ok", project: "app", manifest: `app/${result.set}/manifest.json` });
    expect(result.set).toMatch(/^20261121T030000Z-[0-9a-f]{4}$/);
    expect(keys(target)).toEqual([`app/${result.set}/cache.dump`, `app/${result.set}/db.dump`, `app/${result.set}/manifest.json`]);
    const manifest = manifestOf(target, result.manifest!);
    expect(manifest).toMatchObject({ status: "ok", failed: [], createdAt: "2026-11-21T03:00:00.000Z" });
    expect(manifest.items.map((i) => i.service)).toEqual(["db", "cache"]);
    for (const item of manifest.items) {
      const stored = target.objects.get(item.key)!.data;
      expect(stored.toString()).toBe(`dump of ${item.service}\nmore rows\n`);
      expect([item.bytes, item.sha256]).toEqual([stored.length, sha256(stored)]);
    }
    expect(fake.active()).toEqual([]);
    expect(getEventListeners(run.signal, "abort")).toEqual([]);
  });

  it("one item fails: the set is committed as partial without it, and the result says partial", async () => {
    const { run, fake } = setup((call) => (call.argv[1] === "cache" ? { stdout: "half a dump", exitCode: 2, stderr: "cache: out of memory" } : dumps(call)));
    const result = await runBackupPlan(run);
    expect(result.status).toBe("partial");
    expect(result.items.map((i) => [i.service, i.status])).toEqual([["db", "ok"], ["cache", "failed"]]);
    expect(result.items[1]!.error).toMatch(/exited 2/);
    const manifest = manifestOf(run.target as MemoryTarget, result.manifest!);
    expect(manifest.status).toBe("partial");
    expect(manifest.items.map((i) => i.service)).toEqual(["db"]);
    expect(manifest.failed).toEqual([{ service: "cache", strategy: "test", error: expect.stringMatching(/dump exited 2/) }]);
    expect(keys(run.target as MemoryTarget)).toEqual([`app/${result.set}/db.dump`, `app/${result.set}/manifest.json`]);
    expect(fake.active()).toEqual([]);
  });

  it("a put that fails after N bytes fails that item only and leaves no object of it", async () => {
    const { run } = setup(({ argv }) => ({ stdout: Array.from({ length: 20 }, () => `${argv[1]} row\n`) }));
    (run.target as MemoryTarget).fault = ({ op, key, bytes }) => (op === "put" && key.endsWith("cache.dump") && bytes > 30 ? new TargetError("connection reset") : undefined);
    const result = await runBackupPlan(run);
    expect(result.status).toBe("partial");
    expect(result.items.find((i) => i.service === "cache")).toMatchObject({ status: "failed", error: "connection reset" });
    expect(keys(run.target as MemoryTarget)).toEqual([`app/${result.set}/db.dump`, `app/${result.set}/manifest.json`]);
  });

  it("runs at most `concurrency` dumps at a time, and uses that many", async () => {
    const inFlight: number[] = [];
    const run = backupRun(["a", "b", "c", "d", "e"], createFakeDocker().api, { concurrency: 2 });
    const fake = createFakeDocker({ containers: run.containers, exec: () => (inFlight.push(fake.active().length), { stdout: "x", delayMs: 10 }) });
    run.docker = fake.api;
    expect((await runBackupPlan(run)).status).toBe("ok");
    expect(inFlight).toHaveLength(5);
    expect(Math.max(...inFlight)).toBe(2);
  });

  it("every item fails: nothing is committed and the result is failed", async () => {
    const { run } = setup(() => ({ exitCode: 1, stderr: "FATAL: password authentication failed" }));
    const result = await runBackupPlan(run);
    expect(result).toMatchObject({ status: "failed", manifest: null });
    expect(result.items.every((i) => i.status === "failed")).toBe(true);
    expect(keys(run.target as MemoryTarget)).toEqual([]);
  });

  it("a failed manifest write rejects and removes the artifacts already stored", async () => {
    const { run } = setup(dumps);
    const refused = new TargetError("bucket is read-only");
    (run.target as MemoryTarget).fault = ({ op, key }) => (op === "put" && key.endsWith("manifest.json") ? refused : undefined);
    await expect(runBackupPlan(run)).rejects.toBe(refused);
    expect(keys(run.target as MemoryTarget)).toEqual([]);
  });

  describe("an abort leaves nothing committed, no object and no process behind", () => {
    it("before any item started", async () => {
      const ac = new AbortController();
      ac.abort();
      const { run, fake } = setup(dumps, ac.signal);
      expect(isAbortError(await runBackupPlan(run).catch((e: unknown) => e))).toBe(true);
      expect(fake.execs).toEqual([]);
      expect(keys(run.target as MemoryTarget)).toEqual([]);
    });

    it("mid-item, after another item was stored", async () => {
      const ac = new AbortController();
      const { run, fake } = setup((call) => {
        if (call.argv[1] === "db") return dumps(call);
        setTimeout(() => ac.abort(), 20);
        return { stdout: "partial output", hang: true };
      }, ac.signal, { concurrency: 1 });
      const err = await runBackupPlan(run).catch((e: unknown) => e);
      expect(isAbortError(err)).toBe(true);
      expect(fake.execs.map((e) => e.argv[1])).toEqual(["db", "cache"]);
      expect(fake.active()).toEqual([]);
      expect(keys(run.target as MemoryTarget)).toEqual([]);
    });

    it("during a pre hook: no dump starts, the post hook still runs", async () => {
      const ac = new AbortController();
      const { run, fake } = setup((call) => (call.argv[2] === "lock" ? (setTimeout(() => ac.abort(), 10), { hang: true }) : dumps(call)), ac.signal);
      run.services = run.services.map((s) => (s.name === "db" ? { ...s, labels: { [LABEL.pre]: "lock", [LABEL.post]: "unlock" } } : s));
      expect(isAbortError(await runBackupPlan(run).catch((e: unknown) => e))).toBe(true);
      expect(fake.execs.map((e) => e.argv.at(-1))).toEqual(["lock", "unlock"]);
      expect(keys(run.target as MemoryTarget)).toEqual([]);
    });

    it("during a post hook, after every dump was stored", async () => {
      const ac = new AbortController();
      const { run, fake } = setup((call) => (call.argv[2] === "unlock" ? (ac.abort(), {}) : dumps(call)), ac.signal);
      run.services = run.services.map((s) => (s.name === "db" ? { ...s, labels: { [LABEL.post]: "unlock" } } : s));
      expect(isAbortError(await runBackupPlan(run).catch((e: unknown) => e))).toBe(true);
      expect(fake.execs.map((e) => e.argv.at(-1))).toEqual(["db", "cache", "unlock"]);
      expect(keys(run.target as MemoryTarget)).toEqual([]);
    });

    it("while the manifest is written", async () => {
      const ac = new AbortController();
      const { run } = setup(dumps, ac.signal);
      (run.target as MemoryTarget).fault = ({ op, key }) => {
        if (op === "put" && key.endsWith("manifest.json")) ac.abort();
        return undefined;
      };
      expect(isAbortError(await runBackupPlan(run).catch((e: unknown) => e))).toBe(true);
      expect(keys(run.target as MemoryTarget)).toEqual([]);
    });
  });
});

describe("runBackupPlan in consistent mode", () => {
  /** db (a dump, needs its server) and web (labelled stop) and worker (labelled stop + pause), each with a container. */
  function consistent(script: ExecScript, signal = new AbortController().signal, onLifecycle?: FakeDockerOptions["onLifecycle"]) {
    const run = backupRun(["db"], createFakeDocker().api, { signal, consistent: true });
    const web = service("web", { labels: { [LABEL.stop]: "true" } });
    const worker = service("worker", { labels: { [LABEL.stop]: "true", [LABEL.pause]: "true" } });
    run.services = [...run.services, web, worker];
    run.containers = [...run.containers, container("web"), container("worker")];
    const fake = createFakeDocker({ containers: run.containers, exec: script, ...(onLifecycle ? { onLifecycle } : {}) });
    run.docker = fake.api;
    return { run, fake };
  }

  it("stops and pauses the labelled services around the dumps and records their downtime", async () => {
    const { run, fake } = consistent(dumps);
    const result = await runBackupPlan(run);
    expect(result.status).toBe("ok");
    expect(fake.calls).toEqual(["stop web-id", "pause worker-id", "exec db-id dump db", "unpause worker-id", "start web-id"]);
    expect(result.downtime.map((d) => [d.service, d.action])).toEqual([["web", "stop"], ["worker", "pause"]]);
    expect(manifestOf(run.target as MemoryTarget, result.manifest!).stopped?.map((s) => s.service)).toEqual(["web", "worker"]);
    expect([fake.container("web-id").running, fake.container("worker-id").paused]).toEqual([true, false]);
  });

  it("an abort mid-dump brings every container back and commits nothing", async () => {
    const ac = new AbortController();
    const { run, fake } = consistent(() => (setTimeout(() => ac.abort(), 20), { hang: true }), ac.signal);
    expect(isAbortError(await runBackupPlan(run).catch((e: unknown) => e))).toBe(true);
    expect(fake.calls.slice(-2)).toEqual(["unpause worker-id", "start web-id"]);
    expect([fake.container("web-id").running, fake.container("worker-id").paused]).toEqual([true, false]);
    expect(keys(run.target as MemoryTarget)).toEqual([]);
  });

  it("an abort while a stop is still in progress waits for it, then starts the container again", async () => {
    const ac = new AbortController();
    let finishStop = () => {};
    const held = new Promise<void>((resolve) => (finishStop = resolve));
    const { run, fake } = consistent(dumps, ac.signal, (op, id) => (op === "stop" && id === "web-id" ? (setTimeout(() => ac.abort(), 10), held) : undefined));
    let settled = false;
    const outcome = runBackupPlan(run).catch((e: unknown) => e).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect([settled, fake.calls]).toEqual([false, ["stop web-id"]]);
    finishStop();
    expect(isAbortError(await outcome)).toBe(true);
    expect(fake.calls).toEqual(["stop web-id", "start web-id"]);
    expect(fake.container("web-id").running).toBe(true);
    expect(keys(run.target as MemoryTarget)).toEqual([]);
  });

  it("a container that cannot be started again makes the committed set partial", async () => {
    const { run } = consistent(dumps, undefined, (op, id) => (op === "start" && id === "web-id" ? new DockerError("start refused") : undefined));
    const result = await runBackupPlan(run);
    expect(result.status).toBe("partial");
    expect(result.downtime.find((d) => d.service === "web")?.error).toMatch(/start refused/);
    expect(manifestOf(run.target as MemoryTarget, result.manifest!).status).toBe("partial");
  });
});

function setup(script: ExecScript, signal = new AbortController().signal, over: { concurrency?: number } = {}) {
  const run = backupRun(["db", "cache"], createFakeDocker().api, { signal, ...over });
  const fake = createFakeDocker({ exec: script, containers: run.containers });
  run.docker = fake.api;
  return { run, fake };
}
