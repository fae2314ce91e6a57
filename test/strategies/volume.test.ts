import { join } from "node:path";
import { describeStrategy } from "./conformance.ts";

const dir = join(import.meta.dirname, "volume");

/** Every file below /srv/files with its mode, owner and sha256: the volume's canonical text. */
const SNAPSHOT = "cd /srv/files && find . -mindepth 1 | sort | while read -r p; do stat -c '%n %A %u:%g' \"$p\"; [ -f \"$p\" ] && sha256sum \"$p\"; done; true";

describeStrategy({
  strategy: "volume",
  compose: join(dir, "compose.yaml"),
  service: "app",
  ready: async (stack) => void (await stack.exec("app", ["true"])),
  async seed(stack) {
    await stack.exec("app", ["sh", "-ec", [
      "mkdir -p /srv/files/uploads/2026 /srv/files/empty",
      "head -c 300000 /dev/urandom > /srv/files/uploads/2026/photo.bin",
      "printf 'hello\\n' > /srv/files/readme.txt",
      "chmod 600 /srv/files/readme.txt && chown 1000:1000 /srv/files/uploads/2026/photo.bin",
    ].join("; ")]);
  },
  snapshot: (stack) => stack.exec("app", ["sh", "-c", SNAPSHOT]),
  mutate: (stack) => stack.exec("app", ["sh", "-ec", "rm -rf /srv/files/uploads; printf 'changed\\n' > /srv/files/readme.txt; touch /srv/files/new"]),
});
