/**
 * The normalised view of a compose project that the rest of sdbackup works with. The loader
 * (`load.ts`) turns compose files into this shape; `from-containers.ts` builds the same shape from
 * running containers when the compose files are not readable. Everything here is plain data.
 */

/** One entry of a service's `volumes:` after short/long syntax normalisation. */
export interface VolumeMount {
  /** `volume` = named volume (or anonymous when `source` is undefined), `bind` = host path, `tmpfs`. */
  type: "volume" | "bind" | "tmpfs" | "npipe" | "image" | "cluster";
  /** Volume name as written in the service (not prefixed with the project) or absolute host path. */
  source?: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
  /**
   * What the host path of a bind mount is, looked at when the project was loaded: `missing` when
   * it does not exist (docker then creates a directory). Undefined for other mount types and for
   * projects built from containers.
   */
  hostKind?: "file" | "dir" | "socket" | "other" | "missing";
}

/** A service-level `secrets:` entry, resolved against the top-level `secrets:` map. */
export interface ServiceSecret {
  source: string;
  /** Path inside the container, `/run/secrets/<source>` unless the long syntax sets `target`. */
  target: string;
  /** Absolute host path of the secret file when the top-level secret has `file:`. */
  file?: string;
}

export interface ComposeService {
  name: string;
  image?: string;
  containerName?: string;
  /** After interpolation, `env_file` entries first and `environment` on top, like compose. */
  environment: Record<string, string>;
  labels: Record<string, string>;
  volumes: VolumeMount[];
  secrets: ServiceSecret[];
  /** `command` as written: string (shell form) or list (exec form); undefined when absent. */
  command?: string | string[];
  /** `entrypoint` as written, like `command`. */
  entrypoint?: string | string[];
  profiles: string[];
  /** Absolute `build` context when the service is built from local sources. */
  buildContext?: string;
}

export interface ComposeVolume {
  /** Docker volume name: `name:` when set, `<project>_<key>` otherwise. */
  name: string;
  external: boolean;
}

export interface ComposeProject {
  /** Normalised project name (lowercase, `[a-z0-9_-]`). */
  name: string;
  /** Directory that relative paths are resolved against. */
  workingDir: string;
  /** Absolute paths of the files that were merged, in order. Empty when built from containers. */
  files: string[];
  services: ComposeService[];
  volumes: Record<string, ComposeVolume>;
  /** Profiles enabled by `--profile` and `COMPOSE_PROFILES`; see `isServiceActive`. */
  activeProfiles?: string[];
  /** Non-fatal findings of the loader (unset variables, unsupported keys); absent when none. */
  warnings?: string[];
}
