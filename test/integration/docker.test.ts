import { createHash, randomBytes } from "node:crypto";
import { getEventListeners } from "node:events";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/docker/client.ts";
import { PID_MARKER } from "../../src/docker/terminate.ts";
import type { DockerApi } from "../../src/docker/types.ts";
import { DockerError, StrategyError } from "../../src/errors.ts";
import { removeContainers, requireDocker, shell, startContainer, uniqueName } from "../helpers/docker.ts";

const RUN_LABEL = "sdbackup.test.run";
const run = uniqueName("docker-layer");
const created: string[] = [];
let api: DockerApi;
let debian: string;
let distroless: string;
let lifecycle: string;

const live = () => new AbortController().signal;

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function failure(stream: Readable): Promise<unknown> {
  try {
    await collect(stream);
  } catch (err) {
    return err;
  }
  throw new Error("expected the stream to fail");
}

/** Live (non-zombie) processes in the container whose command line contains `needle`. */
async function processes(id: string, needle: string): Promise<string[]> {
  const ps = await shell(id, "ps -eo stat=,args=");
  return ps.split("\n").filter((l) => l.includes(needle) && !l.trim().startsWith("Z") && !l.includes("ps -eo"));
}

beforeAll(async () => {
  await requireDocker();
  api = await connect(process.env, live());
  const started = await Promise.all([
    startContainer({
      image: "debian:bookworm",
      cmd: ["sleep", "infinity"],
      labels: { [RUN_LABEL]: run, "com.docker.compose.service": "db", "com.docker.compose.project": "proj" },
      env: { FOO: "bar=baz" },
      volumes: ["/anon"],
    }),
    startContainer({ image: "sdbackup-stand-in/distroless", labels: { [RUN_LABEL]: run } }),
    startContainer({ image: "debian:bookworm", cmd: ["sleep", "infinity"] }),
  ]);
  created.push(...started.map((c) => c.id));
  [debian, distroless, lifecycle] = created as [string, string, string];
});

afterAll(async () => {
  await removeContainers(created);
});

describe("execStream", () => {
  it("delivers 50 MB intact (sha256 inside = outside)", async () => {
    const sum = `/tmp/sum-${run}`;
    const script = `set -o pipefail; head -c 50000000 /dev/urandom | tee >(sha256sum > ${sum}); wait $!`;
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of api.execStream(debian, ["bash", "-c", script], { signal: live() })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    const inside = await api.exec(debian, ["cat", sum], { signal: live() });
    expect(bytes).toBe(50_000_000);
    expect(inside.stdout.toString().split(" ")[0]).toBe(hash.digest("hex"));
  });

  it("is binary-safe (all 256 byte values)", async () => {
    const out = await collect(api.execStream(debian, ["perl", "-e", "binmode STDOUT; print pack('C*', 0..255) x 4096"], { signal: live() }));
    const expected = Buffer.alloc(256 * 4096);
    for (let i = 0; i < expected.length; i++) expected[i] = i % 256;
    expect(out.equals(expected)).toBe(true);
  });

  it("fails with the exit code and stderr tail of a failing command", async () => {
    const err = await failure(api.execStream(debian, ["sh", "-c", "echo out; echo boom >&2; exit 3"], { signal: live(), service: "db" }));
    expect(err).toBeInstanceOf(StrategyError);
    const { exec, message } = err as StrategyError;
    expect(exec).toMatchObject({ service: "db", container: debian, exitCode: 3, argv: ["sh", "-c", "echo out; echo boom >&2; exit 3"] });
    expect(exec?.stderrTail).toBe("boom\n");
    expect(message).toContain("boom");
    expect(message).not.toContain(PID_MARKER);
  });

  it("keeps env secrets off argv and redacts them and explicit secrets from errors", async () => {
    const secret = `pw-${randomBytes(6).toString("hex")}`;
    const script = 'tr "\\0" " " < /proc/$$/cmdline; echo; printenv DB_PASSWORD';
    const ok = await api.exec(debian, ["sh", "-c", script], { signal: live(), env: { DB_PASSWORD: secret } });
    const [cmdline, env] = ok.stdout.toString().split("\n");
    expect(cmdline).toContain("printenv DB_PASSWORD");
    expect(cmdline).not.toContain(secret);
    expect(env).toBe(secret);

    const failing = 'echo "FATAL: password authentication failed ($DB_PASSWORD)" >&2; exit 1';
    const err = (await failure(api.execStream(debian, ["sh", "-c", failing], { signal: live(), env: { DB_PASSWORD: secret } }))) as StrategyError;
    expect(err.exec?.stderrTail).toBe("FATAL: password authentication failed (***)\n");
    expect(JSON.stringify({ message: err.message, exec: err.exec })).not.toContain(secret);

    const token = `tok-${randomBytes(6).toString("hex")}`;
    const err2 = (await failure(api.execStream(debian, ["sh", "-c", 'echo "$1" >&2; exit 2', "sh", token], { signal: live(), secrets: [token] }))) as StrategyError;
    expect(err2.exec?.argv).toEqual(["sh", "-c", 'echo "$1" >&2; exit 2', "sh", "***"]);
    expect(JSON.stringify({ message: err2.message, exec: err2.exec })).not.toContain(token);
  });

  it("feeds stdin and closes it at the end (10 MB round trip)", async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const chunks = Array.from({ length: 160 }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const out = await collect(api.execStream(debian, ["sha256sum"], { signal: live(), stdin: Readable.from(chunks) }));
    expect(out.toString().split(" ")[0]).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("fails the exec on a stdin error without letting the process see EOF", async () => {
    const flag = `/tmp/committed-${run}`;
    const stdinError = new Error("source broke");
    let reads = 0;
    // Fails only once the exec is consuming it, so the process has already read some input.
    const stdin = new Readable({
      read() {
        if (++reads === 1) this.push(Buffer.alloc(100_000, 1));
        else setTimeout(() => this.destroy(stdinError), 100);
      },
    });
    const err = await failure(api.execStream(debian, ["sh", "-c", `cat > /dev/null && touch ${flag}`], { signal: live(), stdin }));
    expect(err).toBeInstanceOf(StrategyError);
    expect((err as StrategyError).cause).toBe(stdinError);
    await new Promise((r) => setTimeout(r, 300));
    expect((await api.exec(debian, ["test", "-e", flag], { signal: live() })).exitCode).toBe(1);
  });

  it("fails at once on a stdin that failed before the exec started", async () => {
    const stdin = new Readable({ read() {} });
    stdin.destroy(new Error("gone before we started"));
    const err = await failure(api.execStream(debian, ["sh", "-c", "cat > /dev/null; exec sleep 4545"], { signal: live(), stdin }));
    expect((err as StrategyError).cause).toBe(stdin.errored);
    expect(await processes(debian, "sleep 4545")).toEqual([]);
  });

  it("terminates the process group in the container on abort", async () => {
    const ac = new AbortController();
    const reason = new Error("user pressed ctrl-c");
    const stream = api.execStream(debian, ["sh", "-c", "sleep 4242 & exec cat /dev/zero"], { signal: ac.signal });
    let bytes = 0;
    stream.on("data", (c: Buffer) => {
      bytes += c.length;
      if (bytes > 1_000_000 && !ac.signal.aborted) ac.abort(reason);
    });
    await expect(new Promise((_, reject) => stream.on("error", reject))).rejects.toBe(reason);
    expect(await processes(debian, "sleep 4242")).toEqual([]);
    expect(await processes(debian, "cat /dev/zero")).toEqual([]);
    expect(getEventListeners(ac.signal, "abort")).toEqual([]);
  });

  it("terminates the process when the consumer destroys the stream", async () => {
    const stream = api.execStream(debian, ["yes", `destroy-${run}`], { signal: live() });
    await new Promise<void>((resolve) => stream.once("data", () => resolve()));
    expect(await processes(debian, `yes destroy-${run}`)).toHaveLength(1);
    stream.destroy();
    await new Promise((r) => stream.once("close", r));
    expect(await processes(debian, `yes destroy-${run}`)).toEqual([]);
  });

  it("rejects an already-aborted signal before starting anything", async () => {
    const ac = new AbortController();
    ac.abort(new Error("early"));
    await expect(failure(api.execStream(debian, ["touch", `/tmp/early-${run}`], { signal: ac.signal }))).resolves.toBe(ac.signal.reason);
    expect((await api.exec(debian, ["test", "-e", `/tmp/early-${run}`], { signal: live() })).exitCode).toBe(1);
  });

  it("reports a missing program in an image without a shell", async () => {
    const err = (await failure(api.execStream(distroless, ["tar", "-c", "/"], { signal: live() }))) as StrategyError;
    expect(err).toBeInstanceOf(StrategyError);
    expect([126, 127]).toContain(err.exec?.exitCode);
    const plain = await api.exec(distroless, ["tar", "-c", "/"], { signal: live(), killable: false });
    expect([126, 127]).toContain(plain.exitCode);
  });
});

describe("exec", () => {
  it("buffers output and never rejects on a non-zero exit", async () => {
    const ac = new AbortController();
    const r = await api.exec(debian, ["sh", "-c", "echo out; echo err >&2; exit 7"], { signal: ac.signal, workingDir: "/tmp", user: "nobody" });
    expect(r).toEqual({ exitCode: 7, stdout: Buffer.from("out\n"), stderr: "err\n" });
    expect(getEventListeners(ac.signal, "abort")).toEqual([]);
    const who = await api.exec(debian, ["sh", "-c", "id -un; pwd"], { signal: live(), workingDir: "/tmp", user: "nobody", killable: false });
    expect(who.stdout.toString()).toBe("nobody\n/tmp\n");
  });

  it("is a DockerError when the container is not running", async () => {
    await expect(api.exec("sdbackup-test-does-not-exist", ["true"], { signal: live() })).rejects.toBeInstanceOf(DockerError);
  });
});

describe("archives", () => {
  it("round-trips a file through putArchive/getArchive on a distroless container, also stopped", async () => {
    const content = randomBytes(200_000);
    const pack = tar.pack();
    pack.entry({ name: "hello.bin", mode: 0o644 }, content);
    pack.finalize();
    await api.putArchive(distroless, "/", pack as unknown as Readable, { signal: live() });

    const read = async () => {
      const entries: Array<{ name: string; data: Buffer }> = [];
      const extract = tar.extract();
      const archive = await api.getArchive(distroless, "/hello.bin", { signal: live() });
      archive.pipe(extract);
      for await (const entry of extract) entries.push({ name: entry.header.name, data: await collect(entry) });
      return entries;
    };
    expect(await read()).toEqual([{ name: "hello.bin", data: content }]);
    await api.stop(distroless, { signal: live(), timeoutSeconds: 1 });
    expect(await read()).toEqual([{ name: "hello.bin", data: content }]);
    await api.start(distroless, { signal: live() });
  });

  it("rejects a missing path with a DockerError (404)", async () => {
    const err = await api.getArchive(distroless, "/no/such/file", { signal: live() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerError);
    expect((err as DockerError).context).toEqual({ statusCode: 404 });
    expect((err as DockerError).message).toContain("/no/such/file");
  });
});

describe("containers", () => {
  it("lists containers by label, running or not", async () => {
    const all = await api.listContainers({ [RUN_LABEL]: run }, { signal: live() });
    expect(all.map((c) => c.id).sort()).toEqual([debian, distroless].sort());
    const db = await api.listContainers({ [RUN_LABEL]: run, "com.docker.compose.service": "db" }, { signal: live() });
    expect(db).toHaveLength(1);
    expect(db[0]).toMatchObject({ id: debian, image: "debian:bookworm", state: "running", service: "db", project: "proj" });
    expect(db[0]?.name).toMatch(/^sdbackup-test-/);
  });

  it("inspects env, command, mounts and state", async () => {
    const d = await api.inspect(debian, { signal: live() });
    expect(d).toMatchObject({ id: debian, image: "debian:bookworm", service: "db", project: "proj", cmd: ["sleep", "infinity"], entrypoint: [], running: true, paused: false });
    expect(d.env.FOO).toBe("bar=baz");
    expect(d.env.PATH).toContain("/usr/bin");
    expect(d.mounts).toEqual([expect.objectContaining({ type: "volume", destination: "/anon", rw: true, name: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
  });

  it("stops, starts, pauses and unpauses idempotently", async () => {
    const signal = live();
    const state = async () => {
      const d = await api.inspect(lifecycle, { signal });
      return { running: d.running, paused: d.paused };
    };
    await api.pause(lifecycle, { signal });
    await api.pause(lifecycle, { signal });
    expect(await state()).toEqual({ running: true, paused: true });
    await api.unpause(lifecycle, { signal });
    await api.unpause(lifecycle, { signal });
    expect(await state()).toEqual({ running: true, paused: false });
    await api.stop(lifecycle, { signal, timeoutSeconds: 1 });
    await api.stop(lifecycle, { signal, timeoutSeconds: 1 });
    expect(await state()).toEqual({ running: false, paused: false });
    await expect(api.pause(lifecycle, { signal })).rejects.toBeInstanceOf(DockerError);
    await api.start(lifecycle, { signal });
    await api.start(lifecycle, { signal });
    expect(await state()).toEqual({ running: true, paused: false });
  });

  it("rejects with the signal's reason when already aborted", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stop now"));
    await expect(api.listContainers({}, { signal: ac.signal })).rejects.toBe(ac.signal.reason);
    await expect(api.inspect(debian, { signal: ac.signal })).rejects.toBe(ac.signal.reason);
  });
});

describe("connect", () => {
  it("is a DockerError with a hint when the engine is unreachable", async () => {
    const err = await connect({ DOCKER_HOST: "unix:///nonexistent" }, live()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerError);
    expect((err as DockerError).message).toContain("unix:///nonexistent");
    expect((err as DockerError).hint).toMatch(/is the Docker engine running/);
  });
});
