// The import graph of src/, read from the source text: static imports (type-only ones too, since a
// type cycle is still a design cycle), re-exports and dynamic `import()`s of relative paths.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

export function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(dir)) {
    const deps = [...readFileSync(file, "utf8").matchAll(IMPORT)].map((m) => path.resolve(path.dirname(file), m[1]!));
    graph.set(path.relative(dir, file), [...new Set(deps.map((d) => path.relative(dir, d)))]);
  }
  return graph;
}

/** Every elementary cycle's smallest representative, found by DFS from each node (src/ is small). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const visit = (start: string, node: string, trail: string[], seen: Set<string>) => {
    for (const next of graph.get(node) ?? []) {
      if (next === start) {
        const cycle = [...trail];
        const min = cycle.indexOf([...cycle].sort()[0]!);
        const canon = [...cycle.slice(min), ...cycle.slice(0, min)];
        cycles.set(canon.join(" -> "), canon);
      } else if (!seen.has(next) && next > start) {
        seen.add(next);
        visit(start, next, [...trail, next], seen);
        seen.delete(next);
      }
    }
  };
  for (const start of graph.keys()) visit(start, start, [start], new Set([start]));
  return [...cycles.values()];
}
