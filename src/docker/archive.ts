import type { Readable } from "node:stream";
import { call, destroyOnAbort, shortId, type Engine } from "./engine.ts";

/*
 * The archive endpoints are served by the engine itself, so they work on stopped containers and on
 * images without a shell or tar. Both directions stream: nothing is buffered here.
 */

/** A tar stream of `path`; a missing path rejects with a DockerError (context.statusCode 404). */
export async function getArchive(engine: Engine, id: string, path: string, { signal }: { signal: AbortSignal }): Promise<Readable> {
  const stream = await call(engine, `read ${path} from container ${shortId(id)}`, signal, async () => {
    return (await engine.docker.getContainer(id).getArchive({ path, abortSignal: signal })) as Readable;
  });
  destroyOnAbort(stream, signal);
  return stream;
}

/**
 * Extracts `tar` into the existing directory `path`. When `tar` itself fails, that error is the
 * rejection (it says more than the engine's view of a cut upload).
 */
export async function putArchive(engine: Engine, id: string, path: string, tar: Readable, { signal }: { signal: AbortSignal }): Promise<void> {
  if (signal.aborted) throw signal.reason;
  let inputError: unknown;
  const onError = (err: unknown) => (inputError ??= err);
  tar.on("error", onError);
  try {
    await call(engine, `write into ${path} in container ${shortId(id)}`, signal, async () => {
      try {
        await engine.docker.getContainer(id).putArchive(tar, { path, abortSignal: signal });
      } catch (err) {
        throw inputError ?? err;
      }
    });
  } finally {
    tar.off("error", onError);
  }
}
