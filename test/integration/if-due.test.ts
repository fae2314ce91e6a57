import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTarget } from "../../src/targets/local.ts";
import { writeManifest } from "../../src/manifest/store.ts";
import { newSetId } from "../../src/manifest/keys.ts";
import { MANIFEST_VERSION } from "../../src/manifest/schema.ts";
import { sdbackup } from "../helpers/cli.ts";
import { requireDocker } from "../helpers/docker.ts";

// A yearly schedule (Jan 1, 00:00 UTC) keeps due/not-due independent of when the test runs:
// a set made now is newer than the last run, a set from 400 days ago is older.
const YEARLY = "CRON_TZ=UTC 0 0 1 1 *";
const DAY = 86_400_000;
/** Nothing listens here: any attempt to reach Docker fails with ECONNREFUSED. */
const NO_DOCKER = { DOCKER_HOST: "tcp://127.0.0.1:9" };
const signal = new AbortController().signal;

let dir: string;
let project: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-ifdue-"));
  project = `sdbt-${randomBytes(3).toString("hex")}`;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function compose(schedule: string | undefined): Promise<void> {
  const labels = schedule === undefined ? "" : `\n    labels:\n      simpledeploy.backup.schedule: ${JSON.stringify(schedule)}`;
  await writeFile(path.join(dir, "compose.yaml"), `name: ${project}\nservices:\n  db:\n    image: postgres:15${labels}\n  web:\n    image: nginx\n`);
}

/** A committed set, written like backup writes one (the manifest is the commit point). */
async function completeSet(createdAt: Date, status: "ok" | "partial" = "ok"): Promise<string> {
  const set = newSetId(createdAt);
  const at = createdAt.toISOString();
  await writeManifest(createLocalTarget(path.join(dir, "backups")), {
    schemaVersion: MANIFEST_VERSION, tool: { name: "sdbackup", version: "test" }, project, set, createdAt: at, completedAt: at, status, items: [],
    failed: status === "partial" ? [{ service: "db", strategy: "postgres", error: "pg_dump exited 1" }] : [],
  }, signal);
  return set;
}

/** A set that never got its manifest: a backup that died or is still running. */
async function incompleteSet(createdAt: Date): Promise<void> {
  const setDir = path.join(dir, "backups", project, newSetId(createdAt));
  await mkdir(setDir, { recursive: true });
  await writeFile(path.join(setDir, "db.pgdump.zst"), "partial bytes");
}

const run = (args: string[], env: NodeJS.ProcessEnv = NO_DOCKER) => sdbackup([...args, "--target", path.join(dir, "backups")], { cwd: dir, env });

describe("backup --if-due (stateless, against a local target)", () => {
  it("is not due after a fresh set: exit 0, nothing on stdout, Docker never contacted", async () => {
    await compose(YEARLY);
    const set = await completeSet(new Date());
    const r = await run(["backup", "--if-due"]);
    expect(r.stderr).toMatch(/not due \(schedule CRON_TZ=UTC 0 0 1 1 \*\): the newest set .* is not older than the last scheduled run/);
    expect(r.stderr).not.toMatch(/docker/i);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: "" });
    expect(r.stderr).toContain(new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 1)).toISOString());
    expect(await readdir(path.join(dir, "backups", project))).toEqual([set]);
  });

  it("prints one JSON document when not due", async () => {
    await compose(YEARLY);
    const createdAt = new Date(Date.now() - 60_000);
    const set = await completeSet(createdAt);
    const r = await run(["backup", "--if-due", "--json"]);
    expect(r.code).toBe(0);
    const year = new Date().getUTCFullYear();
    expect(JSON.parse(r.stdout)).toEqual({
      project, status: "not-due", lastSet: { set, createdAt: createdAt.toISOString() }, schedule: YEARLY,
      previousRun: new Date(Date.UTC(year, 0, 1)).toISOString(), nextRun: new Date(Date.UTC(year + 1, 0, 1)).toISOString(),
    });
  });

  it("counts a partial set as done", async () => {
    await compose(YEARLY);
    await completeSet(new Date(), "partial");
    const r = await run(["backup", "--if-due"]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: "" });
    expect(r.stderr).toMatch(/not due/);
  });

  it("ignores a newer incomplete set: due, so it goes on to Docker", async () => {
    await compose(YEARLY);
    await completeSet(new Date(Date.now() - 400 * DAY));
    await incompleteSet(new Date());
    const r = await run(["backup", "--if-due"]);
    expect(r.stderr).toMatch(/backup due \(schedule CRON_TZ=UTC 0 0 1 1 \*\): the run scheduled for .* is later than the newest set/);
    // past the gate, the backup itself needs the engine, which NO_DOCKER makes unreachable
    expect(r.stderr).toMatch(/cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:9/);
    expect(r.code).toBe(1);
  });

  it("with --app naming the project here, still decides without Docker; another --app needs Docker", async () => {
    await compose(YEARLY);
    await completeSet(new Date());
    const same = await run(["backup", "--if-due", "--app", project]);
    expect({ code: same.code, stdout: same.stdout }).toEqual({ code: 0, stdout: "" });
    const other = await run(["backup", "--if-due", "--app", `${project}-other`]);
    expect(other.stderr).toMatch(/cannot reach the Docker engine/);
    expect(other.code).toBe(1);
  });

  it("without any schedule exits 2 with a hint, before touching Docker or the target", async () => {
    await compose(undefined);
    const r = await run(["backup", "--if-due"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: --if-due needs a schedule, and no service of project ${project} has a simpledeploy.backup.schedule label`);
    expect(r.stderr).toMatch(/hint: add simpledeploy\.backup\.schedule="0 3 \* \* \*" to a service .*--cron EXPR/);
    const withCron = await run(["backup", "--if-due", "--cron", YEARLY]);
    expect({ code: withCron.code, stdout: withCron.stdout }).toEqual({ code: 1, stdout: "" });
    expect(withCron.stderr).toMatch(/backup due .* there is no complete set yet/);
  });

  it("with a malformed schedule exits 2 naming the service and the expression; detect does too", async () => {
    await compose("0 25 * * *");
    const expected = 'simpledeploy.backup.schedule of service db: "0 25 * * *" is not a valid schedule: hour 25 is out of range 0-23';
    const backup = await run(["backup", "--if-due"]);
    expect(backup.code).toBe(2);
    expect(backup.stderr).toContain(`error: ${expected}`);
    const detect = await sdbackup(["detect"], { cwd: dir, env: NO_DOCKER });
    expect(detect.code).toBe(2);
    expect(detect.stderr).toContain(`error: ${expected}`);
  });

  it("--cron without --if-due is a usage error", async () => {
    await compose(YEARLY);
    const r = await run(["backup", "--cron", "0 3 * * *"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--cron only applies with --if-due");
  });

  it("due against the real engine: gets past the gate and finds no container for the fake project", async () => {
    await requireDocker();
    await compose(YEARLY);
    await completeSet(new Date(Date.now() - 400 * DAY));
    const r = await run(["backup", "--if-due"], {});
    expect(r.stderr).toMatch(/backup due/);
    expect(r.stderr).toMatch(/service db has no container; start the project first/);
    expect(r.code).toBe(1);
  });
});

describe("detect and schedule commands", () => {
  it("detect shows the project's schedule", async () => {
    await compose(YEARLY);
    const r = await sdbackup(["detect", "--json"], { cwd: dir, env: NO_DOCKER });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).schedule).toEqual({ expression: "0 0 1 1 *", timezone: "UTC", services: ["db"] });
  });

  it("schedule prints a crontab line by default and every format with --json", async () => {
    await compose("CRON_TZ=Europe/Berlin 0 3 * * *");
    const line = await sdbackup(["schedule", "--bin", "/usr/local/bin/sdbackup"], { cwd: dir, env: NO_DOCKER });
    expect(line.code).toBe(0);
    expect(line.stdout).toContain(
      `CRON_TZ=Europe/Berlin\n0 3 * * * cd ${dir} && set -a && . /etc/sdbackup/${project}.env && set +a && flock -n /tmp/sdbackup-${project}.lock ` +
      `sh -c '/usr/local/bin/sdbackup backup --app ${project} --log-file /var/log/sdbackup-${project}.log >/dev/null'\n`,
    );
    // without --bin: the sdbackup that printed it, by absolute path (from source: this node and src/main.ts)
    const self = await sdbackup(["schedule"], { cwd: dir, env: NO_DOCKER });
    expect(self.stdout).toContain(`sh -c '${process.execPath} ${path.resolve(import.meta.dirname, "../../src/main.ts")} backup --app ${project} `);
    const json = await sdbackup(["schedule", "--json"], { cwd: dir, env: NO_DOCKER });
    const doc = JSON.parse(json.stdout);
    expect(Object.keys(doc).sort()).toEqual(["app", "crontab", "githubActions", "nextRun", "schedule", "source", "systemd", "timezone"]);
    expect({ app: doc.app, schedule: doc.schedule, timezone: doc.timezone, source: doc.source }).toEqual({ app: project, schedule: "0 3 * * *", timezone: "Europe/Berlin", source: "label" });
    expect(doc.systemd.timer).toContain("OnCalendar=*-*-* 03:00:00 Europe/Berlin\n");
    expect(doc.githubActions).toContain(`backup --app ${project} --if-due\n`);
  });

  it("schedule without a label errors clearly, and works with --cron", async () => {
    await compose(undefined);
    const none = await sdbackup(["schedule", "--print", "systemd"], { cwd: dir, env: NO_DOCKER });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`error: project ${project} has no simpledeploy.backup.schedule label`);
    expect(none.stderr).toContain('--cron "0 3 * * *"');
    const flag = await sdbackup(["schedule", "--print", "github-actions", "--cron", "30 4 * * mon-fri"], { cwd: dir, env: NO_DOCKER });
    expect(flag.code).toBe(0);
    expect(flag.stdout).toContain('    - cron: "30 4 * * mon-fri"\n');
    expect(flag.stdout).toContain(`backup --app ${project} --if-due --cron '30 4 * * mon-fri'\n`);
  });
});
