import { describe, expect, it } from "vitest";
import { runBackupPlan } from "../../../../src/core/backup/run-backup.ts";
import { listSets } from "../../../../src/manifest/store.ts";
import { selectSet } from "../../../../src/manifest/select.ts";
import { createMemoryTarget } from "../../../../src/targets/memory.ts";
import { backupRun } from "../../../helpers/builders.ts";
import { createFakeDocker, type ExecScript } from "../../../helpers/fake-docker.ts";

// Which set a restore picks from what real backup runs leave behind (ok, partial, interrupted).

describe("the set a restore picks after several backup runs", () => {
  it("latest is the newest ok set: a newer partial set is only restored by id, an interrupted run is not there", async () => {
    const target = createMemoryTarget();
    const signal = new AbortController().signal;
    const backup = async (at: string, script: ExecScript, runSignal = signal) => {
      const run = backupRun(["db", "cache"], createFakeDocker().api, { target, now: () => new Date(at), signal: runSignal });
      run.docker = createFakeDocker({ containers: run.containers, exec: script }).api;
      return runBackupPlan(run).catch(() => undefined);
    };
    const ok = await backup("2026-11-20T03:00:00.000Z", ({ argv }) => ({ stdout: `${argv[1]} v1` }));
    const partial = await backup("2026-11-21T03:00:00.000Z", ({ argv }) => (argv[1] === "cache" ? { exitCode: 1 } : { stdout: "db v2" }));
    const ac = new AbortController();
    await backup("2026-11-22T03:00:00.000Z", () => (setTimeout(() => ac.abort(), 10), { hang: true }), ac.signal);

    expect([ok?.status, partial?.status]).toEqual(["ok", "partial"]);
    expect((await listSets(target, "app", signal)).map((s) => s.set)).toEqual([partial!.set, ok!.set]);
    const latest = await selectSet(target, "app", undefined, [], signal);
    expect([latest.set, latest.status]).toEqual([ok!.set, "ok"]);
    const byId = await selectSet(target, "app", partial!.set, ["db"], signal);
    expect([byId.set, byId.status, byId.items.map((i) => i.service)]).toEqual([partial!.set, "partial", ["db"]]);
    await expect(selectSet(target, "app", partial!.set, ["cache"], signal)).rejects.toMatchObject({ code: "E_NO_SET" });
  });
});
