// Startup time of the single binary: spawns it N times per command and prints the median wall time.
//
//   node bench/startup.mjs [--runs 30] [--bin dist/sdbackup] [--fixture path/compose.yaml] [--assert] [--slack 1]
//
// `detect` runs against a compose file with DOCKER_HOST pointing at a socket that does not exist, so
// it measures the no-Docker path. --assert exits 1 when a median is over its budget times --slack
// (CI uses slack so that a busy machine does not fail the run, while a lost code cache or an eagerly
// loaded SDK still does).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: opts } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    bin: { type: "string", default: path.join(root, "dist", "sdbackup") },
    fixture: { type: "string" },
    assert: { type: "boolean", default: false },
    slack: { type: "string", default: "1" },
  },
});
const runs = Math.max(1, Number(opts.runs));
const slack = Number(opts.slack);
const bin = path.resolve(opts.bin);
if (!existsSync(bin)) {
  console.error(`${bin} does not exist: run \`npm run build\` first`);
  process.exit(2);
}

// No Node on PATH, no inherited NODE_OPTIONS: the conditions of a user's shell without Node.
const env = { PATH: "/usr/bin:/bin", HOME: os.tmpdir(), DOCKER_HOST: "unix:///nonexistent/sdbackup-bench.sock" };
const cwd = mkdtempSync(path.join(os.tmpdir(), "sdbackup-bench-"));

function time(argv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(bin, argv, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`sdbackup ${argv.join(" ")} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

function measure(argv) {
  time(argv); // warm the page cache
  const samples = Array.from({ length: runs }, () => time(argv).ms).sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { median: at(0.5), min: samples[0], p90: at(0.9) };
}

function defaultFixture() {
  const dir = path.join(root, "test", "fixtures", "compose");
  const names = existsSync(dir) ? readdirSync(dir).sort() : [];
  for (const name of names) {
    const file = path.join(dir, name, "compose.yaml");
    if (existsSync(file)) return file;
  }
  return undefined;
}

const cases = [
  { label: "--version", argv: ["--version"], budget: 100 },
  { label: "--help", argv: ["--help"], budget: 100 },
];
const hasDetect = /^\s+detect\b/m.test(time(["--help"]).stdout);
const fixture = opts.fixture ? path.resolve(opts.fixture) : defaultFixture();
if (hasDetect && fixture) {
  cases.push({ label: `detect --json -f ${path.relative(root, fixture)}`, argv: ["detect", "--json", "-f", fixture], budget: 300 });
} else {
  console.log(hasDetect ? "no compose fixture found: detect not measured" : "no detect command yet: detect not measured");
}

console.log(`${path.relative(process.cwd(), bin) || bin}: median of ${runs} runs (min, p90)`);
let over = 0;
try {
  for (const c of cases) {
    const r = measure(c.argv);
    const ok = r.median <= c.budget * slack;
    if (!ok) over++;
    const fmt = (n) => `${n.toFixed(1)} ms`;
    console.log(`  ${c.label.padEnd(60)} ${fmt(r.median).padStart(9)}  (${fmt(r.min)}, ${fmt(r.p90)})  budget ${c.budget * slack} ms ${ok ? "ok" : "OVER"}`);
  }
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
if (opts.assert && over > 0) process.exit(1);
