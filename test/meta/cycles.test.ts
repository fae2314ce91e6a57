import path from "node:path";
import { describe, expect, it } from "vitest";
import { findCycles, importGraph } from "./import-graph.ts";

const src = path.resolve(import.meta.dirname, "../../src");

describe("import graph of src/", () => {
  it("has no cycles", () => {
    const cycles = findCycles(importGraph(src)).map((c) => [...c, c[0]].join(" -> "));
    expect(cycles).toEqual([]);
  });

  it("the checker sees a cycle when there is one", () => {
    const graph = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["d.ts", ["a.ts"]]]);
    expect(findCycles(graph)).toEqual([["a.ts", "b.ts", "c.ts"]]);
  });
});
