import type { SecretRegistry } from "../types.ts";

/** Values shorter than this are not redacted: replacing "1" everywhere would garble output. */
const MIN_SECRET_LENGTH = 3;

export function createSecretRegistry(): SecretRegistry {
  const values = new Set<string>();
  return {
    add(value) {
      if (value && value.length >= MIN_SECRET_LENGTH) values.add(value);
    },
    values: () => [...values],
  };
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join("***");
  return out;
}
