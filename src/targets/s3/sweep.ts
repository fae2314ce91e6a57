import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from "@aws-sdk/client-s3";
import { TargetError, throwIfAborted } from "../../errors.ts";
import { assertValidPrefix } from "../shared/keys.ts";

/**
 * An S3 put that is killed mid-way leaves an unfinished multipart upload: invisible to listings,
 * billed for its parts, never completed. The next backup aborts those of its project that have
 * not changed since the cutoff: begun before it, with no part uploaded after it, so that a long
 * upload of another run still in progress is left alone. A bucket lifecycle rule that aborts
 * incomplete uploads remains the backstop (docs/targets.md).
 */

export interface SweepScope {
  Bucket: string;
  /** The target's key prefix in the bucket, with its trailing slash, or "". */
  base: string;
  display: string;
}

/** Aborts the dead uploads under `base + prefix` and returns their keys (target keys). */
export async function sweepUploads(client: Pick<S3Client, "send">, scope: SweepScope, prefix: string, before: Date, signal: AbortSignal): Promise<string[]> {
  assertValidPrefix(prefix);
  throwIfAborted(signal);
  const { Bucket } = scope;
  const Prefix = scope.base + prefix;
  const removed: string[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  do {
    const page = await call("list the multipart uploads under", prefix, () =>
      client.send(new ListMultipartUploadsCommand({ Bucket, Prefix, KeyMarker, UploadIdMarker }), { abortSignal: signal }));
    for (const u of page.Uploads ?? []) {
      const { Key, UploadId, Initiated } = u;
      // Stores that ignore Prefix, or uploads of unknown age, are not ours to judge.
      if (!Key?.startsWith(Prefix) || !UploadId || !Initiated || Initiated >= before) continue;
      if (await call("list the parts of the multipart upload of", Key, () => touchedSince(client, { Bucket, Key, UploadId }, before, signal))) continue;
      await call("abort the multipart upload of", Key, () =>
        client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }), { abortSignal: signal }).catch((err: unknown) => {
          if ((err as Error).name !== "NoSuchUpload") throw err;
        }));
      removed.push(`${Key.slice(scope.base.length)} (upload ${UploadId})`);
    }
    ({ NextKeyMarker: KeyMarker, NextUploadIdMarker: UploadIdMarker } = page);
    if (!page.IsTruncated) break;
  } while (KeyMarker !== undefined);
  return removed;

  async function call<T>(what: string, key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throwIfAborted(signal);
      const e = err as { name?: string; message?: string };
      throw new TargetError(`${scope.display}: cannot ${what} ${key}: ${e.name ?? "Error"}: ${e.message ?? String(err)}`, { cause: err });
    }
  }
}

// --- internal ---

/** Whether the upload may be alive: a part uploaded at or after `before`, or the upload already gone. */
async function touchedSince(client: Pick<S3Client, "send">, upload: { Bucket: string; Key: string; UploadId: string }, before: Date, signal: AbortSignal): Promise<boolean> {
  let PartNumberMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListPartsCommand({ ...upload, PartNumberMarker }), { abortSignal: signal }).catch((err: unknown) => {
      // Completed or aborted meanwhile: nothing left to sweep.
      if ((err as Error).name === "NoSuchUpload") return undefined;
      throw err;
    });
    if (!page) return true;
    if ((page.Parts ?? []).some((p) => p.LastModified !== undefined && p.LastModified >= before)) return true;
    if (!page.IsTruncated || page.NextPartNumberMarker === undefined) return false;
    PartNumberMarker = page.NextPartNumberMarker;
  }
}
