import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/errors.ts";
import { loadCompose } from "../../../src/compose/load.ts";
import { normalizeProjectName } from "../../../src/compose/project-name.ts";
import { caught, removeTmpProjects, tmpProject } from "./tmp-project.ts";

afterEach(removeTmpProjects);

describe("normalizeProjectName", () => {
  it.each([
    ["myapp", "myapp"],
    ["My App", "myapp"],
    ["My.Project_2-x", "myproject_2-x"],
    ["_private", "private"],
    ["--__.x", "x"],
    ["1st", "1st"],
    ["Nextcloud (prod)", "nextcloudprod"],
    ["日本", ""],
    ["___", ""],
  ])("%j → %j", (raw, expected) => {
    expect(normalizeProjectName(raw)).toBe(expected);
  });
});

describe("project name precedence", () => {
  const compose = "name: From-File\nservices:\n  app:\n    image: x\n";

  it("--app beats COMPOSE_PROJECT_NAME, which beats name:, which beats the directory", async () => {
    const dir = tmpProject({ "compose.yaml": compose, ".env": "COMPOSE_PROJECT_NAME=From.DotEnv" }, "My.Dir");
    const load = (env: NodeJS.ProcessEnv, projectName?: string) =>
      loadCompose({ cwd: dir, env, ...(projectName !== undefined ? { projectName } : {}) });
    expect((await load({ COMPOSE_PROJECT_NAME: "From-Env" }, "The App")).name).toBe("theapp");
    expect((await load({ COMPOSE_PROJECT_NAME: "From-Env" })).name).toBe("from-env");
    expect((await load({})).name).toBe("fromdotenv");
    // An empty variable in the process env still shadows .env, as in compose; empty means "not set".
    expect((await load({ COMPOSE_PROJECT_NAME: "" }, "")).name).toBe("from-file");
  });

  it("falls back from name: to the working directory's basename", async () => {
    const named = tmpProject({ "compose.yaml": compose }, "My.Dir");
    expect((await loadCompose({ cwd: named, env: {} })).name).toBe("from-file");
    const unnamed = tmpProject({ "compose.yaml": "services:\n  app:\n    image: x\n" }, "My.Dir");
    expect((await loadCompose({ cwd: unnamed, env: {} })).name).toBe("mydir");
  });

  it("name: may be interpolated", async () => {
    const dir = tmpProject({ "compose.yaml": "name: shop-${STAGE:-dev}\nservices:\n  app:\n    image: x\n" });
    expect((await loadCompose({ cwd: dir, env: { STAGE: "prod" } })).name).toBe("shop-prod");
  });

  it("a name with nothing usable left is a ConfigError", async () => {
    const dir = tmpProject({ "compose.yaml": "services:\n  app:\n    image: x\n" }, "___");
    const err = await caught(() => loadCompose({ cwd: dir, env: {} }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe('project name "___" from the directory name has no letters or digits');
    const app = await caught(() => loadCompose({ cwd: dir, env: {}, projectName: "!!!" }));
    expect(app.message).toContain("from --app");
  });
});
