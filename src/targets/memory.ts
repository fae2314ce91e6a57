import { Readable, Writable, addAbortSignal } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConfigError, TargetError, throwIfAborted } from "../errors.ts";
import { assertValidKey, assertValidPrefix } from "./shared/keys.ts";
import { stripCredentials } from "./shared/redact.ts";
import type { ObjectInfo, Target, TargetFactory } from "./types.ts";

/**
 * Objects in this process' memory: the target of orchestration and command tests, which need a
 * store they can inspect, tamper with and make fail, without a filesystem. `memory://<name>` opens
 * the same store for the same name within one process; everything is gone when the process ends,
 * so it is no place for real backups.
 */

export interface StoredObject {
  data: Buffer;
  modified: Date;
}

export type MemoryOperation = "put" | "get" | "list" | "remove";

/**
 * Asked before every operation (`bytes` 0) and, during a put, after each chunk of the body with the
 * bytes received so far. An Error it returns makes the operation fail with it, as a store that
 * breaks at that point would; the put then leaves nothing, like every target.
 */
export type FaultHook = (at: { op: MemoryOperation; key: string; bytes: number }) => Error | undefined;

export interface MemoryTarget extends Target {
  /** Every committed object by key, for tests to look at or corrupt. */
  readonly objects: Map<string, StoredObject>;
  /** Fault injection; replaceable at any time. */
  fault?: FaultHook;
}

const CHUNK = 64 * 1024;
const named = new Map<string, MemoryTarget>();

export const memoryFactory: TargetFactory = {
  schemes: ["memory"],
  redact: stripCredentials,
  async create(url) {
    const name = /^memory:\/\/([^/?#]*)\/?$/i.exec(url)?.[1];
    if (name === undefined) throw new ConfigError(`invalid memory target ${stripCredentials(url)}`, { hint: "use memory://<name>" });
    let target = named.get(name);
    if (!target) named.set(name, (target = createMemoryTarget(name)));
    return target;
  },
};

/** A fresh, empty store, not shared with any `memory://` URL. */
export function createMemoryTarget(name = "test"): MemoryTarget {
  const objects = new Map<string, StoredObject>();
  const target: MemoryTarget = {
    scheme: "memory",
    display: `memory://${name}`,
    capabilities: { atomicPut: true, maxConcurrency: 8 },
    objects,

    async put(key, body, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      injected("put", key, 0);
      const chunks: Buffer[] = [];
      let bytes = 0;
      const sink = new Writable({
        write(chunk: Buffer | string, _enc, done) {
          const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
          chunks.push(buf);
          bytes += buf.length;
          const err = target.fault?.({ op: "put", key, bytes });
          // A store answers later than the next tick: give aborts and other puts a chance.
          setImmediate(() => done(err));
        },
      });
      try {
        await pipeline(body, sink, { signal });
      } catch (err) {
        throwIfAborted(signal);
        throw err;
      }
      throwIfAborted(signal);
      objects.set(key, { data: Buffer.concat(chunks), modified: new Date() });
      return { bytes };
    },

    async get(key, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      injected("get", key, 0);
      const found = objects.get(key);
      if (!found) throw new TargetError(`${target.display}: no object ${key}`, { code: "E_NOT_FOUND" });
      const parts: Buffer[] = [];
      for (let off = 0; off < found.data.length; off += CHUNK) parts.push(found.data.subarray(off, off + CHUNK));
      return addAbortSignal(signal, Readable.from(parts));
    },

    async *list(prefix, { signal }): AsyncGenerator<ObjectInfo> {
      assertValidPrefix(prefix);
      throwIfAborted(signal);
      injected("list", prefix, 0);
      const found = [...objects].filter(([key]) => key.startsWith(prefix));
      for (const [key, o] of found) {
        await new Promise((resolve) => setImmediate(resolve));
        throwIfAborted(signal);
        yield { key, size: o.data.length, modified: o.modified };
      }
    },

    async remove(key, { signal }) {
      assertValidKey(key);
      throwIfAborted(signal);
      injected("remove", key, 0);
      objects.delete(key);
    },
  };

  function injected(op: MemoryOperation, key: string, bytes: number): void {
    const err = target.fault?.({ op, key, bytes });
    if (err) throw err;
  }

  return target;
}
