import type Dockerode from "dockerode";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { join } from "node:path";
import { DockerError } from "../errors.ts";
import { getArchive, putArchive } from "./archive.ts";
import { inspectContainer, listContainers, pauseContainer, startContainer, stopContainer, unpauseContainer } from "./containers.ts";
import { call, type Engine } from "./engine.ts";
import { execBuffered, execStream } from "./exec.ts";
import { listImageTags, runWithVolumesOf } from "./helper-container.ts";
import { resolveContext } from "./context.ts";
import { sshOptions } from "./ssh.ts";
import { createLoadTransport, createTransport } from "./transport.ts";
import { removeLabelled, startThrowaway } from "./throwaway.ts";
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
    dumpStream: createTransport(engine),
    loadStream: createLoadTransport(engine),
    getArchive: (id, path, opts) => getArchive(engine, id, path, opts),
    putArchive: (id, path, tar, opts) => putArchive(engine, id, path, tar, opts),
    runWithVolumesOf: (from, images, argv, opts) => runWithVolumesOf(engine, from, images, argv, opts),
    listImageTags: (opts) => listImageTags(engine, opts.signal),
    startThrowaway: (spec, opts) => startThrowaway(engine, spec, opts.signal),
    removeLabelled: (label, opts) => removeLabelled(engine, label, opts.signal, opts.which),
    stop: (id, opts) => stopContainer(engine, id, opts),
    start: (id, opts) => startContainer(engine, id, opts),
    pause: (id, opts) => pauseContainer(engine, id, opts),
    unpause: (id, opts) => unpauseContainer(engine, id, opts),
  };
}

/**
 * Where the engine is: a docker CLI context named by `--context` (SDBACKUP_DOCKER_CONTEXT), else
 * `DOCKER_HOST` (`unix:///path`, `tcp://host:port`, `ssh://user@host[:port]`), else `DOCKER_CONTEXT`
 * or the CLI's current context, else the local socket; the docker CLI's own order. TLS comes from
 * the context's material or `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`. Every connection option is set
 * explicitly because dockerode would otherwise fill the gaps from `process.env`.
 */
export function resolveEndpoint(env: NodeJS.ProcessEnv): Endpoint {
  const flagged = env.SDBACKUP_DOCKER_CONTEXT?.trim();
  const context = flagged || !env.DOCKER_HOST?.trim() ? resolveContext(flagged, env) : undefined;
  const raw = context?.host ?? (env.DOCKER_HOST?.trim() || "unix:///var/run/docker.sock");
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
  if (!["tcp:", "http:", "https:", "ssh:"].includes(url.protocol) || !url.hostname) throw badHost(raw);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (url.protocol === "ssh:") {
    const port = Number(url.port || 22);
    const username = decodeURIComponent(url.username) || env.USER || "root";
    const options = { ...none, socketPath: undefined, protocol: "ssh", host, port, username, sshOptions: sshOptions(host, port, env) };
    return { display: `ssh://${username}@${host}:${port}`, options: options as Dockerode.DockerOptions };
  }
  // A context with SkipTLSVerify speaks TLS without checking the engine's certificate, as the docker CLI does.
  const skipVerify = Boolean(context?.skipTLSVerify);
  const tls = url.protocol === "https:" || Boolean(context?.tls) || skipVerify || (!context && Boolean(env.DOCKER_TLS_VERIFY)) || url.port === "2376";
  const port = url.port || (tls ? "2376" : "2375");
  const display = `tcp://${host}:${port}${skipVerify ? " (TLS not verified: the context's SkipTLSVerify)" : ""}`;
  const options: Dockerode.DockerOptions = { ...none, socketPath: undefined, host, port, protocol: tls ? "https" : "http" };
  if (tls) Object.assign(options, context?.tls ?? (skipVerify ? {} : readCerts(env)));
  // docker-modem passes no rejectUnauthorized to https.request, only an agent.
  if (skipVerify) Object.assign(options, { agent: new Agent({ rejectUnauthorized: false }) });
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
    hint: "use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host[:port]",
  });
}
