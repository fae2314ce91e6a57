import { posix } from "node:path";
import type { SetInfo } from "../../manifest/store.ts";
import type { Manifest } from "../../manifest/schema.ts";
import { setPrefix } from "../../manifest/keys.ts";

/**
 * What a chosen set means for the project it is restored into: which of the project's services
 * with backups it lacks (a partial set, a service added later) and which set holds each, newer
 * sets that were passed over because they are partial, and where its artifacts lie now.
 */

export interface Coverage {
  /** Services of the project that some set backs up but this one lacks; `heldBy` is the newest set holding it. */
  missing: { service: string; heldBy: string | null }[];
  /** Newer sets that `latest` passed over, each in one sentence. */
  notes: string[];
}

/**
 * `sets` newest first (as listed); `services` are the project's; `latest` says the set was chosen
 * as the newest ok one, so newer partial or unfinished sets are worth a note.
 */
export function setCoverage(sets: readonly SetInfo[], chosen: SetInfo, services: readonly string[], latest: boolean): Coverage {
  const holds = (s: SetInfo, svc: string) => Boolean(s.manifest?.items.some((i) => i.service === svc));
  const backedUp = services.filter((svc) => sets.some((s) => s.complete && holds(s, svc)) || chosen.manifest?.failed.some((f) => f.service === svc));
  const missing = backedUp
    .filter((svc) => !holds(chosen, svc))
    .map((service) => ({ service, heldBy: sets.find((s) => s.complete && holds(s, service))?.set ?? null }));
  const newer = latest ? sets.slice(0, sets.indexOf(chosen)) : [];
  const notes = newer.map((s) => {
    if (!s.complete) return `set ${s.set} is newer but unfinished (${s.problem ?? "no manifest"}); restoring ${chosen.set}, the newest ok set`;
    const failed = s.manifest!.failed.map((f) => `${f.service} failed: ${f.error}`).join("; ");
    return `set ${s.set} is newer but ${s.manifest!.status}${failed ? ` (${failed})` : ""}; restoring ${chosen.set}, the newest ok set (pass --set ${s.set} to restore what it holds)`;
  });
  return { missing, notes };
}

/**
 * The set's manifest with each item's key pointing where the artifact lies now. Keys name the
 * project that wrote the set; a set copied under another project's name (a new host, a staging
 * copy) keeps them, so an artifact absent at its key is looked for beside the manifest.
 */
export function locateItems(set: SetInfo): Manifest {
  const manifest = set.manifest!;
  const present = new Set(set.objects.map((o) => o.key));
  const prefix = setPrefix(set.project, set.set);
  const items = manifest.items.map((item) => {
    const moved = prefix + posix.basename(item.key);
    return present.has(item.key) || !present.has(moved) ? item : { ...item, key: moved };
  });
  return { ...manifest, items };
}
