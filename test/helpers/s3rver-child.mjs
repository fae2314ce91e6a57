// Runs s3rver in its own process, because its paginated listing needs node's
// --openssl-legacy-provider (DES continuation tokens). Prints {"port":N} once listening and
// exits when stdin closes, so it never outlives the test process.
//
// s3rver lacks ListMultipartUploads and AbortMultipartUpload; the small middleware below adds
// them on top of its filesystem store (`<dir>/<bucket>/._S3rver_uploads/<uploadId>/key`) so that
// tests can check that an aborted put leaves no multipart upload behind. An optional fourth
// argument delays every CompleteMultipartUpload by that many milliseconds.
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";

const [s3rverPath, directory, bucket, completeDelay = "0"] = process.argv.slice(2);
// A store that assembles parts slowly: CompleteMultipartUpload answers only after this delay.
const completeDelayMs = Number(completeDelay);
const { default: S3rver } = await import(s3rverPath);

const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });

server.middleware.unshift(async (ctx, next) => {
  const url = new URL(ctx.url, "http://x");
  const [, b, ...rest] = url.pathname.split("/");
  const uploads = path.join(directory, decodeURIComponent(b ?? ""), "._S3rver_uploads");
  if (ctx.method === "GET" && rest.join("") === "" && url.searchParams.has("uploads")) {
    const ids = await readdir(uploads).catch(() => []);
    const entries = await Promise.all(
      ids.map(async (id) => `<Upload><Key>${escape(await readFile(path.join(uploads, id, "key"), "utf8"))}</Key><UploadId>${id}</UploadId></Upload>`),
    );
    ctx.type = "application/xml";
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>${b}</Bucket><IsTruncated>false</IsTruncated>${entries.join("")}</ListMultipartUploadsResult>`;
    return;
  }
  if (ctx.method === "DELETE" && url.searchParams.has("uploadId")) {
    const id = url.searchParams.get("uploadId");
    if (!/^[\w-]+$/.test(id)) return void (ctx.status = 400);
    await rm(path.join(uploads, id), { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  if (ctx.method === "POST" && url.searchParams.has("uploadId") && completeDelayMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, completeDelayMs));
  }
  await next();
});

const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + "\n");
process.stdin.on("end", () => server.close().finally(() => process.exit(0)));
process.stdin.resume();

function escape(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
