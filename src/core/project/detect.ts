import type { ComposeProject, ComposeService } from "../../compose/model.ts";
import type { Detection, Strategy } from "../../strategies/types.ts";
import { getStrategy } from "../../strategies/index.ts";
import { LABEL, splitList } from "../../compose/labels.ts";
import { isServiceActive } from "../../compose/profiles.ts";
import { classifyMounts, includedPaths, volumeOwners, type MountCoverage, type VolumeOwners } from "./coverage.ts";
import { recogniseDatabase } from "./recognise.ts";

/** One row of `sdbackup detect`; field names are a stable JSON contract. */
export interface ServiceDetection {
  service: string;
  image: string | null;
  strategy: Detection["strategy"] | null;
  source: Detection["source"] | null;
  confidence: number;
  paths: string[];
  warnings: string[];
  /** Every mount of the service, and why it is or is not backed up. */
  mounts: MountCoverage[];
  /** False when the service's profiles are all inactive: `docker compose up` does not start it. */
  active: boolean;
}

/**
 * Chooses a strategy per service. Pure: the same project gives the same answer, no I/O.
 * An explicit label wins (`none` excludes); then a database recognised by image, environment or
 * data directory (its files are covered by the dump, never archived); then the mounts that hold
 * data (see coverage.ts). A named volume is backed up once, by the service that owns it.
 */
export function detectProject(project: Pick<ComposeProject, "services" | "activeProfiles">): ServiceDetection[] {
  const active = project.services.filter((s) => isServiceActive(s, project));
  const inactive = project.services.filter((s) => !isServiceActive(s, project));
  const owners = volumeOwners([...active, ...inactive], (s) => isDumped(s));
  return project.services.map((s) => detectService(s, { owners, active: isServiceActive(s, project) }));
}

export interface DetectContext {
  owners: VolumeOwners;
  active: boolean;
}

/** One service; without a context it is judged as if it were the only service of its project. */
export function detectService(service: ComposeService, ctx?: DetectContext): ServiceDetection {
  const owners = ctx?.owners ?? volumeOwners([service], isDumped);
  const active = ctx?.active ?? true;
  const base = { service: service.name, image: service.image ?? null, active };
  const inactiveNote = active ? [] : [`profile ${service.profiles.join(", ")} is not active: skipped unless its container exists`];
  const labelled = service.labels[LABEL.strategy]?.trim();
  if (labelled === "none") {
    const mounts = classifyMounts(service, owners, undefined).map((m) => ({ ...m, included: false, reason: `${LABEL.strategy}=none` }));
    return { ...base, strategy: null, source: "label", confidence: 1, paths: [], warnings: inactiveNote, mounts };
  }
  if (labelled) return fromStrategy(base, service, getStrategy(labelled), "label", 1, owners, inactiveNote);

  const db = recogniseDatabase(service);
  if (db) return fromStrategy(base, service, db.strategy, db.source, db.confidence, owners, inactiveNote);

  const mounts = classifyMounts(service, owners, undefined);
  const explicit = splitList(service.labels[LABEL.paths]);
  if (explicit.length || includedPaths(mounts).length) {
    return fromStrategy(base, service, getStrategy("volume"), explicit.length ? "label" : "volumes", explicit.length ? 1 : 0.8, owners, inactiveNote);
  }
  return { ...base, strategy: null, source: null, confidence: 0, paths: [], warnings: inactiveNote, mounts };
}

// --- internal ---

/** Services whose data a dump covers: a dump strategy by label, or a recognised database. */
function isDumped(service: ComposeService): boolean {
  const labelled = service.labels[LABEL.strategy]?.trim();
  if (labelled === "none") return false;
  if (labelled) return getStrategy(labelled).needsRunning;
  return recogniseDatabase(service) !== undefined;
}

function fromStrategy(
  base: Pick<ServiceDetection, "service" | "image" | "active">,
  service: ComposeService,
  strategy: Strategy,
  source: NonNullable<ServiceDetection["source"]>,
  confidence: number,
  owners: VolumeOwners,
  notes: string[],
): ServiceDetection {
  const dump = strategy.needsRunning;
  let mounts = classifyMounts(service, owners, dump ? strategy.name : undefined);
  const inspected = strategy.inspect(service, service.labels, includedPaths(mounts));
  const paths = inspected.paths ?? [];
  if (!dump && strategy.name !== "volume") {
    mounts = mounts.map((m) => ({ ...m, included: false, reason: `the ${strategy.name} strategy backs up ${paths.join(", ") || "its labelled paths"}` }));
  } else if (strategy.name === "volume" && splitList(service.labels[LABEL.paths]).length) {
    mounts = mounts.map((m) => ({ ...m, included: paths.includes(m.target), reason: paths.includes(m.target) ? `named in ${LABEL.paths}` : `not in ${LABEL.paths}` }));
  }
  return { ...base, strategy: strategy.name, source, confidence, paths, warnings: [...inspected.warnings, ...notes], mounts };
}
