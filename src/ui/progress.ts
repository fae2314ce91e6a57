import type { Transform } from "node:stream";
import type { Logger } from "./logger.ts";
import { createProgress } from "../pipeline/progress.ts";
import { formatBytes } from "./table.ts";

/**
 * One status line for all items in flight: `db 120.4 MiB 85.2 MiB/s · app 3.1 MiB 12.0 MiB/s`.
 * Drawn only on a terminal (the logger decides); elsewhere tracking costs nothing.
 */
export interface ProgressBoard {
  /** A passthrough counting the bytes of `name`; remove it from the line with `done(name)`. */
  track(name: string): Transform;
  done(name: string): void;
  stop(): void;
}

export function createProgressBoard(log: Logger, now: () => number = () => performance.now()): ProgressBoard {
  const items = new Map<string, { bytes: number; started: number }>();
  const render = () => {
    const parts = [...items].map(([name, { bytes, started }]) => {
      const secs = Math.max((now() - started) / 1000, 0.001);
      return `${name} ${formatBytes(bytes)} ${formatBytes(bytes / secs)}/s`;
    });
    log.status(parts.join(" · "));
  };
  const timer = log.interactive ? setInterval(render, 250) : undefined;
  timer?.unref();
  return {
    track(name) {
      const entry = { bytes: 0, started: now() };
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
