// Generic JSON webhook: POSTs the run's event (status, error, the command's JSON result) to any URL.
import { ConfigError } from "../errors.ts";
import { basicAuth, displayUrl, innerUrl, protocolOf, urlSecrets } from "./url.ts";
import type { Channel, Notifier } from "./types.ts";

export const webhook = {
  name: "webhook",
  schemes: ["https", "http", "generic+https", "generic+http"],
  syntax: "https://host/path (or generic+https://…): POST of a JSON document with the run's status, error and result",
  create(url) {
    const target = innerUrl(url, protocolOf(url, "https:"));
    if (!target.hostname) throw new ConfigError(`notification URL ${displayUrl(url)} has no host`);
    const auth = basicAuth(url);
    return {
      notifier: "webhook",
      display: displayUrl(url),
      secrets: urlSecrets(url),
      everyRun: false,
      async finish(event, send) {
        const { runId: _id, ...payload } = event;
        const body = JSON.stringify({ tool: "sdbackup", ...payload });
        return (await send({ url: target.href, headers: { "content-type": "application/json", ...auth }, body })).attempts;
      },
    } satisfies Channel;
  },
} satisfies Notifier;
