/**
 * The repository name detection keys on: last path segment of the image reference, lowercased, with
 * registry, namespace, tag and digest removed. `docker.io/library/postgres@sha256:…` → `postgres`,
 * `registry:5000/team/app:1.2` → `app`.
 */
export function imageRepo(image: string): string {
  let ref = image.trim().toLowerCase();
  const at = ref.indexOf("@");
  if (at >= 0) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf("/");
  const last = ref.slice(slash + 1);
  const colon = last.indexOf(":");
  return colon >= 0 ? last.slice(0, colon) : last;
}
