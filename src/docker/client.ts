import type Dockerode from "dockerode";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerError } from "../errors.ts";
import { getArchive, putArchive } from "./archive.ts";
import { inspectContainer, listContainers, pauseContainer, startContainer, stopContainer, unpauseContainer } from "./containers.ts";
import { call, type Engine } from "./engine.ts";
import { execBuffered, execStream } from "./exec.ts";
import { listImageTags, runWithVolumesOf } from "./helper-container.ts";
import type { DockerApi } from "./types.ts";

/** The newest Engine API version this code is written against; newer engines are asked for it. */
export const MAX_API_VERSION = "1.41";
/** The oldest that has everything used here (exec, archive, label filters). */
export const MIN_API_VERSION = "1.25";

export interface Endpoint {
  /** Where the engine is, safe to print. */
  display: string;
  options: Dockerode.DockerOptions;
}

/**
 * Connects to the engine named by `DOCKER_HOST` (default `unix:///var/run/docker.sock`) and
 * negotiates the API version: the engine's own, capped to {@link MAX_API_VERSION}. dockerode is
 * loaded here, lazily, so that commands that never talk to Docker do not pay for it.
 */
export async function connect(env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<DockerApi> {
  if (signal.aborted) throw signal.reason;
  const endpoint = resolveEndpoint(env);
  const { default: Docker } = await import("dockerode");
  const probe: Engine = { docker: new Docker(endpoint.options), endpoint: endpoint.display };
  // dockerode accepts an abortSignal here; its type declarations do not say so.
  const version = probe.docker.version.bind(probe.docker) as (opts: { abortSignal: AbortSignal }) => Promise<Dockerode.DockerVersion>;
  const info = await call(probe, "read the engine version", signal, () => version({ abortSignal: signal }));
  const api = negotiateVersion(info.ApiVersion);
  return createApi({ docker: new Docker({ ...endpoint.options, version: `v${api}` }), endpoint: endpoint.display });
}

/** The DockerApi over one dockerode client. */
export function createApi(engine: Engine): DockerApi {
  return {
    listContainers: (labels, opts) => listContainers(engine, labels, opts),
    inspect: (id, opts) => inspectContainer(engine, id, opts),
    execStream: (id, argv, opts) => execStream(engine, id, argv, opts),
    exec: (id, argv, opts) => execBuffered(engine, id, argv, opts),
    getArchive: (id, path, opts) => getArchive(engine, id, path, opts),
    putArchive: (id, path, tar, opts) => putArchive(engine, id, path, tar, opts),
    runWithVolumesOf: (from, images, argv, opts) => runWithVolumesOf(engine, from, images, argv, opts),
    listImageTags: (opts) => listImageTags(engine, opts.signal),
    stop: (id, opts) => stopContainer(engine, id, opts),
    start: (id, opts) => startContainer(engine, id, opts),
    pause: (id, opts) => pauseContainer(engine, id, opts),
    unpause: (id, opts) => unpauseContainer(engine, id, opts),
  };
}

/**
 * Turns `DOCKER_HOST` (`unix:///path`, `tcp://host:port`) and, for TLS, `DOCKER_TLS_VERIFY` and
 * `DOCKER_CERT_PATH` into dockerode options. Every connection option is set explicitly because
 * dockerode would otherwise fill the gaps from `process.env`.
 */
export function resolveEndpoint(env: NodeJS.ProcessEnv): Endpoint {
  const raw = env.DOCKER_HOST?.trim() || "unix:///var/run/docker.sock";
  const none = { host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined };
  if (raw.startsWith("unix://")) {
    const socketPath = raw.slice("unix://".length) || "/var/run/docker.sock";
    return { display: `unix://${socketPath}`, options: { ...none, socketPath } };
  }
  let url: URL;
  try {
    url = new URL(raw.includes("://") ? raw : `tcp://${raw}`);
  } catch {
    throw badHost(raw);
  }
  if (!["tcp:", "http:", "https:"].includes(url.protocol) || !url.hostname) throw badHost(raw);
  const tls = url.protocol === "https:" || Boolean(env.DOCKER_TLS_VERIFY) || url.port === "2376";
  const port = url.port || (tls ? "2376" : "2375");
  const display = `tcp://${url.hostname}:${port}`;
  const options: Dockerode.DockerOptions = { ...none, socketPath: undefined, host: url.hostname, port, protocol: tls ? "https" : "http" };
  if (tls) Object.assign(options, readCerts(env));
  return { display, options };
}

/** The engine's version capped to ours; an engine older than {@link MIN_API_VERSION} is refused. */
export function negotiateVersion(engineVersion: string | undefined): string {
  if (!engineVersion || !/^\d+\.\d+$/.test(engineVersion)) return MAX_API_VERSION;
  if (compareVersions(engineVersion, MIN_API_VERSION) < 0) {
    throw new DockerError(`the Docker engine speaks API ${engineVersion}, sdbackup needs at least ${MIN_API_VERSION}`, {
      hint: "upgrade the Docker engine",
    });
  }
  return compareVersions(engineVersion, MAX_API_VERSION) < 0 ? engineVersion : MAX_API_VERSION;
}

// --- internal ---

function compareVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split(".").map(Number);
  const [bMajor = 0, bMinor = 0] = b.split(".").map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

function readCerts(env: NodeJS.ProcessEnv): Pick<Dockerode.DockerOptions, "ca" | "cert" | "key"> {
  const dir = env.DOCKER_CERT_PATH || join(env.HOME ?? "", ".docker");
  try {
    return {
      ca: readFileSync(join(dir, "ca.pem")),
      cert: readFileSync(join(dir, "cert.pem")),
      key: readFileSync(join(dir, "key.pem")),
    };
  } catch (err) {
    throw new DockerError(`cannot read the TLS certificates in ${dir}`, {
      hint: "DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem (or unset DOCKER_TLS_VERIFY)",
      cause: err,
    });
  }
}

function badHost(raw: string): DockerError {
  return new DockerError(`unsupported DOCKER_HOST ${JSON.stringify(raw)}`, {
    hint: "use unix:///path/to/docker.sock or tcp://host:port",
  });
}
