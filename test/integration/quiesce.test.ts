import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../../src/docker/client.ts";
import type { DockerApi } from "../../src/docker/types.ts";
import { quiesce } from "../../src/core/lifecycle/quiesce.ts";
import { silentLogger } from "../../src/ui/logger.ts";
import { CancelledError } from "../../src/errors.ts";
import type { ComposeService } from "../../src/compose/model.ts";
import { removeContainers, requireDocker, startContainer } from "../helpers/docker.ts";

const created: string[] = [];
let api: DockerApi;
const signal = () => AbortSignal.timeout(30_000);
const svc = (name: string, labels: Record<string, string>): ComposeService => ({ name, environment: {}, labels, volumes: [], secrets: [], profiles: [] });

async function app(service: string) {
  const c = await startContainer({ image: "debian:bookworm", cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"], labels: { "com.docker.compose.service": service } });
  created.push(c.id);
  return api.inspect(c.id, { signal: signal() });
}

beforeAll(async () => {
  await requireDocker();
  api = await connect(process.env, signal());
});
afterAll(() => removeContainers(created));

describe("quiesce (real containers)", () => {
  it("stops and pauses labelled services, leaves databases and unlabelled ones running, brings them back", async () => {
    const [web, worker, db, other] = await Promise.all([app("web"), app("worker"), app("db"), app("other")]);
    const services = [
      svc("web", { "simpledeploy.backup.stop": "true" }),
      svc("worker", { "simpledeploy.backup.stop": "true", "simpledeploy.backup.pause": "true" }),
      svc("db", { "simpledeploy.backup.stop": "true" }),
      svc("other", {}),
    ];
    const q = await quiesce(services, [web, worker, db, other], new Set(["db"]), { docker: api, log: silentLogger, signal: signal() });
    const state = async (id: string) => (await api.inspect(id, { signal: signal() }));
    expect((await state(web.id)).running).toBe(false);
    expect((await state(worker.id)).paused).toBe(true);
    expect((await state(db.id)).running).toBe(true);
    expect((await state(other.id)).running).toBe(true);
    const downtime = await q.resume();
    expect(downtime.map((d) => `${d.service}:${d.action}:${d.error ?? "ok"}`)).toEqual(["web:stop:ok", "worker:pause:ok"]);
    expect((await state(web.id)).running).toBe(true);
    expect((await state(worker.id)).paused).toBe(false);
  }, 60_000);

  it("Ctrl-C while docker stop is still in progress: the stop is awaited, then the container is started again (issue 11 case 5)", async () => {
    // PID 1 ignores SIGTERM, so the stop takes the whole 3 s stop timeout.
    const c = await startContainer({ image: "debian:bookworm", cmd: ["sleep", "infinity"], stopTimeout: 3, labels: { "com.docker.compose.service": "web" } });
    created.push(c.id);
    const web = await api.inspect(c.id, { signal: signal() });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new CancelledError()), 500);
    await expect(quiesce([svc("web", { "simpledeploy.backup.stop": "true" })], [web], new Set(), { docker: api, log: silentLogger, signal: controller.signal }))
      .rejects.toBeInstanceOf(CancelledError);
    // Look only once the engine's stop is surely over: a stop left running would have ended by now.
    await new Promise((r) => setTimeout(r, Math.max(0, 4500 - (Date.now() - started))));
    expect((await api.inspect(c.id, { signal: signal() })).running).toBe(true);
  }, 60_000);

  it("reports a container that was removed while stopped instead of starting a stale id", async () => {
    const web = await app("web");
    const q = await quiesce([svc("web", { "simpledeploy.backup.stop": "true" })], [web], new Set(), { docker: api, log: silentLogger, signal: signal() });
    await removeContainers([web.id]);
    const [d] = await q.resume();
    expect(d!.error).toMatch(/gone \(recreated while it was stopped\?\)/);
  }, 60_000);
});
