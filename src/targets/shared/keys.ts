import { TargetError } from "../../errors.ts";

/**
 * Key and prefix validation shared by every target, so that a key can never name something outside
 * the target's root (`../x`, `/etc/passwd`) and every target sees the same key space.
 */

/** Throws a TargetError unless `key` is a valid object key (see `Target` in types.ts). */
export function assertValidKey(key: string): void {
  const problem = keyProblem(key, false);
  if (problem) throw new TargetError(`invalid key ${JSON.stringify(key)}: ${problem}`);
}

/**
 * Throws a TargetError unless `prefix` is a valid list prefix: empty, or a key, or a key with a
 * trailing slash, or a key whose last segment is cut short (`app/2026` matches `app/20261121/…`).
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === "") return;
  const problem = keyProblem(prefix, true);
  if (problem) throw new TargetError(`invalid prefix ${JSON.stringify(prefix)}: ${problem}`);
}

/** Joins a base prefix (no leading or trailing slash, may be empty) and a key. */
export function joinKey(base: string, key: string): string {
  return base === "" ? key : `${base}/${key}`;
}

// --- internal ---

function keyProblem(key: string, isPrefix: boolean): string | undefined {
  if (key === "") return "it is empty";
  if (key.startsWith("/")) return "it starts with a slash";
  if (key.includes("\\")) return "it contains a backslash";
  if (key.includes("\0")) return "it contains a NUL byte";
  const segments = key.split("/");
  // A prefix may end with "/" (the last segment is then empty) and its last segment is only a
  // string filter, never a path component, so only the complete segments before it are checked.
  const complete = isPrefix ? segments.slice(0, -1) : segments;
  for (const seg of complete) {
    if (seg === "") return "it contains an empty segment";
    if (seg === "." || seg === "..") return `it contains a "${seg}" segment`;
  }
  const last = segments[segments.length - 1];
  if (isPrefix && (last === "." || last === "..")) return `it contains a "${last}" segment`;
  return undefined;
}
