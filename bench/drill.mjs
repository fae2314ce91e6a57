// Issue 10: a drill of a postgres set takes at most 1.5× the time of restoring it. One backup of the
// bench database at the largest size, then interleaved runs (restore, drill, restore, drill, …) of
// `sdbackup restore --from-app` into a second postgres:15 container started with the image's default
// settings (those a drill's throwaway server has; the bench database runs with fsync off for seeding)
// and `sdbackup verify --restore-test` of the same set. Both restore all three artifacts (roles, the
// bench database, postgres). Medians, their ratio, and the drill's phases from its -v log.
import path from "node:path";
import { mkdirSync } from "node:fs";
import { median, removeQuietly, run, settleDisk, waitForIdle } from "./lib/measure.mjs";
import { removeDb, startDb } from "./lib/pg-db.mjs";
import { table } from "./lib/report.mjs";

export const DRILL_GOAL = 1.5;

export async function measureDrill(ctx, db, cli) {
  const dir = path.join(ctx.tmp, "drill");
  mkdirSync(dir, { recursive: true });
  const target = path.join(dir, "target");
  const opts = { env: ctx.cliEnv };
  const backup = await run([...cli.argv, "backup", "--app", db.name, "--target", target, "--json"], opts);
  const set = JSON.parse(backup.stdout).set;
  const into = await startDb(`${db.name}-restore`, { defaults: true });
  try {
    const cases = [
      { id: "restore", label: "sdbackup restore (into a running server)", argv: [...cli.argv, "restore", "--app", into.name, "--from-app", db.name, "--target", target, "--set", set, "--yes", "--json"] },
      { id: "drill", label: "sdbackup verify --restore-test", argv: [...cli.argv, "verify", "--restore-test", "--app", db.name, "--target", target, "--set", set, "--json", "-v"] },
    ].map((c) => ({ ...c, seconds: [], phases: [] }));
    for (let r = 0; r < ctx.runs; r++) {
      for (const c of cases) {
        await waitForIdle(ctx.idleBelow, ctx.idleWaitS);
        const res = await run(c.argv, opts);
        c.seconds.push(res.wallS);
        if (c.id === "drill") c.phases.push(phases(res.stderr, res.wallS));
        await settleDisk({ dropCaches: ctx.dropCaches });
        ctx.log(`  run ${r + 1}/${ctx.runs} ${c.label.padEnd(44)} ${res.wallS.toFixed(2).padStart(7)} s`);
      }
    }
    const [restore, drill] = cases.map((c) => median(c.seconds));
    return { restoreS: restore, drillS: drill, ratio: drill / restore, runs: Object.fromEntries(cases.map((c) => [c.id, c.seconds])), phases: cases[1].phases, artifactBytes: backup.stdout ? JSON.parse(backup.stdout).items?.reduce((n, i) => n + (i.bytes ?? 0), 0) : null };
  } finally {
    await removeDb(into.name);
    removeQuietly(dir);
  }
}

export function drillTable(d) {
  const rows = [
    ["sdbackup restore --from-app (fresh server, image defaults)", `${d.restoreS.toFixed(2)} s`, "1.00×"],
    ["sdbackup verify --restore-test (throwaway server)", `${d.drillS.toFixed(2)} s`, `${d.ratio.toFixed(2)}×`],
  ];
  const phaseLines = d.phases.map((p, i) => `  drill run ${i + 1}: ${Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}`);
  return [table(["CASE", "MEDIAN", "× RESTORE"], rows), ...phaseLines].join("\n");
}

export function judgeDrill(d) {
  return d ? [`${d.ratio <= DRILL_GOAL ? "PASS" : "MISS"} drill ≤ ${DRILL_GOAL}× restore: ${d.ratio.toFixed(2)}× (${d.drillS.toFixed(1)} s vs ${d.restoreS.toFixed(1)} s)`] : [];
}

// --- internal ---

/** Seconds of each step of one drill, from its -v lines (ISO timestamps; see core/verify/run-drill.ts). */
function phases(stderr, wallS) {
  const marks = [];
  for (const line of stderr.split("\n")) {
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) (?:\w+ )?(.*)$/.exec(line);
    if (m) marks.push([Date.parse(m[1]), m[2]]);
  }
  const first = (re) => marks.find(([, text]) => re.test(text))?.[0];
  const last = (re) => marks.findLast(([, text]) => re.test(text))?.[0];
  const steps = [
    ["check artifacts", marks[0]?.[0], first(/artifact\(s\) checked/)],
    ["start server", first(/artifact\(s\) checked/), first(/throwaway server ready/)],
    ["restore", first(/throwaway server ready/), last(/: restored$/)],
    ["inventory", last(/: restored$/), last(/inventory taken/)],
  ];
  const out = Object.fromEntries(steps.filter(([, a, b]) => a !== undefined && b !== undefined).map(([k, a, b]) => [k, (b - a) / 1000]));
  // Node's start, reading the set list, and removing the throwaway container after the last line.
  if (marks.length) out["start-up and removal"] = wallS - (marks.at(-1)[0] - marks[0][0]) / 1000;
  return out;
}
