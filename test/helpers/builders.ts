import type { Readable } from "node:stream";
import type { ComposeService } from "../../src/compose/model.ts";
import type { ContainerDetails, DockerApi } from "../../src/docker/types.ts";
import type { BackupRun } from "../../src/core/backup/types.ts";
import type { PlanItem } from "../../src/core/project/plan.ts";
import type { RestoreRun } from "../../src/core/restore/run-restore.ts";
import type { Manifest } from "../../src/manifest/schema.ts";
import type { Detection, RunContext, Strategy } from "../../src/strategies/types.ts";
import { IntegrityError } from "../../src/errors.ts";
import { createSecretRegistry } from "../../src/strategies/shared/secrets.ts";
import { createMemoryTarget } from "../../src/targets/memory.ts";
import type { Logger } from "../../src/ui/logger.ts";
import { createFakeDocker } from "./fake-docker.ts";

/**
 * Builders of the plain data orchestration works on: compose services, containers, detections,
 * run contexts, plan items, backup and restore runs. Each takes overrides so that a test states only
 * what it is about; defaults describe a running compose project named `app`.
 */

export const PROJECT = "app";

export function service(name: string, over: Partial<ComposeService> = {}): ComposeService {
  return { name, image: `${name}:1`, environment: {}, labels: {}, volumes: [], secrets: [], profiles: [], ...over };
}

/** The container of compose service `svc`: id `<svc>-id`, running, with compose labels. */
export function container(svc: string, over: Partial<ContainerDetails> = {}): ContainerDetails {
  const running = over.running ?? true;
  const paused = over.paused ?? false;
  return {
    id: `${svc}-id`, name: `${PROJECT}-${svc}-1`, image: `${svc}:1`, state: paused ? "paused" : running ? "running" : "exited",
    labels: { "com.docker.compose.project": PROJECT, "com.docker.compose.service": svc },
    service: svc, project: PROJECT, env: {}, cmd: [], entrypoint: [], mounts: [], running, paused, ...over,
  };
}

export function detection(strategy: string, over: Partial<Detection> = {}): Detection {
  return { strategy, source: "image", confidence: 1, paths: [], warnings: [], ...over };
}

/** A strategy's run context; `docker` defaults to an empty fake engine. */
export function runContext(over: Partial<RunContext> = {}): RunContext {
  const svc = over.service ?? service("db");
  return {
    docker: createFakeDocker().api, service: svc, container: container(svc.name), detection: detection("test"),
    secrets: createSecretRegistry(), isDatabaseImage: () => false, signal: AbortSignal.timeout(10_000), log: collectingLogger(), ...over,
  };
}

/**
 * A strategy that goes through the engine like real ones: backup streams the stdout of
 * `dump <service>`, restore feeds the artifact to `load <service>`; the fake engine's script decides
 * what they print and how they exit. validate rejects an artifact containing `INVALID`.
 */
export function testStrategy(over: Partial<Strategy> = {}): Strategy {
  return {
    name: "test", ext: "dump", description: "test strategy", needsRunning: true,
    matchImage: () => 0,
    inspect: () => ({ warnings: [] }),
    async backup(ctx) {
      return ctx.docker.execStream(ctx.container.id, ["dump", ctx.service.name], { signal: ctx.signal, service: ctx.service.name });
    },
    async restore(ctx, input) {
      const out = ctx.docker.execStream(ctx.container.id, ["load", ctx.service.name], { signal: ctx.signal, service: ctx.service.name, stdin: input });
      for await (const _ of out) void _;
    },
    async validate(input) {
      const text = (await collect(input)).toString();
      if (text.includes("INVALID")) throw new IntegrityError("artifact is not a dump");
    },
    ...over,
  };
}

export function planItem(name: string, over: Partial<PlanItem> = {}): PlanItem {
  return { service: service(name), strategy: testStrategy(), detection: detection("test"), container: container(name), ...over };
}

/** A logger that keeps every line, prefixed with its level. */
export function collectingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines, interactive: false, status() {},
    info: (m) => void lines.push(`info: ${m}`),
    warn: (m) => void lines.push(`warn: ${m}`),
    error: (m) => void lines.push(`error: ${m}`),
    debug: (m) => void lines.push(`debug: ${m}`),
  };
}

/**
 * A backup of the services `names` (one plan item each, all with containers), into a fresh memory
 * target, uncompressed, with a fixed clock.
 */
export function backupRun(names: string[], docker: DockerApi, over: Partial<BackupRun> = {}): BackupRun {
  const items = names.map((n) => planItem(n));
  return {
    project: PROJECT, items, services: items.map((i) => i.service), containers: items.map((i) => i.container!),
    target: createMemoryTarget(), docker, compression: "none", concurrency: 2, consistent: false, hookTimeoutMs: 5_000,
    version: "0.0.0-test", now: () => new Date("2026-11-21T03:00:00Z"), signal: new AbortController().signal, log: collectingLogger(), ...over,
  };
}

/** A restore of every item of `manifest` into the live containers of `docker`'s project. */
export function restoreRun(manifest: Manifest, over: Partial<RestoreRun> & Pick<RestoreRun, "target" | "docker">): RestoreRun {
  const items = manifest.items.map((item) => ({ item, plan: planItem(item.service) }));
  return {
    manifest, items, services: items.map((i) => i.plan.service), containers: items.map((i) => i.plan.container!),
    hookTimeoutMs: 5_000, signal: new AbortController().signal, log: collectingLogger(), ...over,
  };
}

// --- internal ---

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
