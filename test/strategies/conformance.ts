import { isDatabaseImage } from "../../src/strategies/index.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeStack, type Stack } from "../helpers/compose.ts";
import { sdbackup, withoutSecrets, type CliRun } from "../helpers/cli.ts";
import { connect } from "../../src/docker/client.ts";
import type { DockerApi } from "../../src/docker/types.ts";
import { strategies } from "../../src/strategies/index.ts";
import type { Strategy } from "../../src/strategies/types.ts";
import { detectService } from "../../src/core/project/detect.ts";
import { createSecretRegistry } from "../../src/strategies/shared/secrets.ts";
import { silentLogger } from "../../src/ui/logger.ts";
import { loadCompose } from "../../src/compose/load.ts";

/**
 * What a strategy test provides. The compose file starts the service under test as `service`;
 * optional override files break it in the ways every strategy must report clearly.
 */
export interface StrategyFixture {
  strategy: (typeof strategies)[number]["name"];
  /** Suite title when one strategy runs several fixtures (e.g. "redis (appendonly)"); default: the strategy. */
  name?: string;
  compose: string;
  service: string;
  /** Waits until the service accepts the commands `seed` uses. */
  ready(stack: Stack): Promise<void>;
  seed(stack: Stack): Promise<unknown>;
  /** A canonical text of the data, compared before backup and after restore. */
  snapshot(stack: Stack): Promise<string>;
  mutate(stack: Stack): Promise<unknown>;
  /** Makes the next restore fail part-way (after `mutate`); the data must stay as it was. */
  breakRestore?: (stack: Stack) => Promise<void>;
  /**
   * For stores whose restore cannot be atomic (MySQL DDL commits as it goes): removes what
   * `breakRestore` did. The failed restore must still exit 1, but instead of "data unchanged" the
   * suite then expects a second restore to bring the backup back.
   */
  fixRestore?: (stack: Stack) => Promise<void>;
  /** A secret the service uses: it must never reach output or exec argv. */
  secret?: string;
  /** Override file that makes the credentials wrong (exit 1, clear message). */
  wrongCredentials?: string;
  /** Override file that runs the service in an image without the dump tool, and the tool's name. */
  missingTool?: { override: string; tool: string };
  /** Extra backup flags (`--transport exec`), and the transport every database dump must report. */
  backupArgs?: string[];
  transport?: "exec" | "fast";
}

/** backup → mutate → restore → equal, plus the failure cases every strategy must handle. */
export function describeStrategy(fx: StrategyFixture): void {
  describe(`strategy conformance: ${fx.name ?? fx.strategy}`, () => {
    const stack = composeStack(fx.compose, `sdbc${fx.strategy.slice(0, 4)}`);
    let target: string;
    let cwd: string;
    const checked = (r: CliRun) => withoutSecrets(r, [fx.secret]);
    const cli = async (args: string[], files: string[] = []) => {
      const fileArgs = files.length ? ["-f", fx.compose, ...files.flatMap((f) => ["-f", f])] : [];
      return checked(await sdbackup([...args, ...fileArgs, "--app", stack.project, "--target", target, "--json"], { cwd }));
    };
    const committed = async () =>
      ((await readdir(join(target, stack.project)).catch(() => [])) as string[]).filter((d) => !d.startsWith("."));

    beforeAll(async () => {
      target = await mkdtemp(join(tmpdir(), "sdb-conf-target-"));
      cwd = await mkdtemp(join(tmpdir(), "sdb-conf-cwd-"));
      await stack.up();
      await fx.ready(stack);
      await fx.seed(stack);
    }, 240_000);

    afterAll(async () => {
      await stack.down();
      await rm(target, { recursive: true, force: true });
      await rm(cwd, { recursive: true, force: true });
    }, 120_000);

    it("detects the service with this strategy", async () => {
      const project = await loadCompose({ files: [fx.compose], cwd, env: {} });
      const svc = project.services.find((s) => s.name === fx.service)!;
      expect(detectService(svc).strategy).toBe(fx.strategy);
    });

    it("round-trips the data: backup → change → restore → equal", async () => {
      const original = await fx.snapshot(stack);
      const backup = await cli(["backup", "--service", fx.service, ...(fx.backupArgs ?? [])]);
      expect(backup.code, backup.stderr).toBe(0);
      expect(JSON.parse(backup.stdout)).toMatchObject({ status: "ok" });
      if (fx.transport) {
        const dumps = (JSON.parse(backup.stdout) as { items: { part?: string; transport?: string }[] }).items.filter((i) => i.part !== "globals");
        expect(dumps.map((i) => i.transport)).toEqual(dumps.map(() => fx.transport));
      }
      await fx.mutate(stack);
      expect(await fx.snapshot(stack)).not.toBe(original);
      const restore = await cli(["restore", "--service", fx.service, "--yes"]);
      expect(restore.code, restore.stderr).toBe(0);
      await fx.ready(stack);
      expect(await fx.snapshot(stack)).toBe(original);
    }, 240_000);

    it("restore drill: verify --restore-test proves a fresh set (exit 0) and leaves no container", async () => {
      const backup = await cli(["backup", "--service", fx.service]);
      expect(backup.code, backup.stderr).toBe(0);
      const drill = await cli(["verify", "--restore-test"]);
      expect(drill.code, drill.stderr).toBe(0);
      const doc = JSON.parse(drill.stdout) as { status: string; items: { comparison: string; status: string; note?: string }[] };
      expect(doc.status).toBe("proven");
      expect(doc.items.length).toBeGreaterThan(0);
      // a strategy that records an inventory has each artifact compared, not just restored
      const strategy: Strategy = strategies.find((s) => s.name === fx.strategy)!;
      if (strategy.inventory || strategy.inventoryOf) expect(doc.items.filter((i) => i.comparison === "unavailable" && !i.note)).toEqual([]);
      const docker = await connect(process.env, AbortSignal.timeout(30_000));
      expect(await docker.listContainers({ "sdbackup.drill.project": stack.project, "sdbackup.drill.service": fx.service }, { signal: AbortSignal.timeout(10_000) })).toEqual([]);
    }, 300_000);

    if (fx.breakRestore) {
      const title = fx.fixRestore ? "a restore that fails part-way exits 1; fixed, a second restore brings the backup back" : "a restore that fails exits 1 and leaves the data as it was";
      it(title, async () => {
        const restored = await fx.snapshot(stack); // the round trip left the last backup's data
        await fx.mutate(stack);
        await fx.breakRestore!(stack);
        const changed = await fx.snapshot(stack);
        const r = await cli(["restore", "--service", fx.service, "--yes"]);
        expect(r.code, r.stderr).toBe(1);
        await fx.ready(stack);
        if (!fx.fixRestore) {
          expect(await fx.snapshot(stack)).toBe(changed);
          return;
        }
        await fx.fixRestore(stack);
        const again = await cli(["restore", "--service", fx.service, "--yes"]);
        expect(again.code, again.stderr).toBe(0);
        expect(await fx.snapshot(stack)).toBe(restored);
      }, 240_000);
    }

    it("keeps secrets out of the dump command's argv", async (t) => {
      t.skip(!fx.secret, "the fixture uses no secret");
      const docker = recording(await connect(process.env, AbortSignal.timeout(30_000)));
      const containerId = await stack.containerId(fx.service);
      const project = await loadCompose({ files: [fx.compose], cwd, env: {}, projectName: stack.project });
      const service = project.services.find((s) => s.name === fx.service)!;
      const strategy = strategies.find((s) => s.name === fx.strategy)!;
      const d = detectService(service);
      const ctx = {
        docker: docker.api, service, container: await docker.api.inspect(containerId, { signal: AbortSignal.timeout(10_000) }),
        detection: { strategy: fx.strategy, source: "image" as const, confidence: 1, paths: d.paths, warnings: [] },
        secrets: createSecretRegistry(), isDatabaseImage, signal: AbortSignal.timeout(60_000), log: silentLogger,
      };
      const stream = await strategy.backup(ctx);
      for await (const _ of stream) void _;
      expect(docker.argvs.length).toBeGreaterThan(0);
      for (const argv of docker.argvs) expect(argv.join(" ")).not.toContain(fx.secret);
    }, 120_000);

    if (fx.wrongCredentials) {
      it("wrong credentials: exit 1, a clear message, no committed set", async () => {
        const before = await committed();
        const r = await cli(["backup", "--service", fx.service], [fx.wrongCredentials!]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`${fx.service}`));
        expect(r.stderr).toMatch(/denied|authenticat|password|WRONGPASS|NOAUTH/i);
        expect(await committed()).toEqual(before);
      }, 120_000);
    }

    if (fx.missingTool) {
      it("dump tool missing in the image: a clear error naming the tool", async () => {
        const other = composeStack(fx.missingTool!.override, `sdbm${fx.strategy.slice(0, 4)}`);
        await other.up();
        try {
          const r = checked(await sdbackup(["backup", "--app", other.project, "--target", target, "--json"], { cwd }));
          expect(r.code).toBe(1);
          expect(r.stderr).toContain(fx.missingTool!.tool);
        } finally {
          await other.down();
        }
      }, 180_000);
    }
  });
}

/** A real DockerApi that records every argv it runs. */
function recording(api: DockerApi): { api: DockerApi; argvs: string[][] } {
  const argvs: string[][] = [];
  return {
    argvs,
    api: {
      ...api,
      execStream: (id, argv, opts) => (argvs.push(argv), api.execStream(id, argv, opts)),
      ...(api.dumpStream ? { dumpStream: (c, argv, opts) => (argvs.push(argv), api.dumpStream!(c, argv, opts)) } : {}),
      exec: (id, argv, opts) => (argvs.push(argv), api.exec(id, argv, opts)),
    },
  };
}
