import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants } from "node:fs";
import type { Socket } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { ConfigError, TargetError, throwIfAborted } from "../../errors.ts";

/**
 * Starts one `rclone rcd` (rclone's remote-control daemon) per target on 127.0.0.1, so that a run
 * of many operations pays for one process and one connection pool to the remote instead of a
 * process and a login per object. The daemon gets the caller's environment (rclone reads its config
 * and `RCLONE_CONFIG_*` from there) plus a random rc user and password, also by environment: nothing
 * secret is on argv. It runs under a tiny sh that kills it when our end of its stdin closes, so it
 * dies with this process even after a SIGKILL, and it never keeps Node's event loop alive.
 */
export interface RcDaemon {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** `Basic …` for the rc's authentication. */
  authorization: string;
}

const START_TIMEOUT_MS = 20_000;
/** Run rclone in the background; when our pipe to `cat` closes, take rclone down with it. */
// (A background job's stdin is /dev/null in sh, hence the copy of stdin on fd 3.)
const WRAPPER = 'exec 3<&0; "$@" < /dev/null & pid=$!; (cat <&3 > /dev/null; kill "$pid") 2> /dev/null & exec 3<&-; wait "$pid"';

/** Throws a ConfigError unless `binary` can be executed (a path, or a name found on PATH). */
export function assertRcloneInstalled(binary: string, env: NodeJS.ProcessEnv): void {
  const dirs = binary.includes("/") ? [""] : (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    try {
      accessSync(dir ? path.join(dir, binary) : binary, constants.X_OK);
      return;
    } catch {
      // try the next directory
    }
  }
  throw missingBinary(binary);
}

export async function startDaemon(binary: string, env: NodeJS.ProcessEnv, display: string, signal: AbortSignal): Promise<RcDaemon> {
  throwIfAborted(signal);
  const user = randomBytes(8).toString("hex");
  const pass = randomBytes(24).toString("hex");
  const args = ["rcd", "--rc-addr=127.0.0.1:0", "--rc-serve", "--log-level=NOTICE", "--ask-password=false", "--retries=1"];
  const child = spawn("sh", ["-c", WRAPPER, "sh", binary, ...args], {
    env: { ...env, RCLONE_RC_USER: user, RCLONE_RC_PASS: pass },
    stdio: ["pipe", "ignore", "pipe"],
  });
  let tail = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
  const onAbort = () => child.stdin.end();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stderr }).on("line", (line) => {
        tail = `${tail}\n${line}`.slice(-2000);
        const m = /Serving remote control on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (m) resolve(m[1]!);
      });
      child.once("close", (code) => {
        if (/not found/.test(tail) && code === 127) return reject(missingBinary(binary));
        reject(new TargetError(`${display}: rclone rcd exited ${code} before serving: ${lastLines(tail)}`));
      });
      child.once("error", (err) => reject(new TargetError(`${display}: cannot start rclone: ${err.message}`, { cause: err })));
    });
    throwIfAborted(signal);
    child.stderr.resume();
    for (const s of [child.stdin, child.stderr]) (s as unknown as Socket).unref();
    child.unref();
    return { base: `http://127.0.0.1:${port}`, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` };
  } catch (err) {
    child.stdin.end();
    throwIfAborted(signal);
    throw err;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

// --- internal ---

function lastLines(text: string): string {
  return text.split("\n").map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, "").trim()).filter(Boolean).slice(-3).join("; ");
}

function missingBinary(binary: string): ConfigError {
  return new ConfigError(`rclone targets need the rclone program, and ${binary} was not found`, {
    hint: "install rclone (apt-get install rclone, or https://rclone.org/install/) or set SDBACKUP_RCLONE to its path",
  });
}
