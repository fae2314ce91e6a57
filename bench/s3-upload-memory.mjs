// Peak memory of one S3 upload of a generated stream of unknown length, against s3rver (issue 15).
//   node --max-semi-space-size=1 bench/s3-upload-memory.mjs [sizeMiB=1024] [query]
//   e.g. 10240, or 5100 "partSize=5MiB&maxParts=1000" (the flag is the one dist/sdbackup runs with)
// Prints one human line on stderr and one JSON line on stdout. s3rver runs in a child process, so
// the RSS measured here is sdbackup's side only. `npm run bench` runs it once per case, each in a
// fresh process (measureS3 below), so one case's heap never inflates the next one's peak.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { table } from "./lib/report.mjs";

const MiB = 1024 * 1024;
/** Issue 15: peak RSS of an upload at the defaults. */
export const S3_RSS_GOAL_MB = 200;
/** A 1,000-part cap, simulated with the smallest starting part S3 allows. */
export const CAP_QUERY = "partSize=5MiB&maxParts=1000";
/** More than 1,000 × 5 MiB: without growing parts this upload would be refused. */
export const CAP_SIZE_MIB = 5100;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [sizeMiB = "1024", query = ""] = process.argv.slice(2);
  const result = await uploadOnce(Number(sizeMiB), query);
  process.stderr.write(`${describe(result)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The V8 flag dist/sdbackup runs with (build.mjs execArgv): young-generation garbage goes early. */
export const NODE_FLAGS = ["--max-semi-space-size=1"];

/**
 * One case in a child process of the pinned node from ctx, with the binary's {@link NODE_FLAGS}:
 * `{ sizeMiB, query, bytes, parts, seconds, baselineMiB, peakMiB }`.
 */
export function measureS3(ctx, sizeMiB, query = "") {
  return new Promise((resolve, reject) => {
    const child = spawn(ctx.node, [...NODE_FLAGS, fileURLToPath(import.meta.url), String(sizeMiB), query], { stdio: ["ignore", "pipe", "inherit"] });
    let result;
    createInterface({ input: child.stdout }).on("line", (line) => (result = JSON.parse(line)));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 && result ? resolve(result) : reject(new Error(`s3 upload of ${sizeMiB} MiB ${query} exited ${code}`))));
  });
}

export function s3Table(results) {
  const rows = results.map((r) => [
    `${r.sizeMiB % 1024 === 0 ? `${r.sizeMiB / 1024} GiB` : `${r.sizeMiB} MiB`}${r.query ? ` ?${r.query}` : " (defaults)"}`,
    r.seconds.toFixed(0), (r.sizeMiB / r.seconds).toFixed(0), r.parts, r.baselineMiB.toFixed(0), r.peakMiB.toFixed(0), `+${(r.peakMiB - r.baselineMiB).toFixed(0)}`,
  ]);
  return table(["upload", "wall s", "MiB/s", "parts", "idle RSS MiB", "peak RSS MiB", "upload MiB"], rows);
}

/** PASS/MISS lines: peak RSS at the defaults, and the capped upload larger than 1,000 starting parts. */
export function judgeS3(results) {
  const lines = results.filter((r) => !r.query).map((r) =>
    `${r.peakMiB * MiB <= S3_RSS_GOAL_MB * 1e6 ? "PASS" : "MISS"}  S3 upload of ${r.sizeMiB} MiB at the defaults: peak RSS ${r.peakMiB.toFixed(0)} MiB (goal ≤ ${S3_RSS_GOAL_MB} MB)`);
  for (const r of results.filter((x) => x.query === CAP_QUERY)) {
    const ok = r.bytes === r.sizeMiB * MiB && r.parts <= 1000;
    lines.push(`${ok ? "PASS" : "MISS"}  a 1,000-part cap took ${r.sizeMiB} MiB (> 1,000 × 5 MiB) in ${r.parts} parts`);
  }
  return lines;
}

// --- internal ---

function describe(r) {
  return `uploaded ${r.sizeMiB} MiB${r.query ? ` ?${r.query}` : ""} in ${r.seconds.toFixed(1)} s (${(r.sizeMiB / r.seconds).toFixed(0)} MiB/s, ${r.parts} parts): ` +
    `baseline RSS ${r.baselineMiB.toFixed(0)} MiB, peak RSS ${r.peakMiB.toFixed(0)} MiB (+${(r.peakMiB - r.baselineMiB).toFixed(0)} MiB)`;
}

async function uploadOnce(sizeMiB, query) {
  // Loaded here, not at the top: run.mjs imports this module only for measureS3 and the tables.
  const { openTarget } = await import("../src/targets/index.ts");
  const { startS3rver } = await import("../test/helpers/s3rver.ts");
  const { partSizeFor } = await import("../src/targets/s3/multipart.ts");
  const { parseS3Url } = await import("../src/targets/s3/settings.ts");
  const server = await startS3rver();
  try {
    const url = `s3://${server.bucket}/bench?endpoint=${server.endpoint}${query ? `&${query}` : ""}`;
    const settings = await parseS3Url(url, server.env);
    const target = await openTarget(url, { env: server.env, cwd: process.cwd() });
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const started = performance.now();
    const { bytes } = await target.put("big.bin", generated(sizeMiB * MiB), { signal: new AbortController().signal });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
    let parts = 0;
    for (let left = bytes; left > 0; parts++) left -= partSizeFor(parts, { partSize: settings.partSize, maxParts: settings.maxParts, growth: settings.growParts });
    return { sizeMiB, query, bytes, parts, seconds, baselineMiB: baseline / MiB, peakMiB: peak / MiB };
  } finally {
    await server.stop();
  }
}

/** Fresh 64 KiB buffers, like a dump stream, so nothing is shared between parts. */
function generated(bytes) {
  const CHUNK = 64 * 1024;
  const template = Buffer.alloc(CHUNK, "sdbackup");
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return this.push(null);
      const n = Math.min(CHUNK, bytes - sent);
      const buf = Buffer.allocUnsafe(n);
      template.copy(buf, 0, 0, n);
      sent += n;
      this.push(buf);
    },
  });
}
