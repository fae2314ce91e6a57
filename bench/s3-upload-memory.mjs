// Peak memory of one S3 upload of a generated stream of unknown length, against s3rver.
//   npx node bench/s3-upload-memory.mjs [sizeMiB=300] [partSize=16MiB] [queueSize=2]
// s3rver runs in a child process, so the RSS measured here is sdbackup's side only.
import { Readable } from "node:stream";
import { openTarget } from "../src/targets/index.ts";
import { startS3rver } from "../test/helpers/s3rver.ts";

const [sizeMiB = "300", partSize = "16MiB", queueSize = "2"] = process.argv.slice(2);
const total = Number(sizeMiB) * 1024 * 1024;
const CHUNK = 64 * 1024;
const template = Buffer.alloc(CHUNK, "sdbackup");

/** Fresh 64 KiB buffers, like a dump stream, so nothing is shared between parts. */
function generated(bytes) {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) return this.push(null);
      const n = Math.min(CHUNK, bytes - sent);
      const buf = Buffer.allocUnsafe(n);
      template.copy(buf, 0, 0, n);
      sent += n;
      this.push(buf);
    },
  });
}

const server = await startS3rver();
try {
  const url = `s3://${server.bucket}/bench?endpoint=${server.endpoint}&partSize=${partSize}&queueSize=${queueSize}`;
  const target = await openTarget(url, { env: server.env, cwd: process.cwd() });
  const mib = (n) => (n / 1024 / 1024).toFixed(0);
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const { bytes } = await target.put("big.bin", generated(total), { signal: new AbortController().signal });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
  console.log(
    `uploaded ${mib(bytes)} MiB in ${seconds.toFixed(1)} s (${mib(bytes / seconds)} MiB/s), partSize ${partSize}, queueSize ${queueSize}: ` +
      `baseline RSS ${mib(baseline)} MiB, peak RSS ${mib(peak)} MiB (+${mib(peak - baseline)} MiB)`,
  );
} finally {
  await server.stop();
}
