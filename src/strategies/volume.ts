import type { Strategy } from "./types.ts";
import { LABEL, isTrue, splitList } from "../compose/labels.ts";
import { StrategyError } from "../errors.ts";
import { labelOf, withStopped } from "./shared/lifecycle.ts";
import { packPaths, validateVolumeTar } from "./volume/tar.ts";
import { stageAndSwap } from "./volume/swap.ts";
import { tarInventory } from "./volume/inventory.ts";

/**
 * Files of named volumes (or labelled paths) as one tar through the archive API: no shell or tar
 * is needed in the image, and stopped containers can be read. Restore makes each path's contents
 * equal to the backup without ever emptying it first: the tar is validated (by the caller), then
 * extracted into a staging directory inside each path and swapped in by a helper container that
 * shares the service's volumes; any failure before the swap leaves the old content untouched.
 */
export const volume = {
  name: "volume" as const,
  ext: "tar",
  description: "tar of the service's volume paths via the archive API; restore stages, then swaps their contents",
  needsRunning: false,
  matchImage: () => 0,

  // Which mounts count as data is detection's call (core/project/coverage.ts); a label overrides it.
  inspect(_service, labels, defaultPaths = []) {
    const explicit = splitList(labels[LABEL.paths]);
    const paths = explicit.length ? explicit : [...defaultPaths];
    return { paths, warnings: paths.length === 0 ? [`no paths to back up; set ${LABEL.paths}`] : [] };
  },

  async backup(ctx) {
    const paths = ctx.detection.paths;
    if (paths.length === 0) throw new StrategyError(`service ${ctx.service.name} has no paths to back up`);
    return packPaths(ctx.docker, ctx.container.id, paths, ctx.signal);
  },

  async restore(ctx, input) {
    const stop = isTrue(labelOf(ctx, LABEL.stop)) || ctx.isDatabaseImage(ctx.container.image);
    const apply = () => stageAndSwap(ctx, input);
    await (stop ? withStopped(ctx, apply) : apply());
  },

  validate: (input, detection) => validateVolumeTar(input, detection.paths),
  // The archive is the inventory: backup reads it as it is written, drills read the stored one.
  inventoryOf: (input) => tarInventory(input),
} satisfies Strategy;
