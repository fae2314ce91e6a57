import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTarget } from "../../../src/targets/index.ts";
import type { MemoryTarget } from "../../../src/targets/memory.ts";
import { sdbackupInProcess, withoutSecrets } from "../../helpers/cli.ts";
import { container } from "../../helpers/builders.ts";
import { createFakeDocker, type ExecScript } from "../../helpers/fake-docker.ts";

// backup → list → restore through the CLI, in process, over the fake engine and a memory:// target:
// exit codes and what each command leaves, without Docker.

const COMPOSE = `name: shop
services:
  db:
    image: postgres:15
    environment: { POSTGRES_USER: app, POSTGRES_DB: appdb, POSTGRES_PASSWORD: Fake-Secret-1 }
  analytics:
    image: postgres:15
    environment: { POSTGRES_USER: app, POSTGRES_DB: stats, POSTGRES_PASSWORD: Fake-Secret-1 }
`;
const labels = (svc: string) => ({ labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": svc }, project: "shop" });
const containers = [container("db", labels("db")), container("analytics", labels("analytics"))];

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "sdbackup-cmd-"));
  await writeFile(path.join(cwd, "compose.yaml"), COMPOSE);
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

function cli(args: string[], script: ExecScript) {
  const fake = createFakeDocker({ containers, exec: script });
  return { fake, run: sdbackupInProcess([...args, "--json"], { cwd, docker: async () => fake.api }) };
}
const dumps: ExecScript = ({ id, argv }) => (argv[0] === "pg_dump" ? { stdout: `PGDMP dump of ${id}` } : {});

describe("backup and restore commands over the fake engine", () => {
  it("one failed dump: exit 3, a partial set that list shows, the secret nowhere in output", async () => {
    const target = "memory://cmd-partial";
    const { run } = cli(["backup", "--target", target], (call) => (call.id === "analytics-id" ? { exitCode: 1, stderr: "pg_dump: error: connection refused" } : dumps(call)));
    const backup = await run;
    expect(backup.code, backup.stderr).toBe(3);
    expect(JSON.parse(backup.stdout)).toMatchObject({ status: "partial", items: [{ service: "db", status: "ok" }, { service: "analytics", status: "failed" }] });
    const list = await cli(["list", "--target", target], dumps).run;
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).sets).toMatchObject([{ status: "partial" }]);
    for (const r of [backup, list]) withoutSecrets(r, ["Fake-Secret-1"]);
  });

  it("restore feeds each service its own dump, after a full backup", async () => {
    const target = "memory://cmd-roundtrip";
    const backup = await cli(["backup", "--target", target], dumps).run;
    expect(backup.code, backup.stderr).toBe(0);
    const { run, fake } = cli(["restore", "--target", target, "--yes"], () => ({}));
    const restore = await run;
    expect(restore.code, restore.stderr).toBe(0);
    const fed = fake.execs.filter((e) => e.stdin).map((e) => [e.id, e.argv[0], e.stdin!.toString()]);
    expect(fed).toEqual([["db-id", "pg_restore", "PGDMP dump of db-id"], ["analytics-id", "pg_restore", "PGDMP dump of analytics-id"]]);
  });

  it("a corrupt artifact: restore exits 1 and feeds nothing to any service", async () => {
    const target = "memory://cmd-corrupt";
    expect((await cli(["backup", "--target", target, "--compression", "none"], dumps).run).code).toBe(0);
    const store = (await openTarget(target, { env: {}, cwd })) as MemoryTarget;
    const key = [...store.objects.keys()].find((k) => k.endsWith("analytics.pgdump"))!;
    const stored = store.objects.get(key)!;
    stored.data = Buffer.from(stored.data.toString().replace("dump", "DUMP"));
    const { run, fake } = cli(["restore", "--target", target, "--yes"], () => ({}));
    const restore = await run;
    expect(restore.code, restore.stderr).toBe(1);
    expect(restore.stderr).toMatch(/sha256|checksum|size/i);
    expect(fake.execs.filter((e) => e.stdin)).toEqual([]);
  });
});
