import { execFileSync, spawn } from "node:child_process";
import { freePort, startSshd, waitForPort } from "./sshd.ts";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/**
 * rclone backends on 127.0.0.1 for the target tests: a plain local directory, OpenSSH's SFTP (with
 * its own host key, checked, and a client key) and `rclone serve webdav` (random user and password). `env` names the remote `RT`
 * through RCLONE_CONFIG_RT_* variables, so no config file is involved.
 */
export interface RcloneBackend {
  /** `rclone:RT:base` */
  url: string;
  env: NodeJS.ProcessEnv;
  /** The serving process (`rclone serve`), for tests that freeze it. */
  pid?: number;
  /** The directory the backend stores into. */
  dir: string;
  /** Files under `dir` whose names mark an unfinished put. */
  leftovers(): Promise<string[]>;
  /** Writes objects as files where the backend stores key `k` of the target (`dir/base/k`). */
  seed(keys: string[], body: Buffer): Promise<void>;
  stop(): Promise<void>;
}

export type BackendKind = "local" | "sftp" | "webdav";

export async function startRcloneBackend(kind: BackendKind): Promise<RcloneBackend> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `sdbackup-rclone-${kind}-`));
  const data = path.join(dir, "data");
  await mkdir(data);
  const base = { ...process.env, RCLONE_CONFIG: path.join(dir, "rclone.conf"), RCLONE_CACHE_DIR: path.join(dir, "cache") };
  const seed = async (keys: string[], body: Buffer) => {
    for (const key of keys) {
      await mkdir(path.dirname(path.join(data, "base", key)), { recursive: true });
      await writeFile(path.join(data, "base", key), body);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // past `rclone serve`'s directory cache
  };
  const leftovers = async () =>
    (await readdir(data, { recursive: true })).filter((f) => /\.tmp-[0-9a-f]{16}$/.test(String(f))).map(String);
  if (kind === "local") {
    return {
      url: "rclone:RT:base", dir: data, leftovers, seed,
      env: { ...base, RCLONE_CONFIG_RT_TYPE: "alias", RCLONE_CONFIG_RT_REMOTE: data },
      stop: () => rm(dir, { recursive: true, force: true }),
    };
  }
  if (kind === "sftp") {
    const sshd = await startSshd();
    await writeFile(path.join(dir, "known_hosts"), `${sshd.knownHosts}\n`);
    const remote = {
      TYPE: "sftp", HOST: "127.0.0.1", PORT: String(sshd.port), USER: sshd.user, KEY_FILE: sshd.clientKey,
      KNOWN_HOSTS_FILE: path.join(dir, "known_hosts"), SHELL_TYPE: "none",
    };
    const env = { ...base, ...Object.fromEntries(Object.entries(remote).map(([k, v]) => [`RCLONE_CONFIG_RT_${k}`, v])) };
    const stop = async () => {
      await sshd.stop();
      await rm(dir, { recursive: true, force: true });
    };
    return { url: `rclone:RT:${data}/base`, env, dir: data, leftovers, seed, stop };
  }
  const user = `u${randomBytes(3).toString("hex")}`;
  const pass = randomBytes(12).toString("hex");
  const port = await freePort();
  // a short directory cache (seed() writes behind the server's back; 0s makes listings take minutes)
  const server = spawn("rclone", ["serve", kind, "--addr", `127.0.0.1:${port}`, "--user", user, "--pass", pass, "--dir-cache-time", "1s", data], {
    env: base,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  server.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4000)));
  const exited = new Promise<void>((resolve) => server.once("close", () => resolve()));
  const stop = async () => {
    server.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, () => (server.exitCode !== null ? `rclone serve exited ${server.exitCode}: ${stderr}` : undefined));
  } catch (err) {
    await stop();
    throw err;
  }
  const obscured = execFileSync("rclone", ["obscure", pass], { env: base, encoding: "utf8" }).trim();
  const remote = { TYPE: "webdav", URL: `http://127.0.0.1:${port}/`, VENDOR: "other", USER: user, PASS: obscured };
  const env = { ...base, ...Object.fromEntries(Object.entries(remote).map(([k, v]) => [`RCLONE_CONFIG_RT_${k}`, v])) };
  return { url: "rclone:RT:base", env, dir: data, leftovers, seed, stop, ...(server.pid ? { pid: server.pid } : {}) };
}
