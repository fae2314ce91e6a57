import type { RunContext, Strategy } from "./types.ts";
import { LABEL, isTrue, splitList } from "../core/labels.ts";
import { imageRepo } from "../core/image.ts";
import { StrategyError, errorMessage } from "../errors.ts";
import { packPaths, unpackToPaths, validateVolumeTar } from "./volume-tar.ts";

/** Images tried for the helper that empties paths before a restore, after the service's own image. */
const HELPER_FALLBACKS = ["busybox", "alpine", "debian", "ubuntu"];
const DATABASE_REPOS = /^(postgres|postgresql|postgis|timescaledb.*|mysql|mariadb|percona.*|mongo|mongodb|redis|valkey|keydb)$/;

/**
 * Files of named volumes (or labelled paths) as one tar through the archive API: no shell or tar
 * is needed in the image, and stopped containers can be read. Restore makes each path's contents
 * equal to the backup: the tar is validated first (by the caller), the path is emptied by a helper
 * container that shares the service's volumes, then the archive is put back.
 */
export const volume = {
  name: "volume",
  ext: "tar",
  description: "tar of the service's volume paths via the archive API; restore replaces their contents",
  needsRunning: false,
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

  async backup(ctx) {
    const paths = ctx.detection.paths;
    if (paths.length === 0) throw new StrategyError(`service ${ctx.service.name} has no paths to back up`);
    return packPaths(ctx.docker, ctx.container.id, paths, ctx.signal);
  },

  async restore(ctx, input) {
    const { docker, container, signal } = ctx;
    const paths = ctx.detection.paths;
    const stop = container.running && (isTrue(labelOf(ctx, LABEL.stop)) || DATABASE_REPOS.test(imageRepo(container.image)));
    if (stop) {
      ctx.log.info(`${ctx.service.name}: stopping ${container.name} for the restore`);
      await docker.stop(container.id, { signal });
    }
    try {
      await emptyPaths(ctx, paths);
      await unpackToPaths(input, paths, signal, (dir, archive) => docker.putArchive(container.id, dir, archive, { signal }));
    } finally {
      if (stop) await restart(ctx);
    }
  },

  validate: (input, detection) => validateVolumeTar(input, detection.paths),
} satisfies Strategy;

// --- internal ---

function labelOf(ctx: RunContext, key: string): string | undefined {
  return ctx.service.labels[key] ?? ctx.container.labels[key];
}

/** Deletes everything below each path (or the file itself), keeping the mount points. */
async function emptyPaths(ctx: RunContext, paths: readonly string[]): Promise<void> {
  const script = 'for p in "$@"; do if [ -d "$p" ]; then find "$p" -mindepth 1 -delete || exit 1; else rm -f "$p" || exit 1; fi; done';
  const local = await ctx.docker.listImageTags({ signal: ctx.signal });
  const preferred = labelOf(ctx, LABEL.helperImage);
  const fallbacks = HELPER_FALLBACKS.flatMap((repo) => local.filter((t) => imageRepo(t) === repo));
  const images = [...new Set([...(preferred ? [preferred] : []), ctx.container.image, ...fallbacks, ...local.slice(0, 5)])];
  const result = await ctx.docker.runWithVolumesOf(ctx.container.id, images, ["sh", "-c", script, "sh", ...paths], { signal: ctx.signal });
  if (result.exitCode !== 0) {
    throw new StrategyError(`could not empty ${paths.join(", ")} before the restore`, {
      exec: { service: ctx.service.name, container: ctx.container.id, argv: ["sh", "-c", "find … -delete"], exitCode: result.exitCode, stderrTail: result.stderr },
    });
  }
  ctx.log.debug(`${ctx.service.name}: emptied ${paths.join(", ")} using ${result.image}`);
}

/** Restarts with its own deadline: an interrupted restore must still bring the service back. */
async function restart(ctx: RunContext): Promise<void> {
  try {
    await ctx.docker.start(ctx.container.id, { signal: AbortSignal.timeout(120_000) });
    ctx.log.info(`${ctx.service.name}: started ${ctx.container.name} again`);
  } catch (err) {
    ctx.log.error(`${ctx.service.name}: could not start ${ctx.container.name} again: ${errorMessage(err)}`);
    throw err;
  }
}
