// The fast transport (src/docker/transport.ts) against a real postgres: Ctrl-C mid-dump leaves no
// helper container or FIFO directory, and a crashed run's leftovers are removed by the next run.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresFixture } from "../helpers/postgres.ts";
import { sdbackup } from "../helpers/cli.ts";
import { docker, requireDocker, startContainer, removeContainers } from "../helpers/docker.ts";

const run = promisify(execFile);
const pg = postgresFixture("sdbxfer");
const { stack, psql } = pg;

/** The anonymous volumes the image's VOLUME lines gave a container (postgres: its data directory). */
const volumesOf = async (id: string) =>
  ((await docker.getContainer(id).inspect()).Mounts ?? []).filter((m) => m.Type === "volume").map((m) => m.Name!);
const volumeExists = async (name: string) => docker.getVolume(name).inspect().then(() => true, () => false);

const helpersOf = async (pid: number) =>
  docker.listContainers({ all: true, filters: { label: [`sdbackup.transport.owner=${hostname()}/${pid}`] } });

beforeAll(async () => {
  await requireDocker();
  await pg.setup();
  await psql("create table t as select g from generate_series(1, 1000) g");
}, 180_000);

afterAll(() => pg.teardown(), 120_000);

describe("fast transport", () => {
  it("SIGINT during a fast dump exits 130 and removes the helper container and its FIFO directory", async () => {
    // pg_dump waits for this lock, so the helper is still dumping when the interrupt comes.
    const id = await stack.containerId("db");
    await run("docker", ["exec", "-d", id, "psql", "-U", "app", "-d", "appdb", "-c", "begin; lock table t in access exclusive mode; select pg_sleep(30); commit;"]);
    let pid = 0;
    const result = sdbackup(["backup", "--app", stack.project, "--target", pg.target, "--transport", "fast", "--json"], { cwd: pg.cwd, onSpawn: (p) => (pid = p) });
    let dirs: string[] = [];
    let running: string[] = [];
    for (let i = 0; i < 300 && dirs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (!pid) continue;
      const helpers = (await helpersOf(pid)).filter((c) => c.State === "running");
      dirs = helpers.map((c) => c.Labels["sdbackup.transport.dir"]!);
      running = helpers.map((c) => c.Id);
    }
    expect(dirs.length, "no running helper container appeared").toBeGreaterThan(0);
    const volumes = (await Promise.all(running.map(volumesOf))).flat();
    expect(volumes.length, "the postgres image declares a volume, so each helper gets one").toBeGreaterThan(0);
    expect(dirs.every((d) => existsSync(join(d, "out")))).toBe(true);
    process.kill(pid, "SIGINT");
    const r = await result;
    expect(r.code, r.stderr).toBe(130);
    expect(await helpersOf(pid)).toEqual([]);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    for (const v of volumes) expect(await volumeExists(v), `helper volume ${v} left behind`).toBe(false);
    await psql("select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep%' and pid <> pg_backend_pid()");
  }, 120_000);

  it("the next run removes a crashed run's helper container and FIFO directory, then dumps over the fast transport", async () => {
    const dead = spawnSync("true").pid; // a process that has exited: the owner of the leftovers
    const dir = await mkdtemp(join(tmpdir(), "sdbackup-xfer-"));
    const left = await startContainer({
      image: "postgres:15", cmd: ["sleep", "300"],
      labels: { "sdbackup.transport": "crashed", "sdbackup.transport.owner": `${hostname()}/${dead}`, "sdbackup.transport.dir": dir },
    });
    const leftVolumes = await volumesOf(left.id);
    try {
      const r = await sdbackup(["backup", "--app", stack.project, "--target", pg.target, "--json"], { cwd: pg.cwd });
      expect(r.code, r.stderr).toBe(0);
      const items = (JSON.parse(r.stdout) as { items: { part?: string; transport?: string }[] }).items;
      expect(items.find((i) => i.part === "appdb")?.transport).toBe("fast");
      expect(await docker.listContainers({ all: true, filters: { id: [left.id] } })).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      for (const v of leftVolumes) expect(await volumeExists(v), `leftover's volume ${v}`).toBe(false);
    } finally {
      await removeContainers([left.id]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
