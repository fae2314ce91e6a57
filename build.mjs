// Builds the single-file executable dist/sdbackup: an esbuild CommonJS bundle turned into a Node
// single executable application (SEA) blob and injected into a copy of the pinned Node 24 binary.
//
//   npm run build                 bundle + blob + binary
//   npm run build -- --bundle-only   just dist/sdbackup.cjs (quick check that everything bundles)
//   npm run build -- --analyze       also print what the bundle is made of
//
// Run it through npm so process.execPath is node_modules/.bin/node (Node 24): the blob only works
// with the exact binary that produced it, and that binary is the one copied into dist/.
import { analyzeMetafile, build } from "esbuild";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, "dist");
const files = {
  bundle: path.join(dist, "sdbackup.cjs"),
  seaConfig: path.join(dist, "sea-config.json"),
  blob: path.join(dist, "sea-prep.blob"),
  binary: path.join(dist, "sdbackup"),
};
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const args = new Set(process.argv.slice(2));
const started = performance.now();

/**
 * Stand-ins for modules the bundle must not carry. Each is a CommonJS source evaluated lazily, at
 * the place the real module would have been required.
 */
const STUBS = {
  // ssh2 and its cpu-features dependency probe for optional native addons inside try/catch and fall
  // back to pure JS when the require throws. A `.node` file cannot live inside a SEA blob, and
  // leaving the require external would make esbuild warn and the binary look for files beside itself.
  missingAddon: (name) =>
    `const e = new Error(${JSON.stringify(`optional native addon ${name} is not part of the sdbackup binary`)});\n` +
    `e.code = "MODULE_NOT_FOUND";\nthrow e;\n`,
  // dockerode 5 requires ./session at load time for BuildKit v2 builds with registry auth, which pulls
  // in @grpc/grpc-js and @grpc/proto-loader (most of the bundle) and reads .proto files from disk
  // next to the module, which a bundle cannot do anyway. sdbackup never builds images.
  dockerodeSession:
    `module.exports = function withSession(_docker, _auth, handler) {\n` +
    `  handler(new Error("BuildKit sessions are not supported in the sdbackup binary"), null, () => undefined);\n};\n`,
  // dockerode's followProgress decodes BuildKit traces with protobufjs loading a .proto file from
  // disk; plain pull/build progress does not touch it, and parseBuildKitLine catches this throw.
  protobufjs:
    `module.exports = { loadSync() { throw new Error("BuildKit progress decoding is not supported in the sdbackup binary"); } };\n`,
};

/** @type {import("esbuild").Plugin} */
const stubPlugin = {
  name: "sdbackup-stubs",
  setup(b) {
    const stub = (contents) => ({ path: contents, namespace: "sdbackup-stub" });
    // Only ssh2's addons are known to be optional; any other one would break silently, so it fails the build.
    b.onResolve({ filter: /\.node$|^cpu-features$/ }, (a) =>
      isIn(a.importer, "ssh2")
        ? stub(STUBS.missingAddon(path.basename(a.path)))
        : { errors: [{ text: `native addon ${a.path} (from ${path.relative(root, a.importer)}) cannot go into the single binary` }] },
    );
    b.onResolve({ filter: /^\.\/session$/ }, (a) => (isIn(a.importer, "dockerode") ? stub(STUBS.dockerodeSession) : undefined));
    b.onResolve({ filter: /^protobufjs$/ }, (a) => (isIn(a.importer, "dockerode") ? stub(STUBS.protobufjs) : undefined));
    // A few AWS SDK paths import() built-ins lazily. Node 24's docs say import() does not work in a
    // SEA built with useCodeCache (24.21 does handle built-ins); through require() it works either way
    // and esbuild still defers the load to the import() call.
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (a) =>
      a.kind === "dynamic-import" && isBuiltin(a.path) ? { path: a.path, namespace: "sdbackup-builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "sdbackup-stub" }, (a) => ({ contents: a.path, loader: "js" }));
    b.onLoad({ filter: /.*/, namespace: "sdbackup-builtin" }, (a) => ({ contents: `module.exports = require(${JSON.stringify(a.path)});\n`, loader: "js" }));
  },
};

function isIn(importer, pkg) {
  return importer.includes(`${path.sep}node_modules${path.sep}${pkg}${path.sep}`);
}

function step(label, fn) {
  const t = performance.now();
  const result = fn();
  const done = (value) => {
    console.log(`  ${label.padEnd(38)} ${ms(performance.now() - t)}`);
    return value;
  };
  return result instanceof Promise ? result.then(done) : done(result);
}

function ms(n) {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

function mib(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function fail(message) {
  console.error(`build failed: ${message}`);
  process.exit(1);
}

async function bundle() {
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["src/main.ts"],
    outfile: files.bundle,
    bundle: true,
    platform: "node",
    target: "node24",
    // SEA runs its main script as CommonJS; src/main.ts has no top-level await.
    format: "cjs",
    // Smaller source parses faster; names stay readable for stack traces in bug reports.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    define: { __SDBACKUP_VERSION__: JSON.stringify(pkg.version) },
    plugins: [stubPlugin],
    metafile: true,
    // Warnings fail the build: in a CJS bundle, e.g. an `import.meta.url` that some dependency
    // really uses would be undefined at run time.
    logLevel: "warning",
  }).catch(() => fail("esbuild could not bundle src/main.ts; see the errors above"));
  if (result.warnings.length > 0) fail(`esbuild reported ${result.warnings.length} warning(s); see above`);
  const source = readFileSync(files.bundle, "utf8");
  // A SEA main script cannot import() anything from disk; every module must be inside the bundle.
  if (/\bimport\(/.test(source)) fail("the bundle still contains an import() call; bundle or stub that module");
  return result.metafile;
}

function makeBlob() {
  const config = {
    main: files.bundle,
    output: files.blob,
    disableExperimentalSEAWarning: true,
    // V8 code cache for the bundle: skips compiling the script at every start.
    useCodeCache: true,
    useSnapshot: false,
    // docker-modem parses tcp:// and ssh:// DOCKER_HOST addresses with url.parse(), which makes
    // Node 24 print a DEP0169 deprecation warning on every such run; the warning is not actionable
    // for sdbackup's users. For ssh:// it also builds an `ssh:host:port` URL for url.resolve()
    // (DEP0170, equally harmless: the request itself goes through the ssh agent).
    execArgv: ["--disable-warning=DEP0169", "--disable-warning=DEP0170", "--max-semi-space-size=1"],
  };
  writeFileSync(files.seaConfig, JSON.stringify(config, null, 2) + "\n");
  run(process.execPath, ["--experimental-sea-config", files.seaConfig]);
}

function copyNode() {
  rmSync(files.binary, { force: true });
  copyFileSync(process.execPath, files.binary);
  chmodSync(files.binary, 0o755);
  // Node's release binaries carry symbols that nothing at run time needs. Strip before injecting:
  // strip rewrites the ELF and could drop the section postject adds.
  const strip = spawnSync("strip", [files.binary], { stdio: ["ignore", "ignore", "pipe"] });
  if (strip.error) console.log("  (strip not found: binary left unstripped)");
  else if (strip.status !== 0) fail(`strip failed: ${strip.stderr.toString().trim()}`);
}

function inject() {
  // The CLI in a child process rather than the JS API: LIEF prints harmless "Can't find string offset
  // for section name" lines for stripped binaries, which are only worth showing when injection fails.
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve("postject")), "cli.js");
  run(process.execPath, [cli, files.binary, "NODE_SEA_BLOB", files.blob, "--sentinel-fuse", SEA_FUSE]);
  chmodSync(files.binary, 0o755);
}

/** Runs a tool quietly; its output is shown only when it fails. */
function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error || r.status !== 0) {
    fail(`${path.basename(cmd)} ${argv.join(" ")} exited ${r.status ?? r.error}\n${r.stdout}${r.stderr}`);
  }
}

/** The binary must start without Node on PATH and print nothing on stderr (no SEA or addon warnings). */
function check() {
  const r = spawnSync(files.binary, ["--version"], { env: { PATH: "/usr/bin:/bin" }, cwd: dist, encoding: "utf8" });
  if (r.status !== 0 || r.stderr !== "") {
    fail(`dist/sdbackup --version exited ${r.status}\n${r.stdout}${r.stderr}${r.error ?? ""}`);
  }
  return r.stdout.trim();
}

async function main() {
  const major = Number(process.versions.node.split(".")[0]);
  if (major !== 24) fail(`Node ${process.version} at ${process.execPath}; run \`npm run build\` to use the pinned Node 24`);
  mkdirSync(dist, { recursive: true });
  console.log(`sdbackup build with Node ${process.version}`);
  const metafile = await step("bundle (esbuild)", bundle);
  console.log(`  ${"dist/sdbackup.cjs".padEnd(38)} ${mib(statSync(files.bundle).size)}`);
  if (args.has("--analyze")) {
    console.log(await analyzeMetafile(metafile, { verbose: false }));
  }
  if (args.has("--bundle-only")) return;
  step("SEA blob (--experimental-sea-config)", makeBlob);
  step("copy + strip node", copyNode);
  step("inject blob (postject)", inject);
  const version = step("smoke run (--version)", check);
  console.log(`dist/sdbackup ${version}: ${mib(statSync(files.binary).size)}, built in ${ms(performance.now() - started)}`);
}

await main();
