// The measurements at one database size: sdbackup against the shell pipelines it replaces, and (on
// request) a breakdown of where a backup's time goes. `bench/run.mjs` drives it.
import { closeSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
import path from "node:path";
import { containerCpuS, engineCpuS, pgDumpShell } from "./lib/pg-db.mjs";
import { median, removeQuietly, run, settleDisk, waitForIdle } from "./lib/measure.mjs";

/**
 * The compared commands. `group` pairs them for the goals: zstd vs gzip (defaults of each side),
 * none vs plain (the same work without compression). `format` says which dump size they carry.
 */
export function comparisonCases(clis, recipient) {
  const sdb = (cli, compression, group, encrypt = false) => ({
    id: `sdbackup-${cli.name}-${compression}${encrypt ? "-age" : ""}`,
    label: `sdbackup ${compression === "zstd" ? "" : "--compression none "}${encrypt ? "--encrypt-to " : ""}(${cli.name})`,
    group, cli: cli.name, format: "custom", kind: "sdbackup", compression,
    argv: (out) => [...cli.argv, "backup", "--app", "%APP%", "--target", out, "--compression", compression, ...(encrypt ? ["--encrypt-to", recipient] : []), "--json"],
  });
  const pipe = (gzip, group) => ({
    id: gzip ? "pipe-gzip" : "pipe-plain",
    label: gzip ? "pg_dump | gzip > f" : "pg_dump > f",
    group, format: "plain", kind: "pipe", gzip,
  });
  return [
    ...clis.map((cli) => sdb(cli, "zstd", "zstd")),
    // Encrypted to an age recipient (issue 13): judged against the unencrypted zstd case.
    ...(recipient ? clis.map((cli) => sdb(cli, "zstd", "zstd-age", true)) : []),
    pipe(true, "gzip"),
    ...clis.map((cli) => sdb(cli, "none", "none")),
    pipe(false, "plain"),
  ];
}

/**
 * Runs every case `ctx.runs` times, round-robin (A B C, A B C, …) so that a slow spell on the shared
 * machine spreads over all cases instead of hitting one. Each run writes into a fresh directory that
 * is removed afterwards; `sync` runs between runs (untimed) so that no run pays for the previous
 * one's write-back, and its duration is kept as the write-back a run left behind.
 */
export async function measureSize(ctx, db) {
  const cases = comparisonCases(ctx.clis, ctx.recipient).map((c) => ({ ...c, runs: [] }));
  await warmUp(ctx, db);
  await settleDisk({ dropCaches: ctx.dropCaches });
  for (let r = 0; r < ctx.runs; r++) {
    for (const c of cases) {
      const busyBefore = await waitForIdle(ctx.idleBelow, ctx.idleWaitS);
      const cpuBefore = containerCpuS(db);
      const engineBefore = engineCpuS(db);
      const result = await runOnce(ctx, db, c, `${c.id}-${r}`);
      result.busyBefore = busyBefore;
      result.containerCpuS = cpuBefore === null ? null : containerCpuS(db) - cpuBefore;
      result.engineCpuS = engineBefore === null ? null : engineCpuS(db) - engineBefore;
      result.syncS = await settleDisk({ dropCaches: ctx.dropCaches });
      c.runs.push(result);
      const busy = busyBefore === null ? "" : `  (machine ${(busyBefore * 100).toFixed(0)}% busy before)`;
      ctx.log(`  run ${r + 1}/${ctx.runs} ${c.label.padEnd(38)} ${result.wallS.toFixed(2).padStart(6)} s  ${(result.bytes / 1048576).toFixed(1).padStart(7)} MiB  ${result.peakRssKb ? `${(result.peakRssKb / 1024).toFixed(0)} MiB RSS` : ""}${busy}`);
    }
  }
  const dumpBytes = {
    custom: median(cases.filter((c) => c.group === "none").flatMap((c) => c.runs.map((x) => x.bytes))),
    plain: median(cases.filter((c) => c.group === "plain").flatMap((c) => c.runs.map((x) => x.bytes))),
  };
  return { cases: cases.map((c) => summarize(c, dumpBytes[c.format])), dumpBytes };
}

/**
 * Where the time goes, each part alone: pg_dump inside the container with no output stream, the
 * same through `docker exec` to a host file (the engine's stream and the CLI's demux), pg_dump from
 * a helper container into a bind mount (no exec stream at all), and the host stages (sdbackup's zstd
 * and sha256 in Node, the gzip and zstd CLIs) over files from the page cache.
 */
export async function breakdown(ctx, db) {
  const dir = path.join(ctx.tmp, "breakdown");
  mkdirSync(dir, { recursive: true });
  const custom = path.join(dir, "dump.pgdump");
  const plain = path.join(dir, "dump.sql");
  const inContainer = (args) => ["docker", "exec", db.name, "sh", "-c", `pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" ${args} > /dev/null`];
  const toHost = (args, file) => ["bash", "-c", `set -o pipefail; docker exec ${db.name} sh -c 'pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" ${args}' > "$1"`, "bash", file];
  const hostStage = (stage) => [ctx.node, path.join(ctx.root, "bench", "lib", "host-stage.mjs"), stage, custom];
  const items = [
    { label: "docker exec pg_dump plain > host file", argv: toHost("", plain), base: plain, writes: plain },
    { label: "docker exec pg_dump -Fc -Z0 > host file", argv: toHost("--format=custom --compress=0", custom), base: custom, writes: custom },
    {
      // What a backup could do without the exec stream: a throwaway container in the database's
      // network namespace runs pg_dump over TCP into a bind-mounted host directory.
      label: "helper container: pg_dump -Fc -Z0 over TCP > bind mount",
      argv: ["docker", "run", "--rm", "--network", `container:${db.name}`, "-v", `${dir}:/out`, "-e", "PGPASSWORD", "--label", "sdbackup.test=1",
        "--entrypoint", "pg_dump", "postgres:15", "-h", "127.0.0.1", "-U", db.user, "-d", db.db, "--format=custom", "--compress=0", "-f", "/out/helper.pgdump"],
      env: { ...process.env, PGPASSWORD: db.password }, base: custom, writes: path.join(dir, "helper.pgdump"),
    },
    { label: "pg_dump plain, in the container > /dev/null", argv: inContainer(""), base: plain },
    { label: "pg_dump -Fc -Z0, in the container > /dev/null", argv: inContainer("--format=custom --compress=0"), base: custom },
    { label: "host: node read only (custom dump)", argv: hostStage("read"), base: custom, inProcess: true },
    { label: "host: sdbackup zstd-3 in node (custom dump)", argv: hostStage("zstd"), base: custom, inProcess: true },
    { label: "host: sdbackup sha256 in node (custom dump)", argv: hostStage("sha256"), base: custom, inProcess: true },
    { label: "host: sdbackup zstd-3 + sha256 (custom dump)", argv: hostStage("zstd+sha256"), base: custom, inProcess: true },
    { label: "host: zstd -3 CLI (custom dump)", argv: ["sh", "-c", `zstd -3 -q -c "$1" > /dev/null`, "sh", custom], base: custom, needs: "zstd" },
    { label: "host: gzip -6 CLI (plain dump)", argv: ["sh", "-c", `gzip -6 -c "$1" > /dev/null`, "sh", plain], base: plain, needs: "gzip" },
  ];
  const rows = [];
  for (const item of items) {
    if (item.needs && (await run(["sh", "-c", `command -v ${item.needs}`], { allowFailure: true })).code !== 0) continue;
    const samples = [];
    for (let r = 0; r < ctx.runs; r++) {
      await waitForIdle(ctx.idleBelow, ctx.idleWaitS);
      // A fresh file each time, as in the comparison: overwriting a 1 GiB file first frees its pages.
      if (item.writes) removeQuietly(item.writes);
      const cpuBefore = containerCpuS(db);
      const engineBefore = engineCpuS(db);
      const res = await run(item.argv, { measure: true, timeFile: path.join(dir, "time.txt"), ...(item.env ? { env: item.env } : {}) });
      const containerCpu = cpuBefore === null ? null : containerCpuS(db) - cpuBefore;
      const engineCpu = engineBefore === null ? null : engineCpuS(db) - engineBefore;
      // In-process timing leaves out node's start and the TypeScript loading of the stage script.
      const seconds = item.inProcess ? JSON.parse(res.stdout.trim().split("\n").at(-1)).seconds : res.wallS;
      samples.push({ seconds, cpuS: res.cpuS, containerCpuS: containerCpu, engineCpuS: engineCpu });
      await settleDisk();
    }
    const bytes = statSync(item.base).size;
    const seconds = median(samples.map((s) => s.seconds));
    const cpu = (k) => median(samples.map((s) => s[k]));
    rows.push({ label: item.label, seconds, mbPerS: bytes / 1048576 / seconds, cpuS: cpu("cpuS"), containerCpuS: cpu("containerCpuS"), engineCpuS: cpu("engineCpuS"), bytes });
    ctx.log(`  ${item.label.padEnd(48)} ${seconds.toFixed(2)} s`);
  }
  removeQuietly(dir);
  return rows;
}

// --- internal ---

/**
 * Untimed: one plain dump reads every page into the page cache (the database was just vacuumed, so
 * nothing is written back), and each sdbackup variant starts once so its files are cached too.
 */
async function warmUp(ctx, db) {
  const out = path.join(ctx.tmp, "warm.sql");
  await run(pgDumpShell(db, { gzip: false, out }));
  removeQuietly(out);
  for (const cli of ctx.clis) await run([...cli.argv, "--version"], { env: ctx.cliEnv });
}

async function runOnce(ctx, db, c, name) {
  const timeFile = path.join(ctx.tmp, "time.txt");
  if (c.kind === "pipe") {
    const out = path.join(ctx.tmp, `${name}.out`);
    const res = await run(pgDumpShell(db, { gzip: c.gzip, out }), { measure: true, timeFile });
    const bytes = statSync(out).size;
    removeQuietly(out);
    return { wallS: res.wallS, cpuS: res.cpuS, peakRssKb: res.peakRssKb, bytes };
  }
  const out = path.join(ctx.tmp, name);
  const argv = c.argv(out).map((a) => (a === "%APP%" ? db.name : a));
  // cwd without a compose file: --app then finds the project by its containers' labels.
  const res = await run(argv, { measure: true, timeFile, env: ctx.cliEnv, cwd: ctx.tmp });
  const result = JSON.parse(res.stdout);
  // postgres stores one artifact per database (and one for globals): the seeded database is the largest.
  const item = (result.items ?? []).reduce((a, b) => (b.bytes > (a?.bytes ?? -1) ? b : a), undefined);
  if (result.status !== "ok" || !item || result.items.some((i) => i.status !== "ok")) throw new Error(`sdbackup backup did not succeed: ${res.stdout}`);
  const stored = statSync(path.join(out, ...item.key.split("/"))).size;
  if (stored !== item.bytes) throw new Error(`sdbackup reported ${item.bytes} bytes but stored ${stored}`);
  if (c.compression === "none" && !startsWith(path.join(out, ...item.key.split("/")), "PGDMP")) {
    throw new Error("the uncompressed artifact is not a pg_dump custom archive");
  }
  removeQuietly(out);
  return { wallS: res.wallS, cpuS: res.cpuS, peakRssKb: res.peakRssKb, bytes: item.bytes, itemS: item.durationMs / 1000 };
}

function summarize(c, dumpBytes) {
  const pick = (k) => c.runs.map((r) => r[k]);
  const wallS = median(pick("wallS"));
  return {
    id: c.id, label: c.label, group: c.group, cli: c.cli ?? null,
    wallS, minS: Math.min(...pick("wallS")), maxS: Math.max(...pick("wallS")),
    bytes: median(pick("bytes")),
    dumpMbPerS: dumpBytes ? dumpBytes / 1048576 / wallS : null,
    cpuS: median(pick("cpuS")),
    containerCpuS: median(pick("containerCpuS")),
    engineCpuS: median(pick("engineCpuS")),
    peakRssKb: median(pick("peakRssKb")),
    maxPeakRssKb: Math.max(...pick("peakRssKb").map((x) => x ?? 0)) || null,
    syncS: median(pick("syncS")),
    runs: c.runs,
  };
}

function startsWith(file, magic) {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(magic.length);
    readSync(fd, buf, 0, buf.length, 0);
    return buf.toString("latin1") === magic;
  } finally {
    closeSync(fd);
  }
}
