// `npm run bench`: sdbackup's PostgreSQL backup against the shell pipelines it replaces.
//
//   npm run bench -- [--sizes 256,1024 | --size-mb 1024] [--runs 3] [--cli source,binary]
//                    [--breakdown] [--drop-caches] [--node-options "--max-semi-space-size=1"] [--json out.json]
//                    [--idle-below 0.3] [--idle-wait 15] [--backpressure-s 20] [--skip-transports | --only-transports]
//                    [--s3-sizes 1024[,10240]] [--skip-s3 | --only-s3]
//
// Starts a postgres:15 container labelled as service `db` of a compose project, fills it to each size
// (ascending; the table only grows), and at each size measures wall time, output size, host CPU time
// and peak RSS of: sdbackup backup (zstd, zstd encrypted with --encrypt-to, and --compression none) from source and/or dist/sdbackup,
// `pg_dump | gzip > f` and `pg_dump > f`. Prints the tables and PASS/MISS per goal (docs/benchmarks.md).
// At the largest size a backpressure check runs each variant against a slow sink (gzip -9) for
// --backpressure-s seconds (0: skip) and watches its RSS, then interrupts it.
// Before every run it waits (at most --idle-wait s) until the machine is less than --idle-below busy
// (share of all CPUs over one second; 0 turns this off), so other work on a shared host skews less.
// At the largest size, bench/transport.mjs compares the dump tool's floor, the exec floor, sdbackup
// over the fast and the exec transport and restic reading stdin (issue 16; --skip-transports: not;
// --only-transports: nothing else).
// At the largest size, bench/drill.mjs times `verify --restore-test` of one set against `restore` of
// it into a fresh server (issue 10: a drill takes at most 1.5× the restore; --skip-drill: not;
// --only-drill: nothing else).
// Then bench/s3-upload-memory.mjs measures the peak RSS of S3 uploads into s3rver at the defaults,
// one per --s3-sizes entry in MiB (1024 by default; 10240 takes 5-7 min on 2 cores), and a
// simulated 1,000-part cap taking more than 1,000 × 5 MiB (3-4 min); --only-s3 runs only those.
// Exits 0 when it ran (goals missed or not), 1 on an error, 130 when interrupted; the container and
// the temporary directory are removed in every case.
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import { capture, hasGnuTime, loadAverage, median, removeQuietly, run, stopChildren } from "./lib/measure.mjs";
import { removeDb, seedTo, serverVersion, startDb } from "./lib/pg-db.mjs";
import { breakdownTable, judge, judgeBackpressure, mib, sizeTable } from "./lib/report.mjs";
import { backpressureCheck } from "./lib/backpressure.mjs";
import { breakdown, measureSize } from "./pg-backup.mjs";
import { measureTransports, transportTable } from "./transport.mjs";
import { drillTable, judgeDrill, measureDrill } from "./drill.mjs";
import { CAP_QUERY, CAP_SIZE_MIB, judgeS3, measureS3, s3Table } from "./s3-upload-memory.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = parseArgs({
  options: {
    sizes: { type: "string", default: "256,1024" },
    "size-mb": { type: "string" },
    runs: { type: "string", default: "3" },
    cli: { type: "string" },
    breakdown: { type: "boolean", default: false },
    "drop-caches": { type: "boolean", default: false },
    "node-options": { type: "string" },
    "idle-below": { type: "string", default: "0.3" },
    "idle-wait": { type: "string", default: "15" },
    "backpressure-s": { type: "string", default: "20" },
    "skip-transports": { type: "boolean", default: false },
    "only-transports": { type: "boolean", default: false },
    "skip-drill": { type: "boolean", default: false },
    "only-drill": { type: "boolean", default: false },
    "s3-sizes": { type: "string", default: "1024" },
    "skip-s3": { type: "boolean", default: false },
    "only-s3": { type: "boolean", default: false },
    json: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log(readHeader());
  process.exit(0);
}

const log = (line) => process.stderr.write(`${line}\n`);
const project = `sdbench-pg-${randomBytes(3).toString("hex")}`;
const tmp = mkdtempSync(path.join(os.tmpdir(), "sdbackup-bench-"));
let cleaning;
let interrupted = false;
function cleanup() {
  cleaning ??= (async () => {
    await stopChildren();
    await removeDb(project);
    removeQuietly(tmp);
  })();
  return cleaning;
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => {
    interrupted = true;
    log(`\n${sig}: stopping, removing container ${project} and ${tmp}…`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  await main();
  await cleanup();
} catch (err) {
  // After an interrupt the children die and main fails with them: that is not an error to report.
  if (!interrupted) log(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  await cleanup();
  process.exit(interrupted ? 130 : 1);
}

async function main() {
  if (opts["only-s3"]) {
    const s3 = await s3Cases({ node: pinnedNode() });
    console.log(`\ngoals (MISS does not fail the run):\n${judgeS3(s3).join("\n")}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ s3 }, null, 2));
    return;
  }
  const sizes = parseSizes();
  const runs = positiveInt(opts.runs, "--runs");
  const node = pinnedNode();
  const clis = chooseClis(node);
  const cliEnv = opts["node-options"] ? { ...process.env, NODE_OPTIONS: opts["node-options"] } : process.env;
  const idleBelow = Number(opts["idle-below"]);
  const idleWaitS = Number(opts["idle-wait"]);
  // A throwaway age recipient for the encrypted case; its identity is never needed.
  const { generateIdentity, identityToRecipient } = await import("age-encryption");
  const recipient = await identityToRecipient(await generateIdentity());
  const ctx = { root, tmp, runs, node, clis, cliEnv, recipient, dropCaches: opts["drop-caches"], idleBelow, idleWaitS, log };
  const started = performance.now();

  log(`starting ${project} (postgres:15)…`);
  const db = await startDb(project);
  const env = await environment(ctx, db);
  console.log(env.lines.join("\n"));

  const results = [];
  for (const sizeMb of sizes) {
    log(`\n== ${sizeMb} MiB: seeding…`);
    const seeded = await seedTo(db, sizeMb, log);
    if (opts["only-transports"] || opts["only-drill"]) continue;
    const loadBefore = loadAverage();
    log(`measuring ${clis.length * 3 + 2} cases × ${runs} runs…`);
    const result = await measureSize(ctx, db);
    const entry = { sizeMb, seeded, result, load: { before: loadBefore, after: loadAverage() } };
    if (opts.breakdown && sizeMb === sizes.at(-1)) {
      log("breakdown…");
      entry.breakdown = await breakdown(ctx, db);
    }
    results.push(entry);
    printSize(entry, runs);
  }

  let transports = null;
  if (!opts["skip-transports"] && !opts["only-drill"]) {
    log(`\ntransports at ${sizes.at(-1)} MiB (${clis[0].name})…`);
    transports = await measureTransports(ctx, db, clis[0]);
    console.log(`\n== transports at --size-mb ${sizes.at(-1)} (median of ${runs}, interleaved; ratios to the in-container floor):\n${transportTable(transports)}`);
  }

  let drill = null;
  if (!opts["skip-drill"] && !opts["only-transports"]) {
    log(`\nrestore drill at ${sizes.at(-1)} MiB (${clis[0].name})…`);
    drill = await measureDrill(ctx, db, clis[0]);
    console.log(`\n== restore drill at --size-mb ${sizes.at(-1)} (median of ${runs}, interleaved):\n${drillTable(drill)}`);
  }
  if (opts["only-drill"]) {
    console.log(`\ngoals (MISS does not fail the run):\n${judgeDrill(drill).join("\n")}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ environment: env.data, drill }, null, 2));
    return;
  }
  if (opts["only-transports"]) return;
  const checks = [];
  const checkS = Number(opts["backpressure-s"]);
  if (checkS > 0) {
    for (const cli of clis) {
      log(`backpressure check (${cli.name}, ${checkS} s)…`);
      checks.push(await backpressureCheck(ctx, db, cli, checkS));
    }
  }
  const s3 = opts["skip-s3"] ? [] : await s3Cases(ctx);
  const largest = results.at(-1).result.cases;
  const fastRate = Object.fromEntries(clis.map((c) => [c.name, largest.find((x) => x.id === `sdbackup-${c.name}-none`)?.dumpMbPerS]));
  const goals = [...judge(results, clis.map((c) => c.name)), ...judgeBackpressure(checks, fastRate), ...judgeDrill(drill), ...judgeS3(s3)];
  console.log(`\ngoals (judged at every size; MISS does not fail the run):\n${goals.join("\n")}`);
  const totalS = (performance.now() - started) / 1000;
  console.log(`\ntotal ${totalS.toFixed(0)} s; load average now ${loadAverage()}`);
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({ environment: env.data, results, transports, drill, backpressure: checks, s3, goals, totalS }, null, 2));
    log(`wrote ${opts.json}`);
  }
}

function printSize({ sizeMb, seeded, result, load, breakdown: parts }, runs) {
  console.log(`\n== --size-mb ${sizeMb}: events ${seeded.rows.toLocaleString("en")} rows, pg_total_relation_size ${mib(seeded.totalBytes)} MiB ` +
    `(heap ${mib(seeded.heapBytes)}, indexes ${mib(seeded.indexBytes)}); seeded in ${seeded.seedS.toFixed(0)} s + VACUUM FREEZE ${seeded.vacuumS.toFixed(0)} s`);
  console.log(`   uncompressed dump: custom (-Fc -Z0) ${mib(result.dumpBytes.custom)} MiB, plain SQL ${mib(result.dumpBytes.plain)} MiB; ` +
    `median of ${runs} runs, warm page cache${opts["drop-caches"] ? " dropped before each run" : ""}; load average ${load.before} → ${load.after}`);
  const busy = result.cases.flatMap((c) => c.runs.map((r) => r.busyBefore)).filter((b) => typeof b === "number");
  if (busy.length) console.log(`   other load in the second before each run: median ${pct(median(busy))}, max ${pct(Math.max(...busy))} of all CPUs`);
  console.log(sizeTable(result));
  if (parts) console.log(`\nbreakdown at ${sizeMb} MiB (median of ${runs}):\n${breakdownTable(parts)}`);
}

async function environment(ctx, db) {
  const cpus = os.cpus();
  const docker = (await capture(["docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"])).trim();
  const nodeVersion = (await capture([ctx.node, "--version"])).trim();
  const pg = await serverVersion(db);
  const versions = [];
  for (const cli of ctx.clis) versions.push(`${cli.name} ${(await capture([...cli.argv, "--version"], { env: ctx.cliEnv })).trim()}${cli.note ?? ""}`);
  const commit = (await run(["git", "-C", root, "rev-parse", "--short", "HEAD"], { allowFailure: true })).stdout.trim() || "?";
  const gzip = (await run(["gzip", "--version"], { allowFailure: true })).stdout.split("\n")[0];
  const data = {
    date: new Date().toISOString(), cpu: `${cpus[0]?.model ?? "?"} × ${cpus.length}`, memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(), docker, node: nodeVersion, postgres: pg, sdbackup: versions, commit, gzip,
    nodeOptions: opts["node-options"] ?? null, rss: hasGnuTime ? "GNU time (max RSS of the command's processes)" : "VmHWM of the direct child",
  };
  const lines = [
    `sdbackup PostgreSQL backup benchmark — ${data.date}`,
    `machine: ${data.cpu}, ${data.memGiB} GiB RAM, Linux ${data.kernel}; Docker ${docker}; load average ${loadAverage()}`,
    `node ${nodeVersion}; PostgreSQL ${pg} (postgres:15 stand-in); ${gzip}; commit ${commit}`,
    `sdbackup: ${versions.join("; ")}${data.nodeOptions ? `; NODE_OPTIONS=${data.nodeOptions}` : ""}`,
    `peak RSS from ${data.rss}`,
  ];
  return { lines, data };
}

/** S3 uploads into s3rver: each --s3-sizes entry at the defaults, then the simulated 1,000-part cap. */
async function s3Cases(ctx) {
  const cases = [...new Set(opts["s3-sizes"].split(",").map((s) => positiveInt(s.trim(), "--s3-sizes")))].map((n) => [n, ""]);
  cases.push([CAP_SIZE_MIB, CAP_QUERY]);
  const results = [];
  for (const [sizeMiB, query] of cases) {
    log(`\nS3 upload of ${sizeMiB} MiB${query ? ` ?${query}` : " at the defaults"} into s3rver…`);
    results.push(await measureS3(ctx, sizeMiB, query));
  }
  console.log(`\n== S3 uploads into s3rver (peak RSS of sdbackup's side; s3rver runs in its own process):\n${s3Table(results)}`);
  return results;
}

// --- internal ---

function pct(x) {
  return `${(x * 100).toFixed(0)}%`;
}

function parseSizes() {
  const raw = opts["size-mb"] ?? opts.sizes;
  const sizes = raw.split(",").map((s) => positiveInt(s.trim(), opts["size-mb"] ? "--size-mb" : "--sizes"));
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function positiveInt(value, flag) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive whole number, got "${value}"`);
  return n;
}

/** The pinned Node 24 from devDependencies, whichever node started this script. */
function pinnedNode() {
  const candidates = [path.join(root, "node_modules", "node", "bin", "node"), path.join(root, "node_modules", ".bin", "node"), process.execPath];
  return candidates.find((c) => existsSync(c));
}

function chooseClis(node) {
  const binary = path.join(root, "dist", "sdbackup");
  const wanted = (opts.cli ?? (existsSync(binary) ? "source,binary" : "source")).split(",").map((s) => s.trim());
  return wanted.map((name) => {
    if (name === "source") return { name, argv: [node, path.join(root, "src", "main.ts")] };
    if (name !== "binary") throw new Error(`--cli takes source and/or binary, got "${name}"`);
    if (!existsSync(binary)) throw new Error(`${binary} does not exist: run \`npm run build\` first`);
    const stale = newestMtime(path.join(root, "src")) > statSync(binary).mtimeMs;
    return { name, argv: [binary], note: stale ? " (dist/sdbackup is older than src/: `npm run build` to measure the current code)" : "" };
  });
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function readHeader() {
  const lines = [];
  for (const line of readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n")) {
    if (!line.startsWith("//")) break;
    lines.push(line.replace(/^\/\/ ?/, ""));
  }
  return lines.join("\n");
}
