import { getEventListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { CancelledError, ExitCode, TimeoutError, exitCodeFor, throwIfAborted } from "../../../src/errors.ts";
import { withDeadline } from "../../../src/runtime/deadline.ts";

/** Work that waits on its signal and fails the way deep code does: with a plain abort error. */
const waitForAbort = (signal: AbortSignal) =>
  sleep(60_000, undefined, { signal }).then(() => "never", () => {
    throw new CancelledError("aborted");
  });

describe("withDeadline (--timeout)", () => {
  it("without a limit the run gets the run's own signal", async () => {
    const parent = new AbortController();
    await expect(withDeadline(parent.signal, undefined, "--timeout", async (s) => s)).resolves.toBe(parent.signal);
  });

  it("when the limit elapses the run's signal aborts and whatever it throws becomes one TimeoutError (exit 1, not 130)", async () => {
    const t0 = Date.now();
    const err = await withDeadline(new AbortController().signal, 50, "--timeout", waitForAbort).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/^gave up after 50ms \(--timeout\)/);
    expect((err as Error).cause).toBeInstanceOf(CancelledError);
    expect(exitCodeFor(err)).toBe(ExitCode.failed);
  });

  it("the signal's reason is the TimeoutError itself, for code that rethrows it", async () => {
    const err = await withDeadline(new AbortController().signal, 20, "--timeout", async (signal) => {
      await sleep(40);
      throwIfAborted(signal);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).cause).toBeUndefined();
  });

  it("an interrupt before the limit stays an interrupt (130)", async () => {
    const parent = new AbortController();
    setTimeout(() => parent.abort(new CancelledError("interrupted by SIGINT")), 20);
    const err = await withDeadline(parent.signal, 60_000, "--timeout", waitForAbort).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(exitCodeFor(err)).toBe(ExitCode.interrupted);
  });

  it("a run that ends in time keeps its result and error, and leaves no timer or listener behind", async () => {
    const parent = new AbortController();
    await expect(withDeadline(parent.signal, 60_000, "--timeout", async () => 42)).resolves.toBe(42);
    await expect(withDeadline(parent.signal, 60_000, "--timeout", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(getEventListeners(parent.signal, "abort")).toEqual([]);
  });
});
