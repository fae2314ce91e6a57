// The notifier registry (URL scheme → notifier) and the fan-out: start pings, finish messages, outcomes.
import { ConfigError } from "../errors.ts";
import { healthchecks } from "./healthchecks.ts";
import { ntfy } from "./ntfy.ts";
import { webhook } from "./webhook.ts";
import type { Channel, Notifier, NotifyOutcome, RunEvent, RunStart, RunStatus, Send } from "./types.ts";

export type { Channel, NotifyOutcome, RunCommand, RunEvent, RunStart, RunStatus } from "./types.ts";

/** Every notifier; a scheme belongs to exactly one. */
export const notifiers = [webhook, healthchecks, ntfy] as const satisfies readonly Notifier[];

const registry = new Map<string, Notifier>();
for (const n of notifiers) {
  for (const scheme of n.schemes) {
    if (registry.has(scheme)) throw new Error(`notification scheme ${scheme} is registered twice`);
    registry.set(scheme, n);
  }
}

export const NOTIFY_ON = ["failure", "partial", "always"] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

/**
 * `--notify` URLs plus `SDBACKUP_NOTIFY` (whitespace-separated). A URL no notifier takes is a
 * usage error raised before any work; the message never repeats the URL's credentials.
 */
export function parseNotifyUrls(flags: readonly string[] | undefined, env: NodeJS.ProcessEnv): Channel[] {
  const all = [...(flags ?? []), ...(env.SDBACKUP_NOTIFY ?? "").split(/\s+/)].map((s) => s.trim()).filter(Boolean);
  return all.map((text) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new ConfigError(`notification URL "${text.replace(/\/\/[^@/]*@/, "//***@")}" is not a URL`, { hint: notifyHint() });
    }
    const notifier = registry.get(url.protocol.slice(0, -1).toLowerCase());
    if (!notifier) throw new ConfigError(`no notifier for ${url.protocol}// URLs`, { hint: notifyHint() });
    return notifier.create(url);
  });
}

/** Whether `--notify-on` wants a message for this status: failure ⊂ partial ⊂ always. */
export function wants(notifyOn: NotifyOn, status: RunStatus): boolean {
  if (notifyOn === "always") return true;
  if (status === "failed") return true;
  return status === "partial" && notifyOn === "partial";
}

/** Start pings (healthchecks), concurrently; never throws. */
export async function notifyStart(channels: readonly Channel[], run: RunStart, send: Send): Promise<NotifyOutcome[]> {
  return settle(channels.filter((c) => c.start), "start", (c) => c.start!(run, send));
}

/** Finish messages to every channel that wants this status; never throws. */
export async function notifyFinish(channels: readonly Channel[], event: RunEvent, notifyOn: NotifyOn, send: Send): Promise<NotifyOutcome[]> {
  return settle(channels.filter((c) => c.everyRun || wants(notifyOn, event.status)), "finish", (c) => c.finish(event, send));
}

// --- internal ---

function notifyHint(): string {
  return `supported: ${notifiers.map((n) => n.syntax).join("; ")}`;
}

async function settle(channels: readonly Channel[], phase: NotifyOutcome["phase"], call: (c: Channel) => Promise<number>): Promise<NotifyOutcome[]> {
  return Promise.all(channels.map(async (c): Promise<NotifyOutcome> => {
    try {
      return { notifier: c.notifier, to: c.display, phase, ok: true, attempts: await call(c) };
    } catch (err) {
      return { notifier: c.notifier, to: c.display, phase, ok: false, attempts: (err as { attempts?: number }).attempts ?? 1, error: err instanceof Error ? err.message : String(err) };
    }
  }));
}
