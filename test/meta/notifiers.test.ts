import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { notifiers } from "../../src/notify/index.ts";

// Like the strategy and target registries: every notifier plugin file is registered under its own
// name, and every scheme it takes is documented.
const dir = path.join(import.meta.dirname, "../../src/notify");
const plugins = readdirSync(dir).filter((f) => f.endsWith(".ts") && /^} satisfies Notifier;$/m.test(readFileSync(path.join(dir, f), "utf8"))).map((f) => f.slice(0, -3)).sort();
const doc = readFileSync(path.join(import.meta.dirname, "../../docs/monitoring.md"), "utf8");

describe("notifier registry", () => {
  it("registers every plugin file once, under the file's name", () => {
    expect(plugins.length).toBeGreaterThan(0);
    expect(notifiers.map((n) => n.name).sort()).toEqual(plugins);
  });

  it.each(notifiers.flatMap((n) => n.schemes.map((s) => [n.name, s] as const)))("%s scheme %s is documented in docs/monitoring.md", (_name, scheme) => {
    const shown = /^https?$/.test(scheme) ? `\`${scheme}://` : `${scheme}://`;
    expect(doc).toContain(shown);
  });
});
