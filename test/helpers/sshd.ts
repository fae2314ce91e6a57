import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import os from "node:os";
import path from "node:path";

/**
 * An OpenSSH server (Debian's openssh-server) on 127.0.0.1 with its own host key and one authorized
 * client key, for the rclone SFTP backend and the ssh:// Docker engine tests. It lets the current
 * user (root in CI) log in by key only.
 */
export interface Sshd {
  port: number;
  user: string;
  dir: string;
  /** The client's private key file (OpenSSH format, no passphrase). */
  clientKey: string;
  /** A known_hosts line for `[127.0.0.1]:port`. */
  knownHosts: string;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<Sshd> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sdbackup-sshd-"));
  const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  keygen(path.join(dir, "host_key"));
  keygen(path.join(dir, "client_key"));
  await writeFile(path.join(dir, "authorized_keys"), await readFile(path.join(dir, "client_key.pub")), { mode: 0o600 });
  const port = await freePort();
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const config = [
    `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${dir}/host_key`, `AuthorizedKeysFile ${dir}/authorized_keys`,
    `PidFile ${dir}/sshd.pid`, "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
    "StrictModes no", "UsePAM no", "Subsystem sftp internal-sftp", "LogLevel ERROR",
  ].join("\n");
  await writeFile(path.join(dir, "sshd_config"), `${config}\n`);
  const sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  sshd.stderr.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4000)));
  sshd.once("error", (err) => (stderr += String(err)));
  const exited = new Promise<void>((resolve) => sshd.once("close", () => resolve()));
  const stop = async () => {
    sshd.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, () => (sshd.exitCode !== null || sshd.signalCode !== null ? `sshd exited: ${stderr}` : undefined));
  } catch (err) {
    await stop();
    throw err;
  }
  const hostPub = (await readFile(path.join(dir, "host_key.pub"), "utf8")).trim().split(" ").slice(0, 2).join(" ");
  return { port, user: os.userInfo().username, dir, clientKey: path.join(dir, "client_key"), knownHosts: `[127.0.0.1]:${port} ${hostPub}`, stop };
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Resolves once 127.0.0.1:port accepts connections; `failed` reports a server that died. */
export async function waitForPort(port: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, "127.0.0.1", () => (sock.end(), resolve(true)));
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after 20 s`);
}
