/**
 * The `sg-audit` command runs from a bundle of cli/main.ts, dist/cli/main.js, instead of
 * transpiling the TypeScript tree at every start. `npm ci` builds it (the prepare script runs this
 * file); bin/sg-audit.mjs calls ensureCliBundle() first, which rebuilds it when it is missing or
 * when the bytes of any source it was built from, or of this builder, differ from the build's:
 * the command never runs stale code.
 *
 * Packages stay external (loaded from node_modules at run time) and each command's module is a
 * chunk of its own, loaded when the command runs: `sg-audit --help` loads neither DuckDB nor the
 * AWS SDK. CommonJS, so that plain Node (bin/sg-audit.mjs, npm's prepare) and Jest both load it.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const ENTRY = 'cli/main.ts';
const OUT_DIR = path.join('dist', 'cli');
/** The build's record: the sha256 of this builder and of every source file it read. */
const MANIFEST = 'build.json';

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function hashFile(file) {
  try {
    return sha256(fs.readFileSync(file));
  } catch {
    return undefined;
  }
}

/** Writes a file whole or not at all (a concurrent start never reads half a bundle). */
function writeAtomically(file, contents) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * @typedef {object} BundleOptions
 * @property {string} [root] the project root (default: this repository)
 * @property {string} [outDir] where the bundle goes (default: <root>/dist/cli)
 */

/** @param {BundleOptions} options */
function locations({ root = ROOT, outDir } = {}) {
  return { root, outDir: outDir ?? path.join(root, OUT_DIR) };
}

/**
 * Whether the bundle is up to date.
 *
 * @param {BundleOptions} [options]
 * @returns {{ entry: string, fresh: boolean, reason?: string }} the bundle's entry file, and why it is stale
 */
function bundleState(options) {
  const { root, outDir } = locations(options);
  const entry = path.join(outDir, 'main.js');
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(outDir, MANIFEST), 'utf8'));
  } catch {
    return { entry, fresh: false, reason: 'no bundle yet' };
  }
  if (manifest.builder !== hashFile(__filename))
    return { entry, fresh: false, reason: 'the builder changed' };
  for (const [input, hash] of Object.entries(manifest.inputs ?? {})) {
    if (hashFile(path.join(root, input)) !== hash) return { entry, fresh: false, reason: `${input} changed` };
  }
  for (const output of manifest.outputs ?? []) {
    if (!fs.existsSync(path.join(outDir, output)))
      return { entry, fresh: false, reason: `${output} is missing` };
  }
  return { entry, fresh: true };
}

/**
 * Bundles cli/main.ts into dist/cli/ and records what it was built from.
 *
 * @param {BundleOptions} [options]
 * @returns {Promise<{ entry: string, outputs: string[], inputs: number, metafile: object }>}
 */
async function buildCliBundle(options) {
  const esbuild = require('esbuild');
  const { root, outDir } = locations(options);
  /** sha256 of each source as esbuild read it (not as it may be by the time the build ends). */
  const inputs = {};
  const recordInputs = {
    name: 'record-inputs',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
        const contents = await fs.promises.readFile(args.path);
        inputs[path.relative(root, args.path).split(path.sep).join('/')] = sha256(contents);
        return { contents, loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js' };
      });
    },
  };
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [ENTRY],
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [recordInputs],
  });
  // Anything esbuild read without the plugin (JSON, say) is recorded as it is now.
  for (const input of Object.keys(result.metafile.inputs)) {
    inputs[input] ??= hashFile(path.join(root, input));
  }
  const outputs = result.outputFiles.map((file) => file.path);
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  const manifest = path.join(outDir, MANIFEST);
  // Outputs of earlier builds (chunks are named by content hash) go.
  for (const file of listFiles(outDir)) {
    if (file !== manifest && !outputs.includes(file)) fs.rmSync(file, { force: true });
  }
  const relative = (file) => path.relative(outDir, file).split(path.sep).join('/');
  writeAtomically(
    manifest,
    `${JSON.stringify(
      {
        builder: hashFile(__filename),
        inputs: Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b))),
        outputs: outputs.map(relative).sort(),
      },
      null,
      2,
    )}\n`,
  );
  return {
    entry: path.join(outDir, 'main.js'),
    outputs: outputs.map(relative),
    inputs: Object.keys(inputs).length,
    metafile: result.metafile,
  };
}

/**
 * The entry file of an up-to-date bundle, building it first when it is missing or stale.
 *
 * @param {BundleOptions} [options]
 * @returns {Promise<string>}
 */
async function ensureCliBundle(options) {
  const state = bundleState(options);
  if (state.fresh) return state.entry;
  try {
    return (await buildCliBundle(options)).entry;
  } catch (error) {
    throw new Error(
      `sg-audit: cannot build the command's bundle (${state.reason}): ${error instanceof Error ? error.message : error}; run npm ci`,
      { cause: error },
    );
  }
}

module.exports = { bundleState, buildCliBundle, ensureCliBundle };

if (require.main === module) {
  const started = process.hrtime.bigint();
  buildCliBundle().then(
    ({ outputs, inputs }) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      process.stdout.write(
        `sg-audit: bundled ${ENTRY} (${inputs} sources) into ${OUT_DIR}/ (${outputs.length} files) in ${ms.toFixed(0)} ms\n`,
      );
    },
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.message : error}\n`);
      process.exitCode = 1;
    },
  );
}
