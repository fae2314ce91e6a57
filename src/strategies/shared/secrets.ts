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
