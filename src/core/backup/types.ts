import type { ComposeService } from "../../compose/model.ts";
import type { ContainerDetails, DockerApi, TransportMode, TransportName } from "../../docker/types.ts";
import type { Target } from "../../targets/types.ts";
import type { Logger } from "../../ui/logger.ts";
import type { Compression } from "../../manifest/schema.ts";
import type { EncryptSpec } from "../../pipeline/encrypt.ts";
import type { PlanItem } from "../project/plan.ts";
import type { HookResult } from "../lifecycle/hooks.ts";
import type { Downtime } from "../lifecycle/quiesce.ts";

// The shapes a backup run takes and returns, shared by run-backup.ts and backup-item.ts.

export interface BackupRun {
  project: string;
  items: PlanItem[];
  /** Every service of the project: hooks and consistent mode look beyond the planned items. */
  services: ComposeService[];
  containers: ContainerDetails[];
  target: Target;
  docker: DockerApi;
  compression: Compression;
  level?: number;
  /** Per service name: how its artifact is encrypted; services not in it are stored in clear. */
  encryption?: ReadonlyMap<string, EncryptSpec>;
  concurrency: number;
  /** How dump bytes leave containers (`--transport`); default auto. */
  transport?: TransportMode;
  /** Stop (or pause) services labelled `simpledeploy.backup.stop=true` while the set is taken. */
  consistent: boolean;
  hookTimeoutMs: number;
  /** No bytes from a dump for this long fails the item (default pipeline/stall.ts DEFAULT_STALL_MS). */
  stallTimeoutMs?: number;
  version: string;
  now: () => Date;
  signal: AbortSignal;
  log: Logger;
}

export interface BackupItemResult {
  service: string;
  /** The database (or `globals`) when the service is stored as several artifacts. */
  part?: string;
  strategy: string;
  key: string | null;
  bytes: number | null;
  sha256: string | null;
  durationMs: number;
  status: "ok" | "failed";
  error?: string;
  /** How the dump's bytes travelled (exec or fast), for strategies that choose. */
  transport?: TransportName;
}

export interface BackupResult {
  project: string;
  set: string;
  status: "ok" | "partial" | "failed";
  target: string;
  manifest: string | null;
  consistent: boolean;
  items: BackupItemResult[];
  hooks: HookResult[];
  /** Containers stopped or paused for a consistent set, and for how long. */
  downtime: Downtime[];
  error?: string;
  /** With several targets: each one's own commit (a failed one named with its error). */
  targets?: TargetOutcome[];
  /** The compose loader's findings (unset variables …), also logged at the start of the run. */
  warnings?: string[];
}

/** One target of a backup to several: committed (with its manifest key) or failed. */
export interface TargetOutcome {
  target: string;
  status: "ok" | "failed";
  manifest: string | null;
  error?: string;
}
