import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadCompose } from "../../../../src/compose/load.ts";
import { detectProject, detectService } from "../../../../src/core/project/detect.ts";
import { imageRepo } from "../../../../src/compose/image.ts";
import type { ComposeService } from "../../../../src/compose/model.ts";

const fixtures = join(import.meta.dirname, "../../../fixtures/compose");

async function detect(name: string) {
  const project = await loadCompose({ files: [join(fixtures, name, "compose.yaml")], cwd: join(fixtures, name), env: {} });
  return Object.fromEntries(detectProject(project).map((d) => [d.service, d]));
}

function svc(partial: Partial<ComposeService>): ComposeService {
  return { name: "s", environment: {}, labels: {}, volumes: [], secrets: [], profiles: [], ...partial };
}

describe("imageRepo", () => {
  it.each([
    ["postgres:16", "postgres"],
    ["docker.io/library/postgres@sha256:" + "a".repeat(64), "postgres"],
    ["registry.example.com:5000/team/app:1.2", "app"],
    ["bitnami/postgresql:15.4.0-debian-11-r0", "postgresql"],
    ["POSTGIS/PostGIS", "postgis"],
    ["ghcr.io/acme/app:1.2@sha256:" + "b".repeat(64), "app"],
  ])("%s → %s", (image, repo) => expect(imageRepo(image)).toBe(repo));
});

describe("detection over realistic compose files", () => {
  it("recognises every common image spelling", async () => {
    const d = await detect("images");
    const expected: Record<string, string | null> = {
      pg: "postgres", "pg-digest": "postgres", "bitnami-pg": "postgres", postgis: "postgres", timescale: "postgres",
      mysql: "mysql", percona: "mysql", mariadb: "mariadb", "bitnami-mariadb": "mariadb", mongo: "mongo",
      "bitnami-mongo": "mongo", redis: "redis", valkey: "redis", "bitnami-redis": "redis", keydb: "redis",
      app: "volume", web: null,
    };
    for (const [service, strategy] of Object.entries(expected)) expect(d[service]?.strategy, service).toBe(strategy);
    expect(d.pg!.source).toBe("image");
    expect(d.pg!.confidence).toBeGreaterThan(0.9);
    // issue 12: why a mount is left out is said per mount, not as a warning
    expect(d.web!.mounts).toEqual([expect.objectContaining({ target: "/usr/share/nginx/html", included: false, reason: "read-only" })]);
  });

  it("nextcloud: app volume, postgres with a _FILE secret, no volume backup of the database", async () => {
    const d = await detect("nextcloud");
    expect(d.app).toMatchObject({ strategy: "volume", source: "volumes", paths: ["/var/www/html"] });
    expect(d.db).toMatchObject({ strategy: "postgres", paths: [] });
    expect(d.db!.warnings).toEqual([]);
  });

  it("labels win over images, none excludes, sqlite takes its paths from a label", async () => {
    const d = await detect("labels");
    expect(d.cache).toMatchObject({ strategy: null, source: "label" });
    expect(d.notes).toMatchObject({ strategy: "sqlite", source: "label", confidence: 1, paths: ["/data/app.db"] });
    expect(d.metrics).toMatchObject({ strategy: "volume", source: "label" });
  });

  it("is deterministic", async () => {
    expect(await detect("gitea")).toEqual(await detect("gitea"));
  });
});

describe("detectService rules", () => {
  it("warns when a database has no credentials in the compose file", () => {
    expect(detectService(svc({ image: "postgres:15" })).warnings.join()).toMatch(/no credentials/);
    expect(detectService(svc({ image: "postgres:15", environment: { POSTGRES_PASSWORD: "x" } })).warnings).toEqual([]);
  });

  it("a postgres databases label naming several is fine: every one is dumped (issue 12)", () => {
    const s = svc({ image: "postgres:16", environment: { POSTGRES_PASSWORD: "x" }, labels: { "simpledeploy.backup.databases": "a, b,c" } });
    expect(detectService(s).warnings).toEqual([]);
  });

  it("rejects an unknown strategy label and lists the valid ones", () => {
    expect(() => detectService(svc({ labels: { "simpledeploy.backup.strategy": "oracle" } }))).toThrow(/unknown strategy "oracle"/);
    try {
      detectService(svc({ labels: { "simpledeploy.backup.strategy": "oracle" } }));
    } catch (err) {
      expect((err as { hint: string }).hint).toMatch(/postgres, mariadb, mysql, mongo, redis, sqlite, volume/);
      expect((err as { exitCode: number }).exitCode).toBe(2);
    }
  });

  // issue 12 changed both rules: a writable directory bind mount is data, an anonymous volume is a cache
  it("backs up a writable directory bind mount; a label narrows the paths", () => {
    const bindOnly = svc({ image: "nginx", volumes: [{ type: "bind", source: "/srv/uploads", target: "/app", readOnly: false, hostKind: "dir" }] });
    expect(detectService(bindOnly)).toMatchObject({ strategy: "volume", source: "volumes", paths: ["/app"] });
    const labelled = { ...bindOnly, labels: { "simpledeploy.backup.paths": "/app" } };
    expect(detectService(labelled)).toMatchObject({ strategy: "volume", source: "label", paths: ["/app"] });
  });

  it("ignores tmpfs and anonymous volumes", () => {
    const s = svc({ image: "app", volumes: [{ type: "tmpfs", target: "/tmp", readOnly: false }, { type: "volume", target: "/cache", readOnly: false }] });
    expect(detectService(s)).toMatchObject({ strategy: null, paths: [] });
    expect(detectService(s).mounts.map((m) => m.reason)).toEqual(["tmpfs (scratch space)", "anonymous volume (a cache)"]);
  });
});
