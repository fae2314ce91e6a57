import { ComposeError } from "../errors.ts";

/** Where a value came from, for error messages: the compose file and the key path inside it. */
export interface InterpolationSite {
  file: string;
  key: string;
  /** 1-based line of the value in `file`, when known. */
  line?: number;
}

/**
 * Expands compose variables in `value`: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}` (defaults nest), and `$$` as a
 * literal `$`. A `$` that starts no variable stays as written, like compose.
 *
 * A missing required variable or a malformed `${…}` throws a {@link ComposeError} naming the file
 * and key; the value itself is never quoted in the error since it may hold a secret.
 * `onUnset` is told about each plain variable that is unset and became "".
 */
export function interpolate(
  value: string,
  lookup: (name: string) => string | undefined,
  where: InterpolationSite,
  onUnset?: (name: string) => void,
): string {
  if (!value.includes("$")) return value;
  return expand(value, { lookup, where, onUnset });
}

/** The warning compose prints for an unset variable. */
export function unsetWarning(name: string): string {
  return `the "${name}" variable is not set, defaulting to a blank string`;
}

// --- internal ---

interface Ctx {
  lookup: (name: string) => string | undefined;
  where: InterpolationSite;
  onUnset: ((name: string) => void) | undefined;
}

const NAME = /[_a-zA-Z][_a-zA-Z0-9]*/y;

function expand(s: string, ctx: Ctx): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const dollar = s.indexOf("$", i);
    if (dollar < 0) return out + s.slice(i);
    out += s.slice(i, dollar);
    const next = s[dollar + 1];
    if (next === "$") {
      out += "$";
      i = dollar + 2;
    } else if (next === "{") {
      const end = closingBrace(s, dollar + 2, ctx);
      out += braced(s.slice(dollar + 2, end), ctx);
      i = end + 1;
    } else {
      NAME.lastIndex = dollar + 1;
      const m = NAME.exec(s);
      if (m) {
        out += plain(m[0], ctx);
        i = dollar + 1 + m[0].length;
      } else {
        out += "$";
        i = dollar + 1;
      }
    }
  }
  return out;
}

/** Index of the `}` that closes a `${` whose body starts at `from`; nested `${…}` are skipped. */
function closingBrace(s: string, from: number, ctx: Ctx): number {
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === "$" && s[i + 1] === "$") i++;
    else if (c === "$" && s[i + 1] === "{") {
      depth++;
      i++;
    } else if (c === "}") {
      if (depth === 0) return i;
      depth--;
    }
  }
  throw invalid(ctx);
}

function braced(body: string, ctx: Ctx): string {
  NAME.lastIndex = 0;
  const m = NAME.exec(body);
  if (!m) throw invalid(ctx);
  const name = m[0];
  const rest = body.slice(name.length);
  if (rest === "") return plain(name, ctx);
  const colon = rest.startsWith(":");
  const op = rest[colon ? 1 : 0];
  const arg = rest.slice(colon ? 2 : 1);
  const raw = ctx.lookup(name);
  // With a colon an empty value counts as unset, without one only a truly unset variable does.
  const missing = raw === undefined || (colon && raw === "");
  switch (op) {
    case "-":
      return missing ? expand(arg, ctx) : (raw ?? "");
    case "+":
      return missing ? "" : expand(arg, ctx);
    case "?":
      if (missing) throw required(name, expand(arg, ctx), ctx);
      return raw ?? "";
    default:
      throw invalid(ctx);
  }
}

function plain(name: string, ctx: Ctx): string {
  const v = ctx.lookup(name);
  if (v !== undefined) return v;
  ctx.onUnset?.(name);
  return "";
}

function required(name: string, reason: string, ctx: Ctx): ComposeError {
  const msg = `required variable ${name} is missing a value${reason ? `: ${reason}` : ""}`;
  return siteError(`error while interpolating ${ctx.where.key}: ${msg}`, ctx, {
    hint: `set ${name} in the environment or in the project's .env file`,
  });
}

function invalid(ctx: Ctx): ComposeError {
  return siteError(`invalid interpolation format for ${ctx.where.key}`, ctx, {
    hint: "write a literal $ as $$",
  });
}

function siteError(message: string, ctx: Ctx, opts: { hint: string }): ComposeError {
  const { file, line } = ctx.where;
  return new ComposeError(message, { ...opts, file, ...(line !== undefined ? { line } : {}) });
}
