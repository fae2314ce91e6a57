import { afterEach, describe, expect, it } from "vitest";
import { sdbackupInProcess } from "../helpers/cli.ts";
import { removeTmpProjects, tmpProject } from "../unit/compose/tmp-project.ts";

// issue 12: detect shows the loader's warnings and why each mount is in or out; no Docker needed.

afterEach(removeTmpProjects);

const COMPOSE = `services:
  web:
    image: nginx:\${TAG}
    volumes: ["./site:/usr/share/nginx/html:ro", "/var/run/docker.sock:/var/run/docker.sock"]
  app:
    image: app
    volumes: ["/srv/app-uploads:/srv/uploads", "/srv/cache"]
  debug:
    image: debug
    profiles: [debug]
`;

describe("sdbackup detect", () => {
  it("--json: project warnings, mounts with reasons, inactive profiles", async () => {
    const cwd = tmpProject({ "compose.yaml": COMPOSE });
    const r = await sdbackupInProcess(["detect", "--json"], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.dockerUsed).toBe(false);
    const doc = JSON.parse(r.stdout);
    expect(doc.warnings).toEqual(['the "TAG" variable is not set, defaulting to a blank string']);
    const by = Object.fromEntries(doc.services.map((s: { service: string }) => [s.service, s]));
    expect(by.web).toMatchObject({ strategy: null, mounts: [{ included: false, reason: "read-only" }, { included: false, reason: "a socket" }] });
    expect(by.app).toMatchObject({ strategy: "volume", paths: ["/srv/uploads"], mounts: [{ included: true }, { included: false, reason: "anonymous volume (a cache)" }] });
    expect(by.debug).toMatchObject({ active: false });
  });

  it("the table says what is not backed up and prints the warnings; --profile activates", async () => {
    const cwd = tmpProject({ "compose.yaml": COMPOSE });
    const r = await sdbackupInProcess(["detect"], { cwd, env: { TAG: "1" } });
    expect(r.stdout).toMatch(/NOT BACKED UP/);
    expect(r.stdout).toMatch(/\/srv\/cache \(anonymous volume \(a cache\)\)/);
    expect(r.stdout).toMatch(/profile debug is not active/);
    expect(r.stdout).not.toMatch(/warning:/);
    const on = await sdbackupInProcess(["detect", "--profile", "debug", "--json"], { cwd, env: { TAG: "1" } });
    expect(JSON.parse(on.stdout).services.find((s: { service: string }) => s.service === "debug").active).toBe(true);
  });
});
