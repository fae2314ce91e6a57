import type { Readable } from "node:stream";
import type { ComposeService } from "../compose/model.ts";
import type { ContainerDetails, DockerApi, TransportMode, TransportName } from "../docker/types.ts";
import type { Logger } from "../ui/logger.ts";
import type { Inventory, ManifestItem } from "../manifest/schema.ts";
export type { Inventory };

/** What `validate` knows of an artifact: its manifest item's paths, part and databases. */
export type ArtifactFacts = Pick<ManifestItem, "paths" | "part" | "databases">;

/**
 * Why a service got its strategy: a label, its image name, a server-side environment variable
 * of the database image (`env`), a database data directory it mounts (`data-dir`), or its mounts.
 */
export type DetectionSource = "label" | "image" | "env" | "data-dir" | "volumes";

/** The outcome of detection for one service (pure data, printed by `detect`). */
export interface Detection {
  /** The name of a registered strategy (`StrategyName` in index.ts). */
  strategy: string;
  source: DetectionSource;
  /** 0..1: 1 for an explicit label, lower for guesses from the image name or mounts. */
  confidence: number;
  /** Paths inside the container the strategy reads (volume, sqlite); empty for dump-based ones. */
  paths: string[];
  warnings: string[];
}

/**
 * One artifact of a service that a strategy splits into several: postgres stores the cluster's
 * roles (`globals`) and one dump per database. Restores apply parts in manifest order.
 */
export interface ArtifactPart {
  kind: "globals" | "database";
  /** The database name; `globals` for the globals part. */
  name: string;
  /** Artifact extension of this part (`sql`, `pgdump`). */
  ext: string;
  /** Owner role of a database, to create it with on restore. */
  owner?: string;
}

/** What a strategy gets at run time. */
export interface RunContext {
  docker: DockerApi;
  /** The compose service, or one built from the container when the compose files are unreadable. */
  service: ComposeService;
  container: ContainerDetails;
  detection: Detection;
  /** Secret values resolved so far; every value here MUST be redacted from output. */
  secrets: SecretRegistry;
  signal: AbortSignal;
  log: Logger;
  /** How dump bytes travel (`--transport`, default auto); the dump records the one it `used`. */
  transport?: { mode: TransportMode; used?: TransportName };
  /**
   * Set at backup time only: a strategy that declares `inventoryInBackup` reports here the
   * inventory it took inside its dump's own snapshot (at most once per `backup` call).
   */
  recordInventory?(inventory: Inventory): void;
  /**
   * Set at backup time only: a strategy whose dump holds some of the server's databases, named
   * (mysql family), reports their names here. The manifest records them, and `validate` gets them
   * back to refuse an artifact that holds other databases.
   */
  recordDatabases?(databases: readonly string[]): void;
  /** The part being backed up or restored, for strategies with `parts`. */
  part?: Pick<ArtifactPart, "kind" | "name" | "owner">;
  /**
   * Whether an image runs a database server that some dump strategy claims. The registry answers,
   * so that no plugin imports the registry that lists it.
   */
  isDatabaseImage(image: string): boolean;
}

/** Collects secret values so that errors and logs can redact them. */
export interface SecretRegistry {
  add(value: string | undefined): void;
  values(): string[];
}

/**
 * A strategy knows how to recognise one kind of data service and how to stream its data out of,
 * and back into, a running container.
 *
 * - `matchImage` and `inspect` MUST be pure: no I/O, same answer for the same input.
 * - `backup` MUST return a stream that ends only when the dump is complete and the dump command
 *   exited 0; on any failure the stream MUST error instead of ending, so that the target never
 *   commits a partial artifact. Secrets MUST travel in the exec environment or a file, never argv.
 * - `restore` MUST fail (reject) when any step fails and SHOULD leave the data as it was then
 *   (single transaction, or replace-after-validate). It MUST NOT consume `input` past an error.
 *   Containers it stops MUST be started again before it settles, also on failure or abort.
 * - Both MUST honour `ctx.signal` and terminate work inside the container when it aborts.
 */
export interface Strategy {
  /**
   * Unique in the registry and equal to the plugin's file name. Written `"name" as const` so that
   * the registry derives `StrategyName` from the plugins instead of a second list.
   */
  readonly name: string;
  /** Artifact extension before compression: `pgdump`, `sql`, `tar`, `rdb`, `archive`, `sqlite`. */
  readonly ext: string;
  /** Human summary shown by `detect` and docs. */
  readonly description: string;
  /** Backups need the container running (dump tools); archive-based strategies read stopped ones. */
  readonly needsRunning: boolean;
  /**
   * Confidence 0..1 that an image repository (last path segment, lowercased, no tag or digest)
   * runs this kind of service; 0 for no match.
   */
  matchImage(repo: string): number;
  /**
   * How a service of this kind is recognised when its image name says nothing: environment
   * variables only the server image reads (not a client's connection settings), and the data
   * directories the server keeps its files in. Detection only; absent for path-based kinds.
   */
  readonly signature?: { readonly env: readonly string[]; readonly dataDirs: readonly string[] };
  /**
   * Pure look at a service: warnings such as missing credentials, and paths for path-based kinds.
   * `defaultPaths` are the mounts detection counts as data (see docs/labels.md) for kinds that
   * archive paths when no label names them.
   */
  inspect(service: ComposeService, labels: Record<string, string>, defaultPaths?: readonly string[]): { paths?: string[]; warnings: string[] };
  /**
   * Optional: the artifacts one service is stored as, listed from the running container just
   * before its backup (every database the dump user can read, say). `backup` and `restore` are
   * then called once per part with `ctx.part` set; each part is one manifest item.
   */
  parts?(ctx: RunContext): Promise<ArtifactPart[]>;
  /**
   * Optional engine readiness for restore's preflight (`pg_isready`, `mysqladmin ping`, `PING`):
   * resolves `undefined` once the server accepts connections the way `restore` will make them, and
   * otherwise a short reason ("the database system is starting up"). Restore polls it until
   * `--wait` runs out, so it MUST NOT change any data, MUST be cheap (one short exec), and MUST
   * answer "not ready" (never reject) for states that waiting can end: a server still starting, a
   * container restarting, a temporary init server the image's entrypoint runs before the real one.
   * It MUST reject (StrategyError with a hint) only for what waiting cannot fix, such as a missing
   * client tool or a refused password. Absent for strategies that need no server (volume, sqlite).
   */
  ready?(ctx: RunContext): Promise<string | undefined>;
  /**
   * Optional: what the data holds now (tables and row counts, keys per database), recorded in the
   * manifest at backup time (right before `backup`, per part) and taken again by restore drills.
   * It MUST be a pure read (no data, schema or setting changed), MUST honour `ctx.signal`, and
   * SHOULD be bounded (one query or command per table at most).
   */
  inventory?(ctx: RunContext): Promise<Inventory>;
  /**
   * Declared when `backup` takes the inventory itself, inside the snapshot its dump reads (postgres:
   * an exported snapshot that the counts and `pg_dump --snapshot` share), and reports it through
   * `ctx.recordInventory`: the caller then takes none before the dump. Such an inventory is the
   * dump's own data, so it SHOULD be marked `exact`. A failure to count MUST cost only the
   * inventory (a warning), never the backup; every session opened for it MUST be closed before the
   * returned stream ends or errors, also on abort.
   */
  readonly inventoryInBackup?: boolean;
  /**
   * Optional, for kinds whose artifact says everything without a server (volume, sqlite): the
   * inventory read from an uncompressed artifact. Used on the stream as backup writes it and by
   * drills. MUST consume `input` entirely and MUST NOT touch anything but private temp files.
   */
  inventoryOf?(input: Readable, detection: Pick<Detection, "paths">): Promise<Inventory>;
  /**
   * Optional: how `verify --restore-test` starts a throwaway server of this kind from the recorded
   * image: the environment its entrypoint needs to initialise, given a fresh password generated
   * for that server (never the live service's secrets).
   */
  readonly drill?: { env(password: string): Record<string, string> };
  /**
   * Optional: what restoring `part` does when its artifact turns out bad part-way, so that restore
   * reads it once where that is safe (core/restore/single-read.ts). `atomic`: everything is applied
   * in one transaction that commits only after the input's last byte, so the artifact is checked
   * while it streams and a bad tail rolls it back. `additive`: it only creates what is missing
   * (roles); it is checked whole first and may go before an `atomic` item. Absent: checked whole
   * before the first item of the run is applied.
   */
  restoreSafety?(part: Pick<ArtifactPart, "kind" | "name"> | undefined): "atomic" | "additive" | undefined;
  backup(ctx: RunContext): Promise<Readable>;
  restore(ctx: RunContext, input: Readable): Promise<void>;
  /**
   * Checks an uncompressed artifact without any container (used by `verify` and before every
   * restore touches data): format magic, archive structure, unsafe paths. MUST consume `input`
   * entirely and reject with an IntegrityError that says what is wrong. It MUST refuse an artifact
   * whose content names another database than `item` does (its `part`, its `databases`): a valid
   * dump of a different database is as wrong as a corrupt one.
   */
  validate(input: Readable, item: ArtifactFacts): Promise<void>;
}
