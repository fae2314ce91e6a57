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
import { CancelledError, TargetError, errorMessage, objectNotFound, throwIfAborted } from "../../errors.ts";
import { formatElapsed } from "../../runtime/duration.ts";
import { assertValidKey, assertValidPrefix, joinKey } from "../shared/keys.ts";
import type { S3Settings } from "./settings.ts";
import { maxObjectSize, uploadStream, type UploadState } from "./multipart.ts";
import type { ObjectInfo, Target } from "../types.ts";
import { sweepUploads } from "./sweep.ts";

/** Connect, idle socket (no byte either way) and whole-request limits, per request (so per part). */
const S3_TIMEOUTS = { connectionTimeout: 30_000, socketTimeout: 120_000, requestTimeout: 30 * 60_000, throwOnRequestTimeout: true };
/** How long aborting a failed multipart upload may take: the store may be the thing that failed. */
const ABORT_UPLOAD_MS = 5_000;

/**
 * An S3 bucket (AWS or any S3-compatible store). Loaded lazily by `s3-config.ts`: importing this
 * module loads the AWS SDK. `stallTimeoutMs` (backup's --stall-timeout) shortens the idle-socket
 * limit, so that a store that stops answering fails the run that soon (issue 11 case 9).
 */
export function createS3Target(s: S3Settings, opts: { stallTimeoutMs?: number } = {}): Target {
  const config = {
    region: s.region,
    ...(s.endpoint !== undefined ? { endpoint: s.endpoint, forcePathStyle: s.forcePathStyle } : {}),
    ...(s.credentials ? { credentials: s.credentials } : {}),
    // Many S3-compatible stores (and s3rver) reject the SDK's default flexible checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  } as const;
  const socketTimeout = Math.min(S3_TIMEOUTS.socketTimeout, opts.stallTimeoutMs ?? Infinity);
  // An endpoint that stops answering must fail the run, not hang it (issue 11 case 9).
  const client = new S3Client({ ...config, requestHandler: { ...S3_TIMEOUTS, socketTimeout } });
  // CompleteMultipartUpload is silent while the store assembles the parts: no idle limit there,
  // a deadline by size instead (s3/multipart.ts).
  const completer = new S3Client({ ...config, requestHandler: { ...S3_TIMEOUTS, socketTimeout: 0, requestTimeout: 0 } });
  const Bucket = s.bucket;
  const base = s.prefix ? `${s.prefix}/` : "";
  const fail = (what: string, key: string, cause: unknown, why?: string) => {
    const e = cause as { name?: string; message?: string };
    const hint = hintFor(e.name);
    return new TargetError(`${s.display}: cannot ${what} ${key}: ${why ?? `${e.name ?? "Error"}: ${e.message ?? String(cause)}`}`, {
      cause,
      ...(hint ? { hint } : {}),
    });
  };

  /** Aborts the upload (and removes the object if its completion was sent), within a few seconds. */
  async function abortMultipart(Key: string, state: UploadState): Promise<void> {
    if (state.uploadId === undefined) return;
    const abortSignal = AbortSignal.timeout(ABORT_UPLOAD_MS);
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: state.uploadId }), { abortSignal });
    } catch (err) {
      // A store may have dropped it already; a second abort finds nothing, which is fine.
      if (!isNotFound(err) && (err as Error).name !== "NoSuchUpload") throw abortSignal.aborted ? new Error(`no answer within ${ABORT_UPLOAD_MS / 1000} s`, { cause: err }) : err;
    }
    if (state.completing) await client.send(new DeleteObjectCommand({ Bucket, Key }), { abortSignal });
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
        // The first real error that destroys the counter comes from the source (or the size
        // limit); when the upload gives up reading, the counter is torn down with an AbortError.
        destroy(err, done) {
          if (err && sourceError === undefined && !isTeardown(err)) sourceError = err;
          done(err);
        },
      });
      const piped = pipeline(body, counter, { signal: internal.signal }).catch(() => {});
      const state: UploadState = {};
      try {
        await uploadStream({ parts: client, completer }, { Bucket, Key }, counter, { plan, queueSize: s.queueSize, signal: internal.signal, state });
        await piped;
        return { bytes };
      } catch (err) {
        const fromSource = sourceError;
        internal.abort();
        await piped;
        const why = fromSource !== undefined || signal.aborted ? undefined : uploadFailure(err, socketTimeout);
        // a caller may end the put for a reason of its own (the store stopped taking data)
        const stopped = signal.aborted && signal.reason instanceof TargetError ? errorMessage(signal.reason) : undefined;
        try {
          await abortMultipart(Key, state);
        } catch (abortErr) {
          // After an interrupt the upload is left to a later backup's sweep; say so and go.
          if (signal.aborted && stopped === undefined) throw new CancelledError(`interrupted; multipart upload ${state.uploadId} of ${key} in ${s.display} was not aborted (${errorMessage(abortErr)}): a later backup removes it once it is a day old`, { cause: signal.reason });
          throw new TargetError(
            `${s.display}: cannot upload ${key}: ${stopped ?? why ?? errorMessage(fromSource)}; its multipart upload ${state.uploadId} could not be aborted (${errorMessage(abortErr)})`,
            { cause: err, hint: "a later backup removes the upload once it is a day old; a bucket lifecycle rule that aborts incomplete multipart uploads is a backstop" },
          );
        }
        throwIfAborted(signal);
        if (fromSource !== undefined) throw fromSource;
        throw fail("upload", key, err, why && state.uploadId !== undefined ? `${why} (its multipart upload was aborted)` : why);
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

    sweep: (prefix, before, { signal }) => sweepUploads(client, { Bucket, base, display: s.display }, prefix, before, signal),
  };
}

// --- internal ---

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === "NoSuchBucket") return false;
  return e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404;
}

/** A stream torn down because its reader quit, not a failure of its own. */
function isTeardown(err: Error): boolean {
  return err.name === "AbortError" || (err as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE";
}

/** Why a multipart upload stopped, in words: the SDK's own message for a silent store is obscure. */
function uploadFailure(err: unknown, socketTimeout: number): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === "TimeoutError" && /socket/i.test(e.message ?? "")) return `the store sent and took nothing for ${formatElapsed(socketTimeout)} (it stopped answering)`;
  if (e.code !== undefined && ["ECONNREFUSED", "ECONNRESET", "EPIPE"].includes(e.code)) return `the store went away (${e.message ?? e.code})`;
  return `${e.name ?? "Error"}: ${e.message ?? String(err)}`;
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
