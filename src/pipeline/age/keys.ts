// Keys in age's own file formats: recipients (`age1…` lines, as `age -R`) and identities
// (`AGE-SECRET-KEY-1…` lines, as `age -i` and age-keygen write them), and the KeyRing that opens
// headers. Messages name files and line numbers, never a line's content: it may be a secret.
import { ConfigError } from "../../errors.ts";
import { stanzaTypes, unwrapHeader } from "./header.ts";
import { ScryptIdentity } from "./scrypt.ts";
import { loadAge } from "./lib.ts";

/** Lines of an age key file without blanks and `#` comments, with their line numbers. */
export function keyLines(text: string): { line: number; value: string }[] {
  return text.split(/\r?\n/).map((l, i) => ({ line: i + 1, value: l.trim() })).filter((l) => l.value && !l.value.startsWith("#"));
}

/** Checks `age1…` recipients with the library; `from` says where they came from. */
export async function checkRecipients(recipients: string[], from: string): Promise<string[]> {
  const { Encrypter } = await loadAge();
  for (const r of recipients) {
    try {
      if (!r.startsWith("age1")) throw new Error("not age1");
      new Encrypter().addRecipient(r);
    } catch (cause) {
      const shown = r.length > 80 ? `${r.slice(0, 77)}…` : r; // public keys: safe to show
      throw new ConfigError(`${from}: "${shown}" is not an age recipient (age1…)`, {
        cause, hint: "make one with age-keygen; SSH and plugin recipients are not supported",
      });
    }
  }
  return recipients;
}

/** Identities in an identity file's text; `file` names it in errors. */
export function parseIdentities(text: string, file: string): string[] {
  const ids = keyLines(text).map(({ line, value }) => {
    if (!/^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/.test(value)) {
      throw new ConfigError(`identity file ${file}, line ${line}: not an age identity (AGE-SECRET-KEY-1…)`, {
        hint: "use a file written by age-keygen; SSH and plugin identities are not supported",
      });
    }
    return value;
  });
  if (ids.length === 0) throw new ConfigError(`identity file ${file} holds no identity`);
  return ids;
}

/**
 * Identities and, lazily, a passphrase, plus the file keys already opened in this run: a restore
 * opens each header up to three times (preflight, verify, apply) and scrypt costs seconds.
 */
export class KeyRing {
  readonly #identities: string[];
  readonly #askPassphrase: (() => Promise<string>) | undefined;
  #passphrase: Promise<string> | undefined;
  readonly #opened = new Map<string, Uint8Array>();

  constructor(identities: string[], askPassphrase?: () => Promise<string>) {
    this.#identities = identities;
    this.#askPassphrase = askPassphrase;
  }

  /** Whether anything could open a header. */
  get empty(): boolean {
    return this.#identities.length === 0 && !this.#askPassphrase;
  }

  /**
   * The file key of `header`, or a reason it cannot be opened: `"no-key"` when the header needs a
   * passphrase or identity this ring lacks, `"no-match"` when the given ones do not fit.
   */
  async open(header: Buffer, what: string): Promise<Uint8Array | "no-key" | "no-match"> {
    const cacheKey = header.toString("base64");
    const known = this.#opened.get(cacheKey);
    if (known) return known;
    const passphraseFile = stanzaTypes(header).includes("scrypt");
    if (passphraseFile ? !this.#askPassphrase : this.#identities.length === 0) return "no-key";
    const ids = passphraseFile ? [new ScryptIdentity(await this.#passphraseOnce())] : this.#identities;
    const fileKey = await unwrapHeader(header, ids, what);
    if (!fileKey) return "no-match";
    this.#opened.set(cacheKey, fileKey);
    return fileKey;
  }

  #passphraseOnce(): Promise<string> {
    this.#passphrase ??= this.#askPassphrase!();
    return this.#passphrase;
  }
}
