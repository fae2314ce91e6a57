import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TargetError } from "../../../src/errors.ts";
import { openTarget } from "../../../src/targets/index.ts";
import type { MemoryTarget } from "../../../src/targets/memory.ts";
import { sdbackupInProcess } from "../../helpers/cli.ts";
import { container } from "../../helpers/builders.ts";
import { createFakeDocker, type FakeDocker } from "../../helpers/fake-docker.ts";

// backup → list → restore through the CLI, in process, over the fake engine and a memory:// target:
// exit codes and what each command leaves or touches, without Docker.

// Volume services with explicit labels: the archive API is all the strategy uses, so the fake
// engine needs no knowledge of a database tool's protocol.
const service = (name: string) => `  ${name}:
    image: nginx:1
    labels: { simpledeploy.backup.strategy: volume, simpledeploy.backup.paths: /srv/${name} }
`;
const COMPOSE = `name: shop\nservices:\n${service("files")}${service("media")}`;
const labels = (svc: string) => ({ labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": svc }, project: "shop" });
const containers = [container("files", labels("files")), container("media", labels("media"))];

let cwd: string;
let archives: Record<string, Buffer>;
beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "sdbackup-cmd-"));
  await writeFile(path.join(cwd, "compose.yaml"), COMPOSE);
  archives = { "/srv/files": await tarOf("files", "readme.txt", "the files volume") };
});
afterAll(() => rm(cwd, { recursive: true, force: true }));

/** The CLI in process with `--json`, over a fake engine whose containers have the archives given (media's is missing unless added). */
function cli(args: string[], extra: Record<string, Buffer> = {}) {
  const fake = createFakeDocker({ containers, archives: { ...archives, ...extra } });
  return { fake, run: sdbackupInProcess([...args, "--json"], { cwd, docker: async () => fake.api }) };
}
const restored = (fake: FakeDocker) => fake.calls.filter((c) => /^(putArchive|helper|stop|start)/.test(c));

describe("backup and restore commands over the fake engine", () => {
  it("one failed item: exit 3, and a partial set that list shows", async () => {
    const target = "memory://cmd-partial";
    const backup = await cli(["backup", "--target", target]).run;
    expect(backup.code, backup.stderr).toBe(3);
    expect(JSON.parse(backup.stdout)).toMatchObject({ status: "partial", items: [{ service: "files", status: "ok" }, { service: "media", status: "failed" }] });
    const list = await cli(["list", "--target", target]).run;
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).sets).toMatchObject([{ status: "partial" }]);
    const dry = await cli(["restore", "--target", target, "--set", JSON.parse(backup.stdout).set, "--dry-run"]).run;
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, items: [{ service: "files" }], missing: [{ service: "media", heldBy: null }] });
    expect(dry.stderr).toContain("media: not in set");
  });

  it("restore puts each service's own files back, after a full backup", async () => {
    const target = "memory://cmd-roundtrip";
    const media = { "/srv/media": await tarOf("media", "cover.jpg", "the media volume") };
    const backup = await cli(["backup", "--target", target], media).run;
    expect(backup.code, backup.stderr).toBe(0);
    const { run, fake } = cli(["restore", "--target", target, "--yes"], media);
    const restore = await run;
    expect(restore.code, restore.stderr).toBe(0);
    const put = fake.puts.map((p) => [p.id, p.data.includes("the files volume"), p.data.includes("the media volume")]);
    expect(put).toEqual([["files-id", true, false], ["media-id", false, true]]);
  });

  it("a target whose listing fails: list and restore exit 1 naming the failure, and nothing is restored", async () => {
    const target = "memory://cmd-list-fails";
    expect((await cli(["backup", "--target", target]).run).code).toBe(3);
    const store = (await openTarget(target, { env: {}, cwd })) as MemoryTarget;
    store.fault = ({ op }) => (op === "list" ? new TargetError("memory://cmd-list-fails: listing refused") : undefined);
    const list = await cli(["list", "--target", target]).run;
    expect([list.code, JSON.parse(list.stdout).error?.message]).toEqual([1, expect.stringContaining("listing refused")]);
    const { run, fake } = cli(["restore", "--target", target, "--yes", "--service", "files"]);
    const restore = await run;
    expect([restore.code, restore.stderr]).toEqual([1, expect.stringContaining("listing refused")]);
    expect(restored(fake)).toEqual([]);
  });

  it("a failure mid-way: restore reports ok/failed/not-started and prints the command that finishes the rest", async () => {
    const target = "memory://cmd-finish";
    const media = { "/srv/media": await tarOf("media", "cover.jpg", "the media volume") };
    const backup = await cli(["backup", "--target", target], media).run;
    expect(backup.code, backup.stderr).toBe(0);
    const set = JSON.parse(backup.stdout).set as string;
    // On a volume, so the content is staged and swapped by a helper, which fails here.
    const onVolume = containers.map((c) => ({ ...c, mounts: [{ type: "volume", name: `shop_${c.service}`, source: "", destination: `/srv/${c.service}`, rw: true }] }));
    const fake = createFakeDocker({ containers: onVolume, archives: { ...archives, ...media }, exec: () => ({ exitCode: 1, stderr: "mv: cannot move: Permission denied" }) });
    const restore = await sdbackupInProcess(["restore", "--target", target, "--yes"], { cwd, docker: async () => fake.api });
    expect(restore.code, restore.stderr).toBe(1);
    expect(restore.stdout).toMatch(/files\s+volume\s+failed: could not swap the restored content into \/srv\/files/);
    expect(restore.stdout).toMatch(/media\s+volume\s+not started/);
    expect(restore.stdout).toContain(`to restore the rest: sdbackup restore --set ${set} --service files --service media --target memory://cmd-finish --yes`);
  });

  it("a corrupt artifact: restore exits 1 and touches no service", async () => {
    const target = "memory://cmd-corrupt";
    const media = { "/srv/media": await tarOf("media", "cover.jpg", "the media volume") };
    expect((await cli(["backup", "--target", target, "--compression", "none"], media).run).code).toBe(0);
    const store = (await openTarget(target, { env: {}, cwd })) as MemoryTarget;
    const stored = store.objects.get([...store.objects.keys()].find((k) => k.endsWith("media.tar"))!)!;
    stored.data = Buffer.from(stored.data.toString("latin1").replace("the media volume", "THE MEDIA VOLUME"), "latin1");
    const { run, fake } = cli(["restore", "--target", target, "--yes"], media);
    const restore = await run;
    expect(restore.code, restore.stderr).toBe(1);
    expect(restore.stderr).toMatch(/sha256|checksum/i);
    expect(restored(fake)).toEqual([]);
  });
});

/** A tar like Docker's archive API returns for a directory: its basename as the top entry, then one file. */
async function tarOf(top: string, file: string, content: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: `${top}/`, type: "directory", mode: 0o755 });
  pack.entry({ name: `${top}/${file}`, mode: 0o644 }, content);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack as unknown as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}
