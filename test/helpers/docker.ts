import Docker from "dockerode";
import { randomBytes } from "node:crypto";

/** Every container a test creates carries this label, so leftovers are easy to find and remove. */
export const TEST_LABEL = "sdbackup.test";

export const docker = new Docker({ socketPath: "/var/run/docker.sock" });

/**
 * Throws (never skips) when the engine is unreachable: an integration suite that silently passes
 * without Docker would claim something it never checked.
 */
export async function requireDocker(): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `integration tests need a running Docker engine at /var/run/docker.sock: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export function uniqueName(prefix: string): string {
  return `sdbackup-test-${prefix}-${randomBytes(4).toString("hex")}`;
}

export interface StartOptions {
  image: string;
  /** Command (default: the image's). */
  cmd?: string[];
  name?: string;
  labels?: Record<string, string>;
  env?: Record<string, string>;
  /** Anonymous volumes, e.g. `["/data"]`; removed with the container. */
  volumes?: string[];
  binds?: string[];
  /** Seconds `docker stop` waits before SIGKILL (the engine's default is 10). */
  stopTimeout?: number;
}

/** Creates and starts a labelled container; remove it with {@link removeContainers}. */
export async function startContainer(opts: StartOptions): Promise<{ id: string; name: string }> {
  const name = opts.name ?? uniqueName(opts.image.replace(/[^a-z0-9]+/gi, "-"));
  const container = await docker.createContainer({
    name,
    Image: opts.image,
    ...(opts.cmd ? { Cmd: opts.cmd } : {}),
    Labels: { [TEST_LABEL]: "1", ...opts.labels },
    ...(opts.stopTimeout !== undefined ? { StopTimeout: opts.stopTimeout } : {}),
    Env: Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Volumes: Object.fromEntries((opts.volumes ?? []).map((v) => [v, {}])),
    HostConfig: { Binds: opts.binds ?? [], NetworkMode: "none" },
  });
  await container.start();
  return { id: container.id, name };
}

/** Force-removes containers and their anonymous volumes; missing ones are fine. */
export async function removeContainers(ids: Iterable<string>): Promise<void> {
  await Promise.all(
    [...ids].map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true, v: true })
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 404) throw err;
        }),
    ),
  );
}

/** Runs a command in a container with the plain CLI-like path, independent of the code under test. */
export async function shell(id: string, script: string): Promise<string> {
  const exec = await docker.getContainer(id).exec({ Cmd: ["sh", "-c", script], AttachStdout: true, AttachStderr: true, Tty: true });
  const stream = await exec.start({ hijack: true, stdin: false, Tty: true });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r\n/g, "\n");
}
