/**
 * Work that must finish even when the user interrupts: restarting containers we stopped, running
 * post hooks. `main.ts` waits for it on a second SIGINT before forcing the exit, so "force" never
 * means "leave the app down".
 */
const pending = new Set<Promise<unknown>>();

export function critical<T>(work: () => Promise<T>): Promise<T> {
  const p = work();
  pending.add(p);
  void p.catch(() => {}).finally(() => pending.delete(p));
  return p;
}

/** Resolves when every critical section has settled, or after `timeoutMs`. */
export async function criticalSettled(timeoutMs: number): Promise<void> {
  if (pending.size === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([Promise.allSettled([...pending]), timeout]);
  clearTimeout(timer);
}

export function hasCritical(): boolean {
  return pending.size > 0;
}
