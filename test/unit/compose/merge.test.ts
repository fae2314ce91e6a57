import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadCompose } from "../../../src/compose/load.ts";
import type { ComposeProject } from "../../../src/compose/model.ts";
import { removeTmpProjects, tmpProject } from "./tmp-project.ts";

afterEach(removeTmpProjects);

const BASE = `
services:
  db:
    image: postgres:15
    container_name: db
    command: ["postgres", "-c", "max_connections=50"]
    profiles: [core]
    environment:
      POSTGRES_USER: app
      POSTGRES_DB: app
    labels:
      - com.example.role=db
      - com.example.tier=base
    volumes:
      - pgdata:/var/lib/postgresql/data
      - ./init:/docker-entrypoint-initdb.d:ro
    secrets:
      - db_pw
      - source: api_key
        target: api
volumes:
  pgdata:
secrets:
  db_pw: {file: ./db_pw.txt}
  api_key: {file: ./api.txt}
  other_pw: {file: ./other.txt}
`;

const OVERRIDE = `
services:
  db:
    image: postgres:16
    command: postgres -c max_connections=200
    profiles: [core, backup]
    environment:
      - POSTGRES_DB=override
      - PGDATA=/var/lib/postgresql/data/pgdata
    labels:
      com.example.tier: override
    volumes:
      - ./init-dev:/docker-entrypoint-initdb.d
      - logs:/var/log/postgresql
    secrets:
      - source: api_key
        target: /etc/api.key
      - other_pw
  cache:
    image: redis:7
volumes:
  logs:
    name: shared-logs
`;

async function loadTwo(base: string, override: string): Promise<ComposeProject> {
  const dir = tmpProject({ "compose.yaml": base, "override.yaml": override });
  return loadCompose({ cwd: dir, env: {}, files: ["compose.yaml", "override.yaml"] });
}

describe("merging -f files", () => {
  it("overrides scalars, merges maps and merges lists like compose", async () => {
    const p = await loadTwo(BASE, OVERRIDE);
    const dir = p.workingDir;
    expect(p.files).toEqual([join(dir, "compose.yaml"), join(dir, "override.yaml")]);
    expect(p.services.map((s) => s.name)).toEqual(["db", "cache"]);
    const db = p.services[0]!;
    expect(db.image).toBe("postgres:16");
    expect(db.containerName).toBe("db");
    expect(db.command).toBe("postgres -c max_connections=200");
    expect(db.profiles).toEqual(["core", "backup"]);
    expect(db.environment).toEqual({ POSTGRES_USER: "app", POSTGRES_DB: "override", PGDATA: "/var/lib/postgresql/data/pgdata" });
    expect(db.labels).toEqual({ "com.example.role": "db", "com.example.tier": "override" });
    expect(db.volumes.map(({ hostKind: _k, ...m }) => m)).toEqual([
      { type: "volume", source: "pgdata", target: "/var/lib/postgresql/data", readOnly: false },
      { type: "bind", source: join(dir, "init-dev"), target: "/docker-entrypoint-initdb.d", readOnly: false },
      { type: "volume", source: "logs", target: "/var/log/postgresql", readOnly: false },
    ]);
    expect(db.secrets).toEqual([
      { source: "db_pw", target: "/run/secrets/db_pw", file: join(dir, "db_pw.txt") },
      { source: "api_key", target: "/etc/api.key", file: join(dir, "api.txt") },
      { source: "other_pw", target: "/run/secrets/other_pw", file: join(dir, "other.txt") },
    ]);
    expect(p.volumes).toEqual({
      pgdata: { name: "proj_pgdata", external: false },
      logs: { name: "shared-logs", external: false },
    });
  });

  it("honours !reset and !override", async () => {
    const p = await loadTwo(
      BASE,
      `
services:
  db:
    volumes: !reset []
    labels: !override
      only: this
    command: !reset null
    environment: !override [ONLY=this]
`,
    );
    const db = p.services[0]!;
    expect(db.volumes).toEqual([]);
    expect(db.labels).toEqual({ only: "this" });
    expect(db.command).toBeUndefined();
    expect(db.environment).toEqual({ ONLY: "this" });
  });

  it("a service can be removed with !reset", async () => {
    const base = "services:\n  db:\n    image: postgres\n  cache:\n    image: redis\n";
    expect((await loadTwo(base, "services: {}\n")).services.map((s) => s.name)).toEqual(["db", "cache"]);
    expect((await loadTwo(base, "services:\n  cache: !reset\n")).services.map((s) => s.name)).toEqual(["db"]);
  });

  it("later files can add top-level name and volumes", async () => {
    const p = await loadTwo(BASE, "name: Renamed\nvolumes:\n  pgdata:\n    external: true\n");
    expect(p.name).toBe("renamed");
    expect(p.volumes.pgdata).toEqual({ name: "pgdata", external: true });
  });

  it("applies env_file entries of all files before environment", async () => {
    const dir = tmpProject({
      "compose.yaml": "services:\n  app:\n    image: x\n    env_file: a.env\n    environment:\n      FROM_ENV: compose\n",
      "override.yaml": "services:\n  app:\n    env_file: [b.env]\n",
      "a.env": "A=a\nFROM_ENV=file\nSHARED=a",
      "b.env": "SHARED=b",
    });
    const p = await loadCompose({ cwd: dir, env: {}, files: ["compose.yaml", "override.yaml"] });
    expect(p.services[0]!.environment).toEqual({ A: "a", FROM_ENV: "compose", SHARED: "b" });
  });

  it("merges documents of a multi-document file in order", async () => {
    const dir = tmpProject({ "compose.yaml": "services:\n  a:\n    image: one\n---\nservices:\n  a:\n    image: two\n" });
    const p = await loadCompose({ cwd: dir, env: {} });
    expect(p.services[0]!.image).toBe("two");
  });

  it("resolves extends within the project", async () => {
    const dir = tmpProject({
      "compose.yaml": `
services:
  base:
    image: app:1
    environment: {A: "1", B: "1"}
    volumes: [data:/data]
  worker:
    extends: base
    environment: {B: "2"}
    command: work
  other:
    extends: {service: worker}
volumes:
  data:
`,
    });
    const p = await loadCompose({ cwd: dir, env: {} });
    const worker = p.services.find((s) => s.name === "worker")!;
    expect(worker).toMatchObject({ image: "app:1", environment: { A: "1", B: "2" }, command: "work" });
    expect(worker.volumes).toHaveLength(1);
    expect(p.services.find((s) => s.name === "other")).toMatchObject({ image: "app:1", command: "work" });
    // issue 12: extends with file: is followed (see extends-file tests); here the file is missing
  });

  it("an extends file that does not exist is an error naming it", async () => {
    const dir = tmpProject({ "compose.yaml": "services:\n  remote:\n    extends: {file: other.yaml, service: svc}\n" });
    await expect(loadCompose({ cwd: dir, env: {} })).rejects.toThrow(/compose file not found: .*other\.yaml/);
  });
});
