import { createHash } from "node:crypto";
import { finished } from "node:stream/promises";
import { PassThrough, type Readable, type Transform } from "node:stream";
import type { Target } from "../../targets/types.ts";
import type { Logger } from "../../ui/logger.ts";
import type { ManifestItem } from "../../manifest/schema.ts";
import { listSets } from "../../manifest/store.ts";
import { selectSets } from "../../manifest/select.ts";
import { createDecompressor, isCompression } from "../../pipeline/compress.ts";
import { createDecryptor, type KeyRing } from "../../pipeline/encrypt.ts";
import { checkKeys } from "../restore/read-artifact.ts";
import { strategies } from "../../strategies/index.ts";
import { SdbackupError, errorMessage, isAbortError, throwIfAborted } from "../../errors.ts";
import { mapPool } from "../../runtime/pool.ts";

export interface VerifyRun {
  target: Target;
  project?: string;
  /** `latest` (default), `all`, or a set id ({@link selectSets}). */
  set?: string;
  /** Without keys, encrypted artifacts get the integrity check only (size, sha256). */
  keys?: KeyRing;
  signal: AbortSignal;
  log: Logger;
}

export interface VerifyItemResult {
  service: string;
  key: string;
  status: "ok" | "bad";
  problem?: string;
  /** What was not checked, e.g. the contents of an encrypted artifact without a key. */
  note?: string;
}

export interface VerifySetResult {
  project: string;
  set: string;
  status: "ok" | "bad";
  /** Set-level trouble (no readable manifest) when such a set was asked for by id. */
  problem?: string;
  items: VerifyItemResult[];
}

export interface VerifyResult {
  target: string;
  status: "ok" | "bad";
  sets: VerifySetResult[];
  /** Incomplete sets seen in scope and not verified: informational. */
  incomplete: { project: string; set: string; createdAt: string; problem?: string }[];
}

/**
 * Re-reads every artifact of the chosen sets without Docker: stored size and sha256 against the
 * manifest, full decompression, and the strategy's format check. Bad artifacts become results,
 * never exceptions; only an abort or an unusable target or selection throws.
 */
export async function runVerifyPlan(run: VerifyRun): Promise<VerifyResult> {
  const all = await listSets(run.target, run.project, run.signal);
  const chosen = selectSets(all, { set: run.set, project: run.project, forVerify: true, display: run.target.display });
  const limit = Math.max(1, Math.min(run.target.capabilities.maxConcurrency, 4));
  const sets: VerifySetResult[] = [];
  for (const s of chosen) {
    if (!s.manifest) {
      sets.push({ project: s.project, set: s.set, status: "bad", problem: s.problem ?? "incomplete set: no manifest", items: [] });
      continue;
    }
    run.log.info(`verifying ${s.project}/${s.set} (${s.manifest.items.length} artifacts)`);
    // Keys given but wrong is a usage error (exit 2), not a bad artifact.
    if (run.keys && !run.keys.empty) await checkKeys(run.target, s.manifest.items, run.keys, run.signal);
    const items = await mapPool(s.manifest.items, limit, (item) => verifyItem(run.target, item, run.signal, run.keys));
    sets.push({ project: s.project, set: s.set, status: items.every((i) => i.status === "ok") ? "ok" : "bad", items });
  }
  const scope = new Set(chosen.map((s) => s.project));
  const incomplete = all
    .filter((s) => !s.complete && scope.has(s.project) && !chosen.includes(s))
    .map((s) => ({ project: s.project, set: s.set, createdAt: s.createdAt.toISOString(), ...(s.problem ? { problem: s.problem } : {}) }));
  return { target: run.target.display, status: sets.every((s) => s.status === "ok") ? "ok" : "bad", sets, incomplete };
}

/**
 * One artifact: hashes every stored byte even when decompression or the format check fails early,
 * so a flipped byte is reported as a checksum mismatch, not as whatever the decoder tripped over.
 */
export async function verifyItem(target: Target, item: ManifestItem, signal: AbortSignal, keys?: KeyRing): Promise<VerifyItemResult> {
  const bad = (problem: string): VerifyItemResult => ({ service: item.service, key: item.key, status: "bad", problem });
  const strategy = strategies.find((s) => s.name === item.strategy);
  if (!strategy) return bad(`unknown strategy "${item.strategy}" in the manifest`);
  if (!isCompression(item.compression)) return bad(`unknown compression "${String(item.compression)}" in the manifest`);
  let raw: Readable;
  try {
    raw = await target.get(item.key, { signal });
  } catch (err) {
    throwIfAborted(signal);
    if (isAbortError(err)) throw err;
    return bad(err instanceof SdbackupError && err.code === "E_NOT_FOUND" ? "missing from the target" : `cannot read: ${errorMessage(err)}`);
  }
  // The format check reads a copy, so its failures are never mistaken for decompression errors
  // (nor the other way round), and the decoder runs to the end whatever the check does.
  const { encryption } = item;
  const sealedOnly = Boolean(encryption) && (!keys || keys.empty);
  const stages: Transform[] = sealedOnly
    ? [new PassThrough()]
    : [...(encryption && keys ? [createDecryptor(keys, { key: item.key, encryption })] : []), createDecompressor(item.compression)];
  const decoder = stages[0]!;
  const last = stages[stages.length - 1]!;
  const plain = new PassThrough();
  let decodeError: unknown;
  stages.forEach((stage, i) => {
    stage.on("error", (err) => {
      decodeError ??= err;
      for (const other of stages) other.destroy();
      plain.destroy(err);
    });
    stage.pipe(stages[i + 1] ?? plain);
  });
  const check = sealedOnly ? finished(plain.resume()) : strategy.validate(plain, item);
  const validation = check.then(
    () => undefined,
    (err: unknown) => err,
  ).finally(() => {
    last.unpipe(plain);
    plain.destroy();
    if (!last.destroyed) last.resume();
  });
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      throwIfAborted(signal);
      hash.update(chunk);
      bytes += chunk.length;
      if (!decoder.destroyed && !decoder.write(chunk)) await drained(decoder);
    }
  } catch (err) {
    for (const stage of stages) stage.destroy();
    plain.destroy();
    throwIfAborted(signal);
    if (isAbortError(err)) throw err;
    return bad(`cannot read: ${errorMessage(err)}`);
  } finally {
    raw.destroy();
  }
  if (!decoder.destroyed) decoder.end();
  const formatError = await validation;
  if (!last.destroyed) await finished(last).catch(() => {});
  throwIfAborted(signal);
  if (bytes !== item.bytes) return bad(`size ${bytes} bytes, the manifest says ${item.bytes} (truncated or altered)`);
  const sha256 = hash.digest("hex");
  if (sha256 !== item.sha256.toLowerCase()) return bad(`sha256 ${sha256} does not match the manifest's ${item.sha256} (corrupted)`);
  if (decodeError instanceof SdbackupError) return bad(errorMessage(decodeError));
  if (decodeError) return bad(`cannot decompress (${item.compression}): ${errorMessage(decodeError)}`);
  if (formatError) return bad(`not a valid ${strategy.name} artifact: ${errorMessage(formatError)}`);
  const note = sealedOnly ? { note: "encrypted: size and sha256 checked, contents not (no identity given)" } : {};
  return { service: item.service, key: item.key, status: "ok", ...note };
}

// --- internal ---

/** Waits until `stream` drains or is destroyed; it drains once the check or `resume()` reads on. */
async function drained(stream: Transform): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}
