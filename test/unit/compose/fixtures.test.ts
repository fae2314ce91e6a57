import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadCompose } from "../../../src/compose/load.ts";
import type { ComposeProject } from "../../../src/compose/model.ts";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/compose");
const load = (name: string) => loadCompose({ cwd: join(FIXTURES, name), env: { HOME: "/home/test" } });
const svc = (p: ComposeProject, name: string) => {
  const s = p.services.find((x) => x.name === name);
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

describe("fixture compose projects load as detection expects", () => {
  it("nextcloud: named html volume, postgres password from a secret file, redis", async () => {
    const p = await load("nextcloud");
    expect(p.name).toBe("nextcloud");
    expect(p.services.map((s) => s.name)).toEqual(["app", "db", "redis"]);
    expect(svc(p, "app").volumes).toEqual([{ type: "volume", source: "nextcloud", target: "/var/www/html", readOnly: false }]);
    const db = svc(p, "db");
    expect(db.environment.POSTGRES_PASSWORD_FILE).toBe("/run/secrets/postgres_password");
    const secret = db.secrets[0]!;
    expect(secret.target).toBe("/run/secrets/postgres_password");
    expect(readFileSync(secret.file!, "utf8").trim()).toBe("nc-db-Secret-4711");
    expect(p.volumes.db).toEqual({ name: "nextcloud_db", external: false });
    expect(p.warnings).toBeUndefined();
  });

  it("wordpress: mariadb with MYSQL_* env in list form", async () => {
    const p = await load("wordpress");
    expect(svc(p, "db")).toMatchObject({
      image: "mariadb:10.11",
      environment: { MYSQL_DATABASE: "wordpress", MYSQL_USER: "wordpress", MYSQL_PASSWORD: "wp-db-secret" },
    });
    expect(Object.values(p.volumes).map((v) => v.name)).toEqual(["wordpress_wordpress", "wordpress_db"]);
  });

  it("gitea: values from .env, a config bind mount and a backup paths label", async () => {
    const p = await load("gitea");
    const server = svc(p, "server");
    expect(server.image).toBe("gitea/gitea:1.22.3");
    expect(server.containerName).toBe("gitea");
    expect(server.environment.GITEA__database__PASSWD).toBe("gitea-db-Secret-99");
    expect(server.labels["simpledeploy.backup.paths"]).toBe("/data");
    expect(server.volumes.filter((v) => v.type === "bind").map((v) => v.source)).toContain(join(FIXTURES, "gitea/config"));
    expect(svc(p, "db").environment).toEqual({ POSTGRES_USER: "gitea", POSTGRES_PASSWORD: "gitea-db-Secret-99", POSTGRES_DB: "gitea" });
  });

  it("gitea without its password fails with the compose file's hint", async () => {
    await expect(loadCompose({ cwd: FIXTURES, env: {}, files: ["gitea/compose.yaml"], projectName: "x" })).resolves.toBeTruthy();
    const dir = join(FIXTURES, "gitea");
    await expect(loadCompose({ cwd: dir, env: { POSTGRES_PASSWORD: "" } })).rejects.toThrow(/POSTGRES_PASSWORD is missing a value: set POSTGRES_PASSWORD in \.env/);
  });

  it("labels: strategy and paths labels survive list and map forms", async () => {
    const p = await load("labels");
    expect(svc(p, "cache").labels).toEqual({ "simpledeploy.backup.strategy": "none" });
    expect(svc(p, "notes").labels).toEqual({ "simpledeploy.backup.strategy": "sqlite", "simpledeploy.backup.paths": "/data/app.db" });
    expect(svc(p, "metrics")).toMatchObject({ image: "postgres:16", labels: { "simpledeploy.backup.strategy": "volume" } });
  });

  it("images: every spelling is kept verbatim", async () => {
    const p = await load("images");
    expect(Object.fromEntries(p.services.map((s) => [s.name, s.image]))).toEqual({
      pg: "postgres:16",
      "pg-digest": "docker.io/library/postgres@sha256:4aea012537edfad80f98d870a36e6b90b4c09b27be7f4b4759d72db863baeebb",
      "bitnami-pg": "bitnami/postgresql",
      postgis: "postgis/postgis:16-3.4",
      timescale: "timescale/timescaledb-ha:pg16",
      mysql: "mysql",
      percona: "percona/percona-server:8.0",
      mariadb: "mariadb",
      "bitnami-mariadb": "bitnami/mariadb",
      mongo: "mongo:7",
      "bitnami-mongo": "bitnami/mongodb",
      redis: "redis:7-alpine",
      valkey: "valkey/valkey",
      "bitnami-redis": "bitnami/redis",
      keydb: "eqalpha/keydb",
      app: "ghcr.io/acme/app:1.2",
      web: "nginx",
    });
    expect(svc(p, "web").volumes).toEqual([{ type: "bind", source: join(FIXTURES, "images/site"), target: "/usr/share/nginx/html", readOnly: true, hostKind: "dir" }]);
    expect(svc(p, "app").volumes).toEqual([{ type: "volume", source: "app", target: "/var/lib/app", readOnly: false }]);
  });

  it("anchors: x- fields feed services through << and are dropped", async () => {
    const p = await load("anchors");
    expect(svc(p, "db").environment).toEqual({ POSTGRES_USER: "app", POSTGRES_DB: "app", POSTGRES_PASSWORD: "example" });
    expect(svc(p, "db").labels).toEqual({ "com.example.team": "platform" });
    expect(svc(p, "worker").labels).toEqual({ "com.example.team": "platform", "simpledeploy.backup.strategy": "none" });
    expect(svc(p, "worker").command).toEqual(["worker", "--queue", "default", "--concurrency", "4"]);
  });
});
