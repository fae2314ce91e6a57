import { readFile } from "node:fs/promises";
import { ConfigError } from "../../errors.ts";
import { assertValidKey } from "../shared/keys.ts";
import { isSecretParam, stripCredentials } from "../shared/redact.ts";

/**
 * Everything an S3 target needs, parsed from `s3://bucket/prefix?…` and the environment. Kept apart
 * from `client.ts` so that parsing and redaction never load the AWS SDK.
 *
 * Uploads stream in parts whose size grows with the stream (s3/multipart.ts): memory is at most
 * `(queueSize + 1) × the current part size`, 48 MiB at the start with the defaults (16 MiB parts,
 * 2 in flight); 10,000 parts reach past 5 TiB. `?maxParts=1000` suits stores with a 1,000-part cap
 * (about 1.3 TiB then), `?growParts=false` stores that need equal parts (objects then stop at
 * `partSize × maxParts`).
 */
export interface S3Settings {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash; may be empty. */
  prefix: string;
  endpoint?: string;
  region: string;
  /** Path-style addressing (`endpoint/bucket/key`), on whenever a custom endpoint is set. */
  forcePathStyle: boolean;
  /** Explicit credentials from the environment; undefined lets the AWS SDK use its default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  partSize: number;
  queueSize: number;
  maxParts: number;
  /** Whether later parts get larger (see s3/multipart.ts); false for stores that need equal parts. */
  growParts: boolean;
  /** The location without credentials. */
  display: string;
}

const MiB = 1024 * 1024;
const PARAMS = ["endpoint", "region", "partSize", "queueSize", "maxParts", "growParts"] as const;
type Param = (typeof PARAMS)[number];

export async function parseS3Url(url: string, env: NodeJS.ProcessEnv): Promise<S3Settings> {
  const shown = stripCredentials(url);
  const bad = (msg: string, hint?: string) => new ConfigError(`invalid S3 target ${shown}: ${msg}`, hint ? { hint } : {});
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("not a URL", "use s3://bucket/prefix?endpoint=https://host&region=name");
  }
  if (parsed.protocol !== "s3:") throw bad("the scheme must be s3");
  if (parsed.username || parsed.password) {
    throw bad("credentials in the URL are not supported", CREDENTIALS_HINT);
  }
  const bucket = decodeURIComponent(parsed.hostname);
  if (!/^[a-z0-9][a-z0-9._-]{1,253}[a-z0-9]$/i.test(bucket) || parsed.port) throw bad("missing or invalid bucket name");
  // The URL parser resolves `a/../b`; take the path as written so that such a prefix is refused.
  const rawPath = /^s3:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? "";
  const prefix = decodeURIComponent(rawPath).replace(/^\/+|\/+$/g, "");
  if (prefix) {
    try {
      assertValidKey(prefix);
    } catch (err) {
      throw bad(`bad prefix: ${(err as Error).message}`);
    }
  }

  const query = new Map<Param, string>();
  for (const [name, value] of parsed.searchParams) {
    if (isSecretParam(name)) throw bad(`credentials in the URL are not supported (${name})`, CREDENTIALS_HINT);
    if (!(PARAMS as readonly string[]).includes(name)) throw bad(`unknown parameter ${name}; valid ones: ${PARAMS.join(", ")}`);
    query.set(name as Param, value);
  }

  const endpoint = query.get("endpoint") || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined) checkEndpoint(endpoint, bad);
  const partSize = sizeSetting(query.get("partSize") ?? env.SDBACKUP_S3_PART_SIZE, 16 * MiB, "partSize", bad);
  if (partSize < 5 * MiB || partSize > 5 * 1024 * MiB) throw bad("partSize must be between 5 MiB and 5 GiB");
  const queueSize = intSetting(query.get("queueSize") ?? env.SDBACKUP_S3_QUEUE_SIZE, 2, 1, 16, "queueSize", bad);
  const maxParts = intSetting(query.get("maxParts"), 10_000, 1, 10_000, "maxParts", bad);
  const growText = query.get("growParts") ?? "true";
  if (growText !== "true" && growText !== "false") throw bad("growParts must be true or false");
  const credentials = await readCredentials(env);

  const base = `s3://${bucket}${prefix ? `/${prefix}` : ""}`;
  return {
    bucket,
    prefix,
    ...(endpoint !== undefined ? { endpoint } : {}),
    region: query.get("region") || env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    forcePathStyle: endpoint !== undefined,
    ...(credentials ? { credentials } : {}),
    partSize,
    queueSize,
    maxParts,
    growParts: growText === "true",
    // checkEndpoint refused userinfo, so the endpoint is safe to show.
    display: endpoint !== undefined ? `${base}?endpoint=${endpoint}` : base,
  };
}

/** Parses `67108864`, `64M`, `64MB`, `64MiB`, `1g` (binary units) into bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = { "": 1, k: 1024, m: MiB, g: 1024 * MiB, t: 1024 * 1024 * MiB }[m[2]!.toLowerCase()]!;
  return Math.ceil(Number(m[1]) * unit);
}

// --- internal ---

const CREDENTIALS_HINT =
  "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their _FILE variants), or use an AWS profile or role";

type Bad = (msg: string, hint?: string) => ConfigError;

function checkEndpoint(endpoint: string, bad: Bad): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw bad("the endpoint is not a URL", "use e.g. https://s3.example.com or http://127.0.0.1:9000");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad("the endpoint must be an http or https URL");
  if (url.username || url.password) throw bad("credentials in the endpoint URL are not supported", CREDENTIALS_HINT);
}

function sizeSetting(text: string | undefined, fallback: number, name: string, bad: Bad): number {
  if (text === undefined || text === "") return fallback;
  const n = parseSize(text);
  if (n === undefined) throw bad(`${name} must be a size such as 64MiB, got ${JSON.stringify(text)}`);
  return n;
}

function intSetting(text: string | undefined, fallback: number, min: number, max: number, name: string, bad: Bad): number {
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** AWS_* credentials, each either inline or read from the file named by its `_FILE` variant. */
async function readCredentials(env: NodeJS.ProcessEnv): Promise<S3Settings["credentials"]> {
  const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all(
    ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"].map((name) => secretFromEnv(env, name)),
  );
  if (!accessKeyId && !secretAccessKey) return undefined;
  if (!accessKeyId || !secretAccessKey) {
    const missing = accessKeyId ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID";
    throw new ConfigError(`${missing} is not set but its partner is`, { hint: CREDENTIALS_HINT });
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

async function secretFromEnv(env: NodeJS.ProcessEnv, name: string): Promise<string | undefined> {
  const inline = env[name];
  const file = env[`${name}_FILE`];
  if (inline && file) throw new ConfigError(`both ${name} and ${name}_FILE are set`, { hint: `set only one of them` });
  if (!file) return inline || undefined;
  try {
    return (await readFile(file, "utf8")).trim() || undefined;
  } catch (err) {
    throw new ConfigError(`cannot read ${name}_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`, {
      cause: err,
    });
  }
}
