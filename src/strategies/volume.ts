import type { Strategy } from "./types.ts";
import { LABEL, splitList } from "../core/labels.ts";
import { notImplemented } from "./shared.ts";

/** Files of named volumes (or labelled paths) as one tar, through the archive API. */
export const volume = {
  name: "volume",
  ext: "tar",
  description: "tar of the service's volume paths via the archive API; restore replaces their contents",
  matchImage: () => 0,

  inspect(service, labels) {
    const explicit = splitList(labels[LABEL.paths]);
    const paths = explicit.length ? explicit : service.volumes.filter((m) => m.type === "volume").map((m) => m.target);
    const warnings: string[] = [];
    const binds = service.volumes.filter((m) => m.type === "bind" && !paths.includes(m.target)).map((m) => m.target);
    if (binds.length) warnings.push(`bind mounts (${binds.join(", ")}) are not backed up; add them to ${LABEL.paths} to include them`);
    if (paths.length === 0) warnings.push(`no paths to back up; set ${LABEL.paths}`);
    return { paths, warnings };
  },

  async backup() {
    return notImplemented("volume");
  },

  async restore() {
    return notImplemented("volume");
  },

  async validate() {
    return notImplemented("volume");
  },
} satisfies Strategy;
