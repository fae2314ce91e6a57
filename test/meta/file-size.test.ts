// Files stay small enough to read in one sitting; a file past the limit is split by concern.
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { sourceFiles } from "./import-graph.ts";

const src = path.resolve(import.meta.dirname, "../../src");
const LIMIT = 300; // "about 250": a little slack so that a docstring does not force a split

it(`no file in src/ is longer than ${LIMIT} lines`, () => {
  const long = sourceFiles(src)
    .map((f) => ({ file: path.relative(src, f), lines: readFileSync(f, "utf8").split("\n").length }))
    .filter((f) => f.lines > LIMIT);
  expect(long).toEqual([]);
});
