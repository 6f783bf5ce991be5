import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT_OK, main } from '../../cli/main';
import {
  parseFingerprintFile,
  SCREENSHOT_COMMAND,
  SCREENSHOT_FINGERPRINT,
  screenshotFingerprint,
} from '../../scripts/screenshot-fingerprint';
import type { AuditReport } from '../../shared/report/model';
import { sampleReport } from '../fixtures/report-fixture';

const ROOT = path.join(__dirname, '..', '..');
const quiet = { write: () => true };

let out = '';

beforeAll(() => {
  out = mkdtempSync(path.join(tmpdir(), 'sg-audit-screenshot-'));
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('screenshotFingerprint', () => {
  it('does not depend on the run id or time, including first-reported times of this run', () => {
    // Prepare: a first run, every finding first reported by it.
    const first = sampleReport();
    const report: AuditReport = {
      ...first,
      findings: first.findings.map((f) => ({ ...f, firstReportedAt: first.generatedAt })),
    };
    const later = '2031-05-05T05:05:05.000Z';
    const rerun: AuditReport = {
      ...report,
      runId: 'another-run',
      generatedAt: later,
      findings: report.findings.map((f) =>
        f.firstReportedAt === report.generatedAt ? { ...f, firstReportedAt: later } : f,
      ),
    };

    // Act / Assess
    expect(screenshotFingerprint(rerun)).toBe(screenshotFingerprint(report));
  });

  it('changes with what report.html shows', () => {
    // Prepare
    const report = sampleReport();
    const fewer: AuditReport = { ...report, findings: report.findings.slice(1) };

    // Act / Assess
    expect(screenshotFingerprint(fewer)).not.toBe(screenshotFingerprint(report));
  });
});

describe(`the README's screenshot (${SCREENSHOT_FINGERPRINT})`, () => {
  it('was taken from the report a fresh audit of the sample gives, as npm start runs it', async () => {
    // Prepare: npm start's command and version, in-process.
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const input = path.join(ROOT, 'examples', 'sample-account');
    // As npm start names it (from the repository root): the report shows the path as given.
    const allowList = path.relative(process.cwd(), path.join(input, 'egress-allowlist.yaml'));

    // Act
    const code = await main(
      [
        'audit',
        '--input',
        input,
        '--egress-allowlist',
        allowList,
        '--out',
        out,
        '--format',
        'json',
        '--quiet',
      ],
      { version, stdout: quiet, stderr: quiet },
    );
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as AuditReport;
    const fresh = screenshotFingerprint(report);
    const committed = parseFingerprintFile(readFileSync(path.join(ROOT, SCREENSHOT_FINGERPRINT), 'utf8'));

    // Assess
    expect(code).toBe(EXIT_OK);
    if (fresh !== committed) {
      throw new Error(
        `docs/report-screenshot.png no longer shows what npm start writes (report.html fingerprint ${fresh}, ` +
          `${SCREENSHOT_FINGERPRINT} says ${committed}): run ${SCREENSHOT_COMMAND} and commit both files`,
      );
    }
  });
});
