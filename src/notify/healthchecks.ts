// healthchecks.io-style pings: /start before the run, then the base URL (success) or /<exit code> (failure), the log tail as body.
import { ConfigError } from "../errors.ts";
import { displayUrl, innerUrl, protocolOf } from "./url.ts";
import type { Channel, Notifier } from "./types.ts";

/** healthchecks.io accepts 100 kB bodies; the tail of a run's log fits well within that. */
const MAX_BODY = 10_000;

export const healthchecks = {
  name: "healthchecks",
  schemes: ["healthchecks+https", "healthchecks+http", "hc+https", "hc+http"],
  syntax: "healthchecks+https://hc-ping.com/<uuid> (or a self-hosted ping URL): start, success and failure pings",
  create(url) {
    const base = innerUrl(url, protocolOf(url, "https:"));
    if (base.pathname.length <= 1) throw new ConfigError(`healthchecks URL ${displayUrl(url, true)} has no ping path`, { hint: "e.g. healthchecks+https://hc-ping.com/<uuid>" });
    base.pathname = base.pathname.replace(/\/+$/, "");
    const ping = (suffix: string, rid: string) => {
      const u = new URL(base.href);
      u.pathname += suffix;
      u.searchParams.set("rid", rid);
      return u.href;
    };
    // the ping path is the check's credential: anyone holding it can report
    const secrets = base.pathname.split("/").filter((p) => p.length >= 8);
    return {
      notifier: "healthchecks",
      display: displayUrl(url, true),
      secrets,
      everyRun: true,
      async start(run, send) {
        return (await send({ url: ping("/start", run.runId), body: `${run.command} ${run.project ?? ""} started on ${run.host}` })).attempts;
      },
      async finish(event, send) {
        // exit code 0 is success; a non-zero one is recorded as a failure with its code
        const suffix = event.status === "ok" || event.status === "skipped" ? "" : `/${event.exitCode || 1}`;
        const body = `${event.title}\n${event.summary}\n\n${event.logTail}`.slice(-MAX_BODY);
        return (await send({ url: ping(suffix, event.runId), headers: { "content-type": "text/plain; charset=utf-8" }, body })).attempts;
      },
    } satisfies Channel;
  },
} satisfies Notifier;
