import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { addAbortListener } from "node:events";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TargetError, objectNotFound, throwIfAborted } from "../../errors.ts";
import { assertValidKey, assertValidPrefix, joinKey } from "../shared/keys.ts";
import type { S3Settings } from "./settings.ts";
import { maxObjectSize, uploadStream, type UploadState } from "./multipart.ts";
import type { ObjectInfo, Target } from "../types.ts";

/** Connect, idle socket (no byte either way) and whole-request limits, per request (so per part). */
const S3_TIMEOUTS = { connectionTimeout: 30_000, socketTimeout: 120_000, requestTimeout: 30 * 60_000, throwOnRequestTimeout: true };

/**
 * An S3 bucket (AWS or any S3-compatible store). Loaded lazily by `s3-config.ts`: importing this
 * module loads the AWS SDK.
 */
export function createS3Target(s: S3Settings): Target {
  const client = new S3Client({
    region: s.region,
    ...(s.endpoint !== undefined ? { endpoint: s.endpoint, forcePathStyle: s.forcePathStyle } : {}),
    ...(s.credentials ? { credentials: s.credentials } : {}),
    // Many S3-compatible stores (and s3rver) reject the SDK's default flexible checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // An endpoint that stops answering must fail the run, not hang it (issue 11 case 9).
    requestHandler: S3_TIMEOUTS,
  });
  const Bucket = s.bucket;
  const base = s.prefix ? `${s.prefix}/` : "";
  const fail = (what: string, key: string, cause: unknown) => {
    const e = cause as { name?: string; message?: string };
    const hint = hintFor(e.name);
    return new TargetError(`${s.display}: cannot ${what} ${key}: ${e.name ?? "Error"}: ${e.message ?? String(cause)}`, {
      cause,
      ...(hint ? { hint } : {}),
    });
  };

  async function abortMultipart(Key: string, UploadId: string | undefined): Promise<void> {
    if (UploadId === undefined) return;
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    } catch (err) {
      // A store may have dropped it already; a second abort finds nothing, which is fine.
      if (!isNotFound(err) && (err as Error).name !== "NoSuchUpload") throw err;
    }
  }

  return {
    scheme: "s3",
    display: s.display,
    capabilities: { atomicPut: true, maxConcurrency: 2 },

    async put(key, body, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      const Key = joinKey(s.prefix, key);
      const plan = { partSize: s.partSize, maxParts: s.maxParts, growth: s.growParts };
      const limit = maxObjectSize(plan);
      // Aborting `internal` stops the source, the in-flight part uploads and the pipeline; its
      // listeners die with it, so only the one listener on the caller's signal needs removing.
      const internal = new AbortController();
      const unlink = addAbortListener(signal, () => internal.abort(signal.reason));
      let sourceError: unknown;
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          if (bytes <= limit) return done(null, chunk);
          done(new TargetError(`${s.display}: ${key} is larger than this target's ${s.maxParts} parts can hold (${limit} bytes)`, {
            hint: "raise the starting part size with ?partSize= or SDBACKUP_S3_PART_SIZE",
          }));
        },
        // The first error that destroys the counter comes from the source (or the size limit);
        // when the upload gives up reading, it destroys the counter without one.
        destroy(err, done) {
          if (err && sourceError === undefined) sourceError = err;
          done(err);
        },
      });
      const piped = pipeline(body, counter, { signal: internal.signal }).catch(() => {});
      const state: UploadState = {};
      try {
        await uploadStream(client, { Bucket, Key }, counter, { plan, queueSize: s.queueSize, signal: internal.signal, state });
        await piped;
        return { bytes };
      } catch (err) {
        const fromSource = sourceError;
        internal.abort();
        await piped;
        try {
          await abortMultipart(Key, state.uploadId);
        } catch (abortErr) {
          throwIfAborted(signal);
          throw new TargetError(
            `${s.display}: upload of ${key} failed (${(err as Error).message}) and its multipart upload could not be aborted`,
            { cause: abortErr, hint: "add a lifecycle rule that aborts incomplete multipart uploads to the bucket" },
          );
        }
        throwIfAborted(signal);
        if (fromSource !== undefined) throw fromSource;
        throw fail("upload", key, err);
      } finally {
        unlink[Symbol.dispose]();
      }
    },

    async get(key, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      try {
        const out = await client.send(new GetObjectCommand({ Bucket, Key: joinKey(s.prefix, key) }), { abortSignal: signal });
        if (!(out.Body instanceof Readable)) throw new TargetError(`${s.display}: ${key}: the response has no body stream`);
        return out.Body;
      } catch (err) {
        throwIfAborted(signal);
        if (isNotFound(err)) throw objectNotFound(s.display, key, { cause: err });
        if (err instanceof TargetError) throw err;
        throw fail("download", key, err);
      }
    },

    async *list(prefix, { signal }): AsyncGenerator<ObjectInfo> {
      assertValidPrefix(prefix);
      throwIfAborted(signal);
      let token: string | undefined;
      do {
        const command = new ListObjectsV2Command({ Bucket, Prefix: base + prefix, ContinuationToken: token });
        const page = await client.send(command, { abortSignal: signal }).catch((err: unknown) => {
          throwIfAborted(signal);
          throw fail("list", prefix || "/", err);
        });
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined || !o.Key.startsWith(base)) continue;
          yield { key: o.Key.slice(base.length), size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async remove(key, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      try {
        await client.send(new DeleteObjectCommand({ Bucket, Key: joinKey(s.prefix, key) }), { abortSignal: signal });
      } catch (err) {
        throwIfAborted(signal);
        if (!isNotFound(err)) throw fail("remove", key, err);
      }
    },
  };
}

// --- internal ---

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === "NoSuchBucket") return false;
  return e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404;
}

function hintFor(name: string | undefined): string | undefined {
  switch (name) {
    case "NoSuchBucket":
      return "create the bucket first, or check the bucket name and endpoint";
    case "CredentialsProviderError":
    case "InvalidAccessKeyId":
    case "SignatureDoesNotMatch":
      return "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their _FILE variants)";
    case "AccessDenied":
      return "the credentials lack permission for this bucket or prefix";
    default:
      return undefined;
  }
}
