// URL helpers shared by notifiers: the inner http(s) URL of a `<name>+https://…` scheme, and display forms without credentials.

/** `generic+https:` → `https:`; a bare `https:` stays. The inner URL has no credentials. */
export function innerUrl(url: URL, innerProtocol: "http:" | "https:"): URL {
  const inner = new URL(url.href.replace(/^[^:]+:/, innerProtocol));
  inner.username = "";
  inner.password = "";
  return inner;
}

/** The inner protocol of `<name>+http(s)://`, or `fallback` for the bare `<name>://` form. */
export function protocolOf(url: URL, fallback: "http:" | "https:"): "http:" | "https:" {
  const plus = /\+(https?):$/.exec(url.protocol)?.[1];
  if (plus) return `${plus}:` as "http:" | "https:";
  if (url.protocol === "http:" || url.protocol === "https:") return url.protocol;
  return fallback;
}

/** scheme://host/path with user info removed and every query value hidden; `hidePath` hides the path too (ping keys). */
export function displayUrl(url: URL, hidePath = false): string {
  const query = [...url.searchParams.keys()].map((k) => `${k}=***`).join("&");
  const path = hidePath ? (url.pathname.length > 1 ? "/…" : "") : url.pathname === "/" ? "" : url.pathname;
  return `${url.protocol}//${url.host}${path}${query ? `?${query}` : ""}`;
}

/** Credentials in the URL (user info, query values): never to be shown or sent on in a payload. */
export function urlSecrets(url: URL): string[] {
  const out = [url.password, decodeURIComponent(url.password), ...url.searchParams.values()];
  return out.filter((s) => s.length >= 4);
}

/** `user:password@` in the URL as a Basic authorization header (never part of a body). */
export function basicAuth(url: URL): Record<string, string> {
  if (!url.username) return {};
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString("base64")}` };
}
