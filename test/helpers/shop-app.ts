import { writeFile } from "node:fs/promises";
import path from "node:path";
import { tarOf } from "../battery/forge.ts";
import { container } from "./builders.ts";
import { sdbackupInProcess } from "./cli.ts";
import { createFakeDocker, type FakeDocker } from "./fake-docker.ts";

/**
 * The smallest app a command test can back up, verify and restore without Docker: compose project
 * `shop` with one volume service `files` (/srv/files), written into `cwd`, and the CLI run in
 * process over a fake engine whose container serves a one-file archive for that path.
 */
export interface ShopApp {
  /** Runs the CLI with `args`; `now` fixes the clock (set ids, cut-offs). */
  cli(args: string[], opts?: { now?: string }): { fake: FakeDocker; run: ReturnType<typeof sdbackupInProcess> };
}

export async function shopApp(cwd: string): Promise<ShopApp> {
  await writeFile(path.join(cwd, "compose.yaml"), "name: shop\nservices:\n  files:\n    image: nginx:1\n    labels: { simpledeploy.backup.strategy: volume, simpledeploy.backup.paths: /srv/files }\n");
  const archive = await tarOf([{ name: "files/", type: "directory" }, { name: "files/readme.txt", body: "v1" }]);
  const containers = [container("files", { labels: { "com.docker.compose.project": "shop", "com.docker.compose.service": "files" }, project: "shop" })];
  return {
    cli(args, opts = {}) {
      const fake = createFakeDocker({ containers, archives: { "/srv/files": archive } });
      const at = opts.now;
      return { fake, run: sdbackupInProcess(args, { cwd, docker: async () => fake.api, ...(at ? { now: () => new Date(at) } : {}) }) };
    },
  };
}
