// The real age CLI (Debian package `age`, installed by .ci/run) as the reference the encryption
// tests compare against. Missing age fails under CI=true and skips elsewhere.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import path from "node:path";

export const hasAge = (() => {
  try {
    execFileSync("age", ["--version"], { stdio: "ignore" });
    execFileSync("age-keygen", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Under CI a missing age is an error, never a skip: `describe.skipIf(skipAge)` plus {@link requireAge}. */
export const skipAge = !hasAge && !process.env.CI;

export function requireAge(): void {
  if (!hasAge) throw new Error("the age CLI (age, age-keygen) is missing: apt-get install age (.ci/run installs it)");
}

/** A fresh identity file (0600) in `dir` and its recipient. */
export function newKey(dir: string, name = "key.txt"): { file: string; recipient: string; secret: string } {
  const file = path.join(dir, name);
  execFileSync("age-keygen", ["-o", file], { stdio: "ignore" });
  chmodSync(file, 0o600);
  const recipient = execFileSync("age-keygen", ["-y", file]).toString().trim();
  const secret = execFileSync("grep", ["^AGE-SECRET-KEY-", file]).toString().trim();
  return { file, recipient, secret };
}

/**
 * Runs `age args…` on a pseudo-terminal (util-linux `script`), answering every passphrase prompt
 * with `passphrase`: age reads passphrases from the terminal only, never from argv or env.
 */
export function ageOnTty(args: string[], passphrase: string, timeoutMs = 60_000): Promise<void> {
  const quoted = ["age", ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-q", "-e", "-c", quoted, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let answered = 0;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const prompts = (out.match(/passphrase/gi) ?? []).length;
      while (answered < prompts) {
        answered++;
        child.stdin.write(`${passphrase}\n`);
      }
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      code === 0 ? resolve() : reject(new Error(`age ${args.join(" ")} exited ${code}: ${out.slice(-500)}`));
    });
  });
}

export function writeSecret(file: string, text: string): string {
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}
