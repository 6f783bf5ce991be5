/**
 * Writes docs/report-screenshot.png: the sample report's report.html, compared with the week
 * before (so the first screen shows what changed), as headless Chromium shows it. Run from the
 * repository root:
 *   node --import tsx scripts/screenshot-report.ts [out.png] [width] [height]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderHtml } from '../shared/render/html';
import { changedReport } from '../test/fixtures/changes-fixture';
import { screenshot } from '../test/support/chromium';

async function main(): Promise<void> {
  const target = resolve(process.argv[2] ?? 'docs/report-screenshot.png');
  const width = Number(process.argv[3] ?? 1400);
  const height = Number(process.argv[4] ?? 2800);
  const dir = await mkdtemp(join(tmpdir(), 'sg-audit-screenshot-'));
  try {
    const page = join(dir, 'report.html');
    await writeFile(page, renderHtml(changedReport()));
    await screenshot(page, target, { width, height });
    process.stdout.write(`wrote ${target} (${width}x${height})\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
