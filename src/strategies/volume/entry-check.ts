/**
 * What a volume archive may contain, judged entry by entry in archive order, the way extraction
 * will meet it: each name is resolved component by component against what the archive has
 * created so far. Links are data (issue #10 backs them up as links, whatever they point to), but
 * nothing may be written *through* one, because the kernel would follow it out of the volume.
 */

const ALLOWED = new Set(["file", "contiguous-file", "directory", "symlink", "link"]);
const REGULAR = new Set(["file", "contiguous-file", "link"]);

type Kind = "directory" | "regular" | "symlink";

/** Feed every header in archive order; `check` returns what is wrong with it, if anything. */
export class EntryChecker {
  /** Archive names (normalised, no trailing slash) seen so far, with what they created. */
  private readonly seen = new Map<string, Kind>();
  private readonly groups: readonly string[];

  /** `paths`: the backed-up container paths; every entry must sit under one of them. */
  constructor(paths: readonly string[]) {
    this.groups = paths.map(groupName);
  }

  check(header: { name: string; type?: string | null; linkname?: string | null }): string | undefined {
    const type = header.type ?? "file";
    if (!ALLOWED.has(type)) return `${type} entries are not allowed`;
    const name = normalise(header.name);
    if (typeof name !== "string") return name.problem;
    const group = groupOf(name, this.groups);
    if (group === undefined) return "outside the backed-up paths";
    const through = this.linkOnTheWay(name);
    if (through) return through;
    const before = this.seen.get(name);
    if (before === "symlink") return `it replaces the symbolic link ${name} written earlier in the archive`;
    if (name === group && type !== "directory" && !REGULAR.has(type)) return "the top of a backed-up path must be a directory or a file";
    if (type === "link") {
      const target = normalise(header.linkname ?? "");
      if (typeof target !== "string") return `hard link target: ${target.problem}`;
      if (groupOf(target, [group]) === undefined) return `hard link points outside /${group}`;
      if (this.seen.get(target) !== "regular") return `hard link to ${target}, which is not a file earlier in the archive`;
    }
    this.seen.set(name, type === "directory" ? "directory" : type === "symlink" ? "symlink" : "regular");
    return undefined;
  }

  /** Every parent of `name` the archive created must be a directory (not a link, not a file). */
  private linkOnTheWay(name: string): string | undefined {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      const kind = this.seen.get(prefix);
      if (kind === "symlink") return `it would be written through the symbolic link ${prefix}`;
      if (kind === "regular") return `its parent ${prefix} is a file`;
    }
    return undefined;
  }
}

/** `/var/www/` → `var/www`: the archive's name for a container path. */
export function groupName(path: string): string {
  return path.replace(/^\/+/, "").replace(/\/+$/, "");
}

/** The longest backed-up path that holds `name`. */
export function groupOf(name: string, groups: readonly string[]): string | undefined {
  const n = name.replace(/\/+$/, "");
  return groups.filter((g) => n === g || n.startsWith(`${g}/`)).sort((a, b) => b.length - a.length)[0];
}

// --- internal ---

/** `./a//b/./c/` → `a/b/c`; absolute, empty and `..` names are refused, not normalised away. */
function normalise(raw: string): string | { problem: string } {
  if (raw.startsWith("/")) return { problem: "absolute path" };
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0) return { problem: "empty path" };
  if (parts.includes("..")) return { problem: "path contains .." };
  if (raw.includes("\0")) return { problem: "NUL in path" };
  return parts.join("/");
}
