import { randomBytes } from "node:crypto";
import { addAbortListener } from "node:events";
import { request, type IncomingMessage } from "node:http";
import { PassThrough, Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TargetError, throwIfAborted } from "../../errors.ts";
import type { RcDaemon } from "./process.ts";

/**
 * The few calls of rclone's remote-control API a target needs, over node:http: JSON commands,
 * a streamed multipart upload (`operations/uploadfile`, which rclone pipes straight into the
 * remote) and a streamed download (`--rc-serve`). Every request dies with its signal.
 */
export interface RcClient {
  call<T>(command: string, params: Record<string, unknown>, signal: AbortSignal): Promise<T>;
  upload(fs: string, dir: string, name: string, body: Readable, signal: AbortSignal): Promise<number>;
  download(fs: string, remote: string, signal: AbortSignal): Promise<Readable>;
}

/** A failed rc call; `status` 404 means the object or directory does not exist. */
export class RcError extends TargetError {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message, status === 404 ? { code: "E_NOT_FOUND" } : {});
    this.status = status;
  }
}

export function createRcClient(daemon: () => Promise<RcDaemon>, scrub: (text: string) => string): RcClient {
  async function send(method: string, path: string, headers: Record<string, string>, body: Readable | Buffer | undefined, signal: AbortSignal) {
    throwIfAborted(signal);
    const d = await daemon();
    const internal = new AbortController();
    const unlink = addAbortListener(signal, () => internal.abort(signal.reason));
    const req = request(`${d.base}${path}`, { method, headers: { ...headers, authorization: d.authorization }, signal: internal.signal });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once("response", resolve);
      req.once("error", reject);
    });
    // Settled below or abandoned after the body failed; either way never an unhandled rejection.
    response.catch(() => {});
    try {
      if (body === undefined || Buffer.isBuffer(body)) req.end(body);
      else await pipeline(body, req);
      const res = await response;
      return { res, done: () => unlink[Symbol.dispose]() };
    } catch (err) {
      // rclone refusing an upload (an unknown remote, say) answers and closes before taking the
      // body: its answer, not the broken pipe, says why
      const early = signal.aborted ? undefined : await answeredAlready(response);
      if (early && early.statusCode !== 200) return { res: early, done: () => unlink[Symbol.dispose]() };
      internal.abort();
      unlink[Symbol.dispose]();
      throwIfAborted(signal);
      throw err;
    }
  }

  async function readJson<T>(res: IncomingMessage, what: string): Promise<T> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const doc = (text ? JSON.parse(text) : {}) as T & { error?: string };
    if (res.statusCode !== 200) throw new RcError(`${what}: ${scrub(doc.error ?? `HTTP ${res.statusCode}`)}`, res.statusCode ?? 0);
    return doc;
  }

  return {
    async call<T>(command: string, params: Record<string, unknown>, signal: AbortSignal) {
      const { res, done } = await send("POST", `/${command}`, { "content-type": "application/json" }, Buffer.from(JSON.stringify(params)), signal);
      try {
        return await readJson<T>(res, command);
      } finally {
        done();
      }
    },

    async upload(fs, dir, name, body, signal) {
      const boundary = `sdbackup-${randomBytes(12).toString("hex")}`;
      let bytes = 0;
      let bodyError: unknown;
      // a premature close is the pipeline tearing the body down after the request failed, not its fault
      body.on("error", (err) => {
        if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") bodyError ??= err;
      });
      const framed = new PassThrough();
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          cb(null, chunk);
        },
      });
      const quoted = name.replace(/[\\"]/g, (c) => `\\${c}`);
      framed.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
      const piping = pipeline(body, counter, async function* (source) {
        yield* source;
        yield Buffer.from(`\r\n--${boundary}--\r\n`);
      }, framed, { signal });
      const query = new URLSearchParams({ fs, remote: dir });
      const headers = { "content-type": `multipart/form-data; boundary=${boundary}` };
      const sending = send("POST", `/operations/uploadfile?${query}`, headers, framed, signal);
      const [piped, sent] = await Promise.allSettled([piping, sending]);
      if (piped.status === "rejected" || sent.status === "rejected") {
        if (sent.status === "fulfilled" && sent.value.res.statusCode !== 200 && bodyError === undefined && !signal.aborted) {
          try {
            await readJson(sent.value.res, "upload");
          } finally {
            sent.value.done();
          }
        }
        if (sent.status === "fulfilled") {
          sent.value.res.destroy();
          sent.value.done();
        }
        // The source's own error explains more than the broken connection it causes, and vice versa.
        throw bodyError ?? (sent.status === "rejected" ? sent.reason : (piped as PromiseRejectedResult).reason);
      }
      try {
        await readJson(sent.value.res, "upload");
      } finally {
        sent.value.done();
      }
      return bytes;
    },

    async download(fs, remote, signal) {
      const path = `/${encodeURIComponent(`[${fs}]`)}/${remote.split("/").map(encodeURIComponent).join("/")}`;
      const { res, done } = await send("GET", path, {}, undefined, signal);
      if (res.statusCode !== 200) {
        res.resume();
        done();
        throw new RcError(`download: HTTP ${res.statusCode}`, res.statusCode ?? 0);
      }
      res.once("close", done);
      return res;
    },
  };
}

/** The response when it has already arrived (within a moment), else undefined. */
async function answeredAlready(response: Promise<IncomingMessage>): Promise<IncomingMessage | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const moment = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 500)));
  try {
    return await Promise.race([response.catch(() => undefined), moment]);
  } finally {
    clearTimeout(timer);
  }
}
