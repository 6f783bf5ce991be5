import { CHANGES_COLUMNS, changesRows, diffReports, evidenceState } from '../../../shared/history/diff';
import type { Finding, RuleUsage } from '../../../shared/model/analysis';
import type { AuditReport, ReportSecurityGroup } from '../../../shared/report/model';
import {
  DEV_VPC,
  SG_APP,
  SG_BATCH,
  SG_DEFAULT,
  sampleReport,
  withSgName,
} from '../../fixtures/report-fixture';

const SSH_RULE = `${SG_APP}/ingress/tcp/22-22/0.0.0.0/0`;
const SSH_FINDING = `sensitive-port-world:${SSH_RULE}`;
const EGRESS_FINDING = `egress-all-open:${SG_APP}/egress/-1/all/0.0.0.0/0`;
const ESP_RULE = `${SG_BATCH}/ingress/50/all/198.51.100.7/32`;
const DEFAULT_FINDING = `default-sg-has-rules:${SG_DEFAULT}`;
const DB_ENI = 'eni-0c3d000000000c001';

/** A later run of the sample: another run id and time, everything else as given. */
function nextRun(report: AuditReport): AuditReport {
  return { ...report, runId: '2025-11-24T000507Z-1b2c3d', generatedAt: '2025-11-24T00:05:07.000Z' };
}

function withFinding(report: AuditReport, id: string, patch: Partial<Finding>): AuditReport {
  return { ...report, findings: report.findings.map((f) => (f.id === id ? { ...f, ...patch } : f)) };
}

function withoutFinding(report: AuditReport, id: string): AuditReport {
  return { ...report, findings: report.findings.filter((f) => f.id !== id) };
}

function withRuleUsage(report: AuditReport, ruleId: string, patch: Partial<RuleUsage>): AuditReport {
  return {
    ...report,
    securityGroups: report.securityGroups.map((sg) => ({
      ...sg,
      rules: sg.rules.map((r) => (r.id === ruleId ? { ...r, usage: { ...r.usage, ...patch } } : r)),
    })),
  };
}

function findingById(report: AuditReport, id: string): Finding {
  const finding = report.findings.find((f) => f.id === id);
  if (finding === undefined) throw new Error(`fixture has no finding ${id}`);
  return finding;
}

const NEW_SG: ReportSecurityGroup = {
  id: 'sg-0f66c0ffee0000006',
  name: 'reporting-jobs',
  vpcId: DEV_VPC,
  description: 'nightly reports',
  isDefault: false,
  eniIds: ['eni-0f6a000000000f001'],
  referencedBy: [],
  rules: [],
  recommendations: [],
  quota: [],
};

describe('diffReports', () => {
  it('reports every finding, SG and ENI as new on the first run', () => {
    // Prepare
    const current = sampleReport();

    // Act
    const diff = diffReports(undefined, current);

    // Assess
    expect(diff.firstRun).toBe(true);
    expect(diff.previousRunId).toBeUndefined();
    expect(diff.previousGeneratedAt).toBeUndefined();
    expect(diff.newFindings.map((f) => f.id)).toEqual(current.findings.map((f) => f.id));
    expect(diff.resolvedFindings).toEqual([]);
    expect(diff.changedFindings).toEqual([]);
    expect(diff.unchangedFindings).toBe(0);
    expect(diff.worsened).toBe(true);
    expect(diff.ruleVerdictChanges).toEqual([]);
    expect(diff.newSecurityGroups).toEqual(current.securityGroups.map((sg) => sg.id));
    expect(diff.newEnis).toEqual(current.resources.map((r) => r.eniId));
    expect(diff.removedSecurityGroups).toEqual([]);
    expect(diff.removedEnis).toEqual([]);
    expect(diff.renamedSecurityGroups).toEqual([]);
  });

  it('reports nothing new and no worsening when the reports are identical', () => {
    // Prepare
    const previous = sampleReport();
    const current = nextRun(sampleReport());

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff).toEqual({
      firstRun: false,
      previousRunId: previous.runId,
      previousGeneratedAt: previous.generatedAt,
      newFindings: [],
      resolvedFindings: [],
      changedFindings: [],
      unchangedFindings: current.findings.length,
      worsened: false,
      ruleVerdictChanges: [],
      newSecurityGroups: [],
      removedSecurityGroups: [],
      newEnis: [],
      removedEnis: [],
      renamedSecurityGroups: [],
    });
  });

  it('reports a finding absent from the previous report as new and worsened', () => {
    // Prepare
    const previous = withoutFinding(sampleReport(), SSH_FINDING);
    const current = nextRun(sampleReport());

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff.newFindings.map((f) => f.id)).toEqual([SSH_FINDING]);
    expect(diff.resolvedFindings).toEqual([]);
    expect(diff.unchangedFindings).toBe(current.findings.length - 1);
    expect(diff.worsened).toBe(true);
  });

  it('reports a finding absent from the current report as resolved, not worsened', () => {
    // Prepare
    const previous = sampleReport();
    const current = nextRun(withoutFinding(sampleReport(), SSH_FINDING));

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff.resolvedFindings).toEqual([findingById(previous, SSH_FINDING)]);
    expect(diff.newFindings).toEqual([]);
    expect(diff.worsened).toBe(false);
  });

  it('reports a raised severity as a change that worsens', () => {
    // Prepare
    const previous = sampleReport();
    const current = nextRun(withFinding(sampleReport(), EGRESS_FINDING, { severity: 'high' }));

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff.changedFindings).toHaveLength(1);
    expect(diff.changedFindings[0]?.changes).toEqual(['severity']);
    expect(diff.changedFindings[0]?.before.severity).toBe('low');
    expect(diff.changedFindings[0]?.after.severity).toBe('high');
    expect(diff.unchangedFindings).toBe(current.findings.length - 1);
    expect(diff.worsened).toBe(true);
  });

  it('reports a lowered severity as a change that does not worsen', () => {
    // Prepare
    const previous = sampleReport();
    const current = nextRun(withFinding(sampleReport(), SSH_FINDING, { severity: 'medium' }));

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff.changedFindings.map((c) => [c.after.id, c.changes])).toEqual([[SSH_FINDING, ['severity']]]);
    expect(diff.worsened).toBe(false);
  });

  it('reports an acceptance that ended (expired or deleted) as a change that worsens, and a new one as a change that does not', () => {
    // Prepare
    const acceptance = { id: 'bastion-ssh', owner: 'sec', reason: 'jump host', expires: '2025-11-20' };
    const accepted = withFinding(sampleReport(), SSH_FINDING, {
      suppression: { ...acceptance, status: 'active' },
    });
    const expired = nextRun(
      withFinding(sampleReport(), SSH_FINDING, { suppression: { ...acceptance, status: 'expired' } }),
    );
    const deleted = nextRun(sampleReport());

    // Act
    const [afterExpiry, afterDeletion, newlyAccepted] = [
      diffReports(accepted, expired),
      diffReports(accepted, deleted),
      diffReports(sampleReport(), nextRun(accepted)),
    ];

    // Assess
    for (const diff of [afterExpiry, afterDeletion]) {
      expect(diff.changedFindings.map((c) => [c.after.id, c.changes])).toEqual([
        [SSH_FINDING, ['acceptance']],
      ]);
      expect(diff.worsened).toBe(true);
    }
    expect(newlyAccepted.changedFindings.map((c) => c.changes)).toEqual([['acceptance']]);
    expect(newlyAccepted.worsened).toBe(false);
    expect(changesRows(afterExpiry, expired, accepted).map((row) => row.at(-1))).toEqual([
      expect.stringMatching(/^no longer accepted \(bastion-ssh expired\): /),
    ]);
  });

  it('matches the findings of a renamed SG by id and reports the rename only', () => {
    // Prepare
    const previous = sampleReport();
    const current = nextRun(withSgName(sampleReport(), SG_APP, 'orders-app'));

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff.renamedSecurityGroups).toEqual([
      { sgId: SG_APP, before: 'prod-app-servers', after: 'orders-app' },
    ]);
    expect(diff.newSecurityGroups).toEqual([]);
    expect(diff.removedSecurityGroups).toEqual([]);
    expect(diff.newFindings).toEqual([]);
    expect(diff.resolvedFindings).toEqual([]);
    expect(diff.changedFindings).toEqual([]);
    expect(diff.worsened).toBe(false);
  });

  it('reports a rule going from used to unused as a verdict change and an evidence change', () => {
    // Prepare
    const previous = sampleReport();
    const unused = withRuleUsage(sampleReport(), SSH_RULE, { status: 'unused', verdict: 'remove' });
    const current = nextRun(
      withFinding(unused, SSH_FINDING, {
        evidence: 'unused in window (all 3 ENIs fully covered)',
      }),
    );

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff.ruleVerdictChanges).toEqual([
      {
        ruleId: SSH_RULE,
        sgId: SG_APP,
        before: { status: 'used', verdict: 'narrow' },
        after: { status: 'unused', verdict: 'remove' },
      },
    ]);
    expect(diff.changedFindings.map((c) => c.changes)).toEqual([['evidence']]);
    expect(diff.worsened).toBe(false);
  });

  it('does not flag evidence whose counts alone changed', () => {
    // Prepare
    const previous = sampleReport();
    const current = nextRun(
      withFinding(sampleReport(), SSH_FINDING, {
        evidence: 'used: 2,310 connections from 41 peers, ports 22; last seen 2025-11-23T22:10:04Z',
      }),
    );

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff.changedFindings).toEqual([]);
    expect(diff.unchangedFindings).toBe(current.findings.length);
  });

  it('does not flag a reason whose counts alone changed, but flags other wording', () => {
    // Prepare
    const previous = withFinding(sampleReport(), EGRESS_FINDING, {
      reason: 'all outbound traffic allowed to 0.0.0.0/0 from 3 ENIs',
    });
    const countsOnly = withFinding(sampleReport(), EGRESS_FINDING, {
      reason: 'all outbound traffic allowed to 0.0.0.0/0 from 12 ENIs',
    });
    const reworded = withFinding(sampleReport(), EGRESS_FINDING, {
      reason: 'all outbound traffic allowed to 0.0.0.0/0 from 3 ENIs, not only load balancers',
    });

    // Act
    const countsDiff = diffReports(previous, nextRun(countsOnly));
    const rewordedDiff = diffReports(previous, nextRun(reworded));

    // Assess
    expect(countsDiff.changedFindings).toEqual([]);
    expect(rewordedDiff.changedFindings.map((c) => c.changes)).toEqual([['reason']]);
  });

  it('reports SGs and ENIs added and removed', () => {
    // Prepare
    const previous = sampleReport();
    const base = sampleReport();
    const current = nextRun({
      ...base,
      securityGroups: [
        ...base.securityGroups
          .filter((sg) => sg.id !== SG_DEFAULT)
          .map((sg) =>
            sg.id === SG_BATCH
              ? { ...sg, eniIds: sg.eniIds.filter((id) => id !== 'eni-0d4e000000000d002') }
              : sg,
          ),
        NEW_SG,
      ],
      resources: base.resources.filter((r) => r.eniId !== 'eni-0d4e000000000d002'),
    });

    // Act
    const diff = diffReports(previous, current);

    // Assess
    expect(diff.newSecurityGroups).toEqual([NEW_SG.id]);
    expect(diff.removedSecurityGroups).toEqual([SG_DEFAULT]);
    expect(diff.newEnis).toEqual(['eni-0f6a000000000f001']);
    expect(diff.removedEnis).toEqual(['eni-0d4e000000000d002']);
    expect(diff.renamedSecurityGroups).toEqual([]);
  });
});

describe('evidenceState', () => {
  it('reads the leading status word and nothing else', () => {
    // Prepare
    const texts = [
      'used: 14 connections from 3 peers',
      'unused in window (coverage partial)',
      'Unknown: no flow log applies',
      '2 of 5 rules used in window, 1 unused, 2 unknown',
      '',
    ];

    // Act
    const states = texts.map(evidenceState);

    // Assess
    expect(states).toEqual(['used', 'unused', 'unknown', undefined, undefined]);
  });
});

describe('changesRows', () => {
  it('builds one row per change in the changes.csv columns', () => {
    // Prepare
    const previous = withoutFinding(sampleReport(), SSH_FINDING);
    const changed = withFinding(sampleReport(), EGRESS_FINDING, { severity: 'medium' });
    const withoutDefault = withoutFinding(changed, DEFAULT_FINDING);
    const unusedEsp = withRuleUsage(withoutDefault, ESP_RULE, { status: 'unused', verdict: 'remove' });
    const current = nextRun({
      ...unusedEsp,
      securityGroups: [
        ...unusedEsp.securityGroups
          .filter((sg) => sg.id !== SG_DEFAULT)
          .map((sg) => ({ ...sg, eniIds: sg.eniIds.filter((id) => id !== DB_ENI) })),
        NEW_SG,
      ],
      resources: unusedEsp.resources.filter((r) => r.eniId !== DB_ENI),
    });
    const diff = diffReports(previous, current);

    // Act
    const rows = changesRows(diff, current, previous);

    // Assess
    expect(rows.every((row) => row.length === CHANGES_COLUMNS.length)).toBe(true);
    expect(rows.map((row) => row[0])).toEqual([
      'new',
      'changed',
      'resolved',
      'verdict-changed',
      'sg-added',
      'sg-removed',
      'eni-added',
      'eni-removed',
    ]);
    expect(rows[0]).toEqual([
      'new',
      'sensitive-port-world',
      'high',
      undefined,
      SG_APP,
      'prod-app-servers',
      'ingress',
      'tcp',
      22,
      22,
      '0.0.0.0/0',
      findingById(current, SSH_FINDING).reason,
    ]);
    expect(rows[1]?.slice(0, 11)).toEqual([
      'changed',
      'egress-all-open',
      'medium',
      'low',
      SG_APP,
      'prod-app-servers',
      'egress',
      '-1',
      undefined,
      undefined,
      '0.0.0.0/0',
    ]);
    expect(rows[1]?.[11]).toMatch(/^severity low → medium: /);
    expect(rows[2]?.slice(0, 11)).toEqual([
      'resolved',
      'default-sg-has-rules',
      undefined,
      'medium',
      SG_DEFAULT,
      'default',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(rows[3]?.slice(0, 11)).toEqual([
      'verdict-changed',
      undefined,
      undefined,
      undefined,
      SG_BATCH,
      'legacy-batch-ops',
      'ingress',
      '50',
      undefined,
      undefined,
      '198.51.100.7/32',
    ]);
    expect(rows[3]?.[11]).toMatch(/^status unknown → unused; verdict review → remove/);
    expect(rows[4]).toEqual([
      'sg-added',
      undefined,
      undefined,
      undefined,
      NEW_SG.id,
      'reporting-jobs',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      `new SG in ${DEV_VPC}`,
    ]);
    expect(rows[5]?.slice(4, 6)).toEqual([SG_DEFAULT, 'default']);
    expect(rows[6]?.slice(4, 6)).toEqual([NEW_SG.id, 'reporting-jobs']);
    expect(rows[6]?.[11]).toBe('new ENI eni-0f6a000000000f001');
    expect(rows[7]?.[11]).toBe(`ENI ${DB_ENI} (rds prod-orders-db) no longer present`);
  });

  it('builds no rows when nothing changed', () => {
    // Prepare
    const current = nextRun(sampleReport());
    const diff = diffReports(sampleReport(), current);

    // Act
    const rows = changesRows(diff, current);

    // Assess
    expect(rows).toEqual([]);
  });
});
