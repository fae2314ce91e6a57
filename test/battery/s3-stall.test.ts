import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack } from "../helpers/compose.ts";
import { sdbackup, type CliRun } from "../helpers/cli.ts";
import { firstPartArriving, startS3rver, type S3rverHandle } from "../helpers/s3rver.ts";
import { openTarget } from "../../src/targets/index.ts";

// Issue 11 case 9: an S3 store that stops answering mid-upload (s3rver under SIGSTOP: connections
// stay open, nothing moves). A short --stall-timeout fails the run within seconds; at the default
// one, a single SIGINT ends it within seconds. Either way nothing of the set is visible in S3.

const stack = composeStack(join(import.meta.dirname, "compose.yaml"), "sdbs3s");
let s3: S3rverHandle;
let cwd: string;

const s3url = () => `s3://${s3.bucket}/sets?endpoint=${encodeURIComponent(s3.endpoint)}&partSize=5MiB`;
const env = () => ({ ...s3.env, AWS_REGION: "us-east-1" });

/** Starts a backup of the app's volume to the bucket, and freezes the store once its first part is arriving. */
async function frozenMidUpload(args: string[]): Promise<{ pid: number; frozenAt: number; done: Promise<CliRun> }> {
  const before = (await s3.uploads()).map((u) => u.id);
  let pid = 0;
  let running = false;
  const done = sdbackup(["backup", "--app", stack.project, "--service", "app", "--target", s3url(), "--json", ...args], {
    cwd, env: env(), onSpawn: (p) => ((pid = p), (running = true)),
  }).finally(() => (running = false));
  while (!running) await new Promise((r) => setTimeout(r, 10));
  await firstPartArriving(s3, before, () => running);
  process.kill(s3.pid, "SIGSTOP");
  return { pid, frozenAt: Date.now(), done };
}

function thaw(): void {
  try {
    process.kill(s3.pid, "SIGCONT");
  } catch {
    // not running any more
  }
}

async function objectsOf(set: string | undefined): Promise<string[]> {
  const bucket = await openTarget(s3url(), { env: env(), cwd });
  const keys: string[] = [];
  for await (const o of bucket.list("", { signal: new AbortController().signal })) keys.push(o.key);
  return set === undefined ? keys : keys.filter((k) => k.includes(set));
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "sdb-s3s-cwd-"));
  [s3] = await Promise.all([startS3rver(), stack.up()]);
  // Incompressible: the upload needs several 5 MiB parts.
  await stack.exec("app", ["sh", "-c", "head -c 24M /dev/urandom > /srv/files/big"]);
}, 180_000);

afterAll(async () => {
  if (s3) thaw();
  await stack.down();
  await s3?.stop();
  if (cwd) await rm(cwd, { recursive: true, force: true });
}, 120_000);

describe("case 9: an S3 store that stops answering mid-upload", () => {
  it("with --stall-timeout 3s the run fails within seconds, naming the target and the silence", async () => {
    let r: CliRun;
    let seconds: number;
    try {
      const run = await frozenMidUpload(["--stall-timeout", "3s"]);
      r = await run.done;
      seconds = (Date.now() - run.frozenAt) / 1000;
    } finally {
      thaw();
    }
    expect(r.code, r.stderr).toBe(1);
    // Three attempts of the stalled part (the SDK's retries), then at most 5 s to abort the upload.
    expect(seconds, r.stderr).toBeLessThan(25);
    const display = `s3://${s3.bucket}/sets?endpoint=${s3.endpoint}`;
    // whichever notices first: the put's own guard (no byte taken) or S3's idle socket
    expect(r.stderr).toContain(`app: ${display}: `);
    expect(r.stderr).toMatch(/the store took no data for 3s while storing \S+app\.tar\.zst|app\.tar\.zst: the store sent and took nothing for 3s \(it stopped answering\)/);
    expect(r.stderr).toMatch(/its multipart upload \w+ could not be aborted/);
    expect(r.stderr).not.toMatch(/exited \?|^\s+at /m);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ status: "failed", manifest: null });
    expect(await objectsOf(doc.set)).toEqual([]);
  }, 120_000);

  it("at the default stall timeout one SIGINT ends the run within seconds, exit 130, naming the upload it leaves", async () => {
    let r: CliRun;
    let seconds: number;
    try {
      const run = await frozenMidUpload([]);
      await new Promise((res) => setTimeout(res, 1000)); // really stuck: a part in flight, nothing moving
      const t0 = Date.now();
      process.kill(run.pid, "SIGINT");
      r = await run.done;
      seconds = (Date.now() - t0) / 1000;
    } finally {
      thaw();
    }
    expect(r.code, r.stderr).toBe(130);
    // At most 5 s for the abort request the frozen store cannot answer.
    expect(seconds, r.stderr).toBeLessThan(15);
    expect(r.stderr).toMatch(/app: interrupted; multipart upload \w+ of \S+app\.tar\.zst in s3:\/\/\S+ was not aborted \(no answer within 5 s\): a later backup removes it once it is a day old/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    // Thawed, the store shows no object at all: the upload was never completed.
    expect(await objectsOf(undefined)).toEqual([]);
  }, 120_000);
});
