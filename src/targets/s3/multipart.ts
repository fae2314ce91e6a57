import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";

/**
 * A streamed upload whose part size grows with the stream, so that an object of unknown length is
 * never refused early and memory stays small for small objects. Parts come in ten tiers of
 * `maxParts / 10` parts; each tier doubles the part size of the one before, up to S3's 5 GiB:
 * with 10,000 parts starting at 16 MiB the last part ends beyond 5 TiB (S3's own object limit),
 * with a 1,000-part cap at about 1.3 TiB. `growth: false` keeps every part equal (stores such as
 * Cloudflare R2 require that). Memory: `queueSize` parts in flight plus the one being filled, i.e.
 * at most `(queueSize + 1) × the current part size` (48 MiB at the start with the defaults).
 */
export interface PartPlan {
  partSize: number;
  maxParts: number;
  growth: boolean;
}

const MAX_PART = 5 * 1024 * 1024 * 1024;
const TIERS = 10;

/** The size of part `index` (0-based). */
export function partSizeFor(index: number, plan: PartPlan): number {
  if (!plan.growth) return plan.partSize;
  const tier = Math.min(TIERS - 1, Math.floor(index / Math.max(1, Math.floor(plan.maxParts / TIERS))));
  return Math.min(MAX_PART, plan.partSize * 2 ** tier);
}

/** The largest object `plan` can hold. */
export function maxObjectSize(plan: PartPlan): number {
  let total = 0;
  for (let i = 0; i < plan.maxParts; i++) total += partSizeFor(i, plan);
  return total;
}

/**
 * How long CompleteMultipartUpload may take. The store assembles the parts before it answers and
 * sends nothing meanwhile (s3rver copies every byte; AWS documents "several minutes"), so the idle
 * socket limit of part uploads cannot apply: five minutes plus the object's size at 8 MiB/s, at
 * most two hours (10 GiB: about 26 min). The run's signal still ends it at once.
 */
export function completionTimeoutMs(bytes: number): number {
  return Math.min(COMPLETE_MAX_MS, COMPLETE_BASE_MS + Math.ceil(bytes / COMPLETE_RATE_BYTES_PER_MS));
}

export interface UploadState {
  uploadId?: string;
  /** CompleteMultipartUpload was sent: on failure the object may exist after all. */
  completing?: boolean;
}

/**
 * Uploads `body` to Bucket/Key: one PutObject when it fits in the first part, else a multipart
 * upload with at most `queueSize` parts in flight. Rejects on the first failure; the caller aborts
 * `state.uploadId`. Every request ends with `signal`; the completion goes through `completer`, a
 * client without the idle-socket limit, bounded by {@link completionTimeoutMs} instead.
 */
export async function uploadStream(
  clients: { parts: S3Client; completer: S3Client },
  target: { Bucket: string; Key: string },
  body: AsyncIterable<Buffer>,
  opts: { plan: PartPlan; queueSize: number; signal: AbortSignal; state: UploadState },
): Promise<void> {
  const { plan, signal, state } = opts;
  const client = clients.parts;
  let total = 0;
  const parts: { PartNumber: number; ETag: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  // Part buffers are filled by copying chunks in, and reused once their upload is done: memory
  // stays at (queueSize + 1) parts with no garbage to collect between them.
  const pool: Buffer[] = [];
  let failure: unknown;
  const next = () => partSizeFor(parts.length + inFlight.size, plan);
  const take = (size: number) => {
    const reused = pool.pop();
    return reused && reused.length === size ? reused : Buffer.allocUnsafe(size);
  };
  let fill = take(next());
  let filled = 0;

  const sendPart = async (data: Buffer, whole: Buffer) => {
    total += data.length;
    state.uploadId ??= (await client.send(new CreateMultipartUploadCommand({ ...target, ContentType: "application/octet-stream" }), { abortSignal: signal })).UploadId;
    const PartNumber = parts.length + inFlight.size + 1;
    const task = client
      .send(new UploadPartCommand({ ...target, UploadId: state.uploadId, PartNumber, Body: data, ContentLength: data.length }), { abortSignal: signal })
      .then((out) => {
        parts.push({ PartNumber, ETag: out.ETag! });
        pool.push(whole);
      }, (err: unknown) => void (failure ??= err))
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    while (inFlight.size >= opts.queueSize) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  };

  for await (const chunk of body) {
    for (let off = 0; off < chunk.length; ) {
      const n = chunk.copy(fill, filled, off);
      off += n;
      filled += n;
      if (filled < fill.length) continue;
      const full = fill;
      await sendPart(full, full);
      fill = take(next());
      filled = 0;
    }
  }
  const last = fill.subarray(0, filled);
  if (state.uploadId === undefined && inFlight.size === 0) {
    await client.send(new PutObjectCommand({ ...target, Body: last, ContentLength: last.length, ContentType: "application/octet-stream" }), { abortSignal: signal });
    return;
  }
  if (last.length > 0) await sendPart(last, fill);
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  parts.sort((a, b) => a.PartNumber - b.PartNumber);
  state.completing = true;
  const ms = completionTimeoutMs(total);
  const deadline = AbortSignal.timeout(ms);
  const complete = new CompleteMultipartUploadCommand({ ...target, UploadId: state.uploadId, MultipartUpload: { Parts: parts } });
  try {
    await clients.completer.send(complete, { abortSignal: AbortSignal.any([signal, deadline]) });
  } catch (err) {
    if (deadline.aborted && !signal.aborted) throw new CompletionTimeout(ms, { cause: err });
    throw err;
  }
}

/** The store did not confirm the completion in time. */
export class CompletionTimeout extends Error {
  override name = "CompletionTimeout";
  constructor(ms: number, opts: { cause: unknown }) {
    super(`the store did not confirm the completion of the upload within ${Math.round(ms / 60_000)} min`, opts);
  }
}

// --- internal ---

const COMPLETE_BASE_MS = 5 * 60_000;
/** 8 MiB/s, in bytes per millisecond: slower than any disk a store assembles parts on. */
const COMPLETE_RATE_BYTES_PER_MS = (8 * 1024 * 1024) / 1000;
const COMPLETE_MAX_MS = 2 * 60 * 60_000;
