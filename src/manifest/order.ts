/**
 * The one order of backup sets, used by list, verify, restore, prune and --if-due: newest first by
 * the manifest's `createdAt` (for a set without a readable manifest, the time in its id), then by
 * set id, then by project. Two sets started in the same second differ in `createdAt`'s
 * milliseconds, while their ids differ only by a random suffix.
 */

/** What ordering looks at; `project` only breaks ties between projects. */
export interface SetOrderKey {
  createdAt: Date;
  set: string;
  project?: string;
}

/** Sort comparator: negative when `a` is newer than `b`. */
export function newerFirst(a: SetOrderKey, b: SetOrderKey): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || desc(a.set, b.set) || desc(a.project ?? "", b.project ?? "");
}

/** A sorted copy of `items`, newest first; `key` maps an item to its time and id when it has other names. */
export function newestFirst<T>(items: readonly T[], key: (item: T) => SetOrderKey): T[] {
  return [...items].sort((a, b) => newerFirst(key(a), key(b)));
}

// --- internal ---

function desc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
