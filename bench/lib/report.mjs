// Tables and goals of the PostgreSQL backup benchmark. Goals are judged, never enforced: a missed
// goal prints MISS and the run still exits 0 (only errors fail it).

export const GOALS = {
  speedUp: 1.5,
  sizeRatio: 1.0,
  rssMiB: 120,
  /** Growth of peak RSS from the smallest to the largest size that still counts as flat. */
  rssGrowthMiB: 20,
  plainRatio: 1.1,
  /** An age-encrypted backup against the same backup in clear (issue 13). */
  encryptRatio: 1.15,
};

export function table(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c ?? "-")));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  return [line(cells[0]), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}

/** The comparison at one size as a text table. */
export function sizeTable(result) {
  const rows = result.cases.map((c) => [
    c.label,
    c.wallS.toFixed(2),
    `${c.minS.toFixed(2)}–${c.maxS.toFixed(2)}`,
    mib(c.bytes, 1),
    c.dumpMbPerS === null ? "-" : c.dumpMbPerS.toFixed(0),
    seconds(c.cpuS),
    seconds(c.containerCpuS),
    seconds(c.engineCpuS),
    c.peakRssKb === null ? "-" : `${(c.peakRssKb / 1024).toFixed(0)} / ${(c.maxPeakRssKb / 1024).toFixed(0)}`,
    c.syncS.toFixed(2),
  ]);
  return table(["case", "wall s", "min–max s", "output MiB", "dump MiB/s", "host CPU s", "container CPU s", "engine CPU s", "peak RSS MiB (med/max)", "sync after s"], rows);
}

export function breakdownTable(rows) {
  return table(
    ["stage (each alone)", "seconds", "MiB/s of input", "host CPU s", "container CPU s", "engine CPU s"],
    rows.map((r) => [r.label, r.seconds.toFixed(2), r.mbPerS.toFixed(0), seconds(r.cpuS), seconds(r.containerCpuS), seconds(r.engineCpuS)]),
  );
}

/**
 * Every goal for every sdbackup variant measured (source, binary), judged at every size.
 * Returns lines such as `PASS  speed-up … [binary]  256 MiB: 2.61×, 1024 MiB: 2.70×`.
 */
export function judge(sizes, clis) {
  const lines = [];
  const at = (s, id) => s.result.cases.find((c) => c.id === id);
  for (const cli of clis) {
    const zstd = `sdbackup-${cli}-zstd`;
    const none = `sdbackup-${cli}-none`;
    const each = (f) => sizes.map((s) => ({ size: s.sizeMb, value: f(s) }));
    // Judged on medians; the ratio of the fastest runs is shown too, as it is what a quiet machine gives.
    const timed = (f) => each((s) => ({ med: f(s, "wallS"), min: f(s, "minS") }));
    lines.push(goal(`(1) speed-up of sdbackup over pg_dump | gzip ≥ ${GOALS.speedUp}×`, cli,
      timed((s, k) => at(s, "pipe-gzip")[k] / at(s, zstd)[k]), (v) => v.med >= GOALS.speedUp, (v) => `${v.med.toFixed(2)}× (fastest runs ${v.min.toFixed(2)}×)`));
    lines.push(goal(`(1)/(2) output size ≤ ${GOALS.sizeRatio.toFixed(2)}`, cli,
      each((s) => at(s, zstd).bytes / at(s, "pipe-gzip").bytes), (v) => v <= GOALS.sizeRatio, (v) => v.toFixed(3)));
    lines.push(goal(`(3) --compression none within ${GOALS.plainRatio}× of pg_dump > f`, cli,
      timed((s, k) => at(s, none)[k] / at(s, "pipe-plain")[k]), (v) => v.med <= GOALS.plainRatio, (v) => `${v.med.toFixed(2)}× (fastest runs ${v.min.toFixed(2)}×)`));
    const age = `${zstd}-age`;
    if (at(sizes[0], age)) {
      lines.push(goal(`(4) --encrypt-to within ${GOALS.encryptRatio}× of the same backup in clear`, cli,
        timed((s, k) => at(s, age)[k] / at(s, zstd)[k]), (v) => v.med <= GOALS.encryptRatio, (v) => `${v.med.toFixed(2)}× (fastest runs ${v.min.toFixed(2)}×)`));
    }
    for (const id of [zstd, none, age]) {
      if (!at(sizes[0], id)) continue;
      const peaks = each((s) => at(s, id).maxPeakRssKb / 1024);
      if (peaks.some((p) => !p)) continue;
      const kind = id.endsWith("age") ? "zstd + age" : id.endsWith("zstd") ? "zstd" : "none";
      lines.push(goal(`peak RSS (${kind}, max of runs) ≤ ${GOALS.rssMiB} MiB`, cli, peaks, (v) => v <= GOALS.rssMiB, (v) => `${v.toFixed(0)} MiB`));
      if (sizes.length > 1) {
        const first = at(sizes[0], id).peakRssKb / 1024;
        const last = at(sizes.at(-1), id).peakRssKb / 1024;
        const growth = [{ size: `${sizes[0].sizeMb}→${sizes.at(-1).sizeMb}`, value: last - first }];
        lines.push(goal(`peak RSS (${kind}, median) flat: growth ≤ ${GOALS.rssGrowthMiB} MiB`, cli, growth,
          (v) => v <= GOALS.rssGrowthMiB, (v) => `${v >= 0 ? "+" : ""}${v.toFixed(0)} MiB`));
      }
    }
  }
  return lines;
}

/**
 * One line per variant: RSS under a deliberately slow sink (see lib/backpressure.mjs), judged on the
 * peak of the run's second half against its first half. `engineMiBPerS` is what the same variant
 * read with a fast sink (the `--compression none` case), for comparison with the throttled rate.
 */
export function judgeBackpressure(checks, engineMiBPerS) {
  return checks.map((c) => {
    const name = `RSS flat with a slow sink (gzip -9, ${c.seconds} s): growth ≤ ${GOALS.rssGrowthMiB} MiB`;
    if (c.tooShort) return `n/a   ${name.padEnd(58)} [${c.cli}]  the backup finished in ${c.finishedS.toFixed(1)} s, too soon to tell`;
    const growth = c.secondHalfPeakMiB - c.firstHalfPeakMiB;
    const pass = growth <= GOALS.rssGrowthMiB;
    const fast = engineMiBPerS[c.cli];
    return `${pass ? "PASS" : "MISS"}  ${name.padEnd(58)} [${c.cli}]  peak ${c.firstHalfPeakMiB.toFixed(0)} MiB → ${c.secondHalfPeakMiB.toFixed(0)} MiB ` +
      `(${growth >= 0 ? "+" : ""}${growth.toFixed(0)}); read ${c.readMiBPerS.toFixed(0)} MiB/s from the engine${fast ? ` (${fast.toFixed(0)} MiB/s into a fast sink)` : ""}` +
      `${c.finishedS ? `; finished in ${c.finishedS.toFixed(1)} s` : ""}`;
  });
}

export function mib(bytes, digits = 0) {
  return bytes === null || bytes === undefined ? "-" : (bytes / 1048576).toFixed(digits);
}

// --- internal ---

function seconds(v) {
  return v === null || v === undefined ? "-" : v.toFixed(2);
}

function goal(text, cli, values, ok, fmt) {
  const pass = values.every((v) => ok(v.value));
  return `${pass ? "PASS" : "MISS"}  ${text.padEnd(58)} [${cli}]  ${values.map((v) => `${v.size} MiB: ${fmt(v.value)}`).join(", ")}`;
}
