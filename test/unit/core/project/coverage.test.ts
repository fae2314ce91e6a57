import { describe, expect, it } from "vitest";
import { detectProject, detectService } from "../../../../src/core/project/detect.ts";
import { planItems } from "../../../../src/core/project/plan.ts";
import type { ComposeProject, ComposeService, VolumeMount } from "../../../../src/compose/model.ts";
import type { ContainerDetails } from "../../../../src/docker/types.ts";

// issue 12, classes 3–5: what counts as data, and databases under other names.

function svc(partial: Partial<ComposeService>): ComposeService {
  return { name: "s", environment: {}, labels: {}, volumes: [], secrets: [], profiles: [], ...partial };
}
const bind = (source: string, target: string, extra: Partial<VolumeMount> = {}): VolumeMount => ({ type: "bind", source, target, readOnly: false, hostKind: "missing", ...extra });
const vol = (source: string | undefined, target: string, readOnly = false): VolumeMount => ({ type: "volume", ...(source ? { source } : {}), target, readOnly });
const reasons = (s: ComposeService) => Object.fromEntries(detectService(s).mounts.map((m) => [m.target, m.included ? "in" : m.reason]));

describe("bind mounts", () => {
  it("a writable directory is data; sockets, files, read-only, system paths and the build context are not", () => {
    const s = svc({
      image: "app",
      buildContext: "/srv/app",
      volumes: [
        bind("/srv/app/uploads", "/data"),
        bind("/var/run/docker.sock", "/var/run/docker.sock", { hostKind: "socket" }),
        bind("/srv/app.conf", "/etc/app.conf"),
        bind("/srv/cfg", "/cfg", { hostKind: "file" }),
        bind("/srv/media", "/media", { readOnly: true }),
        bind("/etc/localtime", "/etc/localtime2", { hostKind: "dir" }),
        bind("/srv/app", "/usr/src/app", { hostKind: "dir" }),
        bind("/srv/app/src", "/src", { hostKind: "dir" }),
        bind("/opt/photos", "/photos"),
        { type: "tmpfs", target: "/tmp", readOnly: false },
        vol(undefined, "/usr/src/app/node_modules"),
      ],
    });
    expect(reasons(s)).toEqual({
      "/data": "inside the service's build context (source code)",
      "/var/run/docker.sock": "a socket",
      "/etc/app.conf": "a single file",
      "/cfg": "a single file",
      "/media": "read-only",
      "/etc/localtime2": "a system path",
      "/usr/src/app": "inside the service's build context (source code)",
      "/src": "inside the service's build context (source code)",
      "/photos": "in",
      "/tmp": "tmpfs (scratch space)",
      "/usr/src/app/node_modules": "anonymous volume (a cache)",
    });
    expect(detectService(s)).toMatchObject({ strategy: "volume", source: "volumes", paths: ["/photos"] });
  });

  it("the host's /tmp is scratch, but a project checked out below it keeps its data binds", () => {
    const s = svc({
      image: "app",
      volumes: [bind("/tmp", "/scratch", { hostKind: "dir" }), bind("/tmp/ci/main/app/data", "/data", { hostKind: "dir" }), bind("/var/tmp/", "/vt", { hostKind: "dir" })],
    });
    expect(reasons(s)).toEqual({ "/scratch": "the host's scratch directory", "/data": "in", "/vt": "the host's scratch directory" });
  });

  it("exclude takes paths or globs out; strategy none excludes everything", () => {
    const s = svc({ image: "app", labels: { "simpledeploy.backup.exclude": "/cache*, /srv/tmp" }, volumes: [bind("/srv/up", "/up"), bind("/srv/c", "/cache-1"), bind("/srv/tmp", "/t")] });
    expect(detectService(s).paths).toEqual(["/up"]);
    const none = { ...s, labels: { "simpledeploy.backup.strategy": "none" } };
    expect(detectService(none)).toMatchObject({ strategy: null, paths: [] });
  });
});

describe("named volumes shared between services", () => {
  const project = (services: ComposeService[]): Pick<ComposeProject, "services"> => ({ services });

  it("are backed up once, by the service mounting them read-write", () => {
    const rows = detectProject(project([
      svc({ name: "nginx", image: "nginx", volumes: [vol("static", "/www", true)] }),
      svc({ name: "app", image: "app", volumes: [vol("static", "/app/static")] }),
    ]));
    expect(rows.map((r) => [r.service, r.strategy, r.paths])).toEqual([["nginx", null, []], ["app", "volume", ["/app/static"]]]);
    expect(rows[0]!.mounts[0]!.reason).toBe("volume static is backed up with app");
  });

  it("a database's volume is never archived by another service, even one listed first", () => {
    const rows = detectProject(project([
      svc({ name: "fix-perms", image: "mongo:7", entrypoint: "chown -R 999 /data/db", volumes: [vol("db", "/data/db")] }),
      svc({ name: "mongo", image: "mongo:7", volumes: [vol("db", "/data/db")] }),
    ]));
    expect(rows.map((r) => r.strategy)).toEqual([null, "mongo"]);
    expect(rows[0]!.mounts[0]!.reason).toMatch(/files of database mongo, covered by its dump/);
  });
});

describe("databases under other names", () => {
  it.each([
    ["acme/app-postgresql:14", "postgres", "image"],
    ["ghcr.io/immich-app/postgres:14-vectorchord", "postgres", "image"],
    ["pgvector/pgvector:pg16", "postgres", "image"],
    ["timescale/timescaledb-ha:pg16", "postgres", "image"],
    ["bitnami/mariadb:11", "mariadb", "image"],
    ["percona/percona-server:8.0", "mysql", "image"],
    ["eqalpha/keydb", "redis", "image"],
    ["docker.io/valkey/valkey:8", "redis", "image"],
    ["percona/percona-server-mongodb:7", "mongo", "image"],
  ])("%s → %s (%s)", (image, strategy, source) => {
    expect(detectService(svc({ image }))).toMatchObject({ strategy, source });
  });

  it.each(["prometheuscommunity/postgres-exporter", "mongo-express", "bitnami/redis-sentinel", "postgrest/postgrest", "dpage/pgadmin4"])("%s is not a database", (image) => {
    expect(detectService(svc({ image })).strategy).toBeNull();
  });

  it("by server-side environment and by data directory, with lower confidence than an image", () => {
    const env = detectService(svc({ image: "corp/db:1", environment: { MYSQL_ROOT_PASSWORD: "x" } }));
    expect(env).toMatchObject({ strategy: "mysql", source: "env" });
    const dir = detectService(svc({ image: "corp/store:1", volumes: [vol("pg", "/var/lib/postgresql/data")] }));
    expect(dir).toMatchObject({ strategy: "postgres", source: "data-dir", paths: [] });
    expect(dir.confidence).toBeLessThan(detectService(svc({ image: "postgres" })).confidence);
    const both = detectService(svc({ image: "corp/x", environment: { MARIADB_ROOT_PASSWORD: "x" }, volumes: [vol("m", "/var/lib/mysql")] }));
    expect(both).toMatchObject({ strategy: "mariadb", source: "data-dir" });
    expect(both.confidence).toBeGreaterThan(dir.confidence);
  });

  it("an application's connection settings do not make it a database", () => {
    expect(detectService(svc({ image: "nextcloud", environment: { POSTGRES_HOST: "db", POSTGRES_PASSWORD: "x" } })).strategy).toBeNull();
  });
});

describe("plan", () => {
  const container = (service: string, running = true): ContainerDetails =>
    ({ id: service, name: `p-${service}-1`, service, image: "x", running, paused: false, state: running ? "running" : "exited", labels: {}, env: {}, mounts: [] }) as unknown as ContainerDetails;
  const project = (services: ComposeService[]): ComposeProject => ({ name: "p", workingDir: "/p", files: [], services, volumes: {} });

  it("skips an inactive profile service without a container, with an info line", () => {
    const info: string[] = [];
    const p = project([svc({ name: "app", image: "a", volumes: [vol("d", "/d")] }), svc({ name: "debug", image: "b", profiles: ["debug"], volumes: [vol("e", "/e")] })]);
    expect(planItems(p, [container("app")], { info: (m) => info.push(m) }).map((i) => i.service.name)).toEqual(["app"]);
    expect(info).toEqual(["debug: skipped, profile debug is not active and it has no container"]);
    expect(planItems(p, [container("app"), container("debug")]).map((i) => i.service.name)).toEqual(["app", "debug"]);
  });

  it("refuses to copy a running database's files, naming the fix; stopping it for the set is fine", () => {
    const db = svc({ name: "db", image: "postgres:16", labels: { "simpledeploy.backup.strategy": "volume" }, volumes: [vol("pg", "/var/lib/postgresql/data")] });
    expect(() => planItems(project([db]), [container("db")])).toThrow(/refusing to copy the database files in \/var\/lib\/postgresql\/data/);
    const stopped = { ...db, labels: { ...db.labels, "simpledeploy.backup.stop": "true" } };
    expect(planItems(project([stopped]), [container("db")], { consistent: true })).toHaveLength(1);
    expect(planItems(project([db]), [container("db", false)])).toHaveLength(1);
  });
});
