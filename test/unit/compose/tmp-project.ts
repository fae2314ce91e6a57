import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const created: string[] = [];

/** Writes `files` (relative path → content) under a fresh temp dir, optionally inside `subdir`. */
export function tmpProject(files: Record<string, string>, subdir = "proj"): string {
  const root = mkdtempSync(join(tmpdir(), "sdbackup-compose-"));
  created.push(root);
  const dir = join(root, subdir);
  mkdirSync(dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

export function removeTmpProjects(): void {
  for (const root of created.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** Runs `fn` and returns what it threw (fails the test when it did not throw). */
export async function caught(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected an error, none was thrown");
}
