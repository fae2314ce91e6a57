import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadCompose } from "../../../../src/compose/load.ts";
import { detectProject } from "../../../../src/core/project/detect.ts";

// issue 12: the compose files popular self-hosted apps publish (SOURCE in each folder) load, and
// detect matches the expected.yaml written by reading each file and its images' documentation.

const ROOT = join(import.meta.dirname, "../../../fixtures/compose/real-world");

interface Expected {
  files: string[];
  env?: Record<string, string>;
  services: Record<string, { strategy: string; paths?: string[]; active?: boolean }>;
  nothing?: string[];
}

const apps = readdirSync(ROOT).sort();

describe("real-world compose projects", () => {
  it("has at least 25 of them, each with its source recorded", () => {
    expect(apps.length).toBeGreaterThanOrEqual(25);
    for (const app of apps) expect(readFileSync(join(ROOT, app, "SOURCE"), "utf8"), app).toMatch(/repo: .+\n\s+path: .+\n\s+commit: [0-9a-f]{40}/);
  });

  it.each(apps)("%s: loads, and every service matches expected.yaml", async (app) => {
    const dir = join(ROOT, app);
    const expected = parse(readFileSync(join(dir, "expected.yaml"), "utf8")) as Expected;
    const project = await loadCompose({ files: expected.files.map((f) => join(dir, f)), cwd: dir, env: { HOME: "/home/user", ...expected.env } });
    const rows = detectProject(project);
    const listed = [...Object.keys(expected.services), ...(expected.nothing ?? [])].sort();
    expect(rows.map((r) => r.service).sort(), "every service is listed once").toEqual(listed);
    for (const row of rows) {
      const want = expected.services[row.service];
      const got = { strategy: row.strategy, paths: row.paths, active: row.active };
      const explain = `${row.service}: ${JSON.stringify(row.mounts)}`;
      if (want) expect(got, explain).toEqual({ strategy: want.strategy, paths: want.paths ?? [], active: want.active ?? true });
      else expect(got.strategy, explain).toBeNull();
    }
  });
});
