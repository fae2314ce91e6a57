// The encryption flags of backup (recipients, passphrase) and of restore and verify (identities),
// and where their values come from: flags, then SDBACKUP_AGE_* variables, then the
// `simpledeploy.backup.encrypt-to` label. Secrets come only from files or a terminal prompt.
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Writable } from "node:stream";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { Deps } from "../deps.ts";
import { ConfigError } from "../errors.ts";
import { LABEL, splitList } from "../compose/labels.ts";
import { nonEmptyList } from "./validate.ts";
import { KeyRing, checkRecipients, keyLines, parseIdentities, type EncryptSpec } from "../pipeline/encrypt.ts";

export interface EncryptOptions {
  encryptTo?: string[];
  recipientsFile?: string[];
  passphrase?: boolean;
}

export interface DecryptOptions {
  identity?: string[];
}

export function addEncryptOptions(cmd: Command): Command {
  return cmd
    .option("--encrypt-to <age1…>", "encrypt artifacts to this age recipient (repeatable; or SDBACKUP_AGE_RECIPIENTS)", nonEmptyList("--encrypt-to"))
    .option("--recipients-file <file>", "encrypt to the recipients in this file, one per line, as age -R (repeatable)", nonEmptyList("--recipients-file"))
    .option("--passphrase", "encrypt with a passphrase from SDBACKUP_PASSPHRASE_FILE, or asked on the terminal");
}

export function addDecryptOptions(cmd: Command): Command {
  return cmd.option("--identity <file>", "age identity file to decrypt with, as age -i (repeatable; or SDBACKUP_AGE_IDENTITY_FILE)", nonEmptyList("--identity"));
}

/**
 * How each service's artifact is encrypted, or undefined for none. Flags win over the variables;
 * a service's label adds recipients for its own artifact. Recipients and a passphrase exclude
 * each other (an age file has one or the other).
 */
export async function resolveEncryption(
  opts: EncryptOptions,
  deps: Pick<Deps, "env" | "cwd" | "log" | "signal" | "stdinIsTTY">,
  services: { name: string; labels: Record<string, string> }[],
): Promise<Map<string, EncryptSpec> | undefined> {
  const fromFlags = [...(opts.encryptTo ?? []), ...(await recipientsIn(opts.recipientsFile ?? []))];
  const env = deps.env;
  const fromEnv = fromFlags.length ? [] : [
    ...splitList(env.SDBACKUP_AGE_RECIPIENTS?.replace(/\s+/g, ",")),
    ...(env.SDBACKUP_AGE_RECIPIENTS_FILE ? await recipientsIn([env.SDBACKUP_AGE_RECIPIENTS_FILE]) : []),
  ];
  const global = await checkRecipients([...fromFlags, ...fromEnv], fromFlags.length ? "--encrypt-to/--recipients-file" : "SDBACKUP_AGE_RECIPIENTS");
  const labelled = new Map<string, string[]>();
  for (const s of services) labelled.set(s.name, await checkRecipients(splitList(s.labels[LABEL.encryptTo]), `label ${LABEL.encryptTo} of ${s.name}`));
  const wantsPassphrase = Boolean(opts.passphrase) || Boolean(env.SDBACKUP_PASSPHRASE_FILE);
  if (wantsPassphrase) {
    if (global.length || [...labelled.values()].some((r) => r.length)) {
      throw new ConfigError("an age file is encrypted to a passphrase or to recipients, not both", {
        hint: "drop --passphrase/SDBACKUP_PASSPHRASE_FILE, or the recipients (flags, SDBACKUP_AGE_RECIPIENTS*, encrypt-to labels)",
      });
    }
    const passphrase = await readPassphrase(deps, true);
    return new Map(services.map((s) => [s.name, { passphrase }]));
  }
  const specs = services
    .map((s): [string, string[]] => [s.name, [...new Set([...global, ...(labelled.get(s.name) ?? [])])]])
    .filter(([, r]) => r.length > 0);
  return specs.length ? new Map(specs.map(([name, recipients]) => [name, { recipients }])) : undefined;
}

/** Identities from `--identity` (else SDBACKUP_AGE_IDENTITY_FILE) and, when needed, the passphrase. */
export async function resolveKeyRing(opts: DecryptOptions, deps: Pick<Deps, "env" | "log" | "signal" | "stdinIsTTY">): Promise<KeyRing> {
  const files = opts.identity?.length ? opts.identity : deps.env.SDBACKUP_AGE_IDENTITY_FILE ? [deps.env.SDBACKUP_AGE_IDENTITY_FILE] : [];
  const identities: string[] = [];
  for (const file of files) identities.push(...parseIdentities(await readSecretFile(file, "identity file", deps), file));
  const canAsk = Boolean(deps.env.SDBACKUP_PASSPHRASE_FILE) || deps.stdinIsTTY;
  return new KeyRing(identities, canAsk ? () => readPassphrase(deps, false) : undefined);
}

// --- internal ---

async function recipientsIn(files: string[]): Promise<string[]> {
  const all: string[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch((cause: unknown) => {
      throw new ConfigError(`cannot read recipients file ${file}`, { cause });
    });
    all.push(...await checkRecipients(keyLines(text).map((l) => l.value), `recipients file ${file}`));
  }
  return all;
}

/** Reads a secret file, warning when others may read it. The content never reaches a message. */
async function readSecretFile(file: string, what: string, deps: Pick<Deps, "log">): Promise<string> {
  try {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) deps.log.warn(`${what} ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read ${what} ${file}`, { cause });
  }
}

async function readPassphrase(deps: Pick<Deps, "env" | "log" | "signal" | "stdinIsTTY">, confirm: boolean): Promise<string> {
  const file = deps.env.SDBACKUP_PASSPHRASE_FILE;
  if (file) {
    const text = (await readSecretFile(file, "passphrase file", deps)).replace(/\r?\n$/, "");
    if (!text) throw new ConfigError(`passphrase file ${file} is empty`);
    return text;
  }
  if (!deps.stdinIsTTY) {
    throw new ConfigError("a passphrase is needed and there is no terminal to ask on", { hint: "name a file holding it with SDBACKUP_PASSPHRASE_FILE" });
  }
  const first = await askHidden("age passphrase: ", deps.signal);
  if (!first) throw new ConfigError("the passphrase is empty");
  if (confirm && (await askHidden("again: ", deps.signal)) !== first) throw new ConfigError("the passphrases differ");
  return first;
}

/** A terminal question whose answer is not echoed. */
async function askHidden(question: string, signal: AbortSignal): Promise<string> {
  process.stderr.write(question);
  const silent = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  // The terminal is raw while reading: pass Ctrl-C on as the signal main.ts handles (abort, exit 130).
  rl.on("SIGINT", () => process.kill(process.pid, "SIGINT"));
  try {
    return await rl.question("", { signal });
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}
