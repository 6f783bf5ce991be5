#!/usr/bin/env node
// Entry point of the `sg-audit` command: registers the TypeScript loader, then runs cli/main.ts.
import { readFileSync } from 'node:fs';
import { register } from 'tsx/esm/api';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(
    `sg-audit needs Node.js 22 or newer (this is ${process.version}); run it through npm (npm start / npx sg-audit), which uses the project's Node 22.\n`,
  );
  process.exit(1);
}
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2), {
  version,
  stdout: process.stdout,
  stderr: process.stderr,
});
