import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { createDowned, whileDown } from "../../../src/docker/stop-restart.ts";
import type { ContainerDetails, DockerApi } from "../../../src/docker/types.ts";
import { CancelledError, DockerError } from "../../../src/errors.ts";
import { hasCritical } from "../../../src/runtime/critical.ts";

/** Just the lifecycle calls, over containers that are running unless told otherwise. */
function fakeDocker(opts: { slowStop?: boolean; failStop?: boolean; failStart?: boolean; gone?: string[] } = {}) {
  const state = new Map<string, { running: boolean; paused: boolean }>();
  const calls: string[] = [];
  const pending: (() => void)[] = [];
  const of = (id: string) => {
    if (!state.has(id)) state.set(id, { running: true, paused: false });
    return state.get(id)!;
  };
  const api = {
    async stop(id: string) {
      calls.push(`stop ${id}`);
      if (opts.failStop) throw new DockerError("stop refused");
      // Like the engine: the container is down only when the stop completes.
      if (opts.slowStop) await new Promise<void>((resolve) => pending.push(resolve));
      of(id).running = false;
      calls.push(`stopped ${id}`);
    },
    async start(id: string) {
      calls.push(`start ${id}`);
      if (opts.failStart) throw new DockerError("start refused");
      of(id).running = true;
    },
    async pause(id: string) {
      calls.push(`pause ${id}`);
      of(id).paused = true;
    },
    async unpause(id: string) {
      calls.push(`unpause ${id}`);
      of(id).paused = false;
    },
    async inspect(id: string) {
      if (opts.gone?.includes(id)) throw new DockerError(`no such container ${id}`);
      return { id, ...of(id) } as ContainerDetails;
    },
  } as Partial<DockerApi> as DockerApi;
  return { api, calls, state: of, finishStops: () => pending.splice(0).forEach((r) => r()) };
}

const log = { info() {}, error() {} };
const web = { id: "web1", name: "app-web-1", service: "web" };
const worker = { id: "worker1", name: "app-worker-1", service: "worker" };
const tick = () => new Promise((r) => setImmediate(r));

describe("whileDown", () => {
  it("stops, runs, starts again and returns fn's result", async () => {
    const d = fakeDocker();
    const result = await whileDown(d.api, log, web, "stop", new AbortController().signal, async () => {
      expect(d.state("web1").running).toBe(false);
      return 42;
    });
    expect(result).toBe(42);
    expect(d.calls).toEqual(["stop web1", "stopped web1", "start web1"]);
    expect(d.state("web1").running).toBe(true);
    expect(hasCritical()).toBe(false);
  });

  it("starts again when fn fails, and rethrows fn's error", async () => {
    const d = fakeDocker();
    await expect(whileDown(d.api, log, web, "stop", new AbortController().signal, async () => {
      throw new Error("swap failed");
    })).rejects.toThrow("swap failed");
    expect(d.state("web1").running).toBe(true);
  });

  it("merges fn's error with a failed start", async () => {
    const d = fakeDocker({ failStart: true });
    const err = await whileDown(d.api, log, web, "stop", new AbortController().signal, async () => {
      throw new Error("swap failed");
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as Error).message).toMatch(/swap failed; and could not bring app-web-1 of service web back: start refused/);
  });

  it("a failed start after a good fn is a DockerError", async () => {
    const d = fakeDocker({ failStart: true });
    await expect(whileDown(d.api, log, web, "stop", new AbortController().signal, async () => 1)).rejects.toBeInstanceOf(DockerError);
  });

  it("a failed stop rejects with its error, fn does not run, the container is checked and left running", async () => {
    const d = fakeDocker({ failStop: true });
    let ran = false;
    await expect(whileDown(d.api, log, web, "stop", new AbortController().signal, async () => (ran = true))).rejects.toThrow("stop refused");
    expect(ran).toBe(false);
    expect(d.calls).toEqual(["stop web1"]);
    expect(d.state("web1").running).toBe(true);
    expect(hasCritical()).toBe(false);
  });

  it("aborted before the stop: nothing is stopped, fn does not run", async () => {
    const d = fakeDocker();
    const ac = new AbortController();
    ac.abort(new CancelledError());
    let ran = false;
    await expect(whileDown(d.api, log, web, "stop", ac.signal, async () => (ran = true))).rejects.toBeInstanceOf(CancelledError);
    expect(ran).toBe(false);
    expect(d.calls).toEqual([]);
    expect(hasCritical()).toBe(false);
  });

  it("aborted during fn: starts again and rejects with the abort", async () => {
    const d = fakeDocker();
    const ac = new AbortController();
    await expect(whileDown(d.api, log, web, "stop", ac.signal, async () => {
      ac.abort(new CancelledError());
      throw ac.signal.reason;
    })).rejects.toBeInstanceOf(CancelledError);
    expect(d.state("web1").running).toBe(true);
    expect(getEventListeners(ac.signal, "abort")).toEqual([]);
  });

  it("aborted while the stop is in progress: rejects at once, awaits the stop, then starts (issue 11 case 5)", async () => {
    const d = fakeDocker({ slowStop: true });
    const ac = new AbortController();
    let ran = false;
    const run = whileDown(d.api, log, web, "stop", ac.signal, async () => (ran = true));
    await tick();
    expect(d.calls).toEqual(["stop web1"]);
    expect(hasCritical()).toBe(true);
    ac.abort(new CancelledError());
    await tick();
    // The way back waits for the engine: a start sent now would be undone by the stop.
    expect(d.calls).toEqual(["stop web1"]);
    d.finishStops();
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(ran).toBe(false);
    expect(d.calls).toEqual(["stop web1", "stopped web1", "start web1"]);
    expect(d.state("web1").running).toBe(true);
    expect(hasCritical()).toBe(false);
    expect(getEventListeners(ac.signal, "abort")).toEqual([]);
  });

  it("pauses and unpauses", async () => {
    const d = fakeDocker();
    await whileDown(d.api, log, web, "pause", new AbortController().signal, async () => expect(d.state("web1").paused).toBe(true));
    expect(d.calls).toEqual(["pause web1", "unpause web1"]);
  });
});

describe("createDowned", () => {
  it("brings back every container newest first, once, and reports each", async () => {
    const d = fakeDocker();
    const downed = createDowned(d.api, log);
    const signal = new AbortController().signal;
    await downed.down(web, "stop", signal);
    await downed.down(worker, "pause", signal);
    const [first, again] = await Promise.all([downed.restore(), downed.restore()]);
    expect(again).toBe(first);
    expect(first.map((b) => `${b.service}:${b.action}:${b.error ?? "ok"}`)).toEqual(["web:stop:ok", "worker:pause:ok"]);
    expect(d.calls).toEqual(["stop web1", "stopped web1", "pause worker1", "unpause worker1", "start web1"]);
  });

  it("the way back is a critical section from before the stop until everything is back", async () => {
    const d = fakeDocker({ slowStop: true });
    const downed = createDowned(d.api, log);
    expect(hasCritical()).toBe(false);
    const down = downed.down(web, "stop", new AbortController().signal);
    expect(hasCritical()).toBe(true);
    d.finishStops();
    await down;
    expect(hasCritical()).toBe(true);
    await downed.restore();
    expect(hasCritical()).toBe(false);
  });

  it("does not start a container that was recreated (gone by id), and says so", async () => {
    const d = fakeDocker({ gone: ["web1"] });
    const downed = createDowned(d.api, log);
    await downed.down(web, "stop", new AbortController().signal);
    const [back] = await downed.restore();
    expect(back?.error).toMatch(/could not bring app-web-1 of service web back: the container is gone \(recreated while it was stopped\?\)/);
    expect(d.calls).not.toContain("start web1");
  });

  it("refuses to take more down after the way back was taken", async () => {
    const downed = createDowned(fakeDocker().api, log);
    await downed.restore();
    await expect(downed.down(web, "stop", new AbortController().signal)).rejects.toBeInstanceOf(DockerError);
  });
});
