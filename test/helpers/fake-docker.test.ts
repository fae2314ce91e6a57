import { getEventListeners } from "node:events";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { CancelledError, DockerError, StrategyError } from "../../src/errors.ts";
import { container } from "./builders.ts";
import { createFakeDocker } from "./fake-docker.ts";

// The fake engine must keep the DockerApi contract, or the orchestration tests built on it prove nothing.

const read = async (s: Readable) => Buffer.concat(await s.toArray()).toString();

describe("fake Docker engine", () => {
  it("execStream ends after exit 0 with the scripted stdout, and passes stdin and env to the script", async () => {
    const fake = createFakeDocker({ containers: [container("db")], exec: ({ stdin }) => ({ stdout: ["got ", stdin ?? ""] }) });
    const out = fake.api.execStream("db-id", ["load"], { signal: new AbortController().signal, env: { PGPASSWORD: "x" }, stdin: Readable.from([Buffer.from("input")]) });
    expect(await read(out)).toBe("got input");
    expect(fake.execs).toMatchObject([{ id: "db-id", argv: ["load"], env: { PGPASSWORD: "x" }, kind: "execStream" }]);
  });

  it("execStream fails with a StrategyError carrying argv, exit code and stderr when the exit code is not 0", async () => {
    const fake = createFakeDocker({ containers: [container("db")], exec: () => ({ stdout: "partial", exitCode: 127, stderr: "pg_dump: not found" }) });
    const err = await read(fake.api.execStream("db-id", ["pg_dump"], { signal: new AbortController().signal, service: "db" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrategyError);
    expect(err).toMatchObject({ exec: { argv: ["pg_dump"], exitCode: 127, stderrTail: "pg_dump: not found", service: "db" } });
  });

  it("a hanging exec ends with the signal's reason, is no longer active, and leaves no listener", async () => {
    const fake = createFakeDocker({ containers: [container("db")], exec: () => ({ stdout: "some rows", hang: true }) });
    const ac = new AbortController();
    const stream = fake.api.execStream("db-id", ["sleep"], { signal: ac.signal });
    const buffered = fake.api.exec("db-id", ["sleep"], { signal: ac.signal });
    const first = await new Promise((resolve) => stream.once("data", resolve));
    expect(String(first)).toBe("some rows");
    ac.abort(new CancelledError());
    await expect(read(stream)).rejects.toBeInstanceOf(CancelledError);
    await expect(buffered).rejects.toBeInstanceOf(CancelledError);
    expect(fake.active()).toEqual([]);
    expect(getEventListeners(ac.signal, "abort")).toEqual([]);
    await expect(fake.api.exec("db-id", ["late"], { signal: ac.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(fake.execs.map((e) => e.argv[0])).toEqual(["sleep", "sleep"]);
  });

  it("containers keep their state; exec needs a running one; lifecycle faults fail before any change", async () => {
    const signal = new AbortController().signal;
    const fake = createFakeDocker({ containers: [container("web")], onLifecycle: (op) => (op === "unpause" ? new DockerError("refused") : undefined) });
    await fake.api.stop("web-id", { signal });
    expect(await fake.api.inspect("web-id", { signal })).toMatchObject({ running: false, state: "exited" });
    await expect(fake.api.exec("web-id", ["true"], { signal })).rejects.toBeInstanceOf(DockerError);
    await fake.api.start("web-id", { signal });
    await fake.api.pause("web-id", { signal });
    await expect(fake.api.unpause("web-id", { signal })).rejects.toThrow("refused");
    expect(fake.container("web-id")).toMatchObject({ running: true, paused: true, state: "paused" });
    expect(fake.calls).toEqual(["stop web-id", "exec web-id true", "start web-id", "pause web-id", "unpause web-id"]);
    expect(await fake.api.listContainers({ "com.docker.compose.service": "web" }, { signal })).toHaveLength(1);
    expect(await fake.api.listContainers({ "com.docker.compose.service": "db" }, { signal })).toEqual([]);
  });
});
