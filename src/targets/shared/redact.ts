/**
 * URL redaction shared by the target factories. A target URL comes from a flag or the environment
 * and ends up in logs, JSON output and error messages, so anything that could be a credential is
 * removed before it is shown.
 */

/** `scheme://user:pass@` at the start of a URL. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i;

/** Query parameters whose values are treated as credentials wherever they appear. */
const SECRET_PARAM = /secret|token|password|passwd|signature|credential|access[-_]?key|session|auth/i;

/**
 * Removes userinfo (`user:pass@`) and secret-looking query parameters from a URL; nested URLs in
 * query values (`?endpoint=https://user:pass@host`) lose their userinfo too. A string that does not
 * parse as a URL is returned with anything up to an `@` replaced, since it may still hold one.
 */
export function stripCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(USERINFO, "$1");
  }
  parsed.username = "";
  parsed.password = "";
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.delete(name);
  }
  for (const [name, value] of [...parsed.searchParams]) {
    const bare = value.replace(USERINFO, "$1");
    if (bare !== value) parsed.searchParams.set(name, bare);
  }
  // URLSearchParams re-encodes `:` and `/`; decode them back so that displayed endpoints stay readable.
  return parsed.href.replace(/%3A/gi, ":").replace(/%2F/gi, "/");
}

/** Whether a query parameter name looks like it carries a credential. */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}
