import { ComposeError } from "../errors.ts";
import { interpolate } from "./interpolate.ts";

/**
 * Parses a `.env` / `env_file` the way docker compose does: `#` comments and blank lines,
 * `export KEY=v`, `KEY: v`, single quotes (literal), double quotes (`\n \r \t \" \\ \$` escapes,
 * may span lines), unquoted values with a trailing ` # comment` stripped. Double-quoted and
 * unquoted values are interpolated, looking a name up in `lookup` first and in the keys defined
 * earlier in the file second. A bare `KEY` takes its value from `lookup` and is dropped when unset.
 */
export function parseDotenv(
  text: string,
  file: string,
  lookup: (name: string) => string | undefined = () => undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  const vars = (name: string) => lookup(name) ?? (Object.hasOwn(out, name) ? out[name] : undefined);
  const src = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  let pos = 0;
  let line = 1;
  while (pos < src.length) {
    const eol = lineEnd(src, pos);
    const raw = src.slice(pos, eol);
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      pos = eol + 1;
      line++;
      continue;
    }
    const m = KEY_LINE.exec(raw);
    if (!m) throw new ComposeError(`invalid line in env file: expected KEY=VALUE`, { file, line });
    const key = m[1]!;
    const site = { file, key, line };
    if (m[2] === undefined) {
      if (!/^\s*(#.*)?$/.test(raw.slice(m[0].length))) {
        throw new ComposeError(`invalid line in env file: expected KEY=VALUE after ${key}`, { file, line });
      }
      const inherited = lookup(key);
      if (inherited !== undefined) out[key] = inherited;
      pos = eol + 1;
      line++;
      continue;
    }
    const start = pos + m[0].length;
    const quote = src[start];
    if (quote === '"' || quote === "'") {
      const close = closingQuote(src, start + 1, quote);
      if (close < 0) throw new ComposeError(`unterminated quoted value for ${key}`, { file, line });
      const body = src.slice(start + 1, close);
      out[key] = quote === "'" ? body : interpolate(unescape(body), vars, site);
      const after = lineEnd(src, close);
      line += countNewlines(src, pos, after) + 1;
      pos = after + 1;
    } else {
      out[key] = interpolate(stripComment(src.slice(start, eol)), vars, site);
      pos = eol + 1;
      line++;
    }
  }
  return out;
}

// --- internal ---

/** `export KEY=`, `KEY =`, `KEY:` or a bare `KEY` (no separator, group 2 undefined). */
const KEY_LINE = /^\s*(?:export\s+)?([A-Za-z0-9_.-]+)(?:\s*([=:])[ \t]*)?/;

function lineEnd(src: string, from: number): number {
  const i = src.indexOf("\n", from);
  return i < 0 ? src.length : i;
}

function closingQuote(src: string, from: number, quote: string): number {
  for (let i = from; i < src.length; i++) {
    if (src[i] === "\\" && quote === '"') i++;
    else if (src[i] === quote) return i;
  }
  return -1;
}

function countNewlines(src: string, from: number, to: number): number {
  let n = 0;
  for (let i = src.indexOf("\n", from); i >= 0 && i < to; i = src.indexOf("\n", i + 1)) n++;
  return n;
}

/** A `#` starts a comment only after whitespace, so `pa#ss` survives. */
function stripComment(value: string): string {
  const m = /\s#/.exec(value);
  return (m ? value.slice(0, m.index) : value).trim();
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", $: "$$" };

/** `\$` becomes `$$` so that the interpolation that follows yields a literal `$`. */
function unescape(body: string): string {
  return body.replace(/\\([\s\S])/g, (_, c: string) => ESCAPES[c] ?? c);
}
