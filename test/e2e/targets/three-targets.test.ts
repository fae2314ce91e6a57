import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack } from "../../helpers/compose.ts";
import { sdbackup, type CliRun } from "../../helpers/cli.ts";
import { firstPartArriving, startS3rver, type S3rverHandle } from "../../helpers/s3rver.ts";
import { startRcloneBackend, type RcloneBackend } from "../../helpers/rclone.ts";
import { openTarget } from "../../../src/targets/index.ts";

// Issue 15 done-when: a backup to a local directory, an S3 bucket (s3rver) and an SFTP box (OpenSSH
// through rclone) in one run commits three sets; SIGKILL of the S3 server mid-upload leaves two
// committed sets, exit 3, the aborted upload named with its cause, and nothing of the set in S3.

const stack = composeStack(join(import.meta.dirname, "compose.yaml"), "sdbtee");
let s3: S3rverHandle;
let s3dir: string;
let sftp: RcloneBackend;
let local: string;
let cwd: string;

// 5 MiB parts: the 24 MiB artifact is a multipart upload of five parts.
const s3url = () => `s3://${s3.bucket}/sets?endpoint=${encodeURIComponent(s3.endpoint)}&partSize=5MiB`;
const env = () => ({ ...sftp.env, ...s3.env, AWS_REGION: "us-east-1" });
const cli = (args: string[], onSpawn?: (pid: number) => void): Promise<CliRun> =>
  sdbackup([...args, "--app", stack.project], { cwd, env: env(), ...(onSpawn ? { onSpawn } : {}) });
const allTargets = () => ["--target", local, "--target", s3url(), "--target", sftp.url];
async function bucketKeys(): Promise<string[]> {
  const bucket = await openTarget(s3url(), { env: env(), cwd });
  const keys: string[] = [];
  for await (const o of bucket.list("", { signal: new AbortController().signal })) keys.push(o.key);
  return keys;
}

beforeAll(async () => {
  s3dir = await mkdtemp(join(tmpdir(), "sdb-tee-s3-"));
  local = await mkdtemp(join(tmpdir(), "sdb-tee-local-"));
  cwd = await mkdtemp(join(tmpdir(), "sdb-tee-cwd-"));
  [s3, sftp] = await Promise.all([startS3rver({ dir: s3dir }), startRcloneBackend("sftp"), stack.up()]);
  // Incompressible, so that the S3 upload needs several parts and lasts long enough to be cut.
  await stack.exec("files", ["sh", "-c", "head -c 24M /dev/urandom > /srv/files/big && echo small > /srv/files/note"]);
}, 180_000);

afterAll(async () => {
  await stack.down();
  await Promise.all([s3?.stop(), sftp?.stop()]);
  for (const d of [s3dir, local, cwd]) if (d) await rm(d, { recursive: true, force: true });
}, 120_000);

describe("one backup, three targets", () => {
  it("commits a set on the local directory, the bucket and the SFTP box", async () => {
    const r = await cli(["backup", ...allTargets(), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.targets.map((t: { status: string }) => t.status)).toEqual(["ok", "ok", "ok"]);
    for (const target of [local, s3url(), sftp.url]) {
      const v = await cli(["verify", "--set", doc.set, "--target", target, "--json"]);
      expect(v.code, `${target}: ${v.stderr}`).toBe(0);
    }
  }, 120_000);

  it("S3 killed mid-upload: two sets committed, exit 3, the aborted upload named, nothing of the set in S3", async () => {
    const before = (await s3.uploads()).map((u) => u.id);
    let running = false;
    const done = cli(["backup", ...allTargets(), "--json"], () => (running = true)).finally(() => (running = false));
    while (!running) await new Promise((r) => setTimeout(r, 10));
    await firstPartArriving(s3, before, () => running);
    process.kill(s3.pid, "SIGKILL");
    const r = await done;
    expect(r.code, r.stderr).toBe(3);
    const doc = JSON.parse(r.stdout);
    const key = `${stack.project}/${doc.set}/files.tar.zst`;
    expect(doc.targets.map((t: { status: string }) => t.status)).toEqual(["ok", "failed", "ok"]);
    // One line that names the target, the aborted upload and why it stopped.
    const line = r.stderr.split("\n").find((l) => l.includes("error: target s3://")) ?? "";
    expect(line).toContain(`cannot upload ${key}: the store went away (connect ECONNREFUSED`);
    expect(line).toMatch(/its multipart upload \w+ could not be aborted/);
    expect(r.stderr).not.toMatch(/exited \?|^\s+at /m);

    for (const target of [local, sftp.url]) {
      const v = await cli(["verify", "--set", doc.set, "--target", target, "--json"]);
      expect(v.code, `${target}: ${v.stderr}`).toBe(0);
      expect(JSON.parse(v.stdout).sets[0]).toMatchObject({ set: doc.set, status: "ok" });
    }

    // The store back on the same directory: no object of the set, not even a completed part of it;
    // the upload the dead store could not abort is still open there, never completed.
    s3 = await startS3rver({ dir: s3dir, bucket: s3.bucket });
    const keys = await bucketKeys();
    expect(keys.filter((k) => k.includes(doc.set))).toEqual([]);
    expect(keys.filter((k) => k.endsWith("manifest.json")), "the first run's set is still there").toHaveLength(1);
    const left = line.match(/its multipart upload (\w+)/)![1]!;
    expect((await s3.uploads()).map((u) => u.id)).toContain(left);
    const listed = await cli(["list", "--target", s3url(), "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toContain(doc.set);
  }, 120_000);
});
