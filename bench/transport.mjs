// Issue 16: how close a backup comes to the dump tool's own speed. Interleaved runs (A B C D E, A B
// C D E, …) of the floor (pg_dump -Fc -Z0 to /dev/null inside the container), the exec floor (the
// same dump streamed out through `docker exec` to /dev/null), sdbackup with the fast and the exec
// transport, and restic reading the same dump from stdin into a fresh repository (skipped, and said
// so, without `restic` on PATH: `apt-get install restic`). Reported as medians and ratios to the floor.
// Then the restore comparison (restore.mjs): pg_restore from a file in the container against
// sdbackup restore over both transports.
import path from "node:path";
import { mkdirSync } from "node:fs";
import { median, removeQuietly, run, settleDisk, waitForIdle } from "./lib/measure.mjs";
import { table } from "./lib/report.mjs";
import { measureRestores, restoreTable } from "./restore.mjs";

const DUMP = `pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" --format=custom --compress=0`;

export async function measureTransports(ctx, db, cli) {
  const dir = path.join(ctx.tmp, "transport");
  mkdirSync(dir, { recursive: true });
  const hasRestic = (await run(["sh", "-c", "command -v restic"], { allowFailure: true })).code === 0;
  const resticEnv = { ...process.env, RESTIC_PASSWORD: "bench-only", RESTIC_CACHE_DIR: path.join(dir, "restic-cache") };
  const sdb = (transport) => ({
    id: `sdbackup-${transport}`, label: `sdbackup --transport ${transport} (zstd, local)`,
    argv: (out) => [...cli.argv, "backup", "--app", db.name, "--target", out, "--transport", transport, "--json"], env: ctx.cliEnv,
  });
  const cases = [
    { id: "floor", label: "floor: pg_dump -Fc -Z0 > /dev/null in the container", argv: () => ["docker", "exec", db.name, "sh", "-c", `${DUMP} > /dev/null`] },
    { id: "exec-floor", label: "exec floor: the same through docker exec > /dev/null", argv: () => ["bash", "-c", `set -o pipefail; docker exec ${db.name} sh -c '${DUMP}' > /dev/null`] },
    sdb("fast"),
    sdb("exec"),
    ...(hasRestic ? [{
      id: "restic", label: "restic backup --stdin (fresh repository)", env: resticEnv,
      setup: (out) => run(["restic", "-r", out, "init", "-q"], { env: resticEnv }),
      argv: (out) => ["bash", "-c", `set -o pipefail; docker exec ${db.name} sh -c '${DUMP}' | restic -r "$1" backup -q --stdin --stdin-filename db.pgdump`, "bash", out],
    }] : []),
  ].map((c) => ({ ...c, seconds: [], transports: new Set() }));
  for (let r = 0; r < ctx.runs; r++) {
    for (const c of cases) {
      await waitForIdle(ctx.idleBelow, ctx.idleWaitS);
      const out = path.join(dir, `${c.id}-${r}`);
      await c.setup?.(out);
      const res = await run(c.argv(out), c.env ? { env: c.env } : {});
      if (c.id.startsWith("sdbackup")) for (const i of JSON.parse(res.stdout).items) if (i.transport) c.transports.add(i.transport);
      c.seconds.push(res.wallS);
      removeQuietly(out);
      await settleDisk({ dropCaches: ctx.dropCaches });
      ctx.log(`  run ${r + 1}/${ctx.runs} ${c.label.padEnd(52)} ${res.wallS.toFixed(2).padStart(6)} s`);
    }
  }
  removeQuietly(dir);
  const floor = median(cases[0].seconds);
  const rows = cases.map((c) => ({ id: c.id, label: c.label, seconds: median(c.seconds), ratio: median(c.seconds) / floor, transports: [...c.transports] }));
  ctx.log("  restores…");
  return { rows, restic: hasRestic, restore: await measureRestores(ctx, db, cli) };
}

export function transportTable({ rows, restic, restore }) {
  const lines = table(["CASE", "MEDIAN", "× FLOOR", "TRANSPORT USED"], rows.map((r) => [r.label, `${r.seconds.toFixed(2)} s`, `${r.ratio.toFixed(2)}×`, r.transports.join(", ") || "-"]));
  const dumps = restic ? lines : `${lines}\n(restic not installed: apt-get install restic to add it)`;
  return `${dumps}\n\nrestores (interleaved; ratios of the best runs to the floor's best):\n${restoreTable(restore)}`;
}
