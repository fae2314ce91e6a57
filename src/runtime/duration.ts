import { ConfigError } from "../errors.ts";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `90s`, `5m`, `1h`, `250ms` or a bare number of seconds → milliseconds. `what` names the flag or label. */
export function parseDurationMs(value: string, what: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`${what} must look like 30s, 5m or 1h, got "${value}"`);
  return Number(m[1]) * UNIT_MS[(m[2] ?? "s") as keyof typeof UNIT_MS];
}
