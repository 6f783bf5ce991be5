/**
 * Alerts built on the sample report: a stored location like the S3 sink's, and variants with many
 * findings (Slack's limits) and hostile SG names (escaping).
 */
import type { Finding, Severity } from '../../../shared/model/analysis';
import { SEVERITIES } from '../../../shared/model/analysis';
import type { AuditAlert, StoredReport } from '../../../shared/model/ports';
import type { AuditReport } from '../../../shared/report/model';
import { reportChanges, sampleReport } from '../../fixtures/report-fixture';

export const RUN_PREFIX = 'reports/123456789012/ap-northeast-2/2025/11/17/2025-11-17T000512Z-7f3a9c/';
export const HTML_URL = `https://audit-reports.s3.ap-northeast-2.amazonaws.com/${RUN_PREFIX}report.html?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=604800&X-Amz-Signature=abc`;

export function storedReport(overrides: Partial<StoredReport> = {}): StoredReport {
  return {
    location: `s3://audit-reports/${RUN_PREFIX}`,
    keys: [
      `${RUN_PREFIX}report.json`,
      `${RUN_PREFIX}findings.csv`,
      `${RUN_PREFIX}report.html`,
      'reports/123456789012/ap-northeast-2/latest.json',
    ],
    htmlUrl: HTML_URL,
    htmlUrlExpiresAt: '2025-11-24T00:05:12.000Z',
    ...overrides,
  };
}

export function reportAlert(report: AuditReport = sampleReport(), stored = storedReport()): AuditAlert {
  return { kind: 'report', report, stored };
}

/** The weekly digest form of a report alert. */
export function digestAlert(report: AuditReport, stored = storedReport()): AuditAlert {
  return { kind: 'report', report, stored, digest: true };
}

/**
 * The sample report with `count` findings (severities cycling, a few criticals last in input
 * order so sorting matters), every SG name set to `sgName`, and the summary counts to match.
 */
export function manyFindingsReport(count: number, sgName = 'prod-app-servers'): AuditReport {
  const report = sampleReport();
  const template = report.findings[0] as Finding;
  const findings: Finding[] = Array.from({ length: count }, (_, i) => {
    const severity: Severity = i >= count - 3 ? 'critical' : (SEVERITIES[1 + (i % 4)] as Severity);
    return {
      ...template,
      id: `finding-${String(i).padStart(4, '0')}`,
      severity,
      sgId: `sg-${String(i).padStart(17, '0')}`,
      sgName,
      reason: `reason ${i}: ${'r'.repeat(180)}`,
      evidence: `evidence ${i}: ${'e'.repeat(120)}`,
    };
  });
  const findingsBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) findingsBySeverity[f.severity] += 1;
  return { ...report, findings, summary: { ...report.summary, findingsBySeverity } };
}

/**
 * One rule opened since the previous run, with two findings on it: a critical exposure and the
 * low "unused-rule" (as 3389 from ::/0 gives). Both are new; the alert should count one change.
 */
export function oneRuleTwoFindingsReport(): AuditReport {
  const base = sampleReport();
  const unused = base.findings.find((f) => f.check === 'unused-rule') as Finding;
  const exposure: Finding = {
    ...unused,
    id: `sensitive-port-world:${unused.ruleId}`,
    check: 'sensitive-port-world',
    severity: 'critical',
    reason: 'sensitive tcp port 8443 open to the world',
  };
  const findings = [...base.findings, exposure];
  const findingsBySeverity = {
    ...base.summary.findingsBySeverity,
    critical: base.summary.findingsBySeverity.critical + 1,
  };
  return {
    ...base,
    findings,
    summary: { ...base.summary, findingsBySeverity },
    changes: reportChanges({
      worsened: true,
      newFindingIds: [unused.id, exposure.id],
      unchangedFindings: findings.length - 2,
    }),
  };
}
