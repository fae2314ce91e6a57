import type { Readable } from "node:stream";
import { STREAM_STDERR } from "./demux.ts";
import type { Engine } from "./engine.ts";

/*
 * Closing an exec's connection does not stop the process inside the container. So a killable exec
 * runs under a tiny sh wrapper that first reports its PID on stderr and then `exec`s the command
 * (same PID). A docker exec process leads its own session and process group, so the PID is also
 * the group id: killing the group takes pipelines and other children along.
 */

export const PID_MARKER = "__sdbackup_exec_pid=";

/** Seconds between SIGTERM and SIGKILL. */
export const KILL_GRACE_SECONDS = 5;

export function killableArgv(argv: readonly string[]): string[] {
  return ["sh", "-c", `echo "${PID_MARKER}$$" >&2; exec "$@"`, "sh", ...argv];
}

export type MarkerScan = { pid: number; head: Buffer; stderr: Buffer } | "more" | "none";

/** How much output may precede the marker before we stop looking for it. */
const SCAN_LIMIT = 1024 * 1024;

/**
 * Looks for the marker line in a raw attach stream. The engine copies stdout and stderr separately,
 * so stdout frames may arrive before it. `head` is the stream without the marker's frames (still
 * framed, starting on a frame boundary); `stderr` is what those frames held after the marker line.
 * "none": the stream does not carry a marker (no sh in the image, an engine message).
 */
export function scanMarker(buf: Buffer): MarkerScan {
  const prefix = Buffer.from(PID_MARKER);
  const before: Buffer[] = [];
  let text: Buffer = Buffer.alloc(0);
  let offset = 0;
  for (;;) {
    if (buf.length < offset + 8) return buf.length > SCAN_LIMIT ? "none" : "more";
    const type = buf.readUInt8(offset);
    const end = offset + 8 + buf.readUInt32BE(offset + 4);
    if (type > STREAM_STDERR) return "none";
    if (buf.length < end) return buf.length > SCAN_LIMIT ? "none" : "more";
    const frame = buf.subarray(offset, end);
    offset = end;
    if (type !== STREAM_STDERR) {
      before.push(frame);
      continue;
    }
    text = Buffer.concat([text, frame.subarray(8)]);
    const start = text.subarray(0, prefix.length);
    if (!start.equals(prefix.subarray(0, start.length))) return "none";
    const newline = text.indexOf(10);
    if (newline === -1) {
      if (text.length > 64) return "none";
      continue;
    }
    const pid = Number(text.subarray(prefix.length, newline).toString("latin1"));
    if (!Number.isSafeInteger(pid) || pid <= 0) return "none";
    return { pid, head: Buffer.concat([...before, buf.subarray(offset)]), stderr: text.subarray(newline + 1) };
  }
}

/**
 * Reads the attach stream until the marker is known or ruled out, then pauses it. `head` holds the
 * bytes read but not consumed; they must be demultiplexed before anything else from `socket`.
 */
export function readPidMarker(socket: Readable, timeoutMs: number): Promise<{ pid?: number; head: Buffer; stderr: Buffer; ended: boolean; error?: unknown }> {
  return new Promise((resolve) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (result: { pid?: number; head: Buffer; stderr: Buffer; ended?: boolean; error?: unknown }) => {
      clearTimeout(timer);
      socket.off("data", onData).off("end", onEnd).off("error", onError);
      socket.pause();
      resolve({ ended: false, ...result });
    };
    const none = (extra: { ended?: boolean; error?: unknown } = {}) => done({ head: buf, stderr: Buffer.alloc(0), ...extra });
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const scan = scanMarker(buf);
      if (scan === "none") none();
      else if (scan !== "more") done(scan);
    };
    const onEnd = () => none({ ended: true });
    const onError = (error: unknown) => none({ error });
    const timer = setTimeout(() => none(), timeoutMs);
    socket.on("data", onData).once("end", onEnd).once("error", onError);
  });
}

/*
 * Runs as root so that it can signal a process that changed user (gosu, su-exec). `alive` treats a
 * zombie as gone: in a container whose PID 1 never reaps, zombies stay forever.
 */
const KILL_SCRIPT = `
alive() { [ -r "/proc/$1/stat" ] && read -r s < "/proc/$1/stat" && case "$s" in *") Z "*) false;; *) true;; esac; }
kill -TERM -"$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
i=0
while alive "$1" && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i+1)); done
kill -KILL -"$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null
exit 0`;

/**
 * Terminates the process group `pid` in the container: SIGTERM, then SIGKILL after the grace
 * period. Resolves when the kill exec has finished; never rejects (cleanup is best effort, and the
 * caller is already reporting the error that got it here).
 */
export async function killProcessGroup(engine: Engine, containerId: string, pid: number): Promise<void> {
  const signal = AbortSignal.timeout((KILL_GRACE_SECONDS + 15) * 1000);
  try {
    const exec = await engine.docker.getContainer(containerId).exec({
      Cmd: ["sh", "-c", KILL_SCRIPT, "sh", String(pid), String(KILL_GRACE_SECONDS * 10)],
      User: "0",
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      abortSignal: signal,
    });
    const socket = (await exec.start({ hijack: true, abortSignal: signal })) as Readable;
    await new Promise<void>((resolve) => {
      const finish = () => {
        signal.removeEventListener("abort", finish);
        socket.destroy();
        resolve();
      };
      signal.addEventListener("abort", finish, { once: true });
      socket.once("end", finish).once("error", finish).once("close", finish).resume();
    });
  } catch {
    // Best effort: the container may be gone or stopped, which ends the process anyway.
  }
}
