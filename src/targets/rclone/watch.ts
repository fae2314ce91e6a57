import type { RcClient } from "./rc.ts";

/**
 * Bounds the wait for rclone to finish an upload it already has every byte of: rclone may spool
 * what it receives and send it on afterwards, so a store that stopped answering shows only as an
 * upload that never returns. Progress is rclone's own count of bytes transferred (`core/stats`,
 * all transfers of this daemon); none for `ms` calls `onStall` once. Returns the stop function.
 */
export function watchTransfer(rc: RcClient, ms: number, onStall: () => void, signal: AbortSignal): () => void {
  let last: number | undefined;
  let since = Date.now();
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    rc.call<{ bytes?: number }>("core/stats", {}, AbortSignal.any([signal, AbortSignal.timeout(5_000)]))
      .then((stats) => {
        if (stats.bytes !== undefined && stats.bytes !== last) {
          last = stats.bytes;
          since = Date.now();
        }
      }, () => {})
      .finally(() => {
        polling = false;
        if (Date.now() - since >= ms && !signal.aborted) {
          clearInterval(timer);
          onStall();
        }
      });
  }, Math.max(50, Math.min(1_000, ms / 3)));
  timer.unref();
  return () => clearInterval(timer);
}
