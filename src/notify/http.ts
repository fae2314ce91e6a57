// The one way notifications leave the machine: fetch with a per-attempt timeout and one retry.
import type { HttpRequest, Send } from "./types.ts";

export interface SendOptions {
  /** Per attempt. */
  timeoutMs?: number;
  /** Pause before the one retry. */
  retryDelayMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A `Send` that tries twice: a network error, a timeout, 429 or a 5xx is retried once; any other
 * non-2xx is final (a wrong URL does not get better). The run's own signal is not used: a run that
 * was interrupted still reports, bounded by the timeout.
 */
export function createSend(opts: SendOptions = {}): Send {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  return async (req) => {
    let last: Error | undefined;
    let attempt = 1;
    for (; attempt <= 2; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, retryDelayMs));
      const outcome = await once(req, timeoutMs);
      if (outcome === "ok") return { attempts: attempt };
      last = outcome.error;
      if (!outcome.retry) break;
    }
    throw Object.assign(last ?? new Error("not sent"), { attempts: Math.min(attempt, 2) });
  };
}

// --- internal ---

async function once(req: HttpRequest, timeoutMs: number): Promise<"ok" | { error: Error; retry: boolean }> {
  try {
    const res = await fetch(req.url, {
      method: req.method ?? "POST",
      headers: { "user-agent": "sdbackup", ...req.headers },
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "follow",
    });
    await res.body?.cancel().catch(() => {});
    if (res.ok) return "ok";
    return { error: new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`), retry: res.status === 429 || res.status >= 500 };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const timedOut = e.name === "TimeoutError" || e.name === "AbortError";
    const detail = timedOut ? `no answer within ${timeoutMs} ms` : e.cause?.code ?? e.cause?.message ?? e.message;
    return { error: new Error(detail), retry: true };
  }
}
