import { lstat } from "node:fs/promises";
import path from "node:path";
import { TargetError } from "../../errors.ts";

/**
 * The local target never follows a symbolic link below its root (issue 11): an artifact replaced
 * by a link to `/etc/passwd`, or a set directory replaced by a link to another directory, must not
 * be read, listed, written or removed through. Links that stay inside the root are refused as well:
 * a backup never writes one, and judging where a link leads races with whoever can change it. The
 * root itself may be a link (a mount point elsewhere, say).
 */

/**
 * The first of the key's directories (or, with `self`, the key itself) that is a symbolic link,
 * as a key; undefined when there is none. A missing component ends the walk: nothing below it
 * exists to be followed.
 */
export async function linkOnTheWay(root: string, key: string, opts: { self: boolean }): Promise<string | undefined> {
  const segments = key.split("/").filter(Boolean);
  const upTo = opts.self ? segments.length : segments.length - 1;
  for (let i = 1; i <= upTo; i++) {
    const info = await lstat(path.join(root, ...segments.slice(0, i))).catch(() => undefined);
    if (!info) return undefined;
    if (info.isSymbolicLink()) return segments.slice(0, i).join("/");
  }
  return undefined;
}

/** Throws when `key` (with `self`) or one of its directories is a symbolic link. */
export async function refuseLinks(root: string, key: string, opts: { self: boolean }): Promise<void> {
  const link = await linkOnTheWay(root, key, opts);
  if (link !== undefined) throw linkRefused(root, key, link);
}

/** The one message for a refused link, naming the key asked for and the link on its way. */
export function linkRefused(root: string, key: string, link: string): TargetError {
  return new TargetError(`${root}: refusing ${key}: ${link === key ? "it" : link} is a symbolic link, and links below the target root are never followed`, {
    hint: "a backup never writes links: replace it with what it points to, or remove it",
  });
}
