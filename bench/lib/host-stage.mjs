// One host-side stage of sdbackup's backup pipeline over a dump file, timed in-process (so node's
// startup is not counted), with sdbackup's own compressor and checksum:
//
//   node bench/lib/host-stage.mjs <read|zstd|sha256|zstd+sha256> <file>
//
// Prints one JSON line: { stage, seconds, bytesIn, bytesOut }.
import { createReadStream } from "node:fs";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createCompressor } from "../../src/pipeline/compress.ts";
import { createChecksum } from "../../src/pipeline/checksum.ts";

const [stage, file] = process.argv.slice(2);
const stages = {
  read: () => [],
  zstd: () => [createCompressor("zstd")],
  sha256: () => [createChecksum()],
  "zstd+sha256": () => [createCompressor("zstd"), createChecksum()],
};
if (!stages[stage] || !file) {
  console.error(`usage: host-stage.mjs <${Object.keys(stages).join("|")}> <file>`);
  process.exit(2);
}

let bytesIn = 0;
let bytesOut = 0;
const source = createReadStream(file, { highWaterMark: 64 * 1024 });
source.on("data", (b) => (bytesIn += b.length));
const sink = new Writable({
  write(chunk, _enc, done) {
    bytesOut += chunk.length;
    done();
  },
});
const started = performance.now();
await pipeline([source, ...stages[stage](), sink]);
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ stage, seconds, bytesIn, bytesOut }));
