import fc from 'fast-check';
import { composeEmail, emailSubject, SNS_MESSAGE_MAX_BYTES } from '../../../shared/alerts';
import { InvalidValueError } from '../../../shared/errors';
import { reviewReport } from '../../../shared/history/review';
import { SEVERITIES } from '../../../shared/model/analysis';
import type { AuditAlert } from '../../../shared/model/ports';
import type { AuditReport } from '../../../shared/report/model';
import { parseSuppressions } from '../../../shared/suppressions/suppressions';
import {
  ALL_TRAFFIC_FINDING,
  changedReport,
  firstRunReport,
  manyNewFindingsReport,
  previousReport,
  resurfacedReport,
  SSH_FINDING,
  unchangedReport,
} from '../../fixtures/changes-fixture';
import { SG_APP, sampleReport, withSgName } from '../../fixtures/report-fixture';
import {
  digestAlert,
  HTML_URL,
  manyFindingsReport,
  oneRuleTwoFindingsReport,
  reportAlert,
  storedReport,
} from './alert-fixtures';

const SUBJECT_OK = /^[\x20-\x7e]{1,99}$/;

function bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The severity of each numbered finding in the body, in order. */
function listedSeverities(body: string): string[] {
  return [...body.matchAll(/^ {1,3}\d+\. ([A-Z]+) {2}/gm)].map((m) => (m[1] ?? '').toLowerCase());
}

function failureAlert(overrides: Partial<Extract<AuditAlert, { kind: 'failure' }>> = {}): AuditAlert {
  return {
    kind: 'failure',
    runId: 'run-2025-11-17-7f3a9c',
    step: 'QueryFlows',
    error: {
      name: 'FlowLogQueryTimeoutError',
      message: 'query q-1 ran over 900 s\nlog group /vpc/flow-logs',
    },
    account: { id: '123456789012', region: 'ap-northeast-2' },
    ...overrides,
  };
}

describe('composeEmail', () => {
  it('names the account, region and the critical and high counts in the subject', () => {
    // Prepare
    const alert = reportAlert();

    // Act
    const { subject } = composeEmail(alert);

    // Assess
    expect(subject).toBe('sg-audit 123456789012/ap-northeast-2: 2 critical, 1 high findings (+8 lower)');
  });

  it('keeps the subject ASCII, on one line and under 100 characters whatever the account and names', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        (id, region, name) => {
          // Prepare
          const report = withSgName({ ...sampleReport(), account: { id, region } }, SG_APP, name);

          // Act
          const { subject } = composeEmail(reportAlert(report));

          // Assess
          expect(subject).toMatch(SUBJECT_OK);
          expect(subject.startsWith('sg-audit ')).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the counts in the subject when the account label is too long', () => {
    // Prepare
    const report: AuditReport = {
      ...sampleReport(),
      account: { id: 'x'.repeat(300), region: 'ap-northeast-2' },
    };

    // Act
    const { subject } = composeEmail(reportAlert(report));

    // Assess
    expect(subject.length).toBeLessThan(100);
    expect(subject.endsWith(': 2 critical, 1 high findings (+8 lower)')).toBe(true);
  });

  it('folds accents and replaces other non-ASCII characters in the subject', () => {
    // Act
    const subject = emailSubject('sg-audit café\r\n서울 ✓');

    // Assess
    expect(subject).toBe('sg-audit cafe ?? ?');
  });

  it('lists the top ten findings worst first, with SG, rule, reason and evidence', () => {
    // Prepare
    const alert = reportAlert();

    // Act
    const { body } = composeEmail(alert);

    // Assess
    const severities = listedSeverities(body);
    expect(severities).toHaveLength(10);
    const ranks = severities.map((s) => SEVERITIES.indexOf(s as never));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(severities.slice(0, 2)).toEqual(['critical', 'critical']);
    expect(body).toContain('TOP FINDINGS (10 of 11, worst first)');
    expect(body).toContain('  3. HIGH  sg-0b22c0ffee0000002 (prod-app-servers) in vpc-0a1b2c3d4e5f60001');
    expect(body).toContain('     Rule:      ingress tcp 22 from 0.0.0.0/0');
    expect(body).toContain('     Reason:    SSH (22) open to 0.0.0.0/0');
    expect(body).toContain('     Evidence:  used: 14 connections from 3 peers');
    expect(body).toContain('1 more finding is in findings.csv and the HTML report.');
  });

  it('orders findings worst first even when the report lists them otherwise', () => {
    // Prepare: the three criticals come last in the input.
    const report = manyFindingsReport(40);

    // Act
    const { body } = composeEmail(reportAlert(report), { topFindings: 5 });

    // Assess
    expect(listedSeverities(body)).toEqual(['critical', 'critical', 'critical', 'high', 'high']);
    expect(body).toContain('35 more findings are in findings.csv');
  });

  it('carries counts by severity, rule statuses and verdicts, coverage, warnings, the link and the location', () => {
    // Prepare
    const alert = reportAlert();

    // Act
    const { body } = composeEmail(alert);

    // Assess
    expect(body).toMatch(/^ {2}critical +2$/m);
    expect(body).toMatch(/^ {2}total +11$/m);
    expect(body).toContain('Status:   9 used, 3 unused, 10 unknown');
    expect(body).toContain('Verdicts: 6 keep, 3 narrow, 5 remove, 8 review');
    expect(body).toContain('5 full, 1 partial, 1 reject-only, 1 none');
    expect(body).toContain('Window:  2025-11-10 00:00 UTC to 2025-11-17 00:00 UTC (7 days)');
    // Warnings: a count (each once, as report.html counts them) and the link to where they are listed.
    expect(body).toContain(`WARNINGS: 4, listed in ${HTML_URL}#warnings`);
    expect(body).not.toContain('4 SKIPDATA records on eni-0b2c000000000b001');
    expect(body).toContain(`HTML report: ${HTML_URL} (link valid until 2025-11-24 00:05 UTC)`);
    expect(body).toContain(
      'All files:   s3://audit-reports/reports/123456789012/ap-northeast-2/2025/11/17/2025-11-17T000512Z-7f3a9c/',
    );
    expect(body).toContain('report.json, findings.csv, report.html');
  });

  it('omits the link line when the sink gave no URL', () => {
    // Prepare
    const alert = reportAlert(
      sampleReport(),
      storedReport({ htmlUrl: undefined, htmlUrlExpiresAt: undefined }),
    );

    // Act
    const { body } = composeEmail(alert);

    // Assess
    expect(body).not.toContain('HTML report:');
    expect(body).toContain('All files:   s3://audit-reports/');
  });

  it('keeps a hostile SG name on its finding line', () => {
    // Prepare
    const report = withSgName(
      sampleReport(),
      SG_APP,
      'app\r\nSubject: pwned\n\nHTML report: https://evil.example',
    );

    // Act
    const { subject, body } = composeEmail(reportAlert(report));

    // Assess
    expect(subject).toMatch(SUBJECT_OK);
    expect(body).not.toMatch(/^Subject: pwned/m);
    expect(body).not.toMatch(/^HTML report: https:\/\/evil/m);
    expect(body).toContain('(app Subject: pwned HTML report: https://evil.example)');
  });

  it('says there are no findings when there are none', () => {
    // Prepare
    const base = sampleReport();
    const report: AuditReport = {
      ...base,
      findings: [],
      summary: { ...base.summary, findingsBySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 } },
    };

    // Act
    const { subject, body } = composeEmail(reportAlert(report));

    // Assess
    expect(subject).toBe('sg-audit 123456789012/ap-northeast-2: 0 critical, 0 high findings');
    expect(body).toContain('TOP FINDINGS\n  None.');
  });

  it('cuts a body over the cap at a character boundary with a note, keeping the link', () => {
    // Prepare: 300 warnings of multi-byte text.
    const base = sampleReport();
    const warnings = Array.from({ length: 300 }, (_, i) => ({
      code: 'skipdata',
      message: `경고 ${i} ${'é'.repeat(50)}`,
    }));
    const report: AuditReport = { ...base, warnings };

    // Act
    const { body } = composeEmail(reportAlert(report), { maxBodyBytes: 4_096, maxWarnings: 300 });

    // Assess
    expect(bytes(body)).toBeLessThanOrEqual(4_096);
    expect(body).not.toContain('\uFFFD');
    expect(body).toMatch(
      /\[Message truncated to 4096 bytes: the full report is at s3:\/\/audit-reports\/.*\]\n$/,
    );
    expect(body).toContain(`HTML report: ${HTML_URL}`);
  });

  it('stays within the SNS limit by default with enormous findings and warnings', () => {
    // Prepare
    const base = manyFindingsReport(500);
    const report: AuditReport = {
      ...base,
      findings: base.findings.map((f) => ({
        ...f,
        reason: 'ü'.repeat(100_000),
        evidence: 'x'.repeat(100_000),
      })),
      warnings: Array.from({ length: 5_000 }, (_, i) => ({
        code: 'malformed-records',
        message: `${i} ${'m'.repeat(2_000)}`,
      })),
    };

    // Act
    const { body } = composeEmail(reportAlert(report), { topFindings: 500 });

    // Assess
    expect(bytes(body)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    expect(body).toContain('[Message truncated to');
  });

  it('rejects a body cap outside what SNS accepts', () => {
    // Act / Assess
    expect(() => composeEmail(reportAlert(), { maxBodyBytes: 100 })).toThrow(InvalidValueError);
    expect(() => composeEmail(reportAlert(), { maxBodyBytes: SNS_MESSAGE_MAX_BYTES + 1 })).toThrow(
      InvalidValueError,
    );
  });

  it('writes a failure alert with the error name, message, step and run id', () => {
    // Prepare
    const alert = failureAlert();

    // Act
    const { subject, body } = composeEmail(alert);

    // Assess
    expect(subject).toBe(
      'sg-audit FAILED 123456789012/ap-northeast-2: FlowLogQueryTimeoutError in QueryFlows',
    );
    expect(body).toContain('The sg-audit run run-2025-11-17-7f3a9c FAILED: no report was produced.');
    expect(body).toContain('Step:    QueryFlows');
    expect(body).toContain('Error:   FlowLogQueryTimeoutError');
    expect(body).toContain('Message:\n  query q-1 ran over 900 s\n  log group /vpc/flow-logs\n');
    expect(body).toContain('Run:     run-2025-11-17-7f3a9c');
  });

  it('writes a failure alert without account or step', () => {
    // Prepare
    const alert: AuditAlert = {
      kind: 'failure',
      runId: 'r-1',
      error: { name: 'States.Timeout', message: '' },
    };

    // Act
    const { subject, body } = composeEmail(alert);

    // Assess
    expect(subject).toBe('sg-audit FAILED unknown-account: States.Timeout');
    expect(body).not.toContain('Step:');
  });

  it('keeps a failure subject valid whatever the error name and step', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        (name, step) => {
          // Act
          const { subject } = composeEmail(failureAlert({ step, error: { name, message: 'm' } }));

          // Assess
          expect(subject).toMatch(SUBJECT_OK);
          expect(subject.startsWith('sg-audit FAILED ')).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

/** The body's block of lines under a capitalised title, up to the next blank-line-separated title. */
function block(body: string, title: string): string {
  const start = body.indexOf(title);
  if (start < 0) throw new Error(`no block ${title}`);
  const next = body.slice(start).search(/\n\n[A-Z][A-Z ]+[(:\n]/);
  return next < 0 ? body.slice(start) : body.slice(start, start + next);
}

describe('composeEmail with changes', () => {
  it('says how many findings are new or worse, and where, in the subject', () => {
    // Act
    const { subject } = composeEmail(reportAlert(changedReport()));

    // Assess
    expect(subject).toBe('sg-audit: 1 new high, 1 worse medium findings in 123456789012/ap-northeast-2');
  });

  it('lists the new and worse findings before the counts, then the resolved ones', () => {
    // Act
    const { body } = composeEmail(reportAlert(changedReport()));

    // Assess
    expect(body.split('\n')[0]).toBe(
      'Security group audit of 123456789012/ap-northeast-2: 1 new high, 1 worse medium findings since 2025-11-10 00:05 UTC; now 1 critical, 1 high findings (+8 lower).',
    );
    const lead = block(body, 'NEW OR WORSE FINDINGS');
    expect(lead).toContain(
      '  1. HIGH (new)  sg-0b22c0ffee0000002 (prod-app-servers) in vpc-0a1b2c3d4e5f60001',
    );
    expect(lead).toContain('     Reason:    SSH (22) open to 0.0.0.0/0');
    expect(lead).toContain(
      '     Changed:   opened by assumed-role/Admin/alice via console on 2025-11-03 09:12 UTC from 203.0.113.10',
    );
    expect(lead).toContain(
      '     Fix:       Replace it with allow tcp port 22 from 198.51.100.0/24 (only 3 peers in 198.51.100.0/24 connected).',
    );
    expect(lead).toMatch(
      /^ {7}\$ aws ec2 authorize-security-group-ingress --group-id sg-0b22c0ffee0000002 /m,
    );
    expect(lead).toContain('  2. MEDIUM (worse, was low)  sg-0c33c0ffee0000003 (prod-db-postgres)');
    expect(body.indexOf('NEW OR WORSE FINDINGS')).toBeLessThan(body.indexOf('FINDINGS BY SEVERITY'));
    expect(body).toContain(
      'RESOLVED SINCE 2025-11-10 00:05 UTC: 1\n  - HIGH  sg-0a11c0ffee0000001 (web-alb-old): world-port-range',
    );
    expect(body).toContain(
      'Also changed: 1 changed finding, 1 rule verdict change, SGs +0/-0 (1 renamed), ENIs +0/-1',
    );
    expect(block(body, 'OTHER OPEN FINDINGS')).not.toContain('sensitive-port-world');
  });

  it('leaves actively suppressed findings out of counts and lists, saying so once', () => {
    // Act
    const { body } = composeEmail(reportAlert(changedReport()));

    // Assess
    expect(body).not.toContain('all-traffic-open');
    expect(body.match(/accepted risk/g)).toHaveLength(1);
    expect(body).toContain('1 accepted risk (suppressed finding) is left out of this alert.');
    expect(block(body, 'FINDINGS BY SEVERITY')).toMatch(/critical +1\n[\s\S]*total +10\n {2}suppressed +1/);
    expect(body).toContain(
      'Note:      suppression app-egress (owner platform-team) expired on 2025-11-01: counted again',
    );
  });

  it('does not call a suppressed new finding new', () => {
    // Prepare: the new SSH finding is an accepted risk; only the worse one is left.
    const suppressions = parseSuppressions(
      `version: 1\nsuppressions:\n  - { id: ssh, owner: ops, reason: bastion, expires: 2030-01-01, match: { sgId: ${SG_APP}, check: sensitive-port-world } }\n`,
      'suppressions.yaml',
    );
    const report = reviewReport(sampleReport(), {
      previous: previousReport(),
      compare: true,
      suppressions,
      now: new Date('2025-11-17T00:00:00Z'),
    }).report;

    // Act
    const { subject, body } = composeEmail(reportAlert(report));

    // Assess
    expect(subject).toBe('sg-audit: 1 worse medium finding in 123456789012/ap-northeast-2');
    expect(body).not.toContain('sensitive-port-world');
    expect(report.findings.find((f) => f.id === SSH_FINDING)?.suppression?.status).toBe('active');
  });

  it('says no new or worse findings since the previous run when nothing worsened', () => {
    // Act
    const { subject, body } = composeEmail(reportAlert(unchangedReport()));

    // Assess
    expect(subject).toBe(
      'sg-audit: no new or worse findings in 123456789012/ap-northeast-2 since 2025-11-10',
    );
    expect(body).toContain(
      'no new or worse findings since 2025-11-10 00:05 UTC; now 2 critical, 1 high findings',
    );
    expect(body).toContain('RESOLVED SINCE 2025-11-10 00:05 UTC: 0');
    expect(body).toContain('TOP FINDINGS (10 of 11, worst first)');
  });

  it('says first run in the subject and the body', () => {
    // Act
    const { subject, body } = composeEmail(reportAlert(firstRunReport()));

    // Assess
    expect(subject).toBe(
      'sg-audit 123456789012/ap-northeast-2 (first run): 1 critical, 1 high findings (+8 lower)',
    );
    expect(body).toContain('First run: no previous report to compare, every finding is new.');
    expect(body).not.toContain('RESOLVED SINCE');
  });

  it('sends the short weekly digest when asked and nothing is new or worse', () => {
    // Act
    const { subject, body } = composeEmail(digestAlert(unchangedReport()));

    // Assess
    expect(subject).toBe(
      'sg-audit weekly digest: no new or worse findings in 123456789012/ap-northeast-2 since 2025-11-10',
    );
    expect(body.split('\n')[0]).toBe(
      'Weekly digest for 123456789012/ap-northeast-2: no new or worse findings since 2025-11-10 00:05 UTC.',
    );
    expect(body).toContain(`HTML report: ${HTML_URL}`);
    expect(body).toContain('Now:      2 critical, 1 high findings (+8 lower) (11 in all)');
    expect(body).toContain('Resolved: 0 findings since 2025-11-10 00:05 UTC');
    expect(body).not.toContain('TOP FINDINGS');
    expect(body.split('\n').length).toBeLessThan(25);
  });

  it('never hides a new finding behind a digest', () => {
    // Act
    const { subject, body } = composeEmail(digestAlert(changedReport()));

    // Assess
    expect(subject).toBe('sg-audit: 1 new high, 1 worse medium findings in 123456789012/ap-northeast-2');
    expect(body).toContain('NEW OR WORSE FINDINGS');
  });

  it('keeps every form of subject valid and under 100 characters with a long account label', () => {
    // Prepare
    const long = { id: '123456789012', region: `eu-${'x'.repeat(120)}` };
    const unchanged = { ...unchangedReport(), account: long };
    const reports = [changedReport(), unchanged, firstRunReport()].map((r) => ({ ...r, account: long }));

    // Act
    const subjects = [
      ...reports.map((r) => composeEmail(reportAlert(r)).subject),
      composeEmail(digestAlert(unchanged)).subject,
    ];

    // Assess
    for (const subject of subjects) expect(subject).toMatch(SUBJECT_OK);
    expect(subjects[0]).toMatch(
      /^sg-audit: 1 new high, 1 worse medium findings in 123456789012\/eu-x+\.\.\.$/,
    );
    expect(subjects[3]).toMatch(/ since 2025-11-10$/);
  });

  it('stays within the body cap with hundreds of new findings', () => {
    // Prepare
    const report = manyNewFindingsReport(600);

    // Act
    const small = composeEmail(reportAlert(report), { maxBodyBytes: 4_096, topFindings: 600 });
    const full = composeEmail(reportAlert(report));

    // Assess
    expect(bytes(small.body)).toBeLessThanOrEqual(4_096);
    expect(small.body).toContain(`HTML report: ${HTML_URL}`);
    expect(bytes(full.body)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    expect(full.body).toContain('NEW OR WORSE FINDINGS (10 of 600 rules, new first)');
    expect(full.body).toContain('590 more are in changes.csv and the HTML report.');
  });

  it('keeps an actively suppressed critical out of the headline counts', () => {
    // Act
    const { body } = composeEmail(reportAlert(changedReport()));

    // Assess
    expect(changedReport().findings.find((f) => f.id === ALL_TRAFFIC_FINDING)?.severity).toBe('critical');
    expect(body).toContain('now 1 critical, 1 high findings');
  });
});

describe('composeEmail with resurfaced findings', () => {
  it('counts and lists a finding whose suppression expired since the previous run', () => {
    // Act
    const { subject, body } = composeEmail(reportAlert(resurfacedReport()));

    // Assess
    expect(subject).toBe(
      'sg-audit: 1 new high, 1 worse medium, 1 resurfaced low findings in 123456789012/ap-northeast-2',
    );
    expect(block(body, 'NEW OR WORSE FINDINGS')).toContain(
      '  3. LOW (no longer accepted)  sg-0b22c0ffee0000002 (prod-app-servers)',
    );
  });
});

describe('composeEmail counts one rule change once', () => {
  it('heads with one new critical, and lists the rule once with its other finding named', () => {
    // Act
    const { subject, body } = composeEmail(reportAlert(oneRuleTwoFindingsReport()));

    // Assess
    expect(subject).toBe('sg-audit: 1 new critical finding in 123456789012/ap-northeast-2');
    const lead = block(body, 'NEW OR WORSE FINDINGS');
    expect(lead).toContain('NEW OR WORSE FINDINGS (1 of 1 rules, new first)');
    expect(lead).toContain(
      '  1. CRITICAL (new; also low unused-rule)  sg-0b22c0ffee0000002 (prod-app-servers)',
    );
    expect(lead).toContain(
      '     Fix:       Remove the rule: no connection in 7 days with full flow-log coverage.',
    );
    expect(block(body, 'OTHER OPEN FINDINGS')).not.toContain(
      'ingress tcp 9000-9100 from pl-0c3d4e5f6a7b8c9d0',
    );
  });
});

describe('composeEmail evidence warnings', () => {
  it('states a failed flow source with the incomplete evidence, though other warnings are only counted', () => {
    // Prepare
    const base = sampleReport();
    const report: AuditReport = {
      ...base,
      warnings: [
        ...base.warnings,
        { code: 'flow-source-failed', message: 'flow source insights-1 failed: FlowLogQueryFailedError' },
      ],
    };

    // Act
    const { body } = composeEmail(reportAlert(report));

    // Assess
    expect(block(body, 'EVIDENCE INCOMPLETE')).toContain(
      '  - flow-source-failed: flow source insights-1 failed: FlowLogQueryFailedError',
    );
    expect(body).toContain(`WARNINGS: 5, listed in ${HTML_URL}#warnings`);
  });
});
