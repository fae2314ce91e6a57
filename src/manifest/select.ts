import type { Target } from "../targets/types.ts";
import type { Manifest } from "./schema.ts";
import { listSets, type SetInfo } from "./store.ts";
import { isSetId } from "./keys.ts";
import { ConfigError, IntegrityError, NoSetError } from "../errors.ts";

/**
 * The one set selector, for restore and verify: what `--set` means and which sets it picks, on
 * top of the one order ({@link listSets} returns sets newest first).
 * - `latest` (the default): the newest complete set whose status is `ok` (a partial set is never
 *   "latest") and that holds every requested service.
 * - `all` (verify only): every complete set.
 * - a set id: that set, whatever its status; an incomplete one only where the caller reports it.
 *
 * A set whose manifest is there but refused (altered, damaged, a key outside the set) is never
 * passed over in silence: named by id, or newer than the set `latest` would pick, or under `all`,
 * verify gets it to report as bad and restore and drills fail with an IntegrityError (exit 1).
 */

export type SetWanted = "latest" | "all" | { id: string };

export interface SetSelection {
  /** The `--set` text; absent means latest. */
  set?: string | undefined;
  /** Only this project; without it `latest` needs the target to hold a single project. */
  project?: string | undefined;
  /** Sets qualify only when they hold every one of these services. */
  services?: readonly string[];
  /** Whether `all` is accepted (verify), and an incomplete set named by id is returned, not refused. */
  forVerify?: boolean;
  /** The target, as shown in messages. */
  display: string;
}

/**
 * Reads `--set` before any work: absent → latest. An empty value (an unset shell variable) or
 * something that is not a set id is a usage error, never latest.
 */
export function parseSetFlag(value: string | undefined, opts: { allowAll?: boolean } = {}): SetWanted {
  if (value === undefined || value === "latest") return "latest";
  if (value === "all" && opts.allowAll) return "all";
  const usage = `latest${opts.allowAll ? ", all" : ""} or a set id such as 20261121T030000Z-3f9a`;
  if (value.trim() === "") throw new ConfigError("--set is empty", { hint: `give ${usage} (an unset shell variable?)` });
  if (!isSetId(value)) throw new ConfigError(`--set "${value}" is not a set id`, { hint: `give ${usage}; sdbackup list shows the ids` });
  return { id: value };
}

/** The sets `sel` picks from `sets` (newest first, as listed); throws when none qualifies. */
export function selectSets(sets: readonly SetInfo[], sel: SetSelection): SetInfo[] {
  const wanted = parseSetFlag(sel.set, { allowAll: sel.forVerify ?? false });
  const services = sel.services ?? [];
  const inScope = sets.filter((s) => !sel.project || s.project === sel.project);
  const scope = `${sel.project ? ` of project ${sel.project}` : ""} in ${sel.display}`;
  const holding = services.length ? ` holding ${services.join(", ")}` : "";
  const holds = (s: SetInfo) => services.every((svc) => s.manifest?.items.some((i) => i.service === svc));

  if (wanted === "all") {
    const chosen = inScope.filter((s) => (s.complete && holds(s)) || refused(s));
    if (chosen.length === 0) throw new NoSetError(`no complete backup set${holding}${scope}`);
    return chosen;
  }
  if (wanted === "latest") {
    const projects = [...new Set(inScope.map((s) => s.project))].sort();
    if (!sel.project && projects.length > 1) throw ambiguous(projects, `the target holds ${projects.length} projects`);
    const usable = (s: SetInfo) => s.complete && s.manifest?.status === "ok" && holds(s);
    const newest = inScope.find((s) => usable(s) || refused(s));
    if (newest && refused(newest) && !sel.forVerify) {
      const older = inScope.find(usable);
      throw refusedError(newest, older ? `to restore the set before it, pass --set ${older.set}` : undefined);
    }
    if (!newest) throw new NoSetError(`no complete backup set with status ok${holding}${scope}`);
    return [newest];
  }
  const matches = inScope.filter((s) => s.set === wanted.id);
  if (matches.length === 0) throw new NoSetError(`no set ${wanted.id}${scope}`, { code: "E_UNKNOWN_SET" });
  if (matches.length > 1) throw ambiguous(matches.map((s) => s.project), `set ${wanted.id} exists in several projects`);
  const found = matches[0]!;
  if (refused(found) && !sel.forVerify) throw refusedError(found);
  if (!found.complete && !sel.forVerify) {
    throw new NoSetError(`set ${found.set}${scope} is incomplete (${found.problem ?? "no manifest"}) and cannot be restored`);
  }
  if (found.complete && !holds(found)) throw new NoSetError(`set ${found.set} does not hold ${services.join(", ")}`);
  return [found];
}

/** The set to restore from, with its manifest: {@link selectSets} over the project's sets. */
export async function selectSet(target: Target, project: string, set: string | undefined, services: readonly string[], signal: AbortSignal): Promise<Manifest> {
  const [found] = selectSets(await listSets(target, project, signal), { set, project, services, display: target.display });
  return found!.manifest!;
}

// --- internal ---

/** A manifest is there but could not be used: not an unfinished run, which has no manifest yet. */
function refused(s: SetInfo): boolean {
  return !s.complete && s.problem !== undefined;
}

function refusedError(s: SetInfo, hint?: string): IntegrityError {
  return new IntegrityError(`set ${s.project}/${s.set} cannot be used: ${s.problem ?? "its manifest is refused"}`, hint ? { hint } : {});
}

function ambiguous(projects: string[], why: string): ConfigError {
  return new ConfigError(`${why} (${projects.join(", ")}); say which with --app`, { hint: "or verify everything with --set all" });
}
