// The benchmark's database: a postgres:15 container labelled as service `db` of a compose project,
// so that `sdbackup backup --app <project>` finds it, filled server-side with generate_series.
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { capture, run } from "./measure.mjs";

const IMAGE = "postgres:15";
const USER = "bench";
const DB = "benchdb";
/** Rows per INSERT: about 130 MB, so progress shows and the target size is overshot by little. */
const BATCH_ROWS = 400_000;

// Server settings that only make seeding faster (nothing is fsynced, no WAL-full-page images, no
// checkpoints mid-load). autovacuum is off so that it cannot start in the middle of a measurement;
// the seed ends with its own VACUUM (FREEZE, ANALYZE), so every dump reads identical, frozen pages.
const SERVER_ARGS = [
  "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
  "-c", "max_wal_size=8GB", "-c", "checkpoint_timeout=1h", "-c", "autovacuum=off",
];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id          bigint PRIMARY KEY,
  created_at  timestamptz NOT NULL,
  account_id  integer NOT NULL,
  status      text NOT NULL,
  amount      numeric(12,2) NOT NULL,
  note        text,
  payload     bytea
);
CREATE INDEX IF NOT EXISTS events_account_created ON events (account_id, created_at);`;

/**
 * Rows from..to. Deterministic (no random()), so every run dumps the same bytes. The note is text of
 * 0 to ~500 characters: some fixed phrases, a unique md5, and a token that repeats across rows (what
 * compresses in real data); every 11th is NULL. The payload is bytea, a quarter of it incompressible.
 */
const insertRows = (from, to) => `
INSERT INTO events
SELECT i,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '917 milliseconds',
       (i::bigint * 7919 % 50000)::int,
       (ARRAY['new','paid','shipped','delivered','refunded','cancelled'])[1 + i % 6],
       (i::bigint * 104729 % 10000000) / 100.0,
       CASE WHEN i % 11 = 0 THEN NULL ELSE
         'order ' || i || ' for account ' || (i::bigint * 7919 % 50000) || ': ' ||
         repeat('lorem ipsum dolor sit amet, ', i % 5) || md5(i::text) ||
         repeat(' ' || substr(md5((i % 1000)::text), 1, 12), i % 9) END,
       CASE WHEN i % 4 = 0 THEN decode(md5(i::text) || md5((i + 1)::text), 'hex')
            ELSE decode(repeat('00ff', 8 + i % 24), 'hex') END
FROM generate_series(${from}, ${to}) AS i;`;

/**
 * Starts the container and waits until the final server (not initdb's socket-only one) accepts TCP.
 * `defaults`: the image's own server settings (as a drill's throwaway server has), not the seeding ones.
 */
export async function startDb(project, { defaults = false } = {}) {
  const password = randomBytes(12).toString("hex");
  const labels = { "sdbackup.test": "1", "sdbackup.bench": "1", "com.docker.compose.project": project, "com.docker.compose.service": "db" };
  // 256m of /dev/shm: VACUUM of a table this size needs more dynamic shared memory than the 64m default.
  const argv = ["docker", "run", "-d", "--name", project, "--shm-size", "256m"];
  for (const [k, v] of Object.entries(labels)) argv.push("--label", `${k}=${v}`);
  // -e NAME without a value: docker reads the value from its own environment, not from argv.
  argv.push("-e", "POSTGRES_PASSWORD", "-e", `POSTGRES_USER=${USER}`, "-e", `POSTGRES_DB=${DB}`, IMAGE, ...(defaults ? [] : SERVER_ARGS));
  const id = (await capture(argv, { env: { ...process.env, POSTGRES_PASSWORD: password } })).trim();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const probe = await run(["docker", "exec", project, "pg_isready", "-q", "-h", "127.0.0.1", "-U", USER, "-d", DB], { allowFailure: true });
    if (probe.code === 0) break;
    if (Date.now() > deadline) throw new Error(`${project} did not become ready: ${await capture(["docker", "logs", "--tail", "20", project], { allowFailure: true })}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await psql(project, SCHEMA);
  return { id, name: project, user: USER, db: DB, password };
}

/** Adds rows until the table with its indexes holds at least `sizeMb` MiB; the table only grows. */
export async function seedTo(db, sizeMb, log) {
  const target = sizeMb * 1024 * 1024;
  const started = performance.now();
  let { rows, bytes } = await tableSize(db);
  while (bytes < target) {
    const perRow = rows > 0 ? bytes / rows : 330;
    const add = Math.max(1000, Math.min(BATCH_ROWS, Math.ceil((target - bytes) / perRow)));
    await psql(db.name, insertRows(rows + 1, rows + add));
    ({ rows, bytes } = await tableSize(db));
    log(`  seeding: ${rows.toLocaleString("en")} rows, ${mib(bytes)} MiB of ${sizeMb} MiB`);
  }
  const seedS = (performance.now() - started) / 1000;
  const t = performance.now();
  await psql(db.name, "VACUUM (FREEZE, ANALYZE) events; CHECKPOINT;");
  const vacuumS = (performance.now() - t) / 1000;
  return { ...(await relationSizes(db)), rows, seedS, vacuumS };
}

/** Removes the container and its anonymous data volume. Never throws. */
export async function removeDb(name) {
  await run(["docker", "rm", "-f", "-v", name], { allowFailure: true }).catch(() => {});
}

/**
 * CPU seconds the container has used so far (pg_dump and the postgres backend serving it), from its
 * cgroup (v1 cgroupfs, v2 cgroupfs or v2 systemd layout); null when none is readable.
 */
export function containerCpuS(db) {
  const paths = [
    [`/sys/fs/cgroup/cpuacct/docker/${db.id}/cpuacct.usage`, (t) => Number(t) / 1e9],
    [`/sys/fs/cgroup/docker/${db.id}/cpu.stat`, usageUsec],
    [`/sys/fs/cgroup/system.slice/docker-${db.id}.scope/cpu.stat`, usageUsec],
  ];
  for (const [file, parse] of paths) {
    try {
      return parse(readFileSync(file, "utf8"));
    } catch {
      // not this layout
    }
  }
  return null;
}

/**
 * CPU seconds used so far by the engine's side of the exec stream: dockerd, containerd and the
 * database container's containerd-shim. dockerd serves every client of the engine, so other work on
 * the machine lands here too (the runs wait for a quiet machine first). Null without /proc access.
 */
export function engineCpuS(db) {
  const pids = [];
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const exe = path.basename(cmd[0] ?? "");
      if (exe === "dockerd" || exe === "containerd" || (exe.startsWith("containerd-shim") && cmd.includes(db.id))) pids.push(entry);
    }
  } catch {
    return null;
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name (which may contain spaces): utime and stime are 14th and 15th.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return pids.length ? ticks / 100 : null;
}

export async function serverVersion(db) {
  return (await psql(db.name, "SHOW server_version;", ["-tA"])).trim();
}

/** The pipelines of the comparison: pg_dump exactly as the seeds' scripts run it. */
export function pgDumpShell(db, { gzip, out }) {
  const dump = `docker exec ${db.name} sh -c 'pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB"'`;
  return ["bash", "-c", `set -o pipefail; ${dump}${gzip ? " | gzip" : ""} > "$1"`, "bash", out];
}

// --- internal ---

async function psql(name, sql, extra = []) {
  return capture(["docker", "exec", "-i", name, "psql", "-q", "-v", "ON_ERROR_STOP=1", "-U", USER, "-d", DB, ...extra], { input: sql });
}

async function tableSize(db) {
  const out = await psql(db.name, "SELECT coalesce(max(id), 0), pg_total_relation_size('events') FROM events;", ["-tA", "-F", " "]);
  const [rows, bytes] = out.trim().split(" ").map(Number);
  return { rows, bytes };
}

async function relationSizes(db) {
  const out = await psql(db.name, "SELECT pg_total_relation_size('events'), pg_relation_size('events'), pg_indexes_size('events');", ["-tA", "-F", " "]);
  const [totalBytes, heapBytes, indexBytes] = out.trim().split(" ").map(Number);
  return { totalBytes, heapBytes, indexBytes };
}

function usageUsec(text) {
  const m = /^usage_usec (\d+)$/m.exec(text);
  if (!m) throw new Error("no usage_usec");
  return Number(m[1]) / 1e6;
}

function mib(n) {
  return (n / 1048576).toFixed(0);
}
