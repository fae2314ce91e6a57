import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLocalTarget } from "../../../src/targets/local.ts";
import { withTargetInHint } from "../../../src/commands/options.ts";
import { NoSetError } from "../../../src/errors.ts";
import { container } from "../../helpers/builders.ts";
import { createFakeDocker } from "../../helpers/fake-docker.ts";
import { sdbackupInProcess } from "../../helpers/cli.ts";
import { writeCompleteSet } from "../../helpers/sets.ts";

/**
 * Every command finds its project the same way (-f, --app, the working directory), and an --app
 * that names nothing is a usage error listing what exists. No Docker: a fake engine lists
 * containers of two running projects, `app` and `shop`.
 */
let dir: string;
let backups: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-project-"));
  backups = path.join(dir, "backups");
  await mkdir(path.join(dir, "here"));
  await writeFile(
    path.join(dir, "here", "compose.yaml"),
    'name: mine\nservices:\n  db:\n    image: postgres:15\n    labels:\n      simpledeploy.backup.retention: "last=1"\n  web:\n    image: nginx\n',
  );
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const engine = () =>
  createFakeDocker({
    containers: [
      container("db"),
      container("cache", { id: "shop-cache", project: "shop", labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "cache" } }),
      container("old", { id: "gone-old", running: false, project: "gone", labels: { "com.docker.compose.project": "gone", "com.docker.compose.service": "old" } }),
    ],
  }).api;
const run = (args: string[], cwd = path.join(dir, "here")) => sdbackupInProcess(args, { cwd, docker: async () => engine() });

const completeSet = (project: string, set: string, services: string[]) => writeCompleteSet(createLocalTarget(backups), project, set, services);

describe("--app that names nothing, on commands that read only the target", () => {
  it.each([["list"], ["verify"]])("%s --app typo is exit 2 naming the projects in the target and the running ones", async (cmd) => {
    await completeSet("shop", "20261101T030000Z-aaaa", ["cache"]);
    const r = await run([cmd, "--app", "shpo", "--target", backups]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('no sets of project "shpo" and no such compose project');
    expect(r.stderr).toContain(`projects in ${backups}: shop; running compose projects: app, shop`);
  });

  it.each([["list", 0], ["verify", 1]] as const)("%s --app of a running project without sets is not a usage error", async (cmd, code) => {
    await completeSet("shop", "20261101T030000Z-aaaa", ["cache"]);
    const r = await run([cmd, "--app", "app", "--target", backups]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).not.toContain("no such compose project");
  });
});

describe("--app that names nothing", () => {
  it.each([["detect"], ["backup", "--target", "b"], ["restore", "--yes"], ["schedule", "--cron", "0 3 * * *"]])(
    "%s --app typo inside a project directory is exit 2 naming the projects that exist",
    async (...args) => {
      const r = await run([...args, "--app", "mien"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`error: no compose project "mien" (running compose projects: app, shop; the project in ${path.join(dir, "here")}: mine)`);
      expect(r.stdout).toBe("");
    },
  );

  it("outside a project directory it lists the running projects only", async () => {
    const r = await run(["detect", "--app", "nope"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: no compose project "nope" (running compose projects: app, shop)');
  });

  it("the project of the working directory is found by its name without containers", async () => {
    const r = await run(["detect", "--app", "mine", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ project: "mine", origin: "files" });
  });
});

describe("prune and verify find the project in the working directory", () => {
  beforeEach(async () => {
    await completeSet("mine", "20260103T030000Z-aaaa", ["db"]);
    await completeSet("mine", "20260102T030000Z-bbbb", ["db"]);
    await completeSet("other", "20260101T030000Z-cccc", ["db"]);
  });

  it("prune takes the project and its retention label from the compose file here", async () => {
    const r = await run(["prune", "--target", backups, "--dry-run", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ project: "mine", policySource: "label", policy: { last: 1 } });
    expect(doc.sets.map((s: { project: string; set: string; action: string }) => [s.project, s.set, s.action])).toEqual([
      ["mine", "20260103T030000Z-aaaa", "keep"],
      ["mine", "20260102T030000Z-bbbb", "remove"],
    ]);
    expect(r.dockerUsed).toBe(false);
  });

  it("prune --app naming no project in the target says so", async () => {
    const r = await run(["prune", "--app", "mnie", "--target", backups, "--keep-last", "1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: no sets of project mnie in ${backups}`);
  });

  it("verify picks the project here although the target holds two", async () => {
    const r = await run(["verify", "--target", backups, "--json"]);
    // the artifacts are fake, so the check fails; what matters is which set was chosen
    expect(r.stderr).not.toMatch(/several|holds 2 projects/);
    expect(JSON.parse(r.stdout).sets.map((s: { project: string; set: string }) => `${s.project}/${s.set}`)).toEqual(["mine/20260103T030000Z-aaaa"]);
  });
});

describe("restore --service", () => {
  it("a name in neither the project nor the set is exit 2 listing both", async () => {
    await completeSet("mine", "20260103T030000Z-aaaa", ["db", "files"]);
    const r = await run(["restore", "--service", "nope", "--target", backups, "--yes"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error: no service "nope" in project mine or its set');
    expect(r.stderr).toContain("hint: services: db, files, web");
  });

  it("without any set it lists the project's services", async () => {
    const r = await run(["restore", "--service", "nope", "--target", backups, "--yes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("hint: services: db, web");
  });
});

describe("hints repeat --target", () => {
  it("a missing set suggests sdbackup list with the same target", async () => {
    const r = await run(["restore", "--target", backups, "--yes"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`hint: run sdbackup list --target ${backups} to see the sets in the target`);
  });

  it("without --target the hint stays as it is", async () => {
    const r = await run(["restore", "--yes"]);
    expect(r.stderr).toContain("hint: run sdbackup list to see the sets in the target");
  });

  it("credentials are removed and the value is quoted for the shell", () => {
    const err = withTargetInHint(new NoSetError("no set"), "s3://AKIA:s3cret@bucket/p?endpoint=http://127.0.0.1:9000&region=eu") as NoSetError;
    expect(err.hint).toBe("run sdbackup list --target 's3://bucket/p?endpoint=http://127.0.0.1:9000&region=eu' to see the sets in the target");
    expect(err.hint).not.toContain("s3cret");
  });
});
