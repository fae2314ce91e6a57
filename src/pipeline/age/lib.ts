// age-encryption, loaded on first use: importing it costs about 200 ms and 20 MiB (its
// post-quantum and curve code), which runs without encryption should not pay at start-up.
type AgeModule = typeof import("age-encryption");

let loading: Promise<AgeModule> | undefined;

export function loadAge(): Promise<AgeModule> {
  loading ??= import("age-encryption");
  return loading;
}
