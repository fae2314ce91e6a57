/** Environment keys whose values are treated as secrets even when not listed explicitly. */
const SECRET_KEY = /PASS|PWD|SECRET|TOKEN|KEY|AUTH/i;

export const REDACTED = "***";

/**
 * Every value to hide: the explicit secrets plus env values under secret-looking keys. Longest
 * first, so that a secret containing another one is replaced whole.
 */
export function secretValues(opts: { env?: Record<string, string>; secrets?: readonly string[] }): string[] {
  const values = new Set<string>(opts.secrets ?? []);
  for (const [key, value] of Object.entries(opts.env ?? {})) if (SECRET_KEY.test(key)) values.add(value);
  values.delete("");
  return [...values].sort((a, b) => b.length - a.length);
}

/**
 * The one redaction: replaces every secret in `text` with `***`, longest first so that a secret
 * containing another one is replaced whole, whatever order the caller gives.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) if (secret) out = out.replaceAll(secret, REDACTED);
  return out;
}

/**
 * The last `maxBytes` of a stream (stderr), so that a chatty process cannot grow memory. When
 * bytes were dropped, the first partial line is dropped too (unless it is the only one): it could
 * hold the end of a secret whose beginning was cut off, which redaction would no longer recognise.
 */
export class StderrTail {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #length = 0;
  #dropped = false;

  constructor(maxBytes = 16 * 1024) {
    this.#maxBytes = maxBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (chunk.length > this.#maxBytes) {
      chunk = chunk.subarray(chunk.length - this.#maxBytes);
      this.#dropped = true;
    }
    this.#chunks.push(Buffer.from(chunk));
    this.#length += chunk.length;
    while (this.#chunks.length > 1 && this.#length - this.#chunks[0]!.length >= this.#maxBytes) {
      this.#length -= this.#chunks.shift()!.length;
      this.#dropped = true;
    }
  }

  /** The tail as text with every secret replaced. */
  text(secrets: readonly string[]): string {
    let buf = Buffer.concat(this.#chunks);
    let cut = this.#dropped;
    if (buf.length > this.#maxBytes) {
      buf = buf.subarray(buf.length - this.#maxBytes);
      cut = true;
    }
    let text = buf.toString("utf8");
    if (cut) {
      const newline = text.indexOf("\n");
      if (newline !== -1) text = text.slice(newline + 1);
    }
    return redact(text, secrets);
  }
}
