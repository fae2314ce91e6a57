import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, readdir, rename, rm, rmdir } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import { Writable, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { ConfigError, objectNotFound, throwIfAborted } from "../errors.ts";
import { assertValidKey, assertValidPrefix, joinKey } from "./shared/keys.ts";
import { stripCredentials } from "./shared/redact.ts";
import { linkOnTheWay, linkRefused, refuseLinks } from "./local/links.ts";
import { assertDirectory, errno, failure, isMissing, makeDirs, syncDir } from "./local/fs.ts";
import type { ObjectInfo, Target, TargetFactory } from "./types.ts";

/**
 * Temporary files of in-flight puts: `<name>.tmp-<16 hex>`. list() hides them while they may still
 * be written; one untouched for {@link STALE_TMP_MS} was left by a killed run (SIGKILL) and is
 * listed like any object, so its set shows as incomplete and prune removes it (issue 11 case 10);
 * the next backup of its project sweeps it once it is older than the grace period.
 */
const TMP_FILE = /\.tmp-[0-9a-f]{16}$/;
const STALE_TMP_MS = 3_600_000;
/** Writes are batched to about this size so that small chunks from a dump do not become tiny writes. */
const WRITE_BATCH = 1024 * 1024;

export const localFactory: TargetFactory = {
  schemes: ["file"],
  redact: stripCredentials,
  async create(url) {
    let root: string;
    try {
      root = fileURLToPath(url);
    } catch (err) {
      throw new ConfigError(`invalid file target ${stripCredentials(url)}: ${(err as Error).message}`, {
        hint: "use a path such as ./backups or a URL such as file:///var/backups",
      });
    }
    await assertDirectory(root);
    return createLocalTarget(root);
  },
};

/**
 * A directory on the local filesystem. Files are created 0600 and directories 0700, since backups
 * hold database contents. A put is atomic: it writes a sibling tmp file, fsyncs it, renames it into
 * place and fsyncs the directory. Symbolic links below the root are never followed (local/links.ts).
 */
export function createLocalTarget(root: string): Target {
  const pathFor = (key: string) => path.join(root, ...key.split("/"));
  const fail = (what: string, key: string, cause: unknown) => failure(root, what, key, cause);

  async function openTmp(file: string): Promise<{ fh: FileHandle; tmp: string }> {
    const tmp = `${file}.tmp-${randomBytes(8).toString("hex")}`;
    // A concurrent remove() may prune the directory between mkdir and open: retry once.
    for (let attempt = 0; ; attempt++) {
      await makeDirs(path.dirname(file));
      try {
        return { fh: await open(tmp, "wx", 0o600), tmp };
      } catch (err) {
        if (attempt > 0 || errno(err) !== "ENOENT") throw err;
      }
    }
  }

  const target: Target = {
    scheme: "file",
    display: root,
    capabilities: { atomicPut: true, maxConcurrency: 4 },

    async put(key, body, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      const file = pathFor(key);
      await refuseLinks(root, key, { self: false });
      const { fh, tmp } = await openTmp(file).catch((err: unknown) => {
        throw fail("create", key, err);
      });
      let bytes = 0;
      try {
        await pipeline(body, writeAll(fh, (n) => (bytes += n), (err) => fail("write", key, err)), { signal });
        await fh.sync().catch((err: unknown) => {
          throw fail("fsync", key, err);
        });
        await fh.close();
        throwIfAborted(signal);
        await rename(tmp, file).catch((err: unknown) => {
          throw fail("rename into", key, err);
        });
      } catch (err) {
        await fh.close().catch(() => {});
        await rm(tmp, { force: true }).catch(() => {});
        await pruneEmptyParents(key);
        throwIfAborted(signal);
        // Errors of our own writes are TargetErrors already; anything else came from `body` and is
        // passed on unchanged so that the caller sees why its source failed.
        throw err;
      }
      await syncDir(path.dirname(file)).catch((err: unknown) => {
        throw fail("fsync the directory of", key, err);
      });
      return { bytes };
    },

    async get(key, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      await refuseLinks(root, key, { self: false });
      let fh: FileHandle;
      try {
        fh = await open(pathFor(key), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
      } catch (err) {
        if (isMissing(err)) throw objectNotFound(root, key);
        if (errno(err) === "ELOOP") throw linkRefused(root, key, key);
        throw fail("open", key, err);
      }
      const info = await fh.stat();
      if (!info.isFile()) {
        await fh.close();
        throw objectNotFound(root, key);
      }
      return fh.createReadStream({ signal });
    },

    async *list(prefix, { signal }): AsyncGenerator<ObjectInfo> {
      assertValidPrefix(prefix);
      throwIfAborted(signal);
      const slash = prefix.lastIndexOf("/");
      const start = slash < 0 ? "" : prefix.slice(0, slash);
      // Below a link there is nothing of ours; a list of a shorter prefix shows the link itself.
      if (start !== "" && (await linkOnTheWay(root, start, { self: true })) !== undefined) return;
      yield* walk(start);

      async function* walk(dirKey: string): AsyncGenerator<ObjectInfo> {
        throwIfAborted(signal);
        let entries;
        try {
          entries = await readdir(dirKey === "" ? root : pathFor(dirKey), { withFileTypes: true });
        } catch (err) {
          if (isMissing(err)) return;
          throw fail("list", dirKey || ".", err);
        }
        for (const entry of entries) {
          const key = joinKey(dirKey, entry.name);
          if (entry.isDirectory()) {
            if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* walk(key);
          } else if ((entry.isFile() || entry.isSymbolicLink()) && key.startsWith(prefix)) {
            // A link is listed as itself (get refuses it, naming it; prune removes the link only).
            const info = await lstat(pathFor(key)).catch((err: unknown) => {
              if (isMissing(err)) return undefined;
              throw fail("stat", key, err);
            });
            const live = TMP_FILE.test(entry.name) && Date.now() - (info?.mtimeMs ?? 0) < STALE_TMP_MS;
            if (info && !live) yield { key, size: info.size, modified: info.mtime };
          }
        }
      }
    },

    async remove(key, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      await refuseLinks(root, key, { self: false });
      try {
        await rm(pathFor(key));
      } catch (err) {
        if (isMissing(err)) return;
        throw fail("remove", key, err);
      }
      await pruneEmptyParents(key);
    },

    async sweep(prefix, before, { signal }) {
      const removed: string[] = [];
      // list() shows a tmp file once no put can still be writing it; only names of ours go.
      for await (const o of target.list(prefix, { signal })) {
        if (!TMP_FILE.test(o.key) || o.modified >= before) continue;
        await target.remove(o.key, { signal });
        removed.push(o.key);
      }
      return removed;
    },
  };
  return target;

  /** Removes directories left empty above `key`; stops at the first one that still has entries. */
  async function pruneEmptyParents(key: string): Promise<void> {
    for (let dir = path.posix.dirname(key); dir !== "."; dir = path.posix.dirname(dir)) {
      if (!(await rmdir(pathFor(dir)).then(() => true, () => false))) break;
    }
  }
}

// --- internal ---

/**
 * The final stage of the put pipeline. Chunks are held (not copied) until about WRITE_BATCH bytes
 * have arrived and then go out in one writev, so a dump's small chunks do not become tiny writes and
 * nothing is concatenated. Holding a chunk acknowledges it, so at most WRITE_BATCH plus one chunk
 * sits here; backpressure resumes while the batch is written.
 */
function writeAll(fh: FileHandle, counted: (n: number) => void, wrap: (err: unknown) => Error): Writable {
  let batch: Buffer[] = [];
  let size = 0;
  const flush = async () => {
    let pending = batch;
    const total = size;
    batch = [];
    size = 0;
    try {
      while (pending.length > 0) {
        let { bytesWritten } = await fh.writev(pending);
        while (pending.length > 0 && bytesWritten >= pending[0]!.length) bytesWritten -= pending.shift()!.length;
        if (bytesWritten > 0) pending[0] = pending[0]!.subarray(bytesWritten);
      }
    } catch (err) {
      throw wrap(err);
    }
    counted(total);
  };
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      batch.push(chunk);
      size += chunk.length;
      if (size < WRITE_BATCH) return done();
      flush().then(() => done(), done);
    },
    final(done) {
      flush().then(() => done(), done);
    },
  });
}
