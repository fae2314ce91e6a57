import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { Readable } from "node:stream";
import type { RunContext } from "../types.ts";
import { errorMessage, throwIfAborted } from "../../errors.ts";
import { critical } from "../../runtime/critical.ts";
import { onMount, runHelper } from "../shared/lifecycle.ts";
import { unpackToPaths, type Placement } from "./tar.ts";

/**
 * Stage, then swap. Each directory path's entries are extracted into `<path>/.sdbackup-stage-<id>`
 * (same filesystem, so the swap is renames only); once every path is staged, one helper moves the
 * old content into `<path>/.sdbackup-old-<id>`, the staged content in, and deletes the old content
 * only when every path succeeded. Any failure before or during the swap puts the old content back.
 */

/** Swap is renames: a few minutes is generous, and it must not be cut by the run's signal. */
const SWAP_TIMEOUT_MS = 10 * 60_000;
/** Names this restore leaves only when killed (SIGKILL) mid-way; docs/security.md lists them. */
export const STAGE_PREFIX = ".sdbackup-stage-";
export const OLD_PREFIX = ".sdbackup-old-";

/*
 * Arguments: id, then the paths. Old content goes aside, the staged content moves in, the path's
 * own mode and owner come from the staged top directory. A failure undoes every path touched.
 */
const SWAP_SCRIPT = `set -u
id=$1; shift
stage=${STAGE_PREFIX}$id old=${OLD_PREFIX}$id
moveall() {
  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case \${f##*/} in "$stage"|"$old") continue ;; esac
    mv -- "$f" "$2/" || return 1
  done
}
undo() {
  [ -d "$1/$old" ] || { rm -rf -- "$1/$stage"; return 0; }
  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case \${f##*/} in "$stage"|"$old") continue ;; esac
    rm -rf -- "$f"
  done
  moveall "$1/$old" "$1" && rmdir -- "$1/$old"
  [ -n "\${2:-}" ] && chmod "\${2% *}" "$1" && chown "\${2#* }" "$1"
  rm -rf -- "$1/$stage"
}
i=0
for p; do
  i=$((i+1))
  was=$(stat -c '%a %u:%g' "$p") &&
  mkdir -m 700 -- "$p/$old" && moveall "$p" "$p/$old" && moveall "$p/$stage" "$p" &&
  chown "$(stat -c %u:%g "$p/$stage")" "$p" && chmod "$(stat -c %a "$p/$stage")" "$p" && rmdir -- "$p/$stage" && continue
  echo "could not swap the restored content into $p; the old content is put back" >&2
  j=0
  for q; do j=$((j+1)); [ $j -le $i ] || break; [ $j -eq $i ] && undo "$q" "\${was:-}" || undo "$q" ""; done
  exit 1
done
for p; do rm -rf -- "$p/$old"; done`;

const CLEANUP_SCRIPT = `id=$1; shift
for p; do rm -rf -- "$p/${STAGE_PREFIX}$id"; done`;

/** Restores the tar `input` into `ctx.detection.paths` (see the top of this file). */
export async function stageAndSwap(ctx: RunContext, input: Readable): Promise<void> {
  const paths = ctx.detection.paths;
  const id = randomBytes(6).toString("hex");
  const staged: string[] = [];
  const direct: string[] = [];
  const place = (path: string, topType: string): Placement => {
    if (topType === "directory" && onMount(ctx, path)) {
      staged.push(path);
      return { dir: path, top: `${STAGE_PREFIX}${id}` };
    }
    // A file (or a path no helper can see) is written over in place: there is nowhere to stage it.
    direct.push(path);
    ctx.log.warn(`${ctx.service.name}: ${path} is ${topType === "directory" ? "not on a volume or bind mount" : "a single file"}; it is written in place, not staged`);
    return { dir: posix.dirname(path), top: posix.basename(path) };
  };
  try {
    await unpackToPaths(input, paths, ctx.signal, place, (dir, archive) => ctx.docker.putArchive(ctx.container.id, dir, archive, { signal: ctx.signal }));
    // An interrupt that came while the last bytes were written still means: no swap.
    throwIfAborted(ctx.signal);
  } catch (err) {
    await removeStaging(ctx, id, staged);
    const left = direct.length ? `; ${direct.join(", ")} may be partly written` : "";
    ctx.log.warn(`${ctx.service.name}: restore stopped before the swap: the old content of ${staged.join(", ") || paths.join(", ")} is unchanged${left}`);
    throw err;
  }
  if (staged.length === 0) return;
  // Past this point an interrupt waits for the swap: renames are quick, a half swap is not an option.
  const fresh = { ...ctx, signal: AbortSignal.timeout(SWAP_TIMEOUT_MS) };
  await critical(() => runHelper(fresh, `swap the restored content into ${staged.join(", ")}`, SWAP_SCRIPT, [id, ...staged]));
  ctx.log.info(`${ctx.service.name}: swapped the restored content into ${staged.join(", ")}`);
  if (ctx.signal.aborted) {
    ctx.log.warn(`${ctx.service.name}: interrupted during the swap, which was completed: ${staged.join(", ")} hold the restored content`);
    throw ctx.signal.reason;
  }
}

// --- internal ---

/** Best effort with a fresh signal: it also runs after an interrupt. */
async function removeStaging(ctx: RunContext, id: string, staged: readonly string[]): Promise<void> {
  if (staged.length === 0) return;
  const fresh = { ...ctx, signal: AbortSignal.timeout(120_000) };
  await critical(() => runHelper(fresh, `remove the staging directories`, CLEANUP_SCRIPT, [id, ...staged])).catch((err: unknown) => {
    ctx.log.warn(`${ctx.service.name}: could not remove ${staged.map((p) => posix.join(p, STAGE_PREFIX + id)).join(", ")}: ${errorMessage(err)}`);
  });
}

