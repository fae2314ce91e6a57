import type { Transform } from "node:stream";
import type { Logger } from "./logger.ts";
import { createProgress } from "../pipeline/progress.ts";
import { formatBytes } from "./table.ts";

/**
 * One status line for all items in flight: `db 120.4 MiB 85.2 MiB/s · app 3.1 MiB 12.0 MiB/s`.
 * Drawn only on a terminal (the logger decides); elsewhere tracking costs nothing.
 */
export interface ProgressBoard {
  /**
   * A passthrough counting the bytes of `name`; remove it from the line with `done(name)`. With
   * `total` (restore knows each artifact's size from the manifest) the line shows it and an ETA.
   */
  track(name: string, total?: number): Transform;
  done(name: string): void;
  stop(): void;
}

export function createProgressBoard(log: Logger, now: () => number = () => performance.now()): ProgressBoard {
  const items = new Map<string, { bytes: number; started: number; total?: number }>();
  const render = () => {
    const parts = [...items].map(([name, { bytes, started, total }]) => {
      const secs = Math.max((now() - started) / 1000, 0.001);
      const rate = bytes / secs;
      const of = total ? `/${formatBytes(total)}` : "";
      const eta = total && rate > 0 && bytes < total ? ` ETA ${formatEta((total - bytes) / rate)}` : "";
      return `${name} ${formatBytes(bytes)}${of} ${formatBytes(rate)}/s${eta}`;
    });
    log.status(parts.join(" · "));
  };
  const timer = log.interactive ? setInterval(render, 250) : undefined;
  timer?.unref();
  return {
    track(name, total) {
      const entry = { bytes: 0, started: now(), ...(total ? { total } : {}) };
      items.set(name, entry);
      return createProgress((bytes) => (entry.bytes = bytes), 256 * 1024);
    },
    done(name) {
      items.delete(name);
      if (log.interactive) render();
    },
    stop() {
      if (timer) clearInterval(timer);
      log.status("");
    },
  };
}

/** `42s`, `3m05s`, `1h02m`. */
export function formatEta(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
