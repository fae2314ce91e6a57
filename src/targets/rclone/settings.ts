import { ConfigError } from "../../errors.ts";

/**
 * Parsing and redaction of `rclone:REMOTE:PATH` targets, kept apart from the process code so that
 * showing a target never spawns anything. REMOTE is a remote from rclone's config (`mybox:`), one
 * defined by `RCLONE_CONFIG_<NAME>_*` variables, or an on-the-fly connection string
 * (`:sftp,host=example.org:`). Credentials belong in rclone's config or its environment; a
 * connection-string parameter that looks secret is removed from everything shown.
 */
export interface RcloneSettings {
  /** `mybox:` or `:sftp,host=h:` — everything before the path, colon included. */
  remote: string;
  /** Path inside the remote, without trailing slash; may be empty or absolute. */
  path: string;
  /** The rclone executable: SDBACKUP_RCLONE or `rclone` on PATH. */
  binary: string;
  /** `rclone:REMOTE:PATH` without secret-looking connection-string parameters. */
  display: string;
}

const SECRET = /pass|secret|token|key|auth|credential|signature|session/i;

export function parseRcloneUrl(url: string, env: NodeJS.ProcessEnv): RcloneSettings {
  const rest = url.replace(/^rclone:/i, "");
  const split = splitRemote(rest);
  if (!split) {
    throw new ConfigError(`invalid rclone target ${redactRclone(url)}: expected rclone:REMOTE:PATH`, {
      hint: "name a remote from `rclone config` (rclone:mybox:backups) or a connection string (rclone::sftp,host=h:backups)",
    });
  }
  const path = split.path.length > 1 ? split.path.replace(/\/+$/, "") : split.path;
  if (path.split("/").some((seg) => seg === "..")) throw new ConfigError(`invalid rclone target ${redactRclone(url)}: the path contains ".."`);
  return { remote: split.remote, path, binary: env.SDBACKUP_RCLONE || "rclone", display: redactRclone(url) };
}

/** `url` with secret-looking `name=value` parameters of a connection string removed. */
export function redactRclone(url: string): string {
  const rest = url.replace(/^rclone:/i, "");
  const split = splitRemote(rest);
  if (!split || !split.remote.startsWith(":")) return `rclone:${rest.replace(/^[^@/]*@/, "")}`;
  const [backend, ...params] = splitParams(split.remote.slice(1, -1));
  const kept = params.filter((p) => !SECRET.test(p.split("=")[0] ?? ""));
  return `rclone::${[backend, ...kept].join(",")}:${split.path}`;
}

// --- internal ---

/** `mybox:dir` → { remote: "mybox:", path: "dir" }; quotes in connection strings may hold colons. */
function splitRemote(text: string): { remote: string; path: string } | undefined {
  if (text.startsWith(":")) {
    let quote: string | undefined;
    for (let i = 1; i < text.length; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === ":") return i > 1 ? { remote: text.slice(0, i + 1), path: text.slice(i + 1) } : undefined;
    }
    return undefined;
  }
  const m = /^([\w][\w. -]*):(.*)$/s.exec(text);
  return m ? { remote: `${m[1]!}:`, path: m[2]! } : undefined;
}

function splitParams(text: string): string[] {
  const out: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ",") {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}
