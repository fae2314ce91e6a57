import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FAMILIES } from "../../../src/notify/metrics.ts";
import { requirePromtool, skipPromtool } from "../../helpers/promtool.ts";

const doc = readFileSync(path.join(import.meta.dirname, "../../../docs/monitoring.md"), "utf8");
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("docs/monitoring.md", () => {
  it.skipIf(skipPromtool)("its alert rules pass promtool check rules", () => {
    requirePromtool();
    const rules = yamlBlocks.find((b) => b.startsWith("groups:"));
    expect(rules, "an alert rule block starting with groups:").toBeDefined();
    const dir = mkdtempSync(path.join(tmpdir(), "sdbackup-rules-"));
    try {
      writeFileSync(path.join(dir, "sdbackup.rules.yml"), rules!);
      const r = spawnSync("promtool", ["check", "rules", path.join(dir, "sdbackup.rules.yml")], { encoding: "utf8" });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
      expect(r.stdout).toMatch(/SUCCESS: 4 rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names only metrics sdbackup writes, and documents every one", () => {
    const named = new Set([...doc.matchAll(/\bsdbackup_[a-z_]+/g)].map((m) => m[0]));
    expect([...named].filter((n) => !(n in FAMILIES))).toEqual([]);
    expect(Object.keys(FAMILIES).filter((n) => !named.has(n))).toEqual([]);
  });

  it("its YAML examples parse (rules, workflow)", () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(2);
    for (const block of yamlBlocks) expect(() => parse(block), block.slice(0, 60)).not.toThrow();
  });
});
