#!/usr/bin/env node
// Entry point of the `sg-audit` command: runs the bundle of cli/main.ts (dist/cli/main.js), which
// `npm ci` builds and which is rebuilt first whenever a source it was built from has changed
// (scripts/cli-bundle.cjs).
//
// The command runs in a child Node process that this one watches: when V8 runs out of heap it
// aborts the process, and no JavaScript handler runs there to say what happened or what to do.
// The watcher says it, and passes the child's exit code on.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(
    `sg-audit needs Node.js 22 or newer (this is ${process.version}); run it through npm (npm start / npx sg-audit), which uses the project's Node 22.\n`,
  );
  process.exit(1);
}

/** Set in the child's environment: it runs the command, and does not watch another child. */
const WATCHED = 'SG_AUDIT_WATCHED';

if (process.env[WATCHED] === '1') {
  // Stack traces name the TypeScript sources (the bundle's linked source maps).
  process.setSourceMapsEnabled(true);
  const { ensureCliBundle } = await import('../scripts/cli-bundle.cjs');
  const { main } = await import(pathToFileURL(await ensureCliBundle()).href);
  process.exitCode = await main(process.argv.slice(2), {
    version,
    stdout: process.stdout,
    stderr: process.stderr,
    // This process runs the command alone: its peak is the command's.
    peakMemoryBytes: () => process.resourceUsage().maxRSS * 1024,
  });
} else {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [WATCHED]: '1' } },
  );
  // A terminal's Ctrl-C reaches both processes; a kill of this one is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const [code, signal] = await once(child, 'exit');
  if (signal === 'SIGABRT') {
    const ceiling = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
    process.stderr.write(
      `\nsg-audit: Node.js aborted the run (SIGABRT). When the lines above say "JavaScript heap out of memory", ` +
        `the analyses outgrew Node's heap ceiling, ${ceiling} MiB here: they hold one entry per distinct peer and ` +
        `service port, which --memory-limit does not bound (README, Memory). Run it again with a higher ceiling, ` +
        `e.g. NODE_OPTIONS=--max-old-space-size=${Math.max(8192, 2 ** Math.ceil(Math.log2(ceiling * 2)))}, ` +
        `or over less at a time (--days, --vpc).\n`,
    );
  }
  process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
}
