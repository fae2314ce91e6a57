import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** s3rver's fixed credentials. */
  env: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 on a free port, storing into a fresh temp dir, with one bucket.
 * It runs in a child process (see s3rver-child.mjs) that dies with its stdin.
 */
export async function startS3rver(): Promise<S3rverHandle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-s3rver-"));
  const bucket = `test-${randomBytes(4).toString("hex")}`;
  const script = fileURLToPath(new URL("./s3rver-child.mjs", import.meta.url));
  const s3rver = createRequire(import.meta.url).resolve("s3rver");
  const child = spawn(process.execPath, ["--openssl-legacy-provider", script, s3rver, dir, bucket], {
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
      env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" },
      async stop() {
        child.stdin.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
