import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mergeRun, parseMetrics, renderMetrics, writeMetricsFile, type MetricsRun } from "../../../src/notify/metrics.ts";
import { promtoolCheckMetrics, requirePromtool, skipPromtool } from "../../helpers/promtool.ts";

const T1 = new Date("2026-01-10T03:00:00Z");
const T2 = new Date("2026-01-11T03:00:00Z");
const backup = (finishedAt: Date, dbOk: boolean, extra: Partial<MetricsRun> = {}): MetricsRun => ({
  command: "backup", project: "shop", status: dbOk ? "ok" : "partial", exitCode: dbOk ? 0 : 3, finishedAt, durationMs: 61_500,
  services: [{ service: "db", ok: dbOk, durationMs: 40_000, ...(dbOk ? { bytes: 1234 } : {}) }, { service: "files", ok: true, bytes: 99, durationMs: 2_000 }],
  target: [{ project: "shop", service: "db", sets: dbOk ? 2 : 1, newestSet: T1 }, { project: "shop", service: "files", sets: 2, newestSet: finishedAt }],
  ...extra,
});
const value = (text: string, name: string, labels: Record<string, string>) =>
  parseMetrics(text).find((s) => s.name === name && Object.keys(labels).every((k) => s.labels[k] === labels[k]) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;

let dir: string;
beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), "sdbackup-metrics-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("metrics textfile", () => {
  it("per project and service: status, timestamps, bytes, duration, sets", () => {
    const text = renderMetrics(mergeRun([], backup(T1, true)));
    expect(value(text, "sdbackup_last_run_success", { command: "backup", project: "shop" })).toBe(1);
    expect(value(text, "sdbackup_last_run_exit_code", { command: "backup", project: "shop" })).toBe(0);
    expect(value(text, "sdbackup_last_run_timestamp_seconds", { command: "backup", project: "shop", service: "db" })).toBe(T1.getTime() / 1000);
    expect(value(text, "sdbackup_last_success_timestamp_seconds", { command: "backup", project: "shop", service: "db" })).toBe(T1.getTime() / 1000);
    expect(value(text, "sdbackup_last_run_duration_seconds", { command: "backup", project: "shop", service: "db" })).toBe(40);
    expect(value(text, "sdbackup_last_run_bytes", { project: "shop", service: "db" })).toBe(1234);
    expect(value(text, "sdbackup_sets", { project: "shop", service: "files" })).toBe(2);
    expect(text).toContain("# TYPE sdbackup_sets gauge\n");
  });

  it("keeps the last success of a service that failed this time, and other commands' and projects' samples", () => {
    const first = renderMetrics(mergeRun([], backup(T1, true)));
    const withPrune = renderMetrics(mergeRun(parseMetrics(first), { command: "prune", project: "shop", status: "ok", exitCode: 0, finishedAt: T1, durationMs: 100, services: [] }));
    const other = renderMetrics(mergeRun(parseMetrics(withPrune), { ...backup(T1, true), project: "blog", target: [] }));
    const second = renderMetrics(mergeRun(parseMetrics(other), backup(T2, false)));
    expect(value(second, "sdbackup_last_run_success", { command: "backup", project: "shop", service: "db" })).toBe(0);
    expect(value(second, "sdbackup_last_success_timestamp_seconds", { command: "backup", project: "shop", service: "db" })).toBe(T1.getTime() / 1000);
    expect(value(second, "sdbackup_last_success_timestamp_seconds", { command: "backup", project: "shop", service: "files" })).toBe(T2.getTime() / 1000);
    expect(value(second, "sdbackup_last_success_timestamp_seconds", { command: "backup", project: "shop" })).toBe(T1.getTime() / 1000);
    expect(value(second, "sdbackup_last_run_exit_code", { command: "backup", project: "shop" })).toBe(3);
    expect(value(second, "sdbackup_last_run_bytes", { project: "shop", service: "db" })).toBeUndefined();
    expect(value(second, "sdbackup_last_run_success", { command: "prune", project: "shop" })).toBe(1);
    expect(value(second, "sdbackup_last_run_success", { command: "backup", project: "blog" })).toBe(1);
  });

  it("a run that touched only some services (or none) leaves the others' samples alone", () => {
    const full = parseMetrics(renderMetrics(mergeRun([], backup(T1, true))));
    const onlyFiles = renderMetrics(mergeRun(full, { ...backup(T2, true), services: [{ service: "files", ok: true, bytes: 100 }] }));
    expect(value(onlyFiles, "sdbackup_last_run_timestamp_seconds", { command: "backup", project: "shop", service: "db" })).toBe(T1.getTime() / 1000);
    expect(value(onlyFiles, "sdbackup_last_run_bytes", { project: "shop", service: "db" })).toBe(1234);
    expect(value(onlyFiles, "sdbackup_last_run_bytes", { project: "shop", service: "files" })).toBe(100);
    const thrown = renderMetrics(mergeRun(parseMetrics(onlyFiles), { command: "backup", project: "shop", status: "failed", exitCode: 1, finishedAt: new Date("2026-01-12T03:00:00Z"), durationMs: 1, services: [] }));
    expect(value(thrown, "sdbackup_last_run_success", { command: "backup", project: "shop" })).toBe(0);
    expect(value(thrown, "sdbackup_last_run_success", { command: "backup", project: "shop", service: "db" })).toBe(1);
    expect(value(thrown, "sdbackup_last_success_timestamp_seconds", { command: "backup", project: "shop" })).toBe(T2.getTime() / 1000);
  });

  it("without a previous file, a failed service's last success comes from the newest set in the target", () => {
    const text = renderMetrics(mergeRun([], backup(T2, false)));
    expect(value(text, "sdbackup_last_success_timestamp_seconds", { command: "backup", project: "shop", service: "db" })).toBe(T1.getTime() / 1000);
  });

  it("is written atomically: no temporary file left, a reader sees the old or the new file", async () => {
    const file = path.join(dir, "sdbackup.prom");
    await writeFile(file, renderMetrics(mergeRun([], backup(T1, true))));
    await writeMetricsFile(file, backup(T2, false));
    expect(await readdir(dir)).toEqual(["sdbackup.prom"]);
    expect(value(await readFile(file, "utf8"), "sdbackup_last_run_exit_code", { command: "backup", project: "shop" })).toBe(3);
  });

  it.skipIf(skipPromtool)("promtool check metrics accepts the file (escaped label values, several commands)", async () => {
    requirePromtool();
    const file = path.join(dir, "sdbackup.prom");
    await writeMetricsFile(file, backup(T1, true));
    await writeMetricsFile(file, { ...backup(T2, false), project: 'we"ird\\name' });
    await writeMetricsFile(file, { command: "verify", project: null, status: "failed", exitCode: 1, finishedAt: T2, durationMs: 5, services: [{ service: "db", ok: false }] });
    const text = await readFile(file, "utf8");
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: "" });
    expect(value(text, "sdbackup_last_run_success", { command: "backup", project: 'we"ird\\name' })).toBe(0);
  });
});
