// Does backpressure reach the engine? With a fast local disk the sink keeps up with the dump, so a
// flat RSS in the main comparison proves little. Here the sink is made slow on purpose: gzip level 9
// compresses at a few tens of MiB/s, well below what `docker exec` delivers, and needs almost no
// memory of its own (zstd -19 would, and its tables fill up over many seconds, which looks like
// growth). If sdbackup buffered instead of pausing the exec stream, it would read at the engine's
// rate and its RSS would climb by the difference of the two rates every second. The run is
// interrupted after `seconds` (sdbackup must then clean up and exit 130).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { startTracked } from "./measure.mjs";

export async function backpressureCheck(ctx, db, cli, seconds) {
  const out = path.join(ctx.tmp, `backpressure-${cli.name}`);
  const argv = [...cli.argv, "backup", "--app", db.name, "--target", out, "--compression", "gzip", "--level", "9", "--json"];
  const child = startTracked(argv, { cwd: ctx.tmp, env: ctx.cliEnv, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b) => (stderr = (stderr + b.toString()).slice(-4000)));
  const closed = new Promise((resolve) => child.once("close", (code, signal) => resolve(code ?? signal)));
  const samples = [];
  const started = performance.now();
  const timer = setInterval(() => {
    const s = sample(child.pid);
    if (s) samples.push({ t: (performance.now() - started) / 1000, ...s });
  }, 250);
  const exited = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve(undefined), seconds * 1000))]);
  clearInterval(timer);
  if (exited === undefined) {
    process.kill(child.pid, "SIGINT");
    const code = await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve("no exit within 30 s"), 30_000))]);
    if (code !== 130) throw new Error(`sdbackup did not exit 130 after SIGINT (got ${code}): ${stderr.trim()}`);
    const leftovers = listFiles(out);
    if (leftovers.length) throw new Error(`sdbackup left files behind after SIGINT: ${leftovers.join(", ")}`);
  } else if (exited !== 0) {
    throw new Error(`sdbackup --compression gzip --level 9 exited ${exited}: ${stderr.trim()}`);
  }
  const finishedS = exited === undefined ? null : (performance.now() - started) / 1000;
  if (samples.length < 16) return { cli: cli.name, seconds, finishedS, tooShort: true };
  // V8 frees garbage buffers lazily, so RSS first rises to a plateau whatever the dump size; buffering
  // would instead keep it rising. Compare the peaks of the two halves of the run.
  const end = samples.at(-1).t;
  const peak = (from, to) => Math.max(...samples.filter((x) => x.t > from && x.t <= to).map((x) => x.rssKb / 1024));
  const mid = samples.find((x) => x.t > end / 2) ?? samples.at(-1);
  const last = samples.at(-1);
  return {
    cli: cli.name, seconds, finishedS, tooShort: false,
    readMiB: last.rcharBytes / 1048576,
    readMiBPerS: (last.rcharBytes - mid.rcharBytes) / 1048576 / Math.max(0.001, last.t - mid.t),
    firstHalfPeakMiB: peak(0, end / 2),
    secondHalfPeakMiB: peak(end / 2, end),
  };
}

// --- internal ---

/** VmRSS and the bytes the process has read so far (sockets included: that is the exec stream). */
function sample(pid) {
  try {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    const rchar = /rchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return rss && rchar ? { rssKb: Number(rss[1]), rcharBytes: Number(rchar[1]) } : undefined;
  } catch {
    return undefined;
  }
}

function listFiles(dir) {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  } catch {
    return [];
  }
}
