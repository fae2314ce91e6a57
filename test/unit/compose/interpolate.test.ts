import { describe, expect, it } from "vitest";
import { ComposeError } from "../../../src/errors.ts";
import { interpolate } from "../../../src/compose/interpolate.ts";

const env: Record<string, string> = { SET: "value", EMPTY: "", lower: "low", WITH_DOLLAR: "a$b" };
const lookup = (name: string) => env[name];
const where = { file: "/p/compose.yaml", key: "services.db.environment.X" };
const run = (s: string) => interpolate(s, lookup, where);

describe("interpolate", () => {
  it.each([
    ["no variables", "plain text", "plain text"],
    ["$VAR", "$SET", "value"],
    ["${VAR}", "${SET}", "value"],
    ["surrounded", "pre-${SET}-post", "pre-value-post"],
    ["$VAR stops at a non-name character", "$SET.x/$SET", "value.x/value"],
    ["$VAR takes the longest name", "$SETX", ""],
    ["lowercase names", "$lower ${lower}", "low low"],
    ["unset plain", "${UNSET}", ""],
    [":- on unset", "${UNSET:-def}", "def"],
    [":- on empty", "${EMPTY:-def}", "def"],
    [":- on set", "${SET:-def}", "value"],
    ["- on unset", "${UNSET-def}", "def"],
    ["- on empty keeps empty", "${EMPTY-def}", ""],
    ["empty default", "${UNSET:-}", ""],
    ["default with spaces and colons", "${UNSET:-http://db:5432/x y}", "http://db:5432/x y"],
    [":+ on set", "${SET:+alt}", "alt"],
    [":+ on empty", "${EMPTY:+alt}", ""],
    [":+ on unset", "${UNSET:+alt}", ""],
    ["+ on empty", "${EMPTY+alt}", "alt"],
    ["+ on unset", "${UNSET+alt}", ""],
    [":? on set", "${SET:?boom}", "value"],
    ["? on empty", "${EMPTY?boom}", ""],
    ["nested default", "${UNSET:-${SET}}", "value"],
    ["doubly nested default", "${A:-${B:-x}}", "x"],
    ["nested alt", "${SET:+[${lower}]}", "[low]"],
    ["required inside an unused default is not evaluated", "${SET:-${UNSET:?boom}}", "value"],
    ["$$ is a literal $", "$$SET", "$SET"],
    ["$$ alone", "cost: 5$$", "cost: 5$"],
    ["$$ then a variable", "$$$SET", "$value"],
    ["$$ inside a default", "${UNSET:-$${SET}}", "${SET}"],
    ["a lone $ stays", "5$ and $1 and $-x", "5$ and $1 and $-x"],
    ["trailing $", "abc$", "abc$"],
    ["values are not re-expanded", "${WITH_DOLLAR}", "a$b"],
    ["several in a row", "${SET}${SET}$SET", "valuevaluevalue"],
  ])("%s: %s", (_, input, expected) => {
    expect(run(input)).toBe(expected);
  });

  it("reports unset plain variables, not ones with a default or alternative", () => {
    const unset: string[] = [];
    interpolate("$A ${B} ${C:-x} ${D-x} ${E:+x} ${F+x} ${SET}", lookup, where, (n) => unset.push(n));
    expect(unset).toEqual(["A", "B"]);
  });

  it.each([
    ["${UNSET:?set it in .env}", "UNSET", "set it in .env"],
    ["${EMPTY:?may not be empty}", "EMPTY", "may not be empty"],
    ["${UNSET?must exist}", "UNSET", "must exist"],
    ["prefix ${UNSET:-${ALSO_UNSET:?nested error}}", "ALSO_UNSET", "nested error"],
  ])("required %s fails naming file, key and the user's text", (input, name, text) => {
    let err: unknown;
    try {
      interpolate(input, lookup, { ...where, line: 12 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ComposeError);
    const e = err as ComposeError;
    expect(e.exitCode).toBe(2);
    expect(e.file).toBe("/p/compose.yaml");
    expect(e.line).toBe(12);
    expect(e.message).toBe(
      `/p/compose.yaml:12: error while interpolating services.db.environment.X: required variable ${name} is missing a value: ${text}`,
    );
  });

  it("required without a text still names the variable", () => {
    expect(() => run("${UNSET:?}")).toThrow(/required variable UNSET is missing a value$/);
  });

  it.each(["${", "${}", "${SET", "pw-${1abc}", "${SET:x}", "${SET!}", "${SET:}", "${ SET}", "${UNSET:-${}"])(
    "malformed %s is a ComposeError that does not echo the value",
    (input) => {
      const value = `hunter2-${input}`;
      let err: unknown;
      try {
        interpolate(value, lookup, where);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ComposeError);
      expect((err as Error).message).toContain("invalid interpolation format for services.db.environment.X");
      expect((err as Error).message).not.toContain("hunter2");
    },
  );
});
