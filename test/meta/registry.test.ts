// Guards the plugin registries: a plugin file that is not registered, has no conformance run or no
// documentation fails here, and so does a registered plugin without its file. Only the registries in
// src/strategies/index.ts and src/targets/index.ts list plugins; this test reads the folders.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { strategies, type StrategyName } from "../../src/strategies/index.ts";
import { targetFactories } from "../../src/targets/index.ts";
import type { TargetFactory } from "../../src/targets/types.ts";

const root = path.resolve(import.meta.dirname, "../..");
const read = (rel: string) => readFileSync(path.join(root, rel), "utf8");
/** Top-level .ts files of a plugin folder: each is a plugin, except the contract and the registry. */
const pluginFiles = (dir: string) =>
  readdirSync(path.join(root, dir), { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !["index.ts", "types.ts"].includes(e.name))
    .map((e) => e.name.replace(/\.ts$/, ""))
    .sort();

describe("strategy registry", () => {
  const files = pluginFiles("src/strategies");
  const names = strategies.map((s) => s.name);

  it("lists every plugin file once, under the file's name", () => {
    expect([...names].sort()).toEqual(files);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(files)("%s runs the strategy conformance suite", (name) => {
    const test = `test/strategies/${name}.test.ts`;
    expect(existsSync(path.join(root, test)), `${test} is missing`).toBe(true);
    expect(read(test)).toMatch(/describeStrategy\(/);
    expect(read(test)).toContain(`"${name}"`);
  });

  it.each(files)("%s is documented in docs/strategies/", (name) => {
    expect(existsSync(path.join(root, `docs/strategies/${name}.md`)), `docs/strategies/${name}.md is missing`).toBe(true);
  });

  it("derives StrategyName from the plugins' literal names (checked by tsc)", () => {
    expectTypeOf<StrategyName>().not.toEqualTypeOf<string>();
    expectTypeOf<"volume">().toExtend<StrategyName>();
  });

  it("volume, the fallback, comes last so that every database strategy is tried first", () => {
    expect(names.at(-1)).toBe("volume");
  });
});

describe("target registry", () => {
  const files = pluginFiles("src/targets");

  it.each(files)("%s exports a factory that the registry holds", async (name) => {
    const mod = (await import(`../../src/targets/${name}.ts`)) as Record<string, unknown>;
    const factories = Object.values(mod).filter((v): v is TargetFactory => typeof v === "object" && v !== null && "schemes" in v && "create" in v);
    expect(factories.length, `src/targets/${name}.ts exports no TargetFactory`).toBeGreaterThan(0);
    for (const f of factories) expect(targetFactories).toContain(f);
  });

  it("has no factory without a plugin file and no scheme twice", () => {
    expect(targetFactories.length).toBe(files.length);
    const schemes = targetFactories.flatMap((f) => f.schemes);
    expect(new Set(schemes).size).toBe(schemes.length);
  });

  it.each(files)("%s runs the target conformance suite", (name) => {
    const test = `test/targets/${name}.test.ts`;
    expect(existsSync(path.join(root, test)), `${test} is missing`).toBe(true);
    expect(read(test)).toMatch(/describeTarget\(/);
  });

  it.each(targetFactories.flatMap((f) => f.schemes))("scheme %s is documented in docs/targets.md", (scheme) => {
    expect(read("docs/targets.md")).toContain(`${scheme}:`);
  });
});

describe("command registry", async () => {
  const files = readdirSync(path.join(root, "src/commands")).filter((f) => f.endsWith(".ts")).sort();
  const modules = await Promise.all(files.map(async (f) => [f, (await import(`../../src/commands/${f}`)) as Record<string, unknown>] as const));
  const commands = modules.filter(([, m]) => typeof m.register === "function").map(([f]) => f.replace(/\.ts$/, ""));

  it("finds the commands (a file exporting register is a command)", () => {
    expect(commands).toEqual(expect.arrayContaining(["backup", "detect", "list", "prune", "restore", "schedule", "verify"]));
  });

  it.each(commands)("%s is registered in cli.ts and documented in docs/cli.md", (name) => {
    expect(read("src/cli.ts")).toContain(`./commands/${name}.ts`);
    expect(read("docs/cli.md")).toMatch(new RegExp(`sdbackup ${name}\\b`));
  });
});
