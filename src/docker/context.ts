import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerError } from "../errors.ts";

/**
 * Docker CLI contexts, read the way the docker CLI stores them: `$DOCKER_CONFIG` (default
 * `~/.docker`) holds `config.json` (`currentContext`), `contexts/meta/<sha256 of the name>/meta.json`
 * (the endpoint) and `contexts/tls/<sha256>/docker/{ca,cert,key}.pem` (its TLS material).
 */
export interface DockerContext {
  name: string;
  host: string;
  skipTLSVerify: boolean;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/**
 * The context to use, or undefined for none (`default`): `name` (from `--context`), else
 * `DOCKER_CONTEXT`, else the CLI's current context. A named context that does not exist is an error.
 */
export function resolveContext(name: string | undefined, env: NodeJS.ProcessEnv): DockerContext | undefined {
  const dir = env.DOCKER_CONFIG || join(env.HOME ?? "", ".docker");
  const chosen = name || env.DOCKER_CONTEXT || currentContext(dir);
  if (!chosen || chosen === "default") return undefined;
  const id = createHash("sha256").update(chosen).digest("hex");
  let meta: { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
  try {
    meta = JSON.parse(readFileSync(join(dir, "contexts", "meta", id, "meta.json"), "utf8")) as typeof meta;
  } catch (err) {
    throw new DockerError(`docker context "${chosen}" not found in ${dir}`, {
      hint: "see `docker context ls`; set DOCKER_CONFIG if the CLI keeps its configuration elsewhere",
      cause: err,
    });
  }
  const host = meta.Endpoints?.docker?.Host;
  if (!host) throw new DockerError(`docker context "${chosen}" has no docker endpoint`);
  const tlsDir = join(dir, "contexts", "tls", id, "docker");
  const read = (f: string) => {
    try {
      return readFileSync(join(tlsDir, f));
    } catch {
      return undefined;
    }
  };
  const [ca, cert, key] = [read("ca.pem"), read("cert.pem"), read("key.pem")];
  const tls = ca || cert || key ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } : undefined;
  return { name: chosen, host, skipTLSVerify: Boolean(meta.Endpoints?.docker?.SkipTLSVerify), ...(tls ? { tls } : {}) };
}

// --- internal ---

function currentContext(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { currentContext?: string }).currentContext;
  } catch {
    return undefined;
  }
}
