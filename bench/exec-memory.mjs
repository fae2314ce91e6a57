// Peak RSS while execStream feeds a slow sink: backpressure must reach the engine, so memory stays
// flat however large the output is (modem.demuxStream, which ignores it, measured 1.2 GB for 500 MB).
//   npx node [--max-semi-space-size=1] bench/exec-memory.mjs [sizeMiB=500] [sinkMiBps=60]
// What is live stays around 1 MiB; most of the growth is garbage socket buffers that V8 frees only
// at its next scavenge, which a smaller young generation (--max-semi-space-size=1) brings forward.
// Starts a labelled debian:bookworm container and removes it in every case.
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { connect } from "../src/docker/client.ts";
import { removeContainers, requireDocker, startContainer } from "../test/helpers/docker.ts";

const [sizeMiB = "500", sinkMiBps = "60"] = process.argv.slice(2);
const total = Number(sizeMiB) * 1024 * 1024;
const bytesPerMs = (Number(sinkMiBps) * 1024 * 1024) / 1000;
const mib = (n) => (n / 1024 / 1024).toFixed(1);

await requireDocker();
const { id } = await startContainer({ image: "debian:bookworm", cmd: ["sleep", "infinity"] });
try {
  const signal = new AbortController().signal;
  const api = await connect(process.env, signal);
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);

  let received = 0;
  let debt = 0;
  // A sink that drains at a fixed rate, far below what the engine can deliver.
  const slow = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk, _encoding, callback) {
      received += chunk.length;
      debt += chunk.length / bytesPerMs;
      if (debt < 1) return callback();
      const ms = Math.floor(debt);
      debt -= ms;
      setTimeout(callback, ms);
    },
  });
  const started = performance.now();
  await pipeline(api.execStream(id, ["head", "-c", String(total), "/dev/zero"], { signal }), slow);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  const maxRSS = process.resourceUsage().maxRSS * 1024;

  if (received !== total) throw new Error(`received ${received} bytes, expected ${total}`);
  console.log(`streamed ${mib(received)} MiB in ${seconds.toFixed(1)} s (${mib(received / seconds)} MiB/s, sink limit ${sinkMiBps} MiB/s)`);
  console.log(`RSS baseline ${mib(baseline)} MiB, peak while streaming ${mib(peak)} MiB (growth ${mib(peak - baseline)} MiB), process maxRSS ${mib(maxRSS)} MiB`);
} finally {
  await removeContainers([id]);
}
