import fc from 'fast-check';
import {
  ASFF_LIMITS,
  asffFindingId,
  asffTypes,
  clipText,
  defaultProductArn,
  partitionOf,
  toAsffFindings,
} from '../../../shared/export/asff';
import { reviewReport } from '../../../shared/history/review';
import type { Finding } from '../../../shared/model/analysis';
import type { AuditReport } from '../../../shared/report/model';
import {
  ACCOUNT_ID,
  findingOf,
  PREVIOUS_GENERATED_AT,
  reportChanges,
  SG_APP,
  SG_BATCH,
  SG_DEFAULT,
  sampleReport,
} from '../../fixtures/report-fixture';

const TARGET = { accountId: ACCOUNT_ID, region: 'ap-northeast-2' };
const PREVIOUS_AT = PREVIOUS_GENERATED_AT;

/** A resolved finding of "last week": an SSH rule on the app SG that is gone now. */
function resolvedFinding(): Finding {
  return {
    ...findingOf(sampleReport(), 'sensitive-port-world', SG_APP),
    id: `sensitive-port-world:${SG_APP}/ingress/tcp/3389-3389/0.0.0.0/0`,
    ruleId: `${SG_APP}/ingress/tcp/3389-3389/0.0.0.0/0`,
    fromPort: 3389,
    toPort: 3389,
    reason: 'RDP (3389) open to 0.0.0.0/0',
  };
}

describe('toAsffFindings', () => {
  it('maps every finding of the report to an ACTIVE ASFF finding of the default custom integration', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const { active, archived } = toAsffFindings(report, TARGET);

    // Assess
    expect(active).toHaveLength(report.findings.length);
    expect(archived).toEqual([]);
    for (const f of active) {
      expect(f.SchemaVersion).toBe('2018-10-08');
      expect(f.ProductArn).toBe(
        'arn:aws:securityhub:ap-northeast-2:123456789012:product/123456789012/default',
      );
      expect(f.AwsAccountId).toBe(ACCOUNT_ID);
      expect(f.RecordState).toBe('ACTIVE');
      expect(f.UpdatedAt).toBe(report.generatedAt);
      expect(f.GeneratorId).toMatch(/^sg-audit\/[a-z-]+$/);
    }
    expect(new Set(active.map((f) => f.Id)).size).toBe(active.length);
  });

  it('maps the SSH-to-the-world finding with severity, controls, rule, evidence and remediation', () => {
    // Prepare
    const report = sampleReport();
    const ssh = findingOf(report, 'sensitive-port-world', SG_APP);

    // Act
    const mapped = toAsffFindings(report, TARGET).active.find(
      (f) => f.ProductFields['sg-audit/findingId'] === ssh.id,
    );

    // Assess
    expect(mapped?.Id).toBe(`sg-audit/${ACCOUNT_ID}/ap-northeast-2/${ssh.id}`);
    expect(mapped?.GeneratorId).toBe('sg-audit/sensitive-port-world');
    expect(mapped?.Severity).toEqual({ Label: 'HIGH', Original: 'high' });
    expect(mapped?.FindingProviderFields.Severity).toEqual({ Label: 'HIGH', Original: 'high' });
    expect(mapped?.Types).toEqual([
      'Software and Configuration Checks/AWS Security Best Practices/Network Reachability',
      'Effects/Data Exposure',
    ]);
    expect(mapped?.Compliance).toEqual({ Status: 'FAILED', RelatedRequirements: ['EC2.13', 'EC2.19'] });
    expect(mapped?.Title).toBe('prod-app-servers (sg-0b22c0ffee0000002): SSH (22) open to 0.0.0.0/0');
    expect(mapped?.Description).toBe(
      'SSH (22) open to 0.0.0.0/0. Rule: ingress tcp 22 from 0.0.0.0/0. Traffic evidence: used: 14 connections from 3 peers. Resources: ec2:2;lambda:1',
    );
    expect(mapped?.Remediation?.Recommendation.Text).toBe(
      'narrow: only 3 peers in 198.51.100.0/24 connected. Replace with: allow tcp port 22 from 198.51.100.0/24',
    );
    expect(mapped?.Resources).toEqual([
      {
        Type: 'AwsEc2SecurityGroup',
        Id: `arn:aws:ec2:ap-northeast-2:${ACCOUNT_ID}:security-group/${SG_APP}`,
        Partition: 'aws',
        Region: 'ap-northeast-2',
        Details: {
          AwsEc2SecurityGroup: {
            GroupId: SG_APP,
            GroupName: 'prod-app-servers',
            OwnerId: ACCOUNT_ID,
            VpcId: 'vpc-0a1b2c3d4e5f60001',
            IpPermissions: [
              { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
            ],
          },
        },
      },
    ]);
    expect(mapped?.ProductFields).toMatchObject({
      'sg-audit/check': 'sensitive-port-world',
      'sg-audit/rule': 'ingress tcp 22 from 0.0.0.0/0',
      'sg-audit/peer': '0.0.0.0/0',
      'sg-audit/evidence': 'used: 14 connections from 3 peers',
      'sg-audit/controls': 'EC2.13,EC2.19',
      'sg-audit/usage/verdict': 'narrow',
    });
    expect(mapped?.Workflow).toEqual({ Status: 'NEW' });
  });

  it('names one SecurityControlId when the check corresponds to exactly one control', () => {
    // Prepare
    const report = sampleReport();
    const defaultSg = findingOf(report, 'default-sg-has-rules', SG_DEFAULT);

    // Act
    const mapped = toAsffFindings(report, TARGET).active.find(
      (f) => f.ProductFields['sg-audit/findingId'] === defaultSg.id,
    );

    // Assess
    expect(mapped?.Compliance).toEqual({
      Status: 'FAILED',
      RelatedRequirements: ['EC2.2'],
      SecurityControlId: 'EC2.2',
    });
    expect(mapped?.Resources[0]?.Details.AwsEc2SecurityGroup.IpPermissions).toBeUndefined();
    expect(mapped?.Remediation).toBeUndefined();
  });

  it('maps severities critical to info onto the ASFF labels, info as a WARNING', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const { active } = toAsffFindings(report, TARGET);

    // Assess
    const bySeverity = new Map(
      active.map((f) => [f.Severity.Original, [f.Severity.Label, f.Compliance.Status]]),
    );
    expect(Object.fromEntries(bySeverity)).toEqual({
      critical: ['CRITICAL', 'FAILED'],
      high: ['HIGH', 'FAILED'],
      medium: ['MEDIUM', 'FAILED'],
      low: ['LOW', 'FAILED'],
      info: ['INFORMATIONAL', 'WARNING'],
    });
  });

  it('puts an egress rule under IpPermissionsEgress and calls its effect exfiltration', () => {
    // Prepare
    const report = sampleReport();
    const egress = findingOf(report, 'egress-all-open', SG_APP);

    // Act
    const mapped = toAsffFindings(report, TARGET).active.find(
      (f) => f.ProductFields['sg-audit/findingId'] === egress.id,
    );

    // Assess
    const details = mapped?.Resources[0]?.Details.AwsEc2SecurityGroup;
    expect(details?.IpPermissionsEgress).toEqual([{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]);
    expect(details?.IpPermissions).toBeUndefined();
    expect(mapped?.Types).toContain('Effects/Data Exfiltration');
  });

  it('marks an actively suppressed finding SUPPRESSED with the acceptance in a note and product fields', () => {
    // Prepare
    const base = sampleReport();
    const ssh = findingOf(base, 'sensitive-port-world', SG_APP);
    const suppression = {
      id: 'vendor-ssh',
      owner: 'platform-team',
      reason: 'vendor maintenance window',
      expires: '2026-03-31',
      status: 'active' as const,
    };
    const report: AuditReport = {
      ...base,
      findings: base.findings.map((f) => (f.id === ssh.id ? { ...f, suppression } : f)),
    };

    // Act
    const mapped = toAsffFindings(report, TARGET).active.find(
      (f) => f.ProductFields['sg-audit/findingId'] === ssh.id,
    );

    // Assess
    expect(mapped?.Workflow).toEqual({ Status: 'SUPPRESSED' });
    expect(mapped?.RecordState).toBe('ACTIVE');
    expect(mapped?.Note).toEqual({
      Text: 'Accepted risk vendor-ssh (owner platform-team, expires 2026-03-31): vendor maintenance window',
      UpdatedBy: 'sg-audit',
      UpdatedAt: report.generatedAt,
    });
    expect(mapped?.ProductFields).toMatchObject({
      'sg-audit/suppression/id': 'vendor-ssh',
      'sg-audit/suppression/owner': 'platform-team',
      'sg-audit/suppression/expires': '2026-03-31',
      'sg-audit/suppression/status': 'active',
    });
    expect(mapped?.Description).toContain('Accepted risk vendor-ssh');
  });

  it('keeps a finding whose acceptance expired NEW, saying the acceptance lapsed', () => {
    // Prepare
    const base = sampleReport();
    const ssh = findingOf(base, 'sensitive-port-world', SG_APP);
    const suppression = {
      id: 'old',
      owner: 'ops',
      reason: 'migration',
      expires: '2025-01-31',
      status: 'expired' as const,
    };
    const report: AuditReport = {
      ...base,
      findings: base.findings.map((f) => (f.id === ssh.id ? { ...f, suppression } : f)),
    };

    // Act
    const mapped = toAsffFindings(report, TARGET).active.find(
      (f) => f.ProductFields['sg-audit/findingId'] === ssh.id,
    );

    // Assess
    expect(mapped?.Workflow).toEqual({ Status: 'NEW' });
    expect(mapped?.Note).toBeUndefined();
    expect(mapped?.Description).toContain('Expired acceptance old');
  });

  it('archives resolved findings under the same Id with Compliance PASSED and workflow RESOLVED', () => {
    // Prepare
    const gone = resolvedFinding();
    const report: AuditReport = { ...sampleReport(), changes: reportChanges({ resolvedFindings: [gone] }) };

    // Act
    const { archived } = toAsffFindings(report, TARGET);

    // Assess
    expect(archived).toHaveLength(1);
    const [mapped] = archived;
    expect(mapped?.Id).toBe(asffFindingId(TARGET, gone));
    expect(mapped?.RecordState).toBe('ARCHIVED');
    expect(mapped?.Compliance.Status).toBe('PASSED');
    expect(mapped?.Workflow).toEqual({ Status: 'RESOLVED' });
    expect(mapped?.UpdatedAt).toBe(report.generatedAt);
    expect(mapped?.LastObservedAt).toBe(PREVIOUS_AT);
    expect(mapped?.ProductFields['sg-audit/state']).toBe('resolved');
  });

  it('does not archive a "resolved" finding that is current again', () => {
    // Prepare
    const base = sampleReport();
    const current = base.findings[0] as Finding;
    const report: AuditReport = { ...base, changes: reportChanges({ resolvedFindings: [current] }) };

    // Act
    const { archived } = toAsffFindings(report, TARGET);

    // Assess
    expect(archived).toEqual([]);
  });

  it('dates a new finding at this run and a carried-over one at the previous report', () => {
    // Prepare
    const base = sampleReport();
    const fresh = base.findings[0] as Finding;
    const report: AuditReport = { ...base, changes: reportChanges({ newFindingIds: [fresh.id] }) };

    // Act
    const { active } = toAsffFindings(report, TARGET);

    // Assess
    const freshAsff = active.find((f) => f.ProductFields['sg-audit/findingId'] === fresh.id);
    const carried = active.find((f) => f.ProductFields['sg-audit/findingId'] !== fresh.id);
    expect([freshAsff?.CreatedAt, freshAsff?.FirstObservedAt]).toEqual([base.generatedAt, base.generatedAt]);
    expect([carried?.CreatedAt, carried?.FirstObservedAt]).toEqual([PREVIOUS_AT, PREVIOUS_AT]);
    expect(carried?.LastObservedAt).toBe(base.generatedAt);
  });

  it('keeps CreatedAt and FirstObservedAt at the first week while a finding stays open', () => {
    // Prepare: three weekly runs, each compared with the one before, as the workflow runs them.
    const weeks = ['2025-11-03T00:05:00.000Z', '2025-11-10T00:05:00.000Z', '2025-11-17T00:05:00.000Z'];
    const now = new Date('2025-11-17T00:06:00.000Z');
    let previous: AuditReport | undefined;
    for (const generatedAt of weeks) {
      const fresh: AuditReport = { ...sampleReport(), runId: `run-${generatedAt}`, generatedAt };
      previous = reviewReport(fresh, { ...(previous ? { previous } : {}), compare: true, now }).report;
    }
    const lastWeek = previous as AuditReport;

    // Act
    const { active } = toAsffFindings(lastWeek, TARGET);

    // Assess
    expect(active).toHaveLength(lastWeek.findings.length);
    for (const f of active) {
      expect([f.CreatedAt, f.FirstObservedAt, f.LastObservedAt, f.UpdatedAt]).toEqual([
        weeks[0],
        weeks[0],
        weeks[2],
        weeks[2],
      ]);
    }
  });

  it('dates a resolved finding from its first report to the last report that had it', () => {
    // Prepare
    const gone = { ...resolvedFinding(), firstReportedAt: '2025-10-27T00:05:00.000Z' };
    const report: AuditReport = { ...sampleReport(), changes: reportChanges({ resolvedFindings: [gone] }) };

    // Act
    const { archived } = toAsffFindings(report, TARGET);

    // Assess
    expect(archived.map((f) => [f.CreatedAt, f.FirstObservedAt, f.LastObservedAt])).toEqual([
      ['2025-10-27T00:05:00.000Z', '2025-10-27T00:05:00.000Z', PREVIOUS_AT],
    ]);
  });

  it('gives the same Ids on two runs of the same findings', () => {
    // Prepare
    const first = sampleReport();
    const second: AuditReport = {
      ...sampleReport(),
      runId: 'run-2',
      generatedAt: '2025-11-24T00:05:00.000Z',
    };

    // Act
    const ids1 = toAsffFindings(first, TARGET).active.map((f) => f.Id);
    const ids2 = toAsffFindings(second, TARGET).active.map((f) => f.Id);

    // Assess
    expect(ids2).toEqual(ids1);
  });

  it('orders findings worst first, as the other renderers do', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const labels = toAsffFindings(report, TARGET).active.map((f) => f.Severity.Original);

    // Assess
    expect(labels[0]).toBe('critical');
    expect(labels[labels.length - 1]).toBe('info');
  });

  it('adds the SG tags to the resource', () => {
    // Prepare
    const base = sampleReport();
    const report: AuditReport = {
      ...base,
      securityGroups: base.securityGroups.map((sg) =>
        sg.id === SG_BATCH ? { ...sg, tags: { team: 'data', Name: 'batch' } } : sg,
      ),
    };

    // Act
    const mapped = toAsffFindings(report, TARGET).active.find(
      (f) => f.Resources[0]?.Details.AwsEc2SecurityGroup.GroupId === SG_BATCH,
    );

    // Assess
    expect(mapped?.Resources[0]?.Tags).toEqual({ Name: 'batch', team: 'data' });
  });

  it('keeps every string within the ASFF limits however long the reason, names and evidence are', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 3000 }),
        fc.string({ minLength: 1, maxLength: 400 }),
        fc.string({ maxLength: 5000 }),
        fc.string({ minLength: 1, maxLength: 900 }),
        (reason, sgName, evidence, idTail) => {
          // Prepare
          const base = sampleReport();
          const f = base.findings[0] as Finding;
          const report: AuditReport = {
            ...base,
            findings: [{ ...f, id: `${f.id}/${idTail}`, reason, sgName, evidence }],
          };

          // Act
          const [mapped] = toAsffFindings(report, TARGET).active;

          // Assess
          expect(mapped?.Id.length).toBeLessThanOrEqual(ASFF_LIMITS.id);
          expect(mapped?.Title.length).toBeLessThanOrEqual(ASFF_LIMITS.title);
          expect(mapped?.Description.length).toBeLessThanOrEqual(ASFF_LIMITS.description);
          expect(mapped?.Title).toMatch(/\S/);
          expect(mapped?.Description).toMatch(/\S/);
          const fields = Object.entries(mapped?.ProductFields ?? {});
          expect(fields.length).toBeLessThanOrEqual(ASFF_LIMITS.productFields);
          for (const [key, value] of fields) {
            expect(key.length).toBeLessThanOrEqual(ASFF_LIMITS.productFieldKey);
            expect(value.length).toBeLessThanOrEqual(ASFF_LIMITS.productFieldValue);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('asffFindingId', () => {
  it('is readable when it fits and a stable, distinct digest when the finding id is too long', () => {
    // Prepare
    const long = {
      id: `all-traffic-open:${SG_BATCH}/${'x'.repeat(600)}`,
      check: 'all-traffic-open' as const,
      sgId: SG_BATCH,
    };
    const longer = { ...long, id: `${long.id}y` };

    // Act
    const a = asffFindingId(TARGET, long);
    const again = asffFindingId(TARGET, long);
    const b = asffFindingId(TARGET, longer);

    // Assess
    expect(a.length).toBeLessThanOrEqual(512);
    expect(a).toMatch(
      /^sg-audit\/123456789012\/ap-northeast-2\/all-traffic-open:sg-0d44c0ffee0000004:sha256:[0-9a-f]{64}$/,
    );
    expect(again).toBe(a);
    expect(b).not.toBe(a);
  });
});

describe('asffTypes', () => {
  it.each([
    ['unused-rule', 'ingress', ['Software and Configuration Checks/AWS Security Best Practices']],
    [
      'default-sg-in-use',
      undefined,
      [
        'Software and Configuration Checks/AWS Security Best Practices',
        'Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark',
      ],
    ],
    [
      'all-traffic-open',
      'egress',
      [
        'Software and Configuration Checks/AWS Security Best Practices/Network Reachability',
        'Effects/Data Exfiltration',
      ],
    ],
    [
      'world-open-port',
      'ingress',
      [
        'Software and Configuration Checks/AWS Security Best Practices/Network Reachability',
        'Effects/Data Exposure',
      ],
    ],
    [
      'world-open-icmp',
      'ingress',
      ['Software and Configuration Checks/AWS Security Best Practices/Network Reachability'],
    ],
  ] as const)('types a %s finding (%s)', (check, direction, expected) => {
    // Prepare
    const finding = { ...(sampleReport().findings[0] as Finding), check, direction };

    // Act
    const types = asffTypes(finding);

    // Assess
    expect(types).toEqual(expected);
  });
});

describe('partitionOf', () => {
  it.each([
    ['ap-northeast-2', 'aws'],
    ['cn-northwest-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
  ])('maps %s to %s', (region, partition) => {
    // Act
    const result = partitionOf(region);

    // Assess
    expect(result).toBe(partition);
  });

  it('uses the partition in the product ARN and the SG ARN', () => {
    // Prepare
    const report = sampleReport();
    const target = { accountId: ACCOUNT_ID, region: 'cn-north-1' };

    // Act
    const [mapped] = toAsffFindings(report, target).active;

    // Assess
    expect(defaultProductArn(target)).toBe(
      'arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default',
    );
    expect(mapped?.ProductArn).toBe(defaultProductArn(target));
    expect(mapped?.Resources[0]?.Id).toMatch(/^arn:aws-cn:ec2:cn-north-1:123456789012:security-group\/sg-/);
    expect(mapped?.Resources[0]?.Partition).toBe('aws-cn');
  });
});

describe('clipText', () => {
  it('leaves short text alone and clips long text with an ellipsis', () => {
    // Act
    const short = clipText('abc', 3);
    const long = clipText('abcdef', 4);

    // Assess
    expect(short).toBe('abc');
    expect(long).toBe('abc…');
  });

  it('never splits a surrogate pair', () => {
    // Act
    const clipped = clipText('ab😀cd', 4);

    // Assess
    expect(clipped).toBe('ab…');
  });
});
