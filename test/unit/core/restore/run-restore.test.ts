import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { LABEL } from "../../../../src/compose/labels.ts";
import { runBackupPlan } from "../../../../src/core/backup/run-backup.ts";
import { runRestorePlan, type RestoreRun } from "../../../../src/core/restore/run-restore.ts";
import { CancelledError, IntegrityError, isAbortError } from "../../../../src/errors.ts";
import type { Manifest } from "../../../../src/manifest/schema.ts";
import { createMemoryTarget, type MemoryTarget } from "../../../../src/targets/memory.ts";
import { backupRun, restoreRun } from "../../../helpers/builders.ts";
import { createFakeDocker, type ExecScript } from "../../../helpers/fake-docker.ts";

// runRestorePlan over the fake engine: every artifact is checked before anything is applied.

/** A committed zstd set of db and cache (dumps `<service> data`, or what `content` says) in a fresh memory target. */
async function committedSet(content: (svc: string) => string = (svc) => `${svc} data\n`): Promise<{ target: MemoryTarget; manifest: Manifest }> {
  const target = createMemoryTarget();
  const run = backupRun(["db", "cache"], createFakeDocker().api, { target, compression: "zstd" });
  run.docker = createFakeDocker({ containers: run.containers, exec: ({ argv }) => ({ stdout: content(argv[1]!) }) }).api;
  const result = await runBackupPlan(run);
  expect(result.status).toBe("ok");
  return { target, manifest: JSON.parse(target.objects.get(result.manifest!)!.data.toString()) as Manifest };
}

function restoring(target: MemoryTarget, manifest: Manifest, script: ExecScript = () => ({}), over: Partial<RestoreRun> = {}) {
  const probe = restoreRun(manifest, { target, docker: createFakeDocker().api });
  const fake = createFakeDocker({ containers: probe.containers, exec: script });
  const run = restoreRun(manifest, { target, docker: fake.api, ...over });
  const loads = () => fake.execs.filter((e) => e.argv[0] === "load").map((e) => `${e.argv[1]}: ${e.stdin?.toString() ?? ""}`);
  return { run, fake, loads };
}

describe("runRestorePlan", () => {
  it("applies every item in manifest order with the original bytes", async () => {
    const { target, manifest } = await committedSet();
    const { run, loads } = restoring(target, manifest);
    const result = await runRestorePlan(run);
    expect(result).toMatchObject({ status: "ok", project: "app", set: manifest.set });
    expect(result.items.map((i) => [i.service, i.status])).toEqual([["db", "ok"], ["cache", "ok"]]);
    expect(loads()).toEqual(["db: db data\n", "cache: cache data\n"]);
    expect(getEventListeners(run.signal, "abort")).toEqual([]);
  });

  it("a corrupt artifact (checksum) means nothing is applied, not even the items before it", async () => {
    const { target, manifest } = await committedSet();
    const stored = target.objects.get(manifest.items[1]!.key)!;
    stored.data = Buffer.from(stored.data);
    stored.data[stored.data.length - 5]! ^= 0xff;
    const { run, fake, loads } = restoring(target, manifest);
    await expect(runRestorePlan(run)).rejects.toBeInstanceOf(IntegrityError);
    expect(loads()).toEqual([]);
    expect(fake.execs).toEqual([]);
  });

  it("an artifact the strategy rejects as a format means nothing is applied", async () => {
    const { target, manifest } = await committedSet((svc) => (svc === "cache" ? "INVALID header" : "fine"));
    const { run, loads } = restoring(target, manifest);
    await expect(runRestorePlan(run)).rejects.toThrow("artifact is not a dump");
    expect(loads()).toEqual([]);
  });

  it("a missing artifact means nothing is applied", async () => {
    const { target, manifest } = await committedSet();
    target.objects.delete(manifest.items[1]!.key);
    const { run, loads } = restoring(target, manifest);
    await expect(runRestorePlan(run)).rejects.toMatchObject({ code: "E_NOT_FOUND" });
    expect(loads()).toEqual([]);
  });

  it("the first failed apply stops the run: later items are not started, the result is failed", async () => {
    const { target, manifest } = await committedSet();
    const { run, loads } = restoring(target, manifest, ({ argv }) => (argv[1] === "db" ? { exitCode: 1, stderr: "ERROR: relation exists" } : {}));
    const result = await runRestorePlan(run);
    expect(result.status).toBe("failed");
    expect(result.items.map((i) => [i.service, i.status])).toEqual([["db", "failed"], ["cache", "not-started"]]);
    expect(result.items[0]!.error).toMatch(/load exited 1/);
    expect(loads()).toEqual(["db: db data\n"]);
  });

  it("hooks run after validation and around the applies; a failed restore.pre hook applies nothing", async () => {
    const { target, manifest } = await committedSet();
    const { run, fake, loads } = restoring(target, manifest, ({ argv }) => (argv[2] === "lock" ? { exitCode: 1 } : {}));
    run.services = run.services.map((s) => (s.name === "db" ? { ...s, labels: { [LABEL.restorePre]: "lock", [LABEL.restorePost]: "unlock" } } : s));
    const result = await runRestorePlan(run);
    expect(result).toMatchObject({ status: "failed", items: [], error: expect.stringMatching(/restore.pre hook of db exited 1/) });
    expect(loads()).toEqual([]);
    expect(fake.execs.map((e) => e.argv.join(" "))).toEqual(["sh -c lock", "sh -c unlock"]);
  });

  it("an interrupt while artifacts are checked rejects before anything is applied", async () => {
    const { target, manifest } = await committedSet();
    const ac = new AbortController();
    target.fault = ({ op, key }) => (op === "get" && key === manifest.items[1]!.key ? (ac.abort(new CancelledError()), undefined) : undefined);
    const { run, fake } = restoring(target, manifest, () => ({}), { signal: ac.signal });
    expect(isAbortError(await runRestorePlan(run).catch((e: unknown) => e))).toBe(true);
    expect(fake.execs).toEqual([]);
  });

  it("an interrupt during an apply rejects, ends the process and skips the rest", async () => {
    const { target, manifest } = await committedSet();
    const ac = new AbortController();
    const { run, fake } = restoring(target, manifest, ({ argv }) => {
      setTimeout(() => ac.abort(new CancelledError()), 20);
      return argv[1] === "db" ? { hang: true } : {};
    }, { signal: ac.signal });
    await expect(runRestorePlan(run)).rejects.toBeInstanceOf(CancelledError);
    expect(fake.execs.map((e) => e.argv[1])).toEqual(["db"]);
    expect(fake.active()).toEqual([]);
  });
});
