import { blockTextChars, SLACK_MAX_BLOCKS, SNS_SUBJECT_MAX_CHARS } from '../../../shared/alerts';
import { composeOrgEmail, composeOrgSlack, decideOrgAlert } from '../../../shared/alerts/org';
import type { OrgAlert, StoredReport } from '../../../shared/model/ports';
import type { OrgReport } from '../../../shared/org/model';
import { DEV, orgRun, PROD } from '../org/org-fixtures';

const STORED: StoredReport = {
  location: 's3://audit-reports/reports/org/2025/11/17/org-run-2/',
  keys: ['reports/org/2025/11/17/org-run-2/org-report.json'],
  htmlUrl:
    'https://audit-reports.s3.amazonaws.com/reports/org/2025/11/17/org-run-2/report.html?X-Amz-Signature=abc',
  htmlUrlExpiresAt: '2025-11-17T02:00:00.000Z',
};

/** Last week's organization run: every target audited, nothing changed since. */
function quietWeek(): { previous: OrgReport; report: OrgReport } {
  const previous = orgRun(undefined, 'org-run-1').report;
  const report: OrgReport = {
    ...previous,
    runId: 'org-run-2',
    changes: {
      firstRun: false,
      previousRunId: 'org-run-1',
      previousGeneratedAt: '2025-11-10T01:00:00.000Z',
      worsened: false,
      newFindings: 0,
      worseFindings: 0,
      resurfacedFindings: 0,
      resolvedFindings: 0,
      worsenedTargets: [],
      newGaps: [],
      resolvedGaps: [],
      newTargets: [],
      removedTargets: [],
    },
  };
  return { previous, report };
}

describe('decideOrgAlert', () => {
  it('alerts on the first organization run, on new or worse findings and on new gaps', () => {
    expect(decideOrgAlert(orgRun().report, { alertOn: 'changes', noChangeDigest: false })).toMatchObject({
      send: true,
      reason: 'first organization run: no previous report',
    });
    const worse = orgRun(orgRun(undefined, 'org-run-1').report).report;
    expect(decideOrgAlert(worse, { alertOn: 'changes', noChangeDigest: false })).toMatchObject({
      send: true,
      digest: false,
    });
  });

  it('stays quiet when nothing is new or worse, or sends the digest when asked', () => {
    const { report } = quietWeek();
    expect(decideOrgAlert(report, { alertOn: 'changes', noChangeDigest: false })).toEqual({
      send: false,
      reason: 'nothing new or worse since organization run org-run-1',
    });
    expect(decideOrgAlert(report, { alertOn: 'changes', noChangeDigest: true })).toMatchObject({
      send: true,
      digest: true,
    });
    expect(decideOrgAlert(report, { alertOn: 'always', noChangeDigest: false })).toMatchObject({
      send: true,
    });
  });
});

describe('composeOrgEmail', () => {
  it('leads with the new and worse findings across targets and the new gaps, then the gaps and the link', () => {
    // Prepare
    const report = orgRun(orgRun(undefined, 'org-run-1').report).report;
    const alert: OrgAlert = { kind: 'organization', report, stored: STORED };

    // Act
    const { subject, body } = composeOrgEmail(alert);

    // Assess
    expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX_CHARS);
    expect(subject).toMatch(/^sg-audit organization: \d+ new, \d+ worse findings in 1 target$/);
    expect(body).toContain(`Organization report: ${STORED.htmlUrl}`);
    expect(body).toContain('New and worse findings (worst first):');
    expect(body).toMatch(new RegExp(`\\[(CRITICAL|HIGH|MEDIUM|LOW|INFO), new\\] ${PROD}/eu-west-1 `));
    expect(body).toContain(`Gaps (targets not audited): 1`);
    expect(body).toContain(`${DEV}/us-east-1: role-unavailable in Discover: AccessDenied:`);
  });

  it('is a first-run summary on the first organization run', () => {
    const { subject } = composeOrgEmail({ kind: 'organization', report: orgRun().report, stored: STORED });
    expect(subject).toMatch(
      /^sg-audit organization \(first run\): 4 targets, 1 gap: \d+ critical, \d+ high findings/,
    );
  });

  it('is a short digest when asked and nothing changed', () => {
    const { subject, body } = composeOrgEmail({
      kind: 'organization',
      report: quietWeek().report,
      stored: STORED,
      digest: true,
    });
    expect(subject).toBe(
      'sg-audit weekly digest organization: no new or worse findings since 2025-11-10 (4 targets, 1 gap)',
    );
    expect(body).not.toContain('Worst findings');
  });
});

describe('composeOrgSlack', () => {
  it('stays within Slack limits and links the organization report', () => {
    const report = orgRun(orgRun(undefined, 'org-run-1').report).report;
    const message = composeOrgSlack({ kind: 'organization', report, stored: STORED });
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
    expect(message.blocks[0]).toMatchObject({ type: 'header' });
    expect(message.blocks.reduce((n, b) => n + blockTextChars(b), 0)).toBeLessThan(12_000);
    expect(JSON.stringify(message.blocks)).toContain('open-org-report');
    expect(JSON.stringify(message.blocks)).toContain(`${DEV}/us-east-1: role-unavailable: AccessDenied`);
  });
});
