/**
 * Writes docs/report-screenshot.png: the report.html that `npm start` wrote (reports/sample/), as
 * headless Chromium shows it. Run from the repository root after `npm start`:
 *   node --import tsx scripts/screenshot-report.ts [report.html] [out.png] [width] [height]
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { screenshot } from '../testkit/chromium';

async function main(): Promise<void> {
  const page = resolve(process.argv[2] ?? 'reports/sample/report.html');
  const target = resolve(process.argv[3] ?? 'docs/report-screenshot.png');
  const width = Number(process.argv[4] ?? 1400);
  const height = Number(process.argv[5] ?? 2800);
  if (!existsSync(page)) throw new Error(`${page} not found: run npm start first`);
  await screenshot(page, target, { width, height });
  process.stdout.write(`wrote ${target} (${width}x${height}) from ${page}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
