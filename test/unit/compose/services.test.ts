import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { ComposeError } from "../../../src/errors.ts";
import { loadCompose } from "../../../src/compose/load.ts";
import type { ComposeProject, ComposeService } from "../../../src/compose/model.ts";
import { caught, removeTmpProjects, tmpProject } from "./tmp-project.ts";

afterEach(removeTmpProjects);

async function load(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<ComposeProject> {
  return loadCompose({ cwd: tmpProject(files), env });
}

async function service(yaml: string, env: NodeJS.ProcessEnv = {}, extra: Record<string, string> = {}): Promise<ComposeService> {
  const p = await load({ "compose.yaml": yaml, ...extra }, env);
  return p.services[0]!;
}

describe("environment and labels", () => {
  it("accepts the list form; a bare key comes from env/.env or is dropped", async () => {
    const s = await service(
      "services:\n  app:\n    environment:\n      - A=1\n      - B=x=y\n      - EMPTY=\n      - FROM_ENV\n      - FROM_DOTENV\n      - MISSING\n",
      { FROM_ENV: "env" },
      { ".env": "FROM_DOTENV=dotenv\nFROM_ENV=loses" },
    );
    expect(s.environment).toEqual({ A: "1", B: "x=y", EMPTY: "", FROM_ENV: "env", FROM_DOTENV: "dotenv" });
  });

  it("accepts the map form; null values work like bare keys and scalars are stringified as written", async () => {
    const s = await service(
      "services:\n  app:\n    environment:\n      PORT: 5432\n      RATIO: 1.10\n      MODE: 0755\n      ON: true\n      OFF: false\n      YES: yes\n      FROM_ENV:\n      TILDE: ~\n      QUOTED: ''\n",
      { FROM_ENV: "env", TILDE: "t" },
    );
    expect(s.environment).toEqual({ PORT: "5432", RATIO: "1.10", MODE: "0755", ON: "true", OFF: "false", YES: "yes", FROM_ENV: "env", TILDE: "t", QUOTED: "" });
  });

  it("labels in both forms; a bare label is empty, not looked up", async () => {
    const list = await service("services:\n  app:\n    labels:\n      - a=1\n      - flag\n      - c=x=y\n", { flag: "nope" });
    expect(list.labels).toEqual({ a: "1", flag: "", c: "x=y" });
    const map = await service("services:\n  app:\n    labels:\n      a: 1\n      b: true\n      c:\n");
    expect(map.labels).toEqual({ a: "1", b: "true", c: "" });
  });
});

describe("env_file", () => {
  it("accepts a string, a list and {path, required}, relative to the working dir, environment on top", async () => {
    const s = await service(
      "services:\n  app:\n    env_file:\n      - ./env/common.env\n      - path: ./env/local.env\n        required: false\n      - path: env/db.env\n    environment:\n      WINS: compose\n",
      { HOST: "h" },
      { "env/common.env": "A=common\nWINS=file\nB=common", "env/db.env": "B=db\nURL=${HOST}:${PORT:-1}\nINHERIT\nHOST" },
    );
    expect(s.environment).toEqual({ A: "common", WINS: "compose", B: "db", URL: "h:1", HOST: "h" });
    const single = await service("services:\n  app:\n    env_file: app.env\n", {}, { "app.env": "X=1" });
    expect(single.environment).toEqual({ X: "1" });
  });

  it("a missing required env file is a ComposeError", async () => {
    const dir = tmpProject({ "compose.yaml": "services:\n  app:\n    env_file: [missing.env]\n" });
    const err = await caught(() => loadCompose({ cwd: dir, env: {} }));
    expect(err).toBeInstanceOf(ComposeError);
    expect(err.message).toContain(`service "app": env file not found: ${join(dir, "missing.env")}`);
  });

  it("errors inside an env file point at that file and line", async () => {
    const dir = tmpProject({ "compose.yaml": "services:\n  app:\n    env_file: bad.env\n", "bad.env": "A=1\nB='open" });
    const err = (await caught(() => loadCompose({ cwd: dir, env: {} }))) as ComposeError;
    expect(err.file).toBe(join(dir, "bad.env"));
    expect(err.line).toBe(2);
  });
});

describe("secrets, command, profiles, container_name, extensions", () => {
  it("resolves service secrets against top-level secrets", async () => {
    const p = await load({
      "compose.yaml": `
services:
  app:
    secrets:
      - db_pw
      - source: api_key
      - source: api_key
        target: api.txt
      - source: tls
        target: /etc/ssl/key.pem
      - from_env
secrets:
  db_pw:
    file: ./secrets/db_pw.txt
  api_key:
    file: /etc/app/api_key
  tls:
    file: ~/tls.pem
  from_env:
    environment: API_TOKEN
`,
    }, { HOME: "/home/me" });
    expect(p.services[0]!.secrets).toEqual([
      { source: "db_pw", target: "/run/secrets/db_pw", file: join(p.workingDir, "secrets/db_pw.txt") },
      { source: "api_key", target: "/run/secrets/api_key", file: "/etc/app/api_key" },
      { source: "api_key", target: "/run/secrets/api.txt", file: "/etc/app/api_key" },
      { source: "tls", target: "/etc/ssl/key.pem", file: "/home/me/tls.pem" },
      { source: "from_env", target: "/run/secrets/from_env" },
    ]);
  });

  it("keeps command as string or list, profiles, container_name and image", async () => {
    const p = await load({
      "compose.yaml": `
services:
  shell:
    image: busybox:1.36
    container_name: my-shell
    command: sh -c "echo hi"
    profiles: [debug, tools]
  exec:
    image: busybox
    command: [sleep, 3600]
  none:
    image: busybox
`,
    });
    const [shell, exec, none] = p.services;
    expect(shell).toMatchObject({ image: "busybox:1.36", containerName: "my-shell", command: 'sh -c "echo hi"', profiles: ["debug", "tools"] });
    expect(exec!.command).toEqual(["sleep", "3600"]);
    expect(none!.command).toBeUndefined();
    expect(none!.containerName).toBeUndefined();
    expect(none!.profiles).toEqual([]);
  });

  it("ignores x- extension fields, version and unknown keys", async () => {
    const p = await load({
      "compose.yaml": `
version: "3.8"
x-top: {a: 1}
services:
  app:
    image: x
    x-meta: {owner: me}
    deploy: {replicas: 2}
networks:
  default:
`,
    });
    expect(p.services).toEqual([{ name: "app", image: "x", environment: {}, labels: {}, volumes: [], secrets: [], profiles: [] }]);
  });

  it("resolves anchors, aliases and << merge keys, with explicit keys winning", async () => {
    const s = await service(`
x-env: &env
  A: "1"
  B: "1"
x-base: &base
  image: base:1
  restart: always
  environment: *env
services:
  app:
    <<: *base
    image: app:2
    labels:
      <<: [{one: "1"}, {two: "2"}]
      one: overridden
`);
    expect(s.image).toBe("app:2");
    expect(s.environment).toEqual({ A: "1", B: "1" });
    expect(s.labels).toEqual({ one: "overridden", two: "2" });
  });
});
