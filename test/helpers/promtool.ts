// The real promtool (Debian package `prometheus`, installed by .ci/run) checks metrics files and
// alert rules. Missing promtool fails under CI=true and skips elsewhere.
import { spawnSync } from "node:child_process";

export const hasPromtool = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;

/** Under CI a missing promtool is an error, never a skip: `it.skipIf(skipPromtool)` plus {@link requirePromtool}. */
export const skipPromtool = !hasPromtool && !process.env.CI;

export function requirePromtool(): void {
  if (!hasPromtool) throw new Error("promtool is missing: apt-get install prometheus (.ci/run installs it)");
}

/** `promtool check metrics < text`: exit status and output (lint problems are printed). */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  requirePromtool();
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
