import { describe, expect, it } from "vitest";
import { ComposeError } from "../../../src/errors.ts";
import { parseDotenv } from "../../../src/compose/dotenv.ts";

const FILE = "/p/.env";

function errorOf(fn: () => unknown): ComposeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ComposeError) return err;
    throw err;
  }
  throw new Error("expected a ComposeError");
}

describe("parseDotenv", () => {
  it("reads keys, skipping comments and blank lines", () => {
    const text = ["# a comment", "", "A=1", "   # indented comment", "export B=two", "C = spaced ", "D: yaml-ish", "E=", "F.G-h=dots"].join("\n");
    expect(parseDotenv(text, FILE)).toEqual({ A: "1", B: "two", C: "spaced", D: "yaml-ish", E: "", "F.G-h": "dots" });
  });

  it("strips a trailing comment only when whitespace precedes the #", () => {
    expect(parseDotenv("A=abc # note\nB=pa#ss\nC=x\t# tab", FILE)).toEqual({ A: "abc", B: "pa#ss", C: "x" });
  });

  it("keeps single-quoted values literally", () => {
    const value = "$HOME \\n # not a comment ${X:?y}";
    expect(parseDotenv(`A='${value}'`, FILE)).toEqual({ A: value });
  });

  it("unescapes double-quoted values", () => {
    const text = String.raw`A="line1\nline2 \"quoted\" back\\slash tab\tend \$LITERAL"`;
    expect(parseDotenv(text, FILE)).toEqual({ A: 'line1\nline2 "quoted" back\\slash tab\tend $LITERAL' });
  });

  it("ignores what follows the closing quote", () => {
    expect(parseDotenv(`A="x y" # comment\nB='z' # comment`, FILE)).toEqual({ A: "x y", B: "z" });
  });

  it("reads multi-line quoted values and keeps counting lines after them", () => {
    const text = 'CERT="-----BEGIN-----\nabc\n-----END-----"\nOK=1\nbad line here';
    const err = errorOf(() => parseDotenv(text, FILE));
    expect(err.line).toBe(5);
    expect(parseDotenv(text.split("\nbad")[0]!, FILE)).toEqual({ CERT: "-----BEGIN-----\nabc\n-----END-----", OK: "1" });
    expect(parseDotenv("S='a\nb'", FILE)).toEqual({ S: "a\nb" });
  });

  it("interpolates unquoted and double-quoted values from the lookup first, then earlier keys", () => {
    const text = ["USER=app", "HOST=db", 'URL="postgres://${USER}@${HOST}:${PORT:-5432}"', "PLAIN=$USER-$$", "RAW='${USER}'"].join("\n");
    expect(parseDotenv(text, FILE, (n) => (n === "HOST" ? "from-env" : undefined))).toEqual({
      USER: "app",
      HOST: "db",
      URL: "postgres://app@from-env:5432",
      PLAIN: "app-$",
      RAW: "${USER}",
    });
  });

  it("does not see keys defined later", () => {
    expect(parseDotenv("A=${B}\nB=1", FILE)).toEqual({ A: "", B: "1" });
  });

  it("takes a bare KEY from the lookup and drops it when unset", () => {
    const lookup = (n: string) => (n === "TZ" ? "Europe/Berlin" : undefined);
    expect(parseDotenv("TZ\nMISSING\nexport ALSO_MISSING # c", FILE, lookup)).toEqual({ TZ: "Europe/Berlin" });
  });

  it("handles CRLF line endings and a byte-order mark", () => {
    expect(parseDotenv("\uFEFFA=1\r\nB=\"x\"\r\n", FILE)).toEqual({ A: "1", B: "x" });
  });

  it("later keys override earlier ones", () => {
    expect(parseDotenv("A=1\nA=2", FILE)).toEqual({ A: "2" });
  });

  it.each([
    ["an unterminated quote", 'A=1\nB="never closed\nC=3', 2, /unterminated quoted value for B/],
    ["a line without a key", "A=1\n\n=oops", 3, /invalid line/],
    ["text after a bare key", "A=1\nKEY value", 2, /invalid line/],
    ["a required variable", "A=1\nB=${NOPE:?set NOPE first}", 2, /B: required variable NOPE is missing a value: set NOPE first/],
  ])("rejects %s with file and line", (_, text, line, message) => {
    const err = errorOf(() => parseDotenv(text, FILE));
    expect(err.file).toBe(FILE);
    expect(err.line).toBe(line);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${FILE}:${line}: `)).toBe(true);
  });
});
