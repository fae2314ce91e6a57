// Issue 16: how close a restore comes to the restore tool's own speed. One set is backed up, and the
// same database dumped to a file inside the container; then interleaved runs (A B C, A B C, …) of
// the floor (pg_restore of that file inside the container, with the flags sdbackup uses), sdbackup
// restore over the fast and over the exec transport. Each run replaces the whole database, so every
// run does the same work. Reported as best and median, and ratios of the best to the floor's best
// (the machine may be shared: the best run is the one least disturbed).
import path from "node:path";
import { mkdirSync } from "node:fs";
import { loadAverage, median, removeQuietly, run, settleDisk, waitForIdle } from "./lib/measure.mjs";
import { table } from "./lib/report.mjs";

const FILE = "/tmp/sdbackup-bench-restore.pgdump";
const RESTORE = `pg_restore -U "$POSTGRES_USER" -d "$POSTGRES_DB" --clean --if-exists --single-transaction --exit-on-error`;

export async function measureRestores(ctx, db, cli) {
  const dir = path.join(ctx.tmp, "restore");
  mkdirSync(dir, { recursive: true });
  const target = path.join(dir, "target");
  const backup = await run([...cli.argv, "backup", "--app", db.name, "--target", target, "--json"], { env: ctx.cliEnv });
  const set = JSON.parse(backup.stdout).set;
  await run(["docker", "exec", db.name, "sh", "-c", `pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" --format=custom --compress=0 -f ${FILE}`]);
  const sdb = (transport) => ({
    id: `sdbackup-${transport}`, label: `sdbackup restore --transport ${transport} (zstd, local)`,
    argv: [...cli.argv, "restore", "--app", db.name, "--target", target, "--set", set, "--yes", "--transport", transport, "--json"],
  });
  const cases = [
    { id: "floor", label: "floor: pg_restore of a file in the container", argv: ["docker", "exec", db.name, "sh", "-c", `${RESTORE} ${FILE}`] },
    sdb("fast"),
    sdb("exec"),
  ].map((c) => ({ ...c, seconds: [], transports: new Set() }));
  const load = { before: loadAverage() };
  try {
    for (let r = 0; r < ctx.runs; r++) {
      for (const c of cases) {
        await waitForIdle(ctx.idleBelow, ctx.idleWaitS);
        const res = await run(c.argv, { env: ctx.cliEnv });
        if (c.id.startsWith("sdbackup")) for (const i of JSON.parse(res.stdout).items) if (i.transport) c.transports.add(i.transport);
        c.seconds.push(res.wallS);
        await settleDisk({ dropCaches: ctx.dropCaches });
        ctx.log(`  run ${r + 1}/${ctx.runs} ${c.label.padEnd(52)} ${res.wallS.toFixed(2).padStart(6)} s`);
      }
    }
  } finally {
    await run(["docker", "exec", db.name, "rm", "-f", FILE], { allowFailure: true });
    removeQuietly(dir);
  }
  load.after = loadAverage();
  const floor = Math.min(...cases[0].seconds);
  const rows = cases.map((c) => ({
    id: c.id, label: c.label, best: Math.min(...c.seconds), median: median(c.seconds), ratio: Math.min(...c.seconds) / floor, transports: [...c.transports],
  }));
  return { rows, load };
}

export function restoreTable({ rows, load }) {
  const lines = table(["CASE", "BEST", "MEDIAN", "BEST × FLOOR", "TRANSPORT USED"], rows.map((r) => [r.label, `${r.best.toFixed(2)} s`, `${r.median.toFixed(2)} s`, `${r.ratio.toFixed(2)}×`, r.transports.join(", ") || "-"]));
  return `${lines}\n(load average ${load.before} before, ${load.after} after)`;
}
