import { randomBytes } from "node:crypto";
import { TargetError, throwIfAborted } from "../../errors.ts";
import { assertValidKey, assertValidPrefix, joinKey } from "../shared/keys.ts";
import type { ObjectInfo, Target } from "../types.ts";
import { startDaemon, type RcDaemon } from "./process.ts";
import { createRcClient, RcError } from "./rc.ts";
import type { RcloneSettings } from "./settings.ts";
import { storeStalled } from "../shared/stalled.ts";
import { watchTransfer } from "./watch.ts";

/** Temporary names of in-flight puts: `<name>.tmp-<16 hex>`. list() never shows them. */
export const TMP_NAME = /\.tmp-[0-9a-f]{16}$/;
/**
 * What a killed put may leave: its temporary object, or the partial file a backend writes it
 * through (`<tmp name>.<hash>.partial` on rclone's local and SFTP backends since 1.63).
 */
const LEFTOVER = /\.tmp-[0-9a-f]{16}(\.[0-9a-z]+\.partial)?$/;

interface LsEntry {
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
}

/**
 * Any rclone remote, through one `rclone rcd` started on first use. A put streams into
 * `operations/uploadfile` (rclone's rcat) under a temporary name and renames it with
 * `operations/movefile` once the upload is complete, so readers never see a partial object; on
 * failure the request is cut (which cancels rclone's upload) and the temporary object deleted.
 */
export function createRcloneTarget(s: RcloneSettings, env: NodeJS.ProcessEnv, opts: { stallTimeoutMs?: number } = {}): Target {
  const fs = `${s.remote}${s.path}`;
  const shown = s.display.replace(/^rclone:/, "");
  const scrub = (text: string) => text.split(s.remote).join(shown.slice(0, shown.length - s.path.length));
  let daemon: Promise<RcDaemon> | undefined;
  const rc = createRcClient(() => {
    // Started once per target; a failed start is retried by the next operation.
    daemon ??= startDaemon(s.binary, env, s.display, AbortSignal.timeout(30_000)).catch((err: unknown) => {
      daemon = undefined;
      throw err;
    });
    return daemon;
  }, scrub);
  const fail = (what: string, key: string, err: unknown) => {
    if (err instanceof TargetError && !(err instanceof RcError)) return err;
    return new TargetError(`${s.display}: cannot ${what} ${key}: ${scrub((err as Error).message)}`, { cause: err });
  };

  /** Every file whose key starts with `prefix` (keys relative to the target's root). */
  async function files(prefix: string, signal: AbortSignal): Promise<LsEntry[]> {
    assertValidPrefix(prefix);
    throwIfAborted(signal);
    const dirKey = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    try {
      const opt = { recurse: true, filesOnly: true, noMimeType: true };
      const { list } = await rc.call<{ list: LsEntry[] }>("operations/list", { fs, remote: dirKey, opt }, signal);
      return list.filter((e) => !e.IsDir && e.Path.startsWith(prefix));
    } catch (err) {
      throwIfAborted(signal);
      if (err instanceof RcError && err.status === 404) return [];
      throw fail("list", prefix || "/", err);
    }
  }

  async function stat(key: string, signal: AbortSignal): Promise<LsEntry | null> {
    const { item } = await rc.call<{ item: LsEntry | null }>("operations/stat", { fs, remote: key, opt: { noMimeType: true } }, signal);
    return item;
  }

  /**
   * A cancelled upload may still be closing on the remote (an SFTP server writes its handle on close),
   * so the temporary object is deleted until it has stayed gone for two checks in a row.
   */
  async function removeTmp(key: string, run: AbortSignal): Promise<void> {
    // After an interrupt the run must end within seconds: a store that stopped answering keeps the
    // temporary object, and the next run's sweep removes it (a temporary name is never listed).
    const signal = AbortSignal.timeout(run.aborted ? 5_000 : 60_000);
    for (let gone = 0, i = 0; gone < 2 && i < 20 && !signal.aborted; i++) {
      await rc.call("operations/deletefile", { fs, remote: key }, signal).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 150));
      gone = (await stat(key, signal).catch(() => null)) === null ? gone + 1 : 0;
    }
  }

  return {
    scheme: "rclone",
    display: s.display,
    capabilities: { atomicPut: true, maxConcurrency: 4 },

    async put(key, body, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      const slash = key.lastIndexOf("/");
      const tmpName = `${key.slice(slash + 1)}.tmp-${randomBytes(8).toString("hex")}`;
      const tmp = joinKey(key.slice(0, Math.max(slash, 0)), tmpName);
      // once rclone has every byte, a store that stopped answering is seen in rclone's own progress
      const stalled = new AbortController();
      const uploading = AbortSignal.any([signal, stalled.signal]);
      let unwatch = () => {};
      if (opts.stallTimeoutMs) {
        const ms = opts.stallTimeoutMs;
        body.once("end", () => (unwatch = watchTransfer(rc, ms, () => stalled.abort(storeStalled(s.display, key, ms)), uploading)));
      }
      try {
        const bytes = await rc.upload(fs, key.slice(0, Math.max(slash, 0)), tmpName, body, uploading).finally(() => unwatch());
        await rc.call("operations/movefile", { srcFs: fs, srcRemote: tmp, dstFs: fs, dstRemote: key }, signal);
        return { bytes };
      } catch (err) {
        body.destroy();
        await removeTmp(tmp, uploading);
        throwIfAborted(signal);
        if (stalled.signal.aborted) throw stalled.signal.reason;
        if (err instanceof Error && !(err instanceof RcError) && !isConnectionError(err) && !isPrematureClose(err)) throw err;
        // rclone refusing the remote answers and hangs up before reading the body; the broken pipe
        // that leaves says nothing, so ask rclone about the remote itself
        const why = err instanceof RcError ? undefined : await rc.call("operations/fsinfo", { fs }, AbortSignal.timeout(5_000)).then(() => undefined, (e: unknown) => e);
        throw fail("upload", key, why instanceof RcError ? why : err);
      }
    },

    async get(key, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      try {
        const info = await stat(key, signal);
        if (!info || info.IsDir) throw new TargetError(`${s.display}: no object ${key}`, { code: "E_NOT_FOUND" });
        return await rc.download(fs, key, signal);
      } catch (err) {
        throwIfAborted(signal);
        if (err instanceof RcError && err.status === 404) throw new TargetError(`${s.display}: no object ${key}`, { code: "E_NOT_FOUND" });
        throw fail("download", key, err);
      }
    },

    async *list(prefix, { signal }): AsyncGenerator<ObjectInfo> {
      for (const e of await files(prefix, signal)) {
        if (TMP_NAME.test(e.Path)) continue;
        yield { key: e.Path, size: e.Size, modified: new Date(e.ModTime) };
      }
    },

    async sweep(prefix, before, { signal }) {
      const removed: string[] = [];
      for (const e of await files(prefix, signal)) {
        if (!LEFTOVER.test(e.Path) || !(new Date(e.ModTime) < before)) continue;
        try {
          await rc.call("operations/deletefile", { fs, remote: e.Path }, signal);
        } catch (err) {
          throwIfAborted(signal);
          if (!(err instanceof RcError && err.status === 404)) throw fail("remove", e.Path, err);
        }
        removed.push(e.Path);
      }
      return removed;
    },

    async remove(key, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      try {
        await rc.call("operations/deletefile", { fs, remote: key }, signal);
      } catch (err) {
        throwIfAborted(signal);
        if (!(err instanceof RcError && err.status === 404)) throw fail("remove", key, err);
      }
    },
  };
}

// --- internal ---

function isPrematureClose(err: Error): boolean {
  return (err as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE";
}

function isConnectionError(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ECONNREFUSED" || err.message === "socket hang up";
}
