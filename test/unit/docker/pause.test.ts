import type Dockerode from "dockerode";
import { describe, expect, it } from "vitest";
import { pauseContainer } from "../../../src/docker/containers.ts";
import type { Engine } from "../../../src/docker/engine.ts";

/** An engine whose pause fails `failures` times with the freezer's error, then succeeds. */
function engineFailingPause(failures: number, message = "Cannot pause container x: OCI runtime pause failed: unable to freeze: unknown") {
  let calls = 0;
  const err = Object.assign(new Error(`(HTTP code 500) server error - ${message}`), { statusCode: 500, json: { message } });
  const container = { pause: async () => { calls++; if (calls <= failures) throw err; } };
  const engine = { docker: { getContainer: () => container } as unknown as Dockerode, endpoint: "unix:///var/run/docker.sock" } satisfies Engine;
  return { engine, calls: () => calls };
}

describe("pauseContainer", () => {
  const signal = new AbortController().signal;

  it("tries again when the cgroup freezer gives up, as a busy host makes it do", async () => {
    const e = engineFailingPause(2);
    await pauseContainer(e.engine, "c1", { signal }, 1);
    expect(e.calls()).toBe(3);
  });

  it("gives up after a few attempts with the engine's words", async () => {
    const e = engineFailingPause(10);
    await expect(pauseContainer(e.engine, "c1", { signal }, 1)).rejects.toThrow(/pause container c1: .*unable to freeze/);
    expect(e.calls()).toBe(4);
  });

  it("does not retry other failures", async () => {
    const e = engineFailingPause(10, "No such container: c1");
    await expect(pauseContainer(e.engine, "c1", { signal }, 1)).rejects.toThrow(/No such container/);
    expect(e.calls()).toBe(1);
  });
});
