import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import tar from "tar-stream";
import { describe, expect, it } from "vitest";
import { packPaths, validateVolumeTar } from "../../../../src/strategies/volume/tar.ts";
import { createFakeDocker } from "../../../helpers/fake-docker.ts";
import { container } from "../../../helpers/builders.ts";

// The rule restore applies to a volume archive is applied at backup (issue 10): links are data,
// but what restore would refuse makes the backup fail instead of producing an "ok" set.

type E = Partial<tar.Header> & { name: string };

async function archive(entries: E[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === "file" || e.type === undefined) pack.entry(e as tar.Header, "x");
    else pack.entry(e as tar.Header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function backup(entries: E[]) {
  return archive(entries).then((tarball) => {
    const docker = createFakeDocker({ containers: [container("web")], archives: { "/var/log/nginx": tarball } }).api;
    return packPaths(docker, "web-id", ["/var/log/nginx"], AbortSignal.timeout(10_000));
  });
}

describe("volume backup judges entries like restore", () => {
  it("keeps outward and inward symlinks as links, and the archive validates", async () => {
    const out = await backup([
      { name: "nginx/", type: "directory" }, { name: "nginx/access.log", type: "symlink", linkname: "/dev/stdout" },
      { name: "nginx/current", type: "symlink", linkname: "/srv/releases/42" }, { name: "nginx/here", type: "symlink", linkname: "." },
    ]);
    const bytes = await buffer(out);
    expect(bytes.includes("/srv/releases/42")).toBe(true);
    await expect(validateVolumeTar(Readable.from([bytes]), ["/var/log/nginx"])).resolves.toBeUndefined();
  });

  it.each<[string, E[], RegExp]>([
    ["a device node", [{ name: "nginx/", type: "directory" }, { name: "nginx/null", type: "character-device" }], /\/var\/log\/nginx\/null cannot be backed up: character-device entries are not allowed/],
    ["a file below a link", [{ name: "nginx/", type: "directory" }, { name: "nginx/l", type: "symlink", linkname: "/etc" }, { name: "nginx/l/passwd" }], /cannot be backed up: it would be written through the symbolic link/],
  ])("fails on %s", async (_what, entries, message) => {
    const out = await backup(entries);
    await expect(buffer(out)).rejects.toThrow(message);
  });
});
