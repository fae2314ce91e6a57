import { describe, expect, it } from "vitest";
import { LABEL } from "../../../../src/compose/labels.ts";
import { runBackupPlan } from "../../../../src/core/backup/run-backup.ts";
import { withHooks, type HookDeps } from "../../../../src/core/lifecycle/hooks.ts";
import { CancelledError } from "../../../../src/errors.ts";
import type { MemoryTarget } from "../../../../src/targets/memory.ts";
import { backupRun, collectingLogger, container, service } from "../../../helpers/builders.ts";
import { createFakeDocker, type ExecReply } from "../../../helpers/fake-docker.ts";

// Hook policies: order, on-error=abort|continue, timeouts, post hooks after failures and interrupts.

const phases = { pre: "pre", post: "post" } as const;
/** `sh -c <command>` hooks answered by command text; anything else exits 0. */
const replies = (by: Record<string, ExecReply>) => ({ argv }: { argv: string[] }) => by[argv[2] ?? ""] ?? {};
const hooked = (name: string, labels: Record<string, string>) => service(name, { labels });

function setup(services: ReturnType<typeof service>[], by: Record<string, ExecReply> = {}, signal = new AbortController().signal) {
  const fake = createFakeDocker({ containers: services.map((s) => container(s.name)), exec: replies(by) });
  const log = collectingLogger();
  const deps: HookDeps = { docker: fake.api, log, signal, timeoutMs: 5_000 };
  const ran = () => fake.execs.map((e) => `${e.id.replace(/-id$/, "")}: ${e.argv[2]}`);
  return { fake, deps, log, ran, containers: services.map((s) => container(s.name)) };
}

describe("withHooks", () => {
  it("runs pre hooks in compose order, then the body, then post hooks", async () => {
    const services = [hooked("web", { [LABEL.pre]: "web-pre", [LABEL.post]: "web-post" }), hooked("db", { [LABEL.pre]: "db-pre" }), hooked("job", { [LABEL.post]: "job-post" })];
    const s = setup(services);
    const out = await withHooks(phases, services, s.containers, s.deps, async () => (s.fake.api.exec("db-id", ["sh", "-c", "body"], { signal: s.deps.signal }), 7));
    expect(out.value).toBe(7);
    expect(s.ran()).toEqual(["web: web-pre", "db: db-pre", "db: body", "web: web-post", "job: job-post"]);
    expect(out.hooks.map((h) => [h.service, h.phase, h.status])).toEqual([["web", "pre", "ok"], ["db", "pre", "ok"], ["web", "post", "ok"], ["job", "post", "ok"]]);
    expect(out.stopReason).toBeUndefined();
  });

  it("a failed pre hook (on-error=abort, the default) skips the body and later pre hooks; post hooks of services whose pre ran still run", async () => {
    const services = [hooked("web", { [LABEL.pre]: "web-pre", [LABEL.post]: "web-post" }), hooked("db", { [LABEL.pre]: "db-pre", [LABEL.post]: "db-post" }), hooked("job", { [LABEL.post]: "job-post" })];
    const s = setup(services, { "web-pre": { exitCode: 3, stderr: "maintenance mode refused" } });
    let bodyRan = false;
    const out = await withHooks(phases, services, s.containers, s.deps, async () => void (bodyRan = true));
    expect(bodyRan).toBe(false);
    expect(out.stopReason).toMatch(/pre hook of web exited 3: maintenance mode refused .*on-error=abort/);
    expect(s.ran()).toEqual(["web: web-pre", "web: web-post"]);
    expect(s.log.lines).toContainEqual(expect.stringMatching(/^error: pre hook of web exited 3/));
  });

  it("with on-error=continue a failed pre hook is reported and the body runs", async () => {
    const services = [hooked("web", { [LABEL.pre]: "web-pre", [LABEL.hooksOnError]: "continue" })];
    const s = setup(services, { "web-pre": { exitCode: 1 } });
    const out = await withHooks(phases, services, s.containers, s.deps, async () => "done");
    expect(out).toMatchObject({ value: "done", hooks: [{ service: "web", status: "failed", exitCode: 1 }] });
    expect(out.stopReason).toBeUndefined();
  });

  it("a hook that outlives its timeout label fails, and its process is ended", async () => {
    const services = [hooked("web", { [LABEL.pre]: "sleep 999", [LABEL.hookTimeout]: "50ms", [LABEL.hooksOnError]: "continue" })];
    const s = setup(services, { "sleep 999": { hang: true } });
    const t0 = Date.now();
    const out = await withHooks(phases, services, s.containers, s.deps, async () => "ran");
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect(out.value).toBe("ran");
    expect(out.hooks[0]).toMatchObject({ status: "failed", exitCode: null, error: "pre hook of web timed out after 0.05 s" });
    expect(s.fake.active()).toEqual([]);
  });

  it("without a timeout label the run's hook timeout applies", async () => {
    const services = [hooked("web", { [LABEL.post]: "sleep 999" })];
    const s = setup(services, { "sleep 999": { hang: true } });
    const out = await withHooks(phases, services, s.containers, { ...s.deps, timeoutMs: 30 }, async () => "ran");
    expect(out.hooks[0]).toMatchObject({ phase: "post", status: "failed", error: "post hook of web timed out after 0.03 s" });
    expect(s.fake.active()).toEqual([]);
  });

  it("a failed post hook is reported; the body's value stands", async () => {
    const services = [hooked("web", { [LABEL.post]: "web-post" })];
    const s = setup(services, { "web-post": { exitCode: 4, stderr: "cannot leave maintenance mode" } });
    const out = await withHooks(phases, services, s.containers, s.deps, async () => "value");
    expect(out).toMatchObject({ value: "value", hooks: [{ phase: "post", status: "failed", exitCode: 4 }] });
    expect(s.log.lines).toContainEqual(expect.stringMatching(/post hook of web exited 4: cannot leave maintenance mode/));
  });

  it("post hooks run when the body throws, and the body's error propagates", async () => {
    const services = [hooked("web", { [LABEL.pre]: "web-pre", [LABEL.post]: "web-post" })];
    const s = setup(services);
    const boom = new Error("dump exploded");
    await expect(withHooks(phases, services, s.containers, s.deps, async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(s.ran()).toEqual(["web: web-pre", "web: web-post"]);
  });

  it("an interrupt during a pre hook rejects, and the post hook of that service still runs", async () => {
    const ac = new AbortController();
    const services = [hooked("web", { [LABEL.pre]: "web-pre", [LABEL.post]: "web-post" }), hooked("db", { [LABEL.pre]: "db-pre", [LABEL.post]: "db-post" })];
    const s = setup(services, { "web-pre": { hang: true } }, ac.signal);
    setTimeout(() => ac.abort(new CancelledError()), 20);
    const err = await withHooks(phases, services, s.containers, s.deps, async () => "never").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(s.ran()).toEqual(["web: web-pre", "web: web-post"]);
    expect(s.fake.active()).toEqual([]);
  });

  it("a hook whose container is not running fails without running anything", async () => {
    const services = [hooked("web", { [LABEL.pre]: "web-pre", [LABEL.hooksOnError]: "continue" })];
    const s = setup(services);
    const out = await withHooks(phases, services, [container("web", { running: false })], s.deps, async () => 1);
    expect(out.hooks[0]).toMatchObject({ status: "failed", error: "pre hook of web: the container is not running" });
    expect(s.fake.execs).toEqual([]);
  });
});

describe("hooks in a backup run", () => {
  const run = (labels: Record<string, string>, by: Record<string, ExecReply>) => {
    const r = backupRun(["db"], createFakeDocker().api);
    r.services = [{ ...r.services[0]!, labels }];
    r.items = [{ ...r.items[0]!, service: r.services[0]! }];
    const fake = createFakeDocker({ containers: r.containers, exec: ({ argv }) => (argv[0] === "dump" ? { stdout: "rows" } : (by[argv[2] ?? ""] ?? {})) });
    r.docker = fake.api;
    return { r, fake, keys: () => [...(r.target as MemoryTarget).objects.keys()] };
  };

  it("a failed pre hook (abort) takes no dump and commits nothing", async () => {
    const { r, fake, keys } = run({ [LABEL.pre]: "flush" }, { flush: { exitCode: 1 } });
    const result = await runBackupPlan(r);
    expect(result).toMatchObject({ status: "failed", manifest: null, error: expect.stringMatching(/pre hook of db exited 1/) });
    expect(fake.execs.some((e) => e.argv[0] === "dump")).toBe(false);
    expect(keys()).toEqual([]);
  });

  it("a failed post hook commits the set and makes the run partial", async () => {
    const { r, keys } = run({ [LABEL.post]: "unlock" }, { unlock: { exitCode: 2 } });
    const result = await runBackupPlan(r);
    expect(result.status).toBe("partial");
    expect(result.hooks).toMatchObject([{ phase: "post", status: "failed" }]);
    expect(keys()).toContain(result.manifest);
  });
});
