/**
 * What the README's picture of the HTML report shows, as a sha256: report.html rendered from the
 * report with this run's id and time (and the first-reported times this run set) replaced by
 * fixed values. Another audit of the same sample gives the same fingerprint; a change to the
 * report or to how report.html renders it gives another.
 *
 * docs/report-screenshot.sha256 records the fingerprint of the report that
 * docs/report-screenshot.png was taken from (scripts/screenshot-report.ts writes both), and a unit
 * test compares it with a fresh in-process audit of the sample, so the picture cannot go stale.
 */
import { createHash } from 'node:crypto';
import { renderHtml } from '../shared/render/html';
import type { AuditReport } from '../shared/report/model';

export const SCREENSHOT_PNG = 'docs/report-screenshot.png';
export const SCREENSHOT_FINGERPRINT = 'docs/report-screenshot.sha256';
/** How to bring the picture up to date. */
export const SCREENSHOT_COMMAND = 'npm start && npm run screenshot';

const FIXED_RUN_ID = '00000000-0000-0000-0000-000000000000';
const FIXED_TIME = '2000-01-01T00:00:00.000Z';

/**
 * The sha256 (hex) of report.html for `report`, run id and times fixed.
 *
 * @example screenshotFingerprint(JSON.parse(readFileSync('reports/sample/report.json', 'utf8')))
 */
export function screenshotFingerprint(report: AuditReport): string {
  const fixed: AuditReport = {
    ...report,
    runId: FIXED_RUN_ID,
    generatedAt: FIXED_TIME,
    findings: report.findings.map((f) =>
      f.firstReportedAt === report.generatedAt ? { ...f, firstReportedAt: FIXED_TIME } : f,
    ),
  };
  return createHash('sha256').update(renderHtml(fixed)).digest('hex');
}

/** The fingerprint file's text: the hash, then what it is of. */
export function fingerprintFileText(fingerprint: string): string {
  return `${fingerprint}  report.html of ${SCREENSHOT_PNG} (run id and time fixed; scripts/screenshot-fingerprint.ts)\n`;
}

/** The hash in a fingerprint file's text. */
export function parseFingerprintFile(text: string): string {
  return text.split(/\s/, 1)[0] ?? '';
}
