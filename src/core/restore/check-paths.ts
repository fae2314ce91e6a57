import { posix } from "node:path";
import type { ManifestItem } from "../../manifest/schema.ts";
import type { PlanItem } from "../project/plan.ts";
import { IntegrityError } from "../../errors.ts";

/**
 * A set's `paths` say where its files go, and a set is only as trustworthy as the target it came
 * from. Before anything is written, each path must be a clean absolute path that today's detection
 * names for the service, or that lies on one of the service's writable volumes or bind mounts: a set
 * naming `/usr/local/bin` is refused, not obeyed.
 */
export function checkItemPaths(item: Pick<ManifestItem, "service" | "key" | "paths">, plan: Pick<PlanItem, "detection" | "container">): void {
  const today = new Set(plan.detection.paths.map(trim));
  const mounts = plan.container?.mounts ?? [];
  for (const raw of item.paths) {
    const refuse = (why: string) =>
      new IntegrityError(`set item ${item.service} (${item.key}) names the path "${raw}", which ${why}; nothing was restored`, {
        hint: "restore only sets this project wrote; see docs/security.md",
      });
    if (typeof raw !== "string" || !raw.startsWith("/") || raw.includes("\0")) throw refuse("is not an absolute path");
    const path = trim(raw);
    if (path !== posix.normalize(path) || path.split("/").includes("..")) throw refuse("is not a normalised path");
    if (path === "/") throw refuse("is the container's root");
    if (today.has(path)) continue;
    const mount = mounts.find((m) => path === trim(m.destination) || path.startsWith(`${trim(m.destination)}/`));
    if (!mount) throw refuse(`is neither a path detected for the service today (${[...today].join(", ") || "none"}) nor on one of its volumes or bind mounts`);
    if (!mount.rw) throw refuse(`is on the read-only mount ${mount.destination}`);
  }
}

function trim(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}
