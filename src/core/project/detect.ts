import type { ComposeProject, ComposeService, VolumeMount } from "../../compose/model.ts";
import type { Detection, Strategy } from "../../strategies/types.ts";
import { getStrategy, strategies } from "../../strategies/index.ts";
import { imageRepo } from "../../compose/image.ts";
import { LABEL, splitList } from "../../compose/labels.ts";

/** One row of `sdbackup detect`; field names are a stable JSON contract. */
export interface ServiceDetection {
  service: string;
  image: string | null;
  strategy: Detection["strategy"] | null;
  source: Detection["source"] | null;
  confidence: number;
  paths: string[];
  warnings: string[];
}

/**
 * Chooses a strategy per service. Pure: the same project gives the same answer, no I/O.
 * An explicit label wins (`none` excludes); then the best image match; then named volumes.
 * A database service gets only its dump strategy: its data volume is not archived as well.
 */
export function detectProject(project: ComposeProject): ServiceDetection[] {
  return project.services.map(detectService);
}

export function detectService(service: ComposeService): ServiceDetection {
  const labels = service.labels;
  const base = { service: service.name, image: service.image ?? null };
  const labelled = labels[LABEL.strategy]?.trim();
  if (labelled === "none") {
    return { ...base, strategy: null, source: "label", confidence: 1, paths: [], warnings: [] };
  }
  if (labelled) return fromStrategy(base, service, getStrategy(labelled), "label", 1);

  const repo = service.image ? imageRepo(service.image) : "";
  let best: { strategy: Strategy; confidence: number } | undefined;
  for (const strategy of strategies) {
    const confidence = repo ? strategy.matchImage(repo) : 0;
    if (confidence > (best?.confidence ?? 0)) best = { strategy, confidence };
  }
  if (best) return fromStrategy(base, service, best.strategy, "image", best.confidence);

  const explicitPaths = splitList(labels[LABEL.paths]);
  const volumePaths = dataMounts(service.volumes).map((m) => m.target);
  if (explicitPaths.length || volumePaths.length) {
    return fromStrategy(base, service, getStrategy("volume"), explicitPaths.length ? "label" : "volumes", explicitPaths.length ? 1 : 0.8);
  }
  const binds = service.volumes.filter((m) => m.type === "bind").map((m) => m.target);
  const warnings = binds.length ? [`bind mounts (${binds.join(", ")}) are not backed up; set ${LABEL.paths} to include them`] : [];
  return { ...base, strategy: null, source: null, confidence: 0, paths: [], warnings };
}

/** Named and anonymous volumes hold data; bind mounts are usually source or config, tmpfs is scratch. */
export function dataMounts(volumes: readonly VolumeMount[]): VolumeMount[] {
  return volumes.filter((m) => m.type === "volume");
}

// --- internal ---

function fromStrategy(
  base: Pick<ServiceDetection, "service" | "image">,
  service: ComposeService,
  strategy: Strategy,
  source: NonNullable<ServiceDetection["source"]>,
  confidence: number,
): ServiceDetection {
  const inspected = strategy.inspect(service, service.labels);
  return {
    ...base,
    strategy: strategy.name,
    source,
    confidence,
    paths: inspected.paths ?? [],
    warnings: inspected.warnings,
  };
}
