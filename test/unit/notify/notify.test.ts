import { afterEach, describe, expect, it } from "vitest";
import { notifyFinish, notifyStart, parseNotifyUrls, wants, type RunEvent, type RunStart } from "../../../src/notify/index.ts";
import { createSend } from "../../../src/notify/http.ts";
import { NTFY_STYLE } from "../../../src/notify/ntfy.ts";
import { deadPort, startRecorder, type Recorder } from "../../helpers/http-recorder.ts";

const send = createSend({ timeoutMs: 500, retryDelayMs: 10 });
const start: RunStart = { command: "backup", project: "shop", host: "h1", startedAt: "2026-01-10T03:00:00.000Z", runId: "11111111-2222-3333-4444-555555555555" };
const event = (status: RunEvent["status"], extra: Partial<RunEvent> = {}): RunEvent => ({
  ...start, status, exitCode: status === "failed" ? 1 : status === "partial" ? 3 : 0, finishedAt: "2026-01-10T03:01:00.000Z", durationMs: 60_000,
  title: `sdbackup backup shop: ${status}`, summary: status === "ok" ? "backup ok" : "db: pg_dump exited 1", logTail: "line 1\nline 2", ...extra,
});

let servers: Recorder[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function recorder(respond?: Parameters<typeof startRecorder>[0]): Promise<Recorder> {
  const r = await startRecorder(respond);
  servers.push(r);
  return r;
}
const hostOf = (url: string) => url.replace(/^http:\/\//, "");

describe("notification URLs", () => {
  it("maps schemes to notifiers and never displays credentials or ping keys", () => {
    const channels = parseNotifyUrls([
      "https://user:hunter22@hooks.example/x?token=abcd1234", "healthchecks+https://hc-ping.com/0f9a1c2e-aaaa-bbbb-cccc-123456789abc", "ntfy://ntfy.sh/backups?token=tk_secret99",
    ], { SDBACKUP_NOTIFY: "generic+http://127.0.0.1/h  ntfy+http://lan:8080/t" });
    expect(channels.map((c) => [c.notifier, c.display])).toEqual([
      ["webhook", "https://hooks.example/x?token=***"],
      ["healthchecks", "healthchecks+https://hc-ping.com/…"],
      ["ntfy", "ntfy://ntfy.sh/backups?token=***"],
      ["webhook", "generic+http://127.0.0.1/h"],
      ["ntfy", "ntfy+http://lan:8080/t"],
    ]);
    expect(channels[0]!.secrets).toEqual(expect.arrayContaining(["hunter22", "abcd1234"]));
    expect(channels[1]!.secrets).toEqual(["0f9a1c2e-aaaa-bbbb-cccc-123456789abc"]);
  });

  it("rejects unknown schemes and unusable URLs with a usage error that hides the password", () => {
    expect(() => parseNotifyUrls(["mailto:me@example.com"], {})).toThrow(/no notifier for mailto:\/\/ URLs/);
    expect(() => parseNotifyUrls(["ntfy://ntfy.sh/"], {})).toThrow(/needs a host and one topic/);
    expect(() => parseNotifyUrls(["healthchecks+https://hc-ping.com"], {})).toThrow(/has no ping path/);
    expect(() => parseNotifyUrls(["https://u:pw-visible@ bad"], {})).toThrow(expect.objectContaining({ message: expect.not.stringContaining("pw-visible") }));
  });

  it("--notify-on: failure ⊂ partial ⊂ always", () => {
    expect(["ok", "partial", "failed", "skipped"].map((s) => wants("failure", s as RunEvent["status"]))).toEqual([false, false, true, false]);
    expect(["ok", "partial", "failed", "skipped"].map((s) => wants("partial", s as RunEvent["status"]))).toEqual([false, true, true, false]);
    expect(["ok", "partial", "failed", "skipped"].map((s) => wants("always", s as RunEvent["status"]))).toEqual([true, true, true, true]);
  });
});

describe("sending", () => {
  it("healthchecks: start, then success, paired by rid, the log tail as body", async () => {
    const hc = await recorder();
    const channels = parseNotifyUrls([`healthchecks+http://${hostOf(hc.url)}/ping/abc-uuid-123`], {});
    expect(await notifyStart(channels, start, send)).toEqual([{ notifier: "healthchecks", to: `healthchecks+http://${hostOf(hc.url)}/…`, phase: "start", ok: true, attempts: 1 }]);
    await notifyFinish(channels, event("ok"), "failure", send); // healthchecks pings every run
    expect(hc.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`POST /ping/abc-uuid-123/start?rid=${start.runId}`, `POST /ping/abc-uuid-123?rid=${start.runId}`]);
    expect(hc.requests[1]!.body).toContain("line 1\nline 2");
  });

  it("healthchecks: a failure pings /<exit code> with the error in the body", async () => {
    const hc = await recorder();
    await notifyFinish(parseNotifyUrls([`hc+http://${hostOf(hc.url)}/p/key-1234567`], {}), event("partial"), "failure", send);
    expect(hc.requests.map((r) => r.url)).toEqual([`/p/key-1234567/3?rid=${start.runId}`]);
    expect(hc.requests[0]!.body).toContain("db: pg_dump exited 1");
  });

  it.each(["failed", "partial", "ok"] as const)("ntfy: title, priority and tags for a %s run", async (status) => {
    const ntfy = await recorder();
    const [outcome] = await notifyFinish(parseNotifyUrls([`ntfy+http://${hostOf(ntfy.url)}/backups?token=tk_abcdef`], {}), event(status), "always", send);
    expect(outcome).toMatchObject({ ok: true, notifier: "ntfy" });
    const req = ntfy.requests[0]!;
    expect({ url: req.url, title: req.headers.title, priority: req.headers.priority, tags: req.headers.tags, auth: req.headers.authorization }).toEqual({
      url: "/backups", title: `sdbackup backup shop: ${status}`, priority: NTFY_STYLE[status].priority, tags: NTFY_STYLE[status].tags, auth: "Bearer tk_abcdef",
    });
    expect(Number(req.headers.priority)).toBe({ failed: 5, partial: 4, ok: 2 }[status]);
  });

  it("webhook: POSTs the event as JSON without the run id; skipped by --notify-on for an ok run", async () => {
    const hook = await recorder();
    const channels = parseNotifyUrls([`${hook.url}/hook`], {});
    expect(await notifyFinish(channels, event("ok"), "partial", send)).toEqual([]);
    await notifyFinish(channels, event("failed", { error: { code: "E_STRATEGY", message: "pg_dump exited 1" }, result: { status: "failed" } }), "partial", send);
    const doc = JSON.parse(hook.requests[0]!.body) as Record<string, unknown>;
    expect(doc).toMatchObject({ tool: "sdbackup", command: "backup", project: "shop", status: "failed", exitCode: 1, error: { code: "E_STRATEGY" }, result: { status: "failed" } });
    expect(doc).not.toHaveProperty("runId");
    expect(hook.requests[0]!.headers["content-type"]).toBe("application/json");
  });

  it("retries once on a 5xx, not on a 4xx", async () => {
    const flaky = await recorder((_r, n) => (n === 1 ? 503 : 200));
    expect((await notifyFinish(parseNotifyUrls([`${flaky.url}/a`], {}), event("failed"), "failure", send))[0]).toMatchObject({ ok: true, attempts: 2 });
    const wrong = await recorder(() => 404);
    expect((await notifyFinish(parseNotifyUrls([`${wrong.url}/a`], {}), event("failed"), "failure", send))[0]).toMatchObject({ ok: false, attempts: 1, error: "HTTP 404 Not Found" });
  });

  it("a dead or silent endpoint becomes an outcome after the timeout and one retry, never a throw", async () => {
    const silent = await recorder(() => "hang");
    const port = await deadPort();
    const t0 = Date.now();
    const outcomes = await notifyFinish(parseNotifyUrls([`${silent.url}/slow`, `http://127.0.0.1:${port}/dead`], {}), event("failed"), "failure", send);
    expect(outcomes).toEqual([
      { notifier: "webhook", to: `${silent.url}/slow`, phase: "finish", ok: false, attempts: 2, error: "no answer within 500 ms" },
      { notifier: "webhook", to: `http://127.0.0.1:${port}/dead`, phase: "finish", ok: false, attempts: 2, error: "ECONNREFUSED" },
    ]);
    expect(silent.requests).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
