import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadCompose } from "../../../src/compose/load.ts";
import { isServiceActive } from "../../../src/compose/profiles.ts";
import { caught, removeTmpProjects, tmpProject } from "./tmp-project.ts";

afterEach(removeTmpProjects);

// issue 12, class 1 and 2: files that docker compose v2 loads load here too.

describe("include:", () => {
  it("short syntax adds the included services; their relative paths resolve against their own directory", async () => {
    const dir = tmpProject({
      "compose.yaml": "include:\n  - db/compose.yaml\nservices:\n  app:\n    image: app:${TAG}\n",
      ".env": "TAG=1\n",
      "db/compose.yaml": "services:\n  db:\n    image: postgres:${PG}\n    env_file: db.env\n    volumes: [./data:/var/lib/postgresql/data, pg:/x]\nvolumes:\n  pg:\n",
      "db/.env": "PG=16\n",
      "db/db.env": "POSTGRES_PASSWORD=s3cret\n",
    });
    const p = await loadCompose({ cwd: dir, env: {} });
    expect(p.services.map((s) => s.name)).toEqual(["app", "db"]);
    const db = p.services[1]!;
    expect(db.image).toBe("postgres:16");
    expect(db.environment.POSTGRES_PASSWORD).toBe("s3cret");
    expect(db.volumes[0]).toMatchObject({ type: "bind", source: join(dir, "db/data") });
    expect(p.volumes.pg).toEqual({ name: `${p.name}_pg`, external: false });
    expect(p.warnings).toBeUndefined();
  });

  it("long syntax: several paths, project_directory and env_file; the process env wins", async () => {
    const dir = tmpProject({
      "compose.yaml": "include:\n  - path: [parts/a.yaml, parts/b.yaml]\n    project_directory: shared\n    env_file: vars.env\nservices:\n  app: {image: x}\n",
      "vars.env": "A=from-file\nB=from-file\n",
      "parts/a.yaml": "services:\n  a:\n    image: a:${A}\n    volumes: [./files:/files]\n",
      "parts/b.yaml": "services:\n  a:\n    image: a:${B}\n",
    });
    const p = await loadCompose({ cwd: dir, env: { A: "from-env" } });
    const a = p.services.find((s) => s.name === "a")!;
    expect(a.image).toBe("a:from-file"); // b.yaml overrides a.yaml, like -f
    expect(a.volumes[0]!.source).toBe(join(dir, "shared/files"));
    const p2 = await loadCompose({ cwd: dir, env: { B: "from-env" } });
    expect(p2.services.find((s) => s.name === "a")!.image).toBe("a:from-env");
  });

  it("a service defined both here and in an included file is an error, like compose", async () => {
    const dir = tmpProject({ "compose.yaml": "include: [other.yaml]\nservices:\n  a: {image: x}\n", "other.yaml": "services:\n  a: {image: y}\n" });
    expect((await caught(() => loadCompose({ cwd: dir, env: {} }))).message).toMatch(/services\.a conflicts/);
  });

  it("an include cycle is an error", async () => {
    const dir = tmpProject({ "compose.yaml": "include: [b.yaml]\nservices:\n  a: {image: x}\n", "b.yaml": "include: [compose.yaml]\nservices:\n  b: {image: y}\n" });
    expect((await caught(() => loadCompose({ cwd: dir, env: {} }))).message).toMatch(/include cycle/);
  });
});

describe("extends with file:", () => {
  it("takes the base from the file, relative to the file that says it; the base's paths resolve against its own file", async () => {
    const dir = tmpProject({
      "compose.yaml": "services:\n  db:\n    extends: {file: common/base.yaml, service: pg}\n    environment: {POSTGRES_DB: app}\n",
      "common/base.yaml": "services:\n  pg:\n    extends: {file: ../deeper/root.yaml, service: root}\n    image: postgres:16\n    environment: {POSTGRES_PASSWORD: pw}\n    volumes: [./pgdata:/var/lib/postgresql/data]\n",
      "deeper/root.yaml": "services:\n  root:\n    labels: {tier: db}\n",
    });
    const p = await loadCompose({ cwd: dir, env: {} });
    const db = p.services[0]!;
    expect(db.image).toBe("postgres:16");
    expect(db.environment).toEqual({ POSTGRES_PASSWORD: "pw", POSTGRES_DB: "app" });
    expect(db.labels).toEqual({ tier: "db" });
    expect(db.volumes[0]!.source).toBe(join(dir, "common/pgdata"));
    expect(p.warnings).toBeUndefined();
  });

  it("names the file when the service is not in it", async () => {
    const dir = tmpProject({ "compose.yaml": "services:\n  a:\n    extends: {file: b.yaml, service: nope}\n", "b.yaml": "services:\n  x: {image: y}\n" });
    expect((await caught(() => loadCompose({ cwd: dir, env: {} }))).message).toMatch(/no service "nope" in .*b\.yaml/);
  });
});

describe("profiles", () => {
  const files = { "compose.yaml": "services:\n  app: {image: x}\n  debug: {image: y, profiles: [debug]}\n  tools: {image: z, profiles: [ops, debug]}\n" };

  it("COMPOSE_PROFILES and --profile make services active; others are inactive", async () => {
    const dir = tmpProject(files);
    const none = await loadCompose({ cwd: dir, env: {} });
    expect(none.services.map((s) => isServiceActive(s, none))).toEqual([true, false, false]);
    const ops = await loadCompose({ cwd: dir, env: { COMPOSE_PROFILES: "ops" } });
    expect(ops.services.map((s) => isServiceActive(s, ops))).toEqual([true, false, true]);
    const both = await loadCompose({ cwd: dir, env: { COMPOSE_PROFILES: "ops" }, profiles: ["debug"] });
    expect(both.services.map((s) => isServiceActive(s, both))).toEqual([true, true, true]);
    const all = await loadCompose({ cwd: dir, env: { COMPOSE_PROFILES: "*" } });
    expect(all.services.every((s) => isServiceActive(s, all))).toBe(true);
  });

  it("COMPOSE_PROFILES may come from .env", async () => {
    const dir = tmpProject({ ...files, ".env": "COMPOSE_PROFILES=debug\n" });
    const p = await loadCompose({ cwd: dir, env: {} });
    expect(p.activeProfiles).toEqual(["debug"]);
  });
});

describe("COMPOSE_* variables", () => {
  it("COMPOSE_FILE with COMPOSE_PATH_SEPARATOR and COMPOSE_PROJECT_NAME from .env", async () => {
    const dir = tmpProject({
      ".env": "COMPOSE_FILE=base.yaml;extra.yaml\nCOMPOSE_PATH_SEPARATOR=;\nCOMPOSE_PROJECT_NAME=Shop\n",
      "base.yaml": "services:\n  a: {image: x}\n",
      "extra.yaml": "services:\n  a: {image: y}\n",
    });
    const p = await loadCompose({ cwd: dir, env: {} });
    expect(p.name).toBe("shop");
    expect(p.services[0]!.image).toBe("y");
  });
});

describe("alias-heavy files", () => {
  it("loads anchors holding aliases merged into many services (the yaml library's default guard rejects this)", async () => {
    const envs = Array.from({ length: 30 }, (_, i) => `  e${i}: &e${i}\n    <<: *${i === 0 ? "base" : `e${i - 1}`}\n    K${i}: v`).join("\n");
    const services = Array.from({ length: 60 }, (_, i) => `  s${i}:\n    <<: *svc\n    image: img${i}`).join("\n");
    const text = `x-base: &base\n  A: "1"\nx-envs:\n${envs}\nx-svc: &svc\n  environment:\n    <<: *e29\n  labels: {a: b}\nservices:\n${services}\n`;
    const p = await loadCompose({ cwd: tmpProject({ "compose.yaml": text }), env: {} });
    expect(p.services).toHaveLength(60);
    expect(p.services[59]!.environment).toMatchObject({ A: "1", K0: "v", K29: "v" });
  });

  it("still rejects a billion-laughs file", async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) levels.push(`${"abcdefghi"[i]}: &${"abcdefghi"[i]} [${Array(9).fill(`*${"abcdefghi"[i - 1]}`).join(",")}]`);
    const text = `x-bomb:\n${levels.map((l) => `  ${l}`).join("\n")}\nservices:\n  app: {image: x}\n`;
    const err = await caught(() => loadCompose({ cwd: tmpProject({ "compose.yaml": text }), env: {} }));
    expect(err.message).toMatch(/aliases expand to more than \d+ nodes/);
  });
});
