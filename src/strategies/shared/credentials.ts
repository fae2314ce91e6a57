import { readFile } from "node:fs/promises";
import type { ComposeService } from "../../compose/model.ts";
import type { ContainerDetails, DockerApi } from "../../docker/types.ts";
import type { SecretRegistry } from "../types.ts";
import { readContainerFile } from "./container-file.ts";

/**
 * The one place where strategies find users, databases and passwords. Order: a label override
 * (`simpledeploy.backup.password-env` names the variable), the compose service's environment and its
 * `*_FILE` secrets (host file of a compose secret, else the file inside the container), then the
 * container's own environment and its `*_FILE` variables. Secret values are registered for redaction.
 */
export interface EnvSource {
  service: ComposeService;
  container: ContainerDetails;
  docker: DockerApi;
  secrets: SecretRegistry;
  signal: AbortSignal;
}

/** The first value found for any of `keys`, trying each source in order for every key. */
export async function resolveEnv(src: EnvSource, keys: readonly string[], opts: { secret: boolean }): Promise<string | undefined> {
  const layers = [src.service.environment, src.container.env];
  for (const env of layers) {
    for (const key of keys) {
      const direct = env[key];
      if (direct !== undefined && direct !== "") return remember(src, direct, opts.secret);
      const file = env[`${key}_FILE`];
      if (file) {
        const value = await readSecretFile(src, file);
        if (value !== undefined) return remember(src, value, opts.secret);
      }
    }
  }
  return undefined;
}

/** Pure check used by `detect`: does the compose service name any of `keys` (or their `_FILE`)? */
export function declaresEnv(service: ComposeService, keys: readonly string[]): boolean {
  return keys.some((k) => Boolean(service.environment[k]) || Boolean(service.environment[`${k}_FILE`]));
}

// --- internal ---

function remember(src: EnvSource, value: string, secret: boolean): string {
  if (secret) src.secrets.add(value);
  return value;
}

/**
 * Official images strip trailing newlines when they read `*_FILE` (`$(< file)`); so do we. The
 * container's copy comes first, through the engine (archive API): it is the one the service uses,
 * and with a remote engine (ssh://, a context) a path on this machine may name another file. The
 * compose-declared source file is only the fallback, for a container that lacks the file.
 */
async function readSecretFile(src: EnvSource, path: string): Promise<string | undefined> {
  const buf = await readContainerFile(src.docker, src.container.id, path, src.signal).catch((err: unknown) => {
    if (src.signal.aborted) throw err;
    return undefined;
  });
  if (buf !== undefined) return buf.toString("utf8").replace(/\n+$/, "");
  const declared = src.service.secrets.find((s) => s.target === path && s.file);
  if (!declared?.file) return undefined;
  try {
    return (await readFile(declared.file, "utf8")).replace(/\n+$/, "");
  } catch {
    return undefined;
  }
}
