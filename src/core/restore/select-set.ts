import type { Target } from "../../targets/types.ts";
import type { Manifest } from "../../manifest/schema.ts";
import { listSets } from "../../manifest/store.ts";
import { SdbackupError, ExitCode } from "../../errors.ts";

/**
 * The set to restore: `latest` (default) is the newest complete set that holds every requested
 * service; an id must name a complete set. Incomplete sets are never offered.
 */
export async function selectSet(target: Target, project: string, wanted: string | undefined, services: readonly string[], signal: AbortSignal): Promise<Manifest> {
  const sets = (await listSets(target, project, signal)).filter((s) => s.complete && s.manifest);
  const has = (m: Manifest) => services.every((svc) => m.items.some((i) => i.service === svc));
  if (!wanted || wanted === "latest") {
    const found = sets.find((s) => has(s.manifest!));
    if (found) return found.manifest!;
    const what = services.length ? ` holding ${services.join(", ")}` : "";
    throw new SdbackupError("E_NO_SET", `no complete backup set of project ${project}${what} in ${target.display}`, ExitCode.failed, {
      hint: "run sdbackup list to see what is there",
    });
  }
  const found = sets.find((s) => s.set === wanted);
  if (!found) {
    throw new SdbackupError("E_NO_SET", `no complete set ${wanted} of project ${project} in ${target.display}`, ExitCode.failed, {
      hint: "run sdbackup list to see the complete sets",
    });
  }
  if (!has(found.manifest!)) {
    throw new SdbackupError("E_NO_SET", `set ${wanted} does not hold ${services.join(", ")}`, ExitCode.failed);
  }
  return found.manifest!;
}
