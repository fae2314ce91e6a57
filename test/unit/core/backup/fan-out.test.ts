import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { createFanOut } from "../../../../src/core/backup/fan-out.ts";
import { runBackupPlan } from "../../../../src/core/backup/run-backup.ts";
import { TargetError } from "../../../../src/errors.ts";
import type { Manifest } from "../../../../src/manifest/schema.ts";
import { tee } from "../../../../src/pipeline/tee.ts";
import { createMemoryTarget, type MemoryTarget } from "../../../../src/targets/memory.ts";
import { backupRun } from "../../../helpers/builders.ts";
import { createFakeDocker } from "../../../helpers/fake-docker.ts";

// Several targets in one run: the tee's pace and memory, and what each target commits.

const keys = (t: MemoryTarget) => [...t.objects.keys()].sort();

describe("tee", () => {
  it("feeds every branch at the pace of the slowest, holding about one highWaterMark per branch", async () => {
    const MiB = 1024 * 1024;
    let produced = 0;
    const source = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        if (produced >= 32 * MiB) return this.push(null);
        produced += 64 * 1024;
        this.push(randomBytes(64 * 1024));
      },
    });
    const [fast, slow] = tee(source, 2, MiB);
    let slowGot = 0;
    let maxLead = 0;
    const sink = (delay: number, count: (n: number) => void) => new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _e, done) {
        count(chunk.length);
        maxLead = Math.max(maxLead, produced - slowGot);
        setTimeout(done, delay);
      },
    });
    await Promise.all([pipeline(fast!, sink(0, () => {})), pipeline(slow!, sink(1, (n) => (slowGot += n)))]);
    expect(slowGot).toBe(32 * MiB);
    expect(maxLead).toBeLessThan(4 * MiB);
  });

  it("drops a branch its consumer destroyed and goes on with the others; a source error reaches every branch", async () => {
    const [a, b] = tee(Readable.from(["x", "y", "z"].map((s) => Buffer.from(s))), 2);
    b!.destroy();
    const got: string[] = [];
    for await (const c of a!) got.push(String(c));
    expect(got.join("")).toBe("xyz");
    const boom = new Error("source failed");
    const failing = new Readable({ read() { this.destroy(boom); } });
    const branches = tee(failing, 2);
    await Promise.all(branches.map((br) => expect(pipeline(br, new Writable({ write: (_c, _e, d) => d() }))).rejects.toBe(boom)));
  });
});

describe("backup to several targets", () => {
  const setup = () => {
    const run = backupRun(["db", "cache"], createFakeDocker().api);
    run.docker = createFakeDocker({ exec: ({ argv }) => ({ stdout: Array.from({ length: 50 }, () => `${argv[1]} row\n`) }), containers: run.containers }).api;
    const [one, two, three] = [createMemoryTarget("one"), createMemoryTarget("two"), createMemoryTarget("three")];
    run.target = createFanOut([one, two, three]);
    return { run, one, two, three };
  };

  it("each dump runs once and every target commits the same set", async () => {
    const { run, one, two, three } = setup();
    const result = await runBackupPlan(run);
    expect(result.status).toBe("ok");
    expect(result.targets?.map((t) => t.status)).toEqual(["ok", "ok", "ok"]);
    expect(keys(one)).toEqual(keys(two));
    expect(keys(one)).toEqual(keys(three));
    expect(keys(one)).toContain(`app/${result.set}/manifest.json`);
    const m = JSON.parse(one.objects.get(result.manifest!)!.data.toString()) as Manifest;
    for (const t of [two, three]) for (const item of m.items) expect(t.objects.get(item.key)!.data).toEqual(one.objects.get(item.key)!.data);
  });

  it("a target failing mid-put: the others commit, it keeps nothing of the set, and the run is partial naming it", async () => {
    const { run, one, two, three } = setup();
    two.fault = ({ op, key, bytes }) => (op === "put" && key.endsWith("cache.dump") && bytes > 100 ? new TargetError("two: connection reset") : undefined);
    const result = await runBackupPlan(run);
    expect(result.status).toBe("partial");
    expect(result.items.every((i) => i.status === "ok")).toBe(true);
    expect(result.targets).toEqual([
      { target: one.display, status: "ok", manifest: result.manifest },
      { target: two.display, status: "failed", manifest: null, error: "two: connection reset" },
      { target: three.display, status: "ok", manifest: result.manifest },
    ]);
    expect(keys(two)).toEqual([]);
    expect(keys(one)).toHaveLength(3);
    expect(keys(three)).toHaveLength(3);
  });

  it("every target failing fails the items and commits nothing", async () => {
    const { run, one, two, three } = setup();
    for (const t of [one, two, three]) t.fault = ({ op }) => (op === "put" ? new TargetError(`${t.display} down`) : undefined);
    const result = await runBackupPlan(run);
    expect(result.status).toBe("failed");
    expect([...keys(one), ...keys(two), ...keys(three)]).toEqual([]);
  });
});
