import { mkdir, open, stat } from "node:fs/promises";
import path from "node:path";
import { ConfigError, TargetError } from "../../errors.ts";

/**
 * Filesystem helpers of the local target, and the one place that turns an errno into what it means
 * for the user: a read-only target says so (`EROFS`), a forbidden one says permission denied,
 * rather than whatever path and syscall Node names.
 */

const WRITES = new Set(["create", "write", "fsync", "rename into", "fsync the directory of", "remove"]);

/** The error for `what` failing on `key` in the target at `root`. */
export function failure(root: string, what: string, key: string, cause: unknown): TargetError {
  const code = errno(cause);
  if (code === "EROFS") {
    return new TargetError(`target ${root} is read-only (EROFS): cannot ${what} ${key}`, { cause, hint: "mount it read-write, or give another --target" });
  }
  if (code === "EACCES" || code === "EPERM") {
    return new TargetError(`target ${root} is not ${WRITES.has(what) ? "writable" : "readable"}: permission denied (${code}): cannot ${what} ${key}`, {
      cause, hint: "run sdbackup as a user that may use the directory, or change its owner or mode",
    });
  }
  return new TargetError(`${root}: cannot ${what} ${key}: ${(cause as Error).message}`, { cause });
}

/**
 * `mkdir -p` with mode 0700. Node's recursive mkdir reports ENOENT when a parent is read-only or
 * forbidden; then the directories are made one by one so that the real errno surfaces.
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return;
  } catch (err) {
    if (errno(err) !== "ENOENT") throw err;
  }
  const absolute = path.resolve(dir);
  const parts = absolute.split(path.sep);
  for (let i = 2; i <= parts.length; i++) {
    await mkdir(parts.slice(0, i).join(path.sep) || path.sep, { mode: 0o700 }).catch((err: unknown) => {
      if (errno(err) !== "EEXIST") throw err;
    });
  }
}

/**
 * A target that is a regular file (or lies below one) would list as empty and fail only on the first
 * write: a config error up front, for every command. A missing root is fine (put creates it).
 */
export async function assertDirectory(root: string): Promise<void> {
  const info = await stat(root).catch((err: unknown) => {
    if (errno(err) === "ENOTDIR") throw notADirectory(root, "a path above it is a file");
    return undefined;
  });
  if (info && !info.isDirectory()) throw notADirectory(root, "it is a file");
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } catch (err) {
    // Some filesystems cannot fsync a directory; the rename is then as durable as it gets.
    if (errno(err) !== "EINVAL" && errno(err) !== "ENOTSUP") throw err;
  } finally {
    await fh.close();
  }
}

export function isMissing(err: unknown): boolean {
  const code = errno(err);
  return code === "ENOENT" || code === "ENOTDIR";
}

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

// --- internal ---

function notADirectory(root: string, why: string): ConfigError {
  return new ConfigError(`target ${root} is not a directory (${why})`, { hint: "give --target a directory; a missing one is created by the first backup" });
}
