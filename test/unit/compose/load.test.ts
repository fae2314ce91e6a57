import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { ComposeError, ConfigError } from "../../../src/errors.ts";
import { discoverComposeFiles, loadCompose } from "../../../src/compose/load.ts";
import { caught, removeTmpProjects, tmpProject } from "./tmp-project.ts";

afterEach(removeTmpProjects);

const svc = (image: string) => `services:\n  app:\n    image: ${image}\n`;

describe("discoverComposeFiles", () => {
  it("returns [] when there is no compose file", () => {
    expect(discoverComposeFiles(tmpProject({ "README.md": "x", "compose.yaml.bak": "x" }))).toEqual([]);
  });

  it.each([
    [["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"], "compose.yaml"],
    [["compose.yml", "docker-compose.yml"], "compose.yml"],
    [["docker-compose.yaml", "docker-compose.yml"], "docker-compose.yml"],
    [["docker-compose.yaml"], "docker-compose.yaml"],
  ])("prefers like compose: %j → %s", (names, winner) => {
    const dir = tmpProject(Object.fromEntries(names.map((n) => [n, svc(n)])));
    expect(discoverComposeFiles(dir)).toEqual([join(dir, winner)]);
  });

  it("adds the override file next to it, and ignores directories with compose names", () => {
    const dir = tmpProject({ "docker-compose.yml": svc("a"), "compose.override.yaml": svc("b"), "compose.yaml/x": "" });
    expect(discoverComposeFiles(dir)).toEqual([join(dir, "docker-compose.yml"), join(dir, "compose.override.yaml")]);
  });
});

describe("loadCompose: files and environment", () => {
  it("discovers files in cwd and merges the override", async () => {
    const dir = tmpProject({ "compose.yaml": svc("a:1"), "compose.override.yml": svc("a:2") });
    const p = await loadCompose({ cwd: dir, env: {} });
    expect(p.files).toEqual([join(dir, "compose.yaml"), join(dir, "compose.override.yml")]);
    expect(p.workingDir).toBe(dir);
    expect(p.services[0]!.image).toBe("a:2");
  });

  it("without any compose file is a ConfigError with a hint", async () => {
    const dir = tmpProject({});
    const err = await caught(() => loadCompose({ cwd: dir, env: {} }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).hint).toMatch(/-f FILE.*--app/);
  });

  it("resolves -f against cwd; the working dir and .env come from the first file's directory", async () => {
    const root = tmpProject({
      "deploy/compose.yaml": "services:\n  app:\n    image: app:${TAG}\n    volumes: [./data:/data]\n",
      "deploy/.env": "TAG=from-deploy",
      "extra/more.yaml": "services:\n  app:\n    volumes: [./logs:/logs]\n",
      ".env": "TAG=from-cwd",
    });
    const p = await loadCompose({ cwd: root, env: {}, files: ["deploy/compose.yaml", join(root, "extra/more.yaml")] });
    expect(p.workingDir).toBe(join(root, "deploy"));
    expect(p.name).toBe("deploy");
    expect(p.services[0]!.image).toBe("app:from-deploy");
    // Relative paths of every file resolve against the working dir, as compose does.
    expect(p.services[0]!.volumes.map((v) => v.source)).toEqual([join(root, "deploy/data"), join(root, "deploy/logs")]);
  });

  it("an unknown -f file is a ComposeError naming the absolute path", async () => {
    const dir = tmpProject({ "compose.yaml": svc("a") });
    const err = await caught(() => loadCompose({ cwd: dir, env: {}, files: ["compose.yaml", "nope.yaml"] }));
    expect(err).toBeInstanceOf(ComposeError);
    expect(err.message).toBe(`compose file not found: ${join(dir, "nope.yaml")}`);
  });

  it("honours COMPOSE_FILE with the default and a custom separator", async () => {
    const dir = tmpProject({ "compose.yaml": svc("default"), "a.yaml": svc("a"), "b.yaml": svc("b") });
    const colon = await loadCompose({ cwd: dir, env: { COMPOSE_FILE: "a.yaml:b.yaml" } });
    expect(colon.files).toEqual([join(dir, "a.yaml"), join(dir, "b.yaml")]);
    expect(colon.services[0]!.image).toBe("b");
    const semi = await loadCompose({ cwd: dir, env: { COMPOSE_FILE: "b.yaml;a.yaml", COMPOSE_PATH_SEPARATOR: ";" } });
    expect(semi.services[0]!.image).toBe("a");
    const flags = await loadCompose({ cwd: dir, env: { COMPOSE_FILE: "a.yaml" }, files: ["compose.yaml"] });
    expect(flags.services[0]!.image).toBe("default");
  });

  it("reads COMPOSE_FILE from the .env in cwd", async () => {
    const dir = tmpProject({ "compose.yaml": svc("default"), "prod.yaml": svc("prod"), ".env": "COMPOSE_FILE=prod.yaml" });
    expect((await loadCompose({ cwd: dir, env: {} })).services[0]!.image).toBe("prod");
  });

  it("interpolates from the process env first and .env second, and warns about unset variables", async () => {
    const dir = tmpProject({
      "compose.yaml": "services:\n  app:\n    image: ${IMAGE}:${TAG}\n    labels:\n      - a=$UNSET_ONE\n      - b=${UNSET_ONE}${UNSET_TWO}\n",
      ".env": "IMAGE=from-dotenv\nTAG=dotenv-tag",
    });
    const p = await loadCompose({ cwd: dir, env: { TAG: "env-tag" } });
    expect(p.services[0]!.image).toBe("from-dotenv:env-tag");
    expect(p.services[0]!.labels).toEqual({ a: "", b: "" });
    expect(p.warnings).toEqual([
      'the "UNSET_ONE" variable is not set, defaulting to a blank string',
      'the "UNSET_TWO" variable is not set, defaulting to a blank string',
    ]);
    const quiet = await loadCompose({ cwd: tmpProject({ "compose.yaml": svc("x") }), env: {} });
    expect(quiet.warnings).toBeUndefined();
  });

  it("interpolates values, not keys, and expands $$ once even through aliases", async () => {
    const dir = tmpProject({
      "compose.yaml": "x-cmd: &cmd echo $$HOME\nservices:\n  app:\n    image: x\n    command: *cmd\n    labels:\n      ${KEY}: ${VALUE}\n",
    });
    const p = await loadCompose({ cwd: dir, env: { KEY: "k", VALUE: "v", HOME: "/root" } });
    expect(p.services[0]!.command).toBe("echo $HOME");
    expect(p.services[0]!.labels).toEqual({ "${KEY}": "v" });
  });
});

describe("loadCompose: errors", () => {
  async function loadError(text: string, env: NodeJS.ProcessEnv = {}): Promise<ComposeError> {
    const dir = tmpProject({ "compose.yaml": text });
    const err = await caught(() => loadCompose({ cwd: dir, env }));
    if (!(err instanceof ComposeError)) throw new Error(`expected a ComposeError, got ${err.name}: ${err.message}`);
    expect(err.exitCode).toBe(2);
    return err;
  }

  it("malformed YAML names the file and line", async () => {
    const err = await loadError("services:\n  app:\n    image: x\n    ports: [80\n  db:\n    image: y\n");
    expect(err.file).toMatch(/compose\.yaml$/);
    expect(err.line).toBeGreaterThanOrEqual(4);
    expect(err.message).toMatch(/compose\.yaml:\d+: invalid YAML: /);
  });

  it("a bad indentation is reported on its line", async () => {
    const err = await loadError("services:\n  app:\n    image: x\n   environment: {}\n");
    expect(err.line).toBe(4);
  });

  it("duplicate keys are an error", async () => {
    const err = await loadError("services:\n  app:\n    image: x\n    image: y\n");
    expect(err.message).toMatch(/unique/i);
    expect(err.line).toBe(4);
  });

  it("a missing required variable names file, line, key path and the user's text", async () => {
    const err = await loadError(
      "services:\n  db:\n    image: postgres\n    environment:\n      - POSTGRES_USER=app\n      - POSTGRES_PASSWORD=${DB_PASSWORD:?set DB_PASSWORD in .env}\n",
    );
    expect(err.message).toBe(
      `${err.file}:6: error while interpolating services.db.environment.POSTGRES_PASSWORD: required variable DB_PASSWORD is missing a value: set DB_PASSWORD in .env`,
    );
  });

  it("the key path of a map value and a list item", async () => {
    const map = await loadError("services:\n  db:\n    image: x\n    environment:\n      PW: ${PW?}\n");
    expect(map.message).toContain("services.db.environment.PW:");
    const list = await loadError("services:\n  db:\n    image: x\n    volumes:\n      - ok:/a\n      - ${VOL:?no volume}:/b\n");
    expect(list.message).toContain("services.db.volumes[1]:");
  });

  it.each([
    ["an empty file", "", /empty compose file: no services/],
    ["a file with only comments", "# nothing here\n", /empty compose file: no services/],
    ["a top-level list", "- a\n- b\n", /top level of a compose file must be a mapping/],
    ["a top-level scalar", "hello\n", /top level of a compose file must be a mapping/],
    ["null services", "services:\n", /no services defined/],
    ["no services key", "volumes:\n  a:\n", /no services defined/],
    ["services as a list", "services:\n  - app\n", /"services" must be a mapping, got a list/],
    ["services as a string", "services: app\n", /"services" must be a mapping, got a string/],
    ["a null service", "services:\n  app:\n", /service "app" must be a mapping, got nothing/],
    ["a list service", "services:\n  app: [image]\n", /service "app" must be a mapping, got a list/],
    ["environment as a string", "services:\n  app:\n    environment: A=1\n", /services\.app\.environment must be a mapping or a list/],
    ["a nested environment value", "services:\n  app:\n    environment: {A: {b: 1}}\n", /services\.app\.environment\.A must be a string/],
    ["an environment list of maps", "services:\n  app:\n    environment: [{A: 1}]\n", /entries must be KEY=VALUE/],
    ["an undefined named volume", "services:\n  app:\n    volumes: [data:/data]\n", /service "app" refers to undefined volume "data"/],
    ["a volume with too many colons", "services:\n  app:\n    volumes: [/a:/b:ro:x]\n", /too many colons/],
    ["a long volume without target", "services:\n  app:\n    volumes: [{type: volume, source: x}]\n", /needs a target/],
    ["a null volume entry", "services:\n  app:\n    volumes: [null]\n", /must be a string or a mapping/],
    ["an undefined secret", "services:\n  app:\n    secrets: [pw]\n", /service "app" refers to undefined secret "pw"/],
    ["a secret without source", "services:\n  app:\n    secrets: [{target: x}]\n", /secrets entries need a source/],
    ["an extends cycle", "services:\n  a: {extends: b}\n  b: {extends: a}\n", /cycle/],
    ["extending a missing service", "services:\n  a: {extends: nope}\n", /extends undefined service "nope"/],
    ["a malformed interpolation", "services:\n  app:\n    image: ${oops\n", /invalid interpolation format for services\.app\.image/],
  ])("%s", async (_, text, message) => {
    const err = await loadError(text);
    expect(err.message).toMatch(message);
  });

  it("never fails with a TypeError on odd values", async () => {
    const odd = [
      "services:\n  app:\n    image: 5\n    container_name: [x]\n    command: {a: 1}\n    profiles: nope\n    labels: ~\n    env_file: ~\n",
      "services:\n  app:\n    volumes: {a: b}\n    secrets: 7\n",
      "services:\n  app: {}\nvolumes: [a]\nsecrets: 5\n",
      "services:\n  app:\n    labels: [a, b=, =c]\n    environment: [A, B=]\n",
      "name: 42\nservices:\n  '123': {image: x}\nvolumes:\n  v: {external: {name: real}}\n",
    ];
    for (const text of odd) {
      const dir = tmpProject({ "compose.yaml": text });
      await expect(loadCompose({ cwd: dir, env: {} })).resolves.toBeTruthy();
    }
  });
});

describe("loadCompose: include", () => {
  // issue 12: include: is followed now (tests in include.test.ts); a missing file is an error like in compose
  it("a missing included file is an error naming it", async () => {
    const dir = tmpProject({ "compose.yaml": "include:\n  - other/compose.yaml\nservices:\n  app:\n    image: x\n" });
    await expect(loadCompose({ cwd: dir, env: {} })).rejects.toThrow(/compose file not found: .*other\/compose\.yaml/);
  });
});
