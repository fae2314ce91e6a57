// ntfy: a push message to a topic, with title, priority and tags chosen by the run's status.
import { ConfigError } from "../errors.ts";
import { basicAuth, displayUrl, innerUrl, protocolOf, urlSecrets } from "./url.ts";
import type { Channel, Notifier, RunStatus } from "./types.ts";

/** ntfy rejects messages over 4096 bytes by default (they become attachments). */
const MAX_MESSAGE = 3500;

/** Priority 1-5 (min … urgent) and emoji tags, by status. */
export const NTFY_STYLE: Record<RunStatus, { priority: string; tags: string }> = {
  failed: { priority: "5", tags: "rotating_light,sdbackup" },
  partial: { priority: "4", tags: "warning,sdbackup" },
  ok: { priority: "2", tags: "white_check_mark,sdbackup" },
  skipped: { priority: "1", tags: "zzz,sdbackup" },
};

export const ntfy = {
  name: "ntfy",
  schemes: ["ntfy", "ntfy+https", "ntfy+http"],
  syntax: "ntfy://[user:password@]host/topic[?token=tk_…] (https; ntfy+http:// for plain http)",
  create(url) {
    const topicUrl = innerUrl(url, protocolOf(url, "https:"));
    const topic = topicUrl.pathname.replace(/^\/+|\/+$/g, "");
    if (!topicUrl.hostname || !topic || topic.includes("/")) {
      throw new ConfigError(`ntfy URL ${displayUrl(url)} needs a host and one topic`, { hint: "e.g. ntfy://ntfy.sh/my-backups" });
    }
    const token = topicUrl.searchParams.get("token");
    topicUrl.search = "";
    const auth = token ? { authorization: `Bearer ${token}` } : basicAuth(url);
    return {
      notifier: "ntfy",
      display: displayUrl(url),
      secrets: urlSecrets(url),
      everyRun: false,
      async finish(event, send) {
        const style = NTFY_STYLE[event.status];
        const tail = event.logTail.split("\n").slice(-15).join("\n");
        const message = `${event.summary}${tail ? `\n\n${tail}` : ""}`.slice(0, MAX_MESSAGE);
        return (await send({
          url: topicUrl.href,
          headers: { title: asciiHeader(event.title), priority: style.priority, tags: style.tags, "content-type": "text/plain; charset=utf-8", ...auth },
          body: message,
        })).attempts;
      },
    } satisfies Channel;
  },
} satisfies Notifier;

// --- internal ---

/** HTTP header values are bytes; project names are ASCII but a hint might not be. */
function asciiHeader(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}
