import { readFile } from "node:fs/promises";
import { ConfigError } from "../../errors.ts";
import { assertValidKey } from "../shared/keys.ts";
import { isSecretParam, stripCredentials } from "../shared/redact.ts";

/**
 * Everything an S3 target needs, parsed from `s3://bucket/prefix?…` and the environment. Kept apart
 * from `client.ts` so that parsing and redaction never load the AWS SDK.
 *
 * Upload memory and the largest object are a trade-off, because lib-storage uses one fixed part
 * size and a stream's length is unknown up front. An object holds at most `partSize * maxParts`
 * bytes. An upload holds `queueSize` parts in flight plus the part being filled and lib-storage's
 * copy of it, about `(queueSize + 2) * partSize`, plus garbage not yet collected: measured peaks
 * (bench/s3-upload-memory.mjs, 300 MiB) are +160 MiB RSS for 16 MiB parts, +195 MiB for 32 MiB and
 * +365 MiB for 64 MiB, at queueSize 2. The default, 32 MiB parts and 2 in flight, allows objects
 * up to 312 GiB; larger dumps need `?partSize=` (or SDBACKUP_S3_PART_SIZE) raised. The part size
 * never grows mid-upload because some S3-compatible stores require equal part sizes.
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
  /** The location without credentials. */
  display: string;
}

const MiB = 1024 * 1024;
const PARAMS = ["endpoint", "region", "partSize", "queueSize", "maxParts"] as const;
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
  const partSize = sizeSetting(query.get("partSize") ?? env.SDBACKUP_S3_PART_SIZE, 32 * MiB, "partSize", bad);
  if (partSize < 5 * MiB || partSize > 5 * 1024 * MiB) throw bad("partSize must be between 5 MiB and 5 GiB");
  const queueSize = intSetting(query.get("queueSize") ?? env.SDBACKUP_S3_QUEUE_SIZE, 2, 1, 16, "queueSize", bad);
  const maxParts = intSetting(query.get("maxParts"), 10_000, 1, 10_000, "maxParts", bad);
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
