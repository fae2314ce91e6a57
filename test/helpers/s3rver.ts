import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** The directory s3rver stores into. */
  dir: string;
  /** The s3rver process, for tests that kill (SIGKILL) or freeze (SIGSTOP) the store mid-upload. */
  pid: number;
  /** Multipart uploads the store holds (neither completed nor aborted), with the parts it received so far. */
  uploads(): Promise<{ id: string; parts: string[] }[]>;
  /** s3rver's fixed credentials. */
  env: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 on a free port, storing into a fresh temp dir, with one bucket.
 * It runs in a child process (see s3rver-child.mjs) that dies with its stdin. Given `dir` and
 * `bucket` (a restart after a kill), it serves what is stored there and `stop` leaves `dir` alone.
 * `completeDelayMs` makes every CompleteMultipartUpload answer that late (a slow assembly).
 */
export async function startS3rver(opts: { dir?: string; bucket?: string; completeDelayMs?: number } = {}): Promise<S3rverHandle> {
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), "sdbackup-s3rver-")));
  const removeDir = () => (opts.dir === undefined ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
  const bucket = opts.bucket ?? `test-${randomBytes(4).toString("hex")}`;
  const script = fileURLToPath(new URL("./s3rver-child.mjs", import.meta.url));
  const s3rver = createRequire(import.meta.url).resolve("s3rver");
  const child = spawn(process.execPath, ["--openssl-legacy-provider", script, s3rver, dir, bucket, String(opts.completeDelayMs ?? 0)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`s3rver exited with ${code}: ${stderr}`)));
      child.once("error", reject);
      createInterface({ input: child.stdout }).once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    });
    return {
      endpoint: `http://127.0.0.1:${port}`,
      bucket,
      dir,
      pid: child.pid!,
      async uploads() {
        // s3rver's filesystem store: <dir>/<bucket>/._S3rver_uploads/<id>/{key,metadata,1,1.md5,…}
        const root = path.join(dir, bucket, "._S3rver_uploads");
        const ids = await readdir(root).catch(() => [] as string[]);
        return Promise.all(ids.map(async (id) => ({ id, parts: (await readdir(path.join(root, id)).catch(() => [] as string[])).filter((f) => /^\d+$/.test(f)) })));
      },
      env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" },
      async stop() {
        child.stdin.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
        await removeDir();
      },
    };
  } catch (err) {
    child.kill("SIGKILL");
    await removeDir();
    throw err;
  }
}

/**
 * Resolves once a multipart upload not in `before` (ids from `uploads()`) receives its first part,
 * so its creation has been answered: the moment to kill or freeze the store mid-upload. Fails when
 * `running()` turns false first or after `timeoutMs`.
 */
export async function firstPartArriving(s3: S3rverHandle, before: string[], running: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && running()) {
    if ((await s3.uploads()).some((u) => !before.includes(u.id) && u.parts.length > 0)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(running() ? `no upload started within ${timeoutMs} ms` : "the run ended before its S3 upload started");
}
