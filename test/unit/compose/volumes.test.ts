import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { loadCompose } from "../../../src/compose/load.ts";
import type { ComposeProject, ComposeService } from "../../../src/compose/model.ts";
import { removeTmpProjects, tmpProject } from "./tmp-project.ts";

afterEach(removeTmpProjects);

async function load(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<ComposeProject> {
  return loadCompose({ cwd: tmpProject(files), env });
}

async function service(yaml: string): Promise<ComposeService> {
  return (await load({ "compose.yaml": yaml })).services[0]!;
}

describe("volumes", () => {
  it("short syntax: named, relative, absolute, home, anonymous, options", async () => {
    const p = await load(
      {
        "compose.yaml": `
services:
  app:
    volumes:
      - data:/data
      - data:/ro:ro
      - ./conf:/etc/app:rw
      - ../shared:/shared
      - .:/src
      - /srv/media:/media:ro,z
      - ~/backup:/backup
      - ~:/home
      - /anonymous
      - cache:/cache:nocopy
    tmpfs:
      - /run
volumes:
  data:
  cache:
`,
      },
      { HOME: "/home/me" },
    );
    const dir = p.workingDir;
    // hostKind (what the host path is) has its own test below
    expect(p.services[0]!.volumes.map(({ hostKind: _k, ...m }) => m)).toEqual([
      { type: "volume", source: "data", target: "/data", readOnly: false },
      { type: "volume", source: "data", target: "/ro", readOnly: true },
      { type: "bind", source: join(dir, "conf"), target: "/etc/app", readOnly: false },
      { type: "bind", source: join(dir, "../shared"), target: "/shared", readOnly: false },
      { type: "bind", source: dir, target: "/src", readOnly: false },
      { type: "bind", source: "/srv/media", target: "/media", readOnly: true },
      { type: "bind", source: "/home/me/backup", target: "/backup", readOnly: false },
      { type: "bind", source: "/home/me", target: "/home", readOnly: false },
      { type: "volume", target: "/anonymous", readOnly: false },
      { type: "volume", source: "cache", target: "/cache", readOnly: false },
    ]);
  });

  it("long syntax: type, source, target, read_only; tmpfs has no source", async () => {
    const s = await service(`
services:
  app:
    volumes:
      - type: volume
        source: data
        target: /data
        read_only: true
      - type: bind
        source: ./conf
        target: /conf
      - type: tmpfs
        target: /tmp
      - type: volume
        target: /anon
      - source: /abs
        target: /abs
volumes:
  data:
`);
    expect(s.volumes.map((v) => [v.type, v.source?.replace(/.*\/proj/, "<dir>"), v.target, v.readOnly])).toEqual([
      ["volume", "data", "/data", true],
      ["bind", "<dir>/conf", "/conf", false],
      ["tmpfs", undefined, "/tmp", false],
      ["volume", undefined, "/anon", false],
      ["bind", "/abs", "/abs", false],
    ]);
  });

  it("top-level volumes get the project prefix unless named or external", async () => {
    const p = await load({
      "compose.yaml": `
name: shop
services:
  app:
    image: x
volumes:
  plain:
  named:
    name: custom-name
  external:
    external: true
  external-named:
    external: true
    name: real-volume
  legacy:
    external:
      name: legacy-volume
  interpolated:
    name: \${VOL_NAME}
`,
    }, { VOL_NAME: "from-env" });
    expect(p.volumes).toEqual({
      plain: { name: "shop_plain", external: false },
      named: { name: "custom-name", external: false },
      external: { name: "external", external: true },
      "external-named": { name: "real-volume", external: true },
      legacy: { name: "legacy-volume", external: true },
      interpolated: { name: "from-env", external: false },
    });
  });
});
