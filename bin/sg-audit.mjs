#!/usr/bin/env node
// Entry point of the `sg-audit` command: runs the bundle of cli/main.ts (dist/cli/main.js), which
// `npm ci` builds and which is rebuilt first whenever a source it was built from has changed
// (scripts/cli-bundle.cjs).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(
    `sg-audit needs Node.js 22 or newer (this is ${process.version}); run it through npm (npm start / npx sg-audit), which uses the project's Node 22.\n`,
  );
  process.exit(1);
}
// Stack traces name the TypeScript sources (the bundle's linked source maps).
process.setSourceMapsEnabled(true);
const { ensureCliBundle } = await import('../scripts/cli-bundle.cjs');
const { main } = await import(pathToFileURL(await ensureCliBundle()).href);
process.exitCode = await main(process.argv.slice(2), {
  version,
  stdout: process.stdout,
  stderr: process.stderr,
});
