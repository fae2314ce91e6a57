import { splitList } from "./labels.ts";
import type { ComposeProject, ComposeService } from "./model.ts";

/** `--profile` names plus `COMPOSE_PROFILES` (comma separated), like compose; `*` enables all. */
export function activeProfiles(flags: readonly string[], fromEnv: string | undefined): string[] {
  return [...new Set([...flags.flatMap((f) => splitList(f)), ...splitList(fromEnv)])];
}

/**
 * A service without `profiles` always runs; one with profiles runs when any of them is active.
 * `docker compose up` leaves the others out, so they normally have no container.
 */
export function isServiceActive(service: Pick<ComposeService, "profiles">, project: Pick<ComposeProject, "activeProfiles">): boolean {
  if (service.profiles.length === 0) return true;
  const active = project.activeProfiles ?? [];
  return active.includes("*") || service.profiles.some((p) => active.includes(p));
}
