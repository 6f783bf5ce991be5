/**
 * `npm run screenshot`: writes docs/report-screenshot.png, the report.html that `npm start` wrote
 * (reports/sample/), as headless Chromium shows it, and docs/report-screenshot.sha256, the
 * fingerprint of the report it shows (scripts/screenshot-fingerprint.ts), from report.json beside
 * it. Run from the repository root after `npm start`:
 *   node --import tsx scripts/screenshot-report.ts [report-dir] [width] [height]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditReport } from '../shared/report/model';
import { screenshot } from '../testkit/chromium';
import {
  fingerprintFileText,
  SCREENSHOT_FINGERPRINT,
  SCREENSHOT_PNG,
  screenshotFingerprint,
} from './screenshot-fingerprint';

async function main(): Promise<void> {
  const reportDir = path.resolve(process.argv[2] ?? 'reports/sample');
  const width = Number(process.argv[3] ?? 1400);
  const height = Number(process.argv[4] ?? 2800);
  const page = path.join(reportDir, 'report.html');
  const json = path.join(reportDir, 'report.json');
  for (const file of [page, json]) {
    if (!existsSync(file)) throw new Error(`${file} not found: run npm start first`);
  }
  const report = JSON.parse(readFileSync(json, 'utf8')) as AuditReport;
  await screenshot(page, path.resolve(SCREENSHOT_PNG), { width, height });
  writeFileSync(path.resolve(SCREENSHOT_FINGERPRINT), fingerprintFileText(screenshotFingerprint(report)));
  process.stdout.write(
    `wrote ${SCREENSHOT_PNG} (${width}x${height}) and ${SCREENSHOT_FINGERPRINT} from ${path.relative(process.cwd(), page)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
