import { stripCredentials } from "./shared/redact.ts";
import type { TargetFactory } from "./types.ts";
import { parseS3Url } from "./s3/settings.ts";

/**
 * S3 and S3-compatible stores (`s3://bucket/prefix?endpoint=…`). Parsing lives in `s3/settings.ts`,
 * the SDK-backed target in `s3/client.ts`, loaded only when a target is really opened.
 */
export const s3Factory: TargetFactory = {
  schemes: ["s3"],
  redact: stripCredentials,
  async create(url, env, opts) {
    const settings = await parseS3Url(url, env);
    // The SDK is large: load it only when an S3 target is really opened.
    const { createS3Target } = await import("./s3/client.ts");
    return createS3Target(settings, opts);
  },
};
