import { describe, expect, it } from "vitest";
import { EntryChecker } from "../../../../src/strategies/volume/entry-check.ts";

type H = { name: string; type?: "file" | "directory" | "symlink" | "link" | "character-device" | "fifo"; linkname?: string | null };

/** The first problem in an archive of `entries` backed up from /srv/files. */
function firstProblem(entries: H[]): string | undefined {
  const checker = new EntryChecker(["/srv/files"]);
  for (const e of entries) {
    const problem = checker.check({ type: "file", ...e });
    if (problem) return `${e.name}: ${problem}`;
  }
  return undefined;
}

const root: H = { name: "srv/files/", type: "directory" };

describe("volume archive entries, resolved the way extraction meets them", () => {
  it("accepts a plain tree, hard links to earlier files and links pointing anywhere (kept as links)", () => {
    expect(firstProblem([
      root, { name: "srv/files/a.txt" }, { name: "srv/files/d/", type: "directory" }, { name: "./srv/files/d//b" },
      { name: "srv/files/h", type: "link", linkname: "srv/files/a.txt" },
      { name: "srv/files/out", type: "symlink", linkname: "/etc" }, { name: "srv/files/up", type: "symlink", linkname: "../../etc" },
    ])).toBeUndefined();
  });

  it.each<[string, H[], RegExp]>([
    ["a symlink chain leaving the volume (issue 11 case 3)", [root, { name: "srv/files/sub/", type: "directory" }, { name: "srv/files/sub/l", type: "symlink", linkname: "/srv/files" }, { name: "srv/files/m", type: "symlink", linkname: "sub/l/../../etc" }, { name: "srv/files/m/passwd" }], /m\/passwd: .*through the symbolic link srv\/files\/m/],
    ["a file below an inward link", [root, { name: "srv/files/in", type: "symlink", linkname: "." }, { name: "srv/files/in/x" }], /through the symbolic link/],
    ["a link replaced by a file of the same name", [root, { name: "srv/files/l", type: "symlink", linkname: "/etc/passwd" }, { name: "srv/files/l" }], /replaces the symbolic link/],
    ["a hard link to a missing file (issue 11 case 1)", [root, { name: "srv/files/h", type: "link", linkname: "srv/files/missing" }], /not a file earlier in the archive/],
    ["a hard link to a later file", [root, { name: "srv/files/h", type: "link", linkname: "srv/files/a" }, { name: "srv/files/a" }], /not a file earlier/],
    ["a hard link out of the path", [root, { name: "srv/files/h", type: "link", linkname: "etc/passwd" }], /outside \/srv\/files/],
    ["a device node", [root, { name: "srv/files/null", type: "character-device" }], /character-device entries are not allowed/],
    ["a FIFO", [root, { name: "srv/files/p", type: "fifo" }], /fifo entries are not allowed/],
    ["an absolute name", [{ name: "/etc/passwd" }], /absolute path/],
    ["a .. name", [root, { name: "srv/files/../../etc/passwd" }], /contains \.\./],
    ["a name outside the paths", [root, { name: "usr/local/bin/x" }], /outside the backed-up paths/],
    ["a file under a file", [root, { name: "srv/files/f" }, { name: "srv/files/f/x" }], /parent srv\/files\/f is a file/],
    ["a symlink as the path itself", [{ name: "srv/files", type: "symlink", linkname: "/etc" }], /must be a directory or a file/],
  ])("refuses %s", (_what, entries, problem) => {
    expect(firstProblem(entries)).toMatch(problem);
  });
});
