import type { Engine } from "./engine.ts";
import { call, engineMessage } from "./engine.ts";
import { DockerError } from "../errors.ts";
import type { ExecResult } from "./types.ts";

const HELPER_LABEL = "sdbackup.helper";

/**
 * A short-lived container that shares another container's volumes (`VolumesFrom`), runs one
 * command and is removed. Images are tried in order: one without a shell fails to start (exit 126/127
 * or a create/start error) and the next is tried.
 */
export async function runWithVolumesOf(
  engine: Engine,
  volumesFrom: string,
  images: readonly string[],
  argv: string[],
  opts: { signal: AbortSignal },
): Promise<ExecResult & { image: string }> {
  const tried: string[] = [];
  for (const image of images) {
    const result = await attempt(engine, volumesFrom, image, argv, opts.signal);
    if (result && result.exitCode !== 126 && result.exitCode !== 127) return { ...result, image };
    tried.push(image);
  }
  throw new DockerError(`no local image could run ${argv[0] ?? "the helper command"} (tried ${tried.join(", ") || "none"})`, {
    hint: "make an image with a shell available locally (e.g. docker pull busybox) or set the label simpledeploy.backup.helper-image",
  });
}

export async function listImageTags(engine: Engine, signal: AbortSignal): Promise<string[]> {
  const images = await call(engine, "list images", signal, () => engine.docker.listImages());
  return images.flatMap((i) => (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>"));
}

// --- internal ---

async function attempt(engine: Engine, volumesFrom: string, image: string, argv: string[], signal: AbortSignal): Promise<ExecResult | undefined> {
  let container;
  try {
    container = await engine.docker.createContainer({
      Image: image,
      Entrypoint: [argv[0]!],
      Cmd: argv.slice(1),
      User: "0:0",
      Labels: { [HELPER_LABEL]: "1" },
      NetworkDisabled: true,
      HostConfig: { VolumesFrom: [volumesFrom], AutoRemove: false },
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (/No such image/i.test(engineMessage(err))) return undefined;
    throw new DockerError(`create helper container from ${image}: ${engineMessage(err)}`, { cause: err });
  }
  try {
    try {
      await container.start();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      return { exitCode: 127, stdout: Buffer.alloc(0), stderr: engineMessage(err) };
    }
    const onAbort = () => void container.kill().catch(() => {});
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const waited = (await container.wait()) as { StatusCode: number };
      if (signal.aborted) throw signal.reason;
      const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      return { exitCode: waited.StatusCode, stdout: Buffer.alloc(0), stderr: stripFrames(logs).slice(-16 * 1024) };
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  } finally {
    await container.remove({ force: true, v: false }).catch(() => {});
  }
}

/** Logs of a non-TTY container come framed like exec output; keep the payloads, as text. */
export function stripFrames(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}
