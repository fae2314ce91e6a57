// Running commands for the benchmarks: wall time from our own clock, CPU time and peak RSS from GNU
// time (`/usr/bin/time`), or, without it, peak RSS from /proc/<pid>/status VmHWM of the direct child.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const GNU_TIME = "/usr/bin/time";
export const hasGnuTime = existsSync(GNU_TIME);

/** Children in flight: an interrupt stops them before the container they talk to is removed. */
const running = new Set();

/**
 * Runs `argv` and resolves to its output and resource use. Rejects when it exits non-zero, unless
 * `allowFailure`. `timeFile` is where GNU time writes its numbers (stderr stays the command's own).
 * Peak RSS is the largest of the command's processes (GNU time reports the children's maximum), so
 * for a shell pipeline it is the biggest of docker, gzip and the shell.
 */
export async function run(argv, { env = process.env, cwd, timeFile, input, allowFailure = false, measure = false } = {}) {
  const useTime = measure && hasGnuTime && timeFile;
  const full = useTime ? [GNU_TIME, "-f", "%e %U %S %M", "-o", timeFile, ...argv] : argv;
  const started = process.hrtime.bigint();
  // Own process group: a terminal's Ctrl-C reaches only us, and we stop the children in order.
  const child = spawn(full[0], full.slice(1), { env, cwd, detached: true, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  running.add(child);
  const out = [];
  const err = [];
  child.stdout.on("data", (b) => out.push(b));
  child.stderr.on("data", (b) => err.push(b));
  if (input !== undefined) child.stdin.end(input);
  let hwmKb = 0;
  const poll = measure && !useTime ? setInterval(() => (hwmKb = Math.max(hwmKb, vmHwmKb(child.pid))), 50) : undefined;
  const { code, signal } = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c, s) => resolve({ code: c, signal: s }));
  }).finally(() => {
    running.delete(child);
    if (poll) clearInterval(poll);
  });
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  const stdout = Buffer.concat(out).toString("utf8");
  const stderr = Buffer.concat(err).toString("utf8");
  if (code !== 0 && !allowFailure) {
    const tail = stderr.trim().split("\n").slice(-15).join("\n");
    throw new Error(`${argv.join(" ")} exited ${code ?? signal}${tail ? `:\n${tail}` : ""}`);
  }
  const res = { code, wallS, stdout, stderr, cpuS: null, peakRssKb: hwmKb || null };
  if (useTime) Object.assign(res, readTimeFile(timeFile));
  return res;
}

/** Starts `argv` without waiting, registered so that an interrupt stops it too. */
export function startTracked(argv, opts) {
  const child = spawn(argv[0], argv.slice(1), { ...opts, detached: true });
  running.add(child);
  child.once("close", () => running.delete(child));
  return child;
}

/** Runs a command for its stdout (setup, queries); throws with its stderr on failure. */
export async function capture(argv, opts = {}) {
  return (await run(argv, opts)).stdout;
}

/** Stops every child we started (its whole process group) and waits up to `ms` for them to exit. */
export async function stopChildren(ms = 5_000) {
  const waits = [];
  for (const child of running) {
    waits.push(new Promise((resolve) => child.once("close", resolve)));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  await Promise.race([Promise.all(waits), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
  for (const child of running) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Flushes dirty pages (timed: how much write-back a run left behind) and optionally drops caches. */
export async function settleDisk({ dropCaches = false } = {}) {
  const t = process.hrtime.bigint();
  await run(["sync"]);
  const syncS = Number(process.hrtime.bigint() - t) / 1e9;
  if (dropCaches) writeFileSync("/proc/sys/vm/drop_caches", "3\n");
  return syncS;
}

/**
 * Waits until the machine is quiet: the share of all CPUs busy over one second is below `maxBusy`,
 * or `timeoutS` has passed. Other work on a shared machine otherwise lands in some runs and not in
 * others. Resolves to the last busy share seen (0..1), or null when /proc/stat is not readable.
 */
export async function waitForIdle(maxBusy, timeoutS) {
  if (!(maxBusy > 0)) return null;
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const a = cpuTimes();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const b = cpuTimes();
    if (!a || !b) return null;
    const busy = 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
    if (busy < maxBusy || Date.now() > deadline) return busy;
  }
}

export function median(values) {
  const v = values.filter((x) => typeof x === "number").sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function removeQuietly(p) {
  rmSync(p, { recursive: true, force: true });
}

export function loadAverage() {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "?";
  }
}

// --- internal ---

function cpuTimes() {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal; idle and iowait count as idle.
    return { idle: fields[3] + fields[4], total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

function vmHwmKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** GNU time prefixes "Command exited with non-zero status N" on failure; the numbers are last. */
function readTimeFile(file) {
  try {
    const last = readFileSync(file, "utf8").trim().split("\n").at(-1) ?? "";
    const [, user, sys, rss] = last.split(/\s+/).map(Number);
    return { cpuS: user + sys, peakRssKb: rss };
  } catch {
    return {};
  } finally {
    rmSync(file, { force: true });
  }
}
