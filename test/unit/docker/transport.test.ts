import { describe, expect, it } from "vitest";
import { Readable } from "node:stream";
import { createLoadTransport, createTransport, isLocalEngine } from "../../../src/docker/transport.ts";
import type { Engine } from "../../../src/docker/engine.ts";
import type { ContainerDetails } from "../../../src/docker/types.ts";
import { ConfigError } from "../../../src/errors.ts";

describe("isLocalEngine", () => {
  it("takes unix sockets and tcp to this machine as local", () => {
    for (const e of ["unix:///var/run/docker.sock", "unix:///run/user/1000/docker.sock", "tcp://127.0.0.1:2375", "tcp://localhost:2376", "tcp://[::1]:2375"]) {
      expect(isLocalEngine(e), e).toBe(true);
    }
  });

  it("takes any other tcp host as remote: the exec transport is used there", () => {
    for (const e of ["tcp://10.0.0.5:2375", "tcp://docker.example:2376", "tcp://127.0.0.2.example:2375"]) {
      expect(isLocalEngine(e), e).toBe(false);
    }
  });
});

describe("createTransport: where the fast transport cannot work", () => {
  // An engine whose every call fails: these cases must decide without starting anything.
  const engine = (endpoint: string) => ({ endpoint, docker: { getContainer: () => ({ exec: async () => Promise.reject(new Error("no engine")) }) } }) as unknown as Engine;
  const container = { id: "c1", image: "postgres:15", env: {} } as unknown as ContainerDetails;
  const opts = (transport: "auto" | "fast", helperEnv?: Record<string, string>) => ({ transport, signal: new AbortController().signal, ...(helperEnv ? { helperEnv } : {}) });

  it("auto on a remote engine uses exec and says why", async () => {
    const dump = await createTransport(engine("tcp://10.0.0.5:2375"))(container, ["pg_dump"], opts("auto", { PGHOST: "127.0.0.1" }));
    dump.stream.on("error", () => {}).destroy();
    expect(dump.transport).toBe("exec");
    expect(dump.fallback).toMatch(/not on this machine/);
  });

  it("fast on a remote engine is a usage error instead of a silent fallback", async () => {
    await expect(createTransport(engine("tcp://10.0.0.5:2375"))(container, ["pg_dump"], opts("fast", { PGHOST: "127.0.0.1" }))).rejects.toBeInstanceOf(ConfigError);
  });

  it("auto on a local engine uses exec for a dump that cannot run beside the server", async () => {
    const dump = await createTransport(engine("unix:///var/run/docker.sock"))(container, ["pg_dump"], opts("auto"));
    dump.stream.on("error", () => {}).destroy();
    expect(dump.transport).toBe("exec");
  });

  it("restores decide the same way: exec on a remote engine (saying why), a usage error under --transport fast", async () => {
    const stdin = () => Readable.from([]);
    const load = await createLoadTransport(engine("tcp://10.0.0.5:2375"))(container, ["pg_restore"], { ...opts("auto", { PGHOST: "127.0.0.1" }), stdin: stdin() });
    load.stream.on("error", () => {}).destroy();
    expect(load).toMatchObject({ transport: "exec", fallback: expect.stringMatching(/not on this machine/) });
    await expect(createLoadTransport(engine("tcp://10.0.0.5:2375"))(container, ["pg_restore"], { ...opts("fast", { PGHOST: "127.0.0.1" }), stdin: stdin() })).rejects.toBeInstanceOf(ConfigError);
  });
});
