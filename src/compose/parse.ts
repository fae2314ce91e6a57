import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from "yaml";
import type { Document, Node, Scalar, Tags } from "yaml";
import { ComposeError } from "../errors.ts";
import { interpolate } from "./interpolate.ts";

/**
 * Mapping keys whose value carried compose's `!reset` / `!override` tag get one of these suffixes,
 * so that the tag survives conversion to plain data and `merge.ts` can honour it.
 */
export const RESET_MARK = "\u0000reset";
export const OVERRIDE_MARK = "\u0000override";

export interface ParseContext {
  /** Variable lookup for interpolation (process env first, then the project's `.env`). */
  lookup: (name: string) => string | undefined;
  /** Receives each unset variable that was replaced by "". */
  onUnset: (name: string) => void;
}

/**
 * Parses one compose file into plain data, one object per YAML document, with anchors, aliases and
 * `<<` merge keys resolved and every string value interpolated. Plain numbers stay strings, as
 * written, so `1.10` or `0755` reach the container unchanged. Throws {@link ComposeError} with the
 * file and line for malformed YAML, a failed interpolation, or a top level that is not a mapping.
 */
export function parseComposeYaml(text: string, file: string, ctx: ParseContext): Record<string, unknown>[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter: lines,
    customTags: keepNumbersAsText,
  });
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);
  const out: Record<string, unknown>[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) throw new ComposeError(`invalid YAML: ${err.message}`, withLine(file, lineOf(err.pos[0])));
    markTags(doc);
    interpolateDocument(doc, file, ctx, lineOf);
    const value = toPlain(doc, file);
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new ComposeError("the top level of a compose file must be a mapping", withLine(file, lineOf(doc.contents?.range?.[0])));
    }
    out.push(value as Record<string, unknown>);
  }
  return out;
}

/** Splits a possibly marked key into its name and mark. */
export function unmark(key: string): { key: string; mark?: "reset" | "override" } {
  if (key.endsWith(RESET_MARK)) return { key: key.slice(0, -RESET_MARK.length), mark: "reset" };
  if (key.endsWith(OVERRIDE_MARK)) return { key: key.slice(0, -OVERRIDE_MARK.length), mark: "override" };
  return { key };
}

// --- internal ---

const NUMBER_TAGS = new Set(["tag:yaml.org,2002:int", "tag:yaml.org,2002:float"]);

function keepNumbersAsText(tags: Tags): Tags {
  return tags.filter((t) => typeof t === "string" || !NUMBER_TAGS.has(t.tag));
}

function withLine(file: string, line: number | undefined): { file: string; line?: number } {
  return line === undefined ? { file } : { file, line };
}

function markTags(doc: Document): void {
  visit(doc, {
    Pair(_, pair) {
      const tag = (pair.value as Node | null)?.tag;
      if ((tag !== "!reset" && tag !== "!override") || !isScalar(pair.key)) return;
      pair.key.value = String(pair.key.value) + (tag === "!reset" ? RESET_MARK : OVERRIDE_MARK);
    },
  });
}

/**
 * Interpolates scalar values in place, never keys. An anchored scalar is visited once, not once
 * per alias, so `$$` cannot be expanded twice.
 */
function interpolateDocument(
  doc: Document,
  file: string,
  ctx: ParseContext,
  lineOf: (offset: number | undefined) => number | undefined,
): void {
  visit(doc, {
    Scalar(key, node, path) {
      if (key === "key" || typeof node.value !== "string" || !node.value.includes("$")) return;
      const line = lineOf(node.range?.[0]);
      const site = { file, key: keyPath(path, node), ...(line === undefined ? {} : { line }) };
      node.value = interpolate(node.value, ctx.lookup, site, ctx.onUnset);
    },
  });
}

/** `services.db.environment.POSTGRES_PASSWORD`, `services.db.volumes[0]`. */
function keyPath(path: readonly unknown[], node: Scalar): string {
  let out = "";
  let last = "";
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    if (isPair(step)) {
      last = isScalar(step.key) ? unmark(String(step.key.value)).key : "?";
      out += (out ? "." : "") + last;
    } else if (isSeq(step)) {
      const item = (path[i + 1] ?? node) as Node;
      const named = (last === "environment" || last === "labels") && isScalar(item) ? /^([^=]+)=/.exec(String(item.value)) : null;
      out += named ? `.${named[1]}` : `[${step.items.indexOf(item)}]`;
    }
  }
  return out || "(root)";
}

/**
 * Expanded size past which a document counts as an alias bomb ("billion laughs"). The yaml
 * library's own guard counts aliases times their size and rejects real files that merge anchors
 * holding aliases into dozens of services; compose's go-yaml accepts those. This bound is on what
 * actually matters, the number of nodes after expansion: real compose files stay far below it.
 */
export const MAX_EXPANDED_NODES = 2_000_000;

/** Node count of `node` with every alias expanded, memoised per anchored node; stops past the limit. */
function expandedSize(doc: Document): number {
  const memo = new Map<unknown, number>();
  const size = (node: unknown): number => {
    if (node === null || node === undefined) return 1;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      return target === undefined ? 1 : size(target);
    }
    const known = memo.get(node);
    if (known !== undefined) return known;
    memo.set(node, 1); // a cycle (an alias inside its own anchor) counts once; toJS rejects it
    let n = 1;
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items) {
        n += isPair(item) ? size(item.key) + size(item.value) : size(item);
        if (n > MAX_EXPANDED_NODES) break;
      }
    }
    memo.set(node, n);
    return n;
  };
  return size(doc.contents);
}

function toPlain(doc: Document, file: string): unknown {
  if (expandedSize(doc) > MAX_EXPANDED_NODES) {
    throw new ComposeError(`invalid YAML: aliases expand to more than ${MAX_EXPANDED_NODES} nodes (an alias bomb?)`, {
      file,
      hint: "the file repeats anchors inside anchors far beyond what a compose file needs",
    });
  }
  try {
    return doc.toJS({ maxAliasCount: -1 });
  } catch (cause) {
    throw new ComposeError(`invalid YAML: ${cause instanceof Error ? cause.message : String(cause)}`, { file, cause });
  }
}
