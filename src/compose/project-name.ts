/**
 * Normalises a project name the way compose does: lowercase, only `[a-z0-9_-]` kept, and leading
 * characters that are not a letter or digit dropped. Returns "" when nothing usable is left.
 */
export function normalizeProjectName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "")
    .replace(/^[_-]+/, "");
}

