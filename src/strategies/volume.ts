import type { Strategy } from "./types.ts";
import { LABEL, isTrue, splitList } from "../compose/labels.ts";
import { StrategyError } from "../errors.ts";
import { labelOf, runHelper, withStopped } from "./shared/lifecycle.ts";
import { packPaths, unpackToPaths, validateVolumeTar } from "./volume/tar.ts";

/** Deletes everything below each directory path (or the file itself), keeping mount points. */
const EMPTY_PATHS = 'for p in "$@"; do if [ -d "$p" ]; then find "$p" -mindepth 1 -delete || exit 1; else rm -f "$p" || exit 1; fi; done';

/**
 * Files of named volumes (or labelled paths) as one tar through the archive API: no shell or tar
 * is needed in the image, and stopped containers can be read. Restore makes each path's contents
 * equal to the backup: the tar is validated first (by the caller), the path is emptied by a helper
 * container that shares the service's volumes, then the archive is put back.
 */
export const volume = {
  name: "volume" as const,
  ext: "tar",
  description: "tar of the service's volume paths via the archive API; restore replaces their contents",
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
    const paths = ctx.detection.paths;
    const apply = async () => {
      await runHelper(ctx, `empty ${paths.join(", ")} before the restore`, EMPTY_PATHS, paths);
      await unpackToPaths(input, paths, ctx.signal, (dir, archive) => ctx.docker.putArchive(ctx.container.id, dir, archive, { signal: ctx.signal }));
    };
    const stop = isTrue(labelOf(ctx, LABEL.stop)) || ctx.isDatabaseImage(ctx.container.image);
    await (stop ? withStopped(ctx, apply) : apply());
  },

  validate: (input, detection) => validateVolumeTar(input, detection.paths),
} satisfies Strategy;
