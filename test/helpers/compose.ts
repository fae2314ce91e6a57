import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";

const run = promisify(execFile);

/** A compose project started with docker-compose (v1 here; v2 behaves the same for our labels). */
export interface Stack {
  project: string;
  file: string;
  up(): Promise<void>;
  down(): Promise<void>;
  /** `docker exec` in the service's container, failing on a non-zero exit. */
  exec(service: string, argv: string[], input?: string): Promise<string>;
  containerId(service: string): Promise<string>;
}

export function composeStack(file: string, prefix: string): Stack {
  const project = `${prefix}${randomBytes(3).toString("hex")}`;
  const compose = (...args: string[]) => run("docker-compose", ["-p", project, "-f", file, ...args], { maxBuffer: 64 << 20 });
  const stack: Stack = {
    project,
    file,
    async up() {
      await compose("up", "-d");
    },
    async down() {
      await compose("down", "-v", "--remove-orphans", "-t", "1").catch(() => {});
      // `down` needs the compose file; a test may have removed it, so sweep by label as well.
      const label = `label=com.docker.compose.project=${project}`;
      const ids = async (...args: string[]) => (await run("docker", args)).stdout.split("\n").filter(Boolean);
      const containers = await ids("ps", "-aq", "--filter", label);
      if (containers.length) await run("docker", ["rm", "-f", "-v", ...containers]).catch(() => {});
      const volumes = await ids("volume", "ls", "-q", "--filter", label);
      if (volumes.length) await run("docker", ["volume", "rm", "-f", ...volumes]).catch(() => {});
      const networks = await ids("network", "ls", "-q", "--filter", label);
      if (networks.length) await run("docker", ["network", "rm", ...networks]).catch(() => {});
    },
    async containerId(service) {
      const { stdout } = await run("docker", ["ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`, "--filter", `label=com.docker.compose.service=${service}`]);
      const id = stdout.trim().split("\n")[0];
      if (!id) throw new Error(`no container for ${service}`);
      return id;
    },
    async exec(service, argv, input) {
      const id = await stack.containerId(service);
      return new Promise((resolve, reject) => {
        const child = execFile("docker", ["exec", "-i", id, ...argv], { maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${argv.join(" ")}: ${stderr || err.message}`)) : resolve(stdout),
        );
        child.stdin?.end(input ?? "");
      });
    },
  };
  return stack;
}

/** Waits until PostgreSQL in `service` accepts queries (the entrypoint restarts it after init). */
export async function waitForPostgres(stack: Stack, service: string, user: string, db: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      // init runs a socket-only temporary server first: only the final server answers on TCP
      await stack.exec(service, ["psql", "-h", "127.0.0.1", "-U", user, "-d", db, "-tAc", "select 1"]);
      return;
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`postgres did not become ready: ${last}`);
}
