import { z } from 'zod';
import { asffFindingId } from '../../../shared/export/asff';
import { renderOcsf, toOcsfFindings } from '../../../shared/export/ocsf';
import type { Finding } from '../../../shared/model/analysis';
import type { AuditReport } from '../../../shared/report/model';
import {
  ACCOUNT_ID,
  findingOf,
  PREVIOUS_GENERATED_AT,
  reportChanges,
  SG_APP,
  SG_WEB,
  sampleReport,
} from '../../fixtures/report-fixture';

const PREVIOUS_AT = PREVIOUS_GENERATED_AT;

const epochMs = z.number().int().positive();
const observable = z.strictObject({
  name: z.string().min(1),
  type_id: z.union([z.literal(2), z.literal(10), z.literal(11), z.literal(12)]),
  type: z.enum(['IP Address', 'Resource UID', 'Port', 'Subnet']),
  value: z.string().min(1),
});

/** The OCSF 1.3.0 Detection Finding fields this export emits (required ones of the class included). */
const detectionFinding = z.strictObject({
  activity_id: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  activity_name: z.enum(['Create', 'Update', 'Close']),
  category_uid: z.literal(2),
  category_name: z.literal('Findings'),
  class_uid: z.literal(2004),
  class_name: z.literal('Detection Finding'),
  type_uid: z.union([z.literal(200401), z.literal(200402), z.literal(200403)]),
  type_name: z.string().regex(/^Detection Finding: (Create|Update|Close)$/),
  severity_id: z.number().int().min(1).max(5),
  severity: z.enum(['Informational', 'Low', 'Medium', 'High', 'Critical']),
  status_id: z.union([z.literal(1), z.literal(3), z.literal(4)]),
  status: z.enum(['New', 'Suppressed', 'Resolved']),
  time: epochMs,
  start_time: epochMs,
  end_time: epochMs,
  message: z.string().min(1),
  metadata: z.strictObject({
    version: z.literal('1.3.0'),
    product: z.strictObject({ name: z.string(), vendor_name: z.string(), version: z.string() }),
    profiles: z.array(z.literal('cloud')),
    event_code: z.string(),
    correlation_uid: z.string(),
  }),
  finding_info: z.strictObject({
    uid: z.string().min(1),
    title: z.string().min(1),
    desc: z.string().min(1),
    types: z.array(z.string()).min(1),
    analytic: z.strictObject({
      uid: z.string(),
      name: z.string(),
      type_id: z.literal(1),
      type: z.literal('Rule'),
    }),
    created_time: epochMs,
    first_seen_time: epochMs,
    last_seen_time: epochMs,
    modified_time: epochMs,
  }),
  cloud: z.strictObject({
    provider: z.literal('AWS'),
    region: z.string().optional(),
    account: z
      .strictObject({ uid: z.string(), type_id: z.literal(10), type: z.literal('AWS Account') })
      .optional(),
  }),
  resources: z
    .array(
      z.strictObject({
        uid: z.string(),
        name: z.string(),
        type: z.literal('AWS::EC2::SecurityGroup'),
        region: z.string().optional(),
        cloud_partition: z.string().optional(),
        data: z.strictObject({
          group_id: z.string().startsWith('sg-'),
          vpc_id: z.string(),
          tags: z.record(z.string(), z.string()).optional(),
        }),
      }),
    )
    .length(1),
  observables: z.array(observable).min(1),
  remediation: z.strictObject({ desc: z.string().min(1) }).optional(),
  unmapped: z.strictObject({
    check: z.string(),
    finding_id: z.string(),
    sg_name: z.string(),
    rule: z
      .strictObject({
        id: z.string(),
        text: z.string(),
        direction: z.enum(['ingress', 'egress']).optional(),
        protocol: z.string().optional(),
        from_port: z.number().int().optional(),
        to_port: z.number().int().optional(),
        peer: z.string().optional(),
      })
      .optional(),
    evidence: z.strictObject({
      text: z.string(),
      status: z.enum(['used', 'unused', 'unknown']).optional(),
      verdict: z.enum(['keep', 'narrow', 'remove', 'review']).optional(),
      verdict_reason: z.string().optional(),
      connections: z.number().optional(),
      distinct_peers: z.number().optional(),
      bytes: z.number().optional(),
      coverage: z.string().optional(),
      first_seen_time: epochMs.optional(),
      last_seen_time: epochMs.optional(),
    }),
    resources: z.string(),
    compliance: z.strictObject({ controls: z.array(z.string().regex(/^EC2\.\d+$/)) }),
    suppression: z
      .strictObject({
        id: z.string(),
        owner: z.string(),
        reason: z.string(),
        expires: z.string(),
        status: z.enum(['active', 'expired']),
      })
      .optional(),
    change: z
      .strictObject({
        kind: z.string(),
        text: z.string().min(1),
        event_name: z.string().optional(),
        event_uid: z.string().optional(),
        time: z.number().int().positive().optional(),
        actor_arn: z.string().startsWith('arn:').optional(),
        session_issuer: z.string().optional(),
        invoked_by: z.string().optional(),
        src_ip: z.string().optional(),
        user_agent: z.string().optional(),
        channel: z.string().optional(),
      })
      .optional(),
    fix: z
      .strictObject({
        action: z.string(),
        text: z.string().min(1),
        commands: z.array(z.string().startsWith('aws ')),
      })
      .optional(),
    run_id: z.string(),
  }),
});

describe('toOcsfFindings', () => {
  it('carries who opened the rule and the fix in unmapped', () => {
    // Prepare
    const report = sampleReport();
    const ssh = report.findings.find((f) => f.check === 'sensitive-port-world');

    // Act
    const event = toOcsfFindings(report).find((e) => e.unmapped.finding_id === ssh?.id);

    // Assess
    expect(event?.unmapped.change).toMatchObject({
      kind: 'created',
      actor_arn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
      channel: 'console',
      time: Date.parse('2025-11-03T09:12:44Z'),
      src_ip: '203.0.113.10',
    });
    expect(event?.unmapped.fix).toMatchObject({ action: 'replace' });
    expect(event?.unmapped.fix?.commands).toHaveLength(2);
  });

  it('emits one valid Detection Finding per finding of the report', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const events = toOcsfFindings(report);

    // Assess
    expect(events).toHaveLength(report.findings.length);
    for (const event of events) expect(detectionFinding.parse(event)).toEqual(event);
  });

  it('maps the SSH-to-the-world finding: severity, uid, resource, observables, rule, evidence and controls', () => {
    // Prepare
    const report = sampleReport();
    const ssh = findingOf(report, 'sensitive-port-world', SG_APP);

    // Act
    const event = toOcsfFindings(report).find((e) => e.unmapped.finding_id === ssh.id);

    // Assess
    expect(event).toMatchObject({
      activity_id: 1,
      type_uid: 200401,
      severity_id: 4,
      severity: 'High',
      status_id: 1,
      status: 'New',
      time: Date.parse(report.generatedAt),
      start_time: Date.parse(report.window.start),
      end_time: Date.parse(report.window.end),
      message: 'SSH (22) open to 0.0.0.0/0',
      metadata: {
        version: '1.3.0',
        product: { name: 'sg-audit', version: '0.1.0' },
        event_code: 'sensitive-port-world',
      },
      cloud: { provider: 'AWS', region: 'ap-northeast-2', account: { uid: ACCOUNT_ID } },
    });
    expect(event?.finding_info.uid).toBe(
      asffFindingId({ accountId: ACCOUNT_ID, region: 'ap-northeast-2' }, ssh),
    );
    expect(event?.resources[0]?.uid).toBe(
      `arn:aws:ec2:ap-northeast-2:${ACCOUNT_ID}:security-group/${SG_APP}`,
    );
    expect(event?.observables.map((o) => [o.type, o.value])).toEqual([
      ['Resource UID', `arn:aws:ec2:ap-northeast-2:${ACCOUNT_ID}:security-group/${SG_APP}`],
      ['Subnet', '0.0.0.0/0'],
      ['Port', '22'],
    ]);
    expect(event?.unmapped.rule).toEqual({
      id: ssh.ruleId,
      text: 'ingress tcp 22 from 0.0.0.0/0',
      direction: 'ingress',
      protocol: 'tcp',
      from_port: 22,
      to_port: 22,
      peer: '0.0.0.0/0',
    });
    expect(event?.unmapped.evidence).toMatchObject({
      text: 'used: 14 connections from 3 peers',
      status: 'used',
      verdict: 'narrow',
      connections: 14,
      distinct_peers: 3,
    });
    expect(event?.unmapped.compliance.controls).toEqual(['EC2.13', 'EC2.19']);
    expect(event?.remediation?.desc).toContain('allow tcp port 22 from 198.51.100.0/24');
  });

  it('maps every severity onto its severity_id', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const events = toOcsfFindings(report);

    // Assess
    const severityOf = new Map(report.findings.map((f) => [f.id, f.severity]));
    const ids = Object.fromEntries(events.map((e) => [severityOf.get(e.unmapped.finding_id), e.severity_id]));
    expect(ids).toEqual({ critical: 5, high: 4, medium: 3, low: 2, info: 1 });
  });

  it('includes a suppressed finding with status Suppressed and its acceptance', () => {
    // Prepare
    const base = sampleReport();
    const web = findingOf(base, 'world-open-web', SG_WEB);
    const suppression = {
      id: 'alb-443',
      owner: 'web-team',
      reason: 'public ALB',
      expires: '2026-06-30',
      status: 'active' as const,
    };
    const report: AuditReport = {
      ...base,
      findings: base.findings.map((f) => (f.id === web.id ? { ...f, suppression } : f)),
    };

    // Act
    const event = toOcsfFindings(report).find((e) => e.unmapped.finding_id === web.id);

    // Assess
    expect([event?.status_id, event?.status]).toEqual([3, 'Suppressed']);
    expect(event?.unmapped.suppression).toEqual(suppression);
    expect(detectionFinding.safeParse(event).success).toBe(true);
  });

  it('marks carried-over findings as updates and resolved ones as closed, after the current ones', () => {
    // Prepare
    const base = sampleReport();
    const fresh = base.findings[0] as Finding;
    const gone: Finding = { ...fresh, id: `${fresh.id}-gone`, reason: 'gone now' };
    const report: AuditReport = {
      ...base,
      changes: reportChanges({ newFindingIds: [fresh.id], resolvedFindings: [gone] }),
    };

    // Act
    const events = toOcsfFindings(report);

    // Assess
    expect(events).toHaveLength(base.findings.length + 1);
    const byId = new Map(events.map((e) => [e.unmapped.finding_id, e]));
    expect(byId.get(fresh.id)?.activity_name).toBe('Create');
    expect(byId.get(fresh.id)?.finding_info.first_seen_time).toBe(Date.parse(base.generatedAt));
    const carried = events.find((e) => e.unmapped.finding_id !== fresh.id && e.activity_name !== 'Close');
    expect(carried?.activity_name).toBe('Update');
    expect(carried?.finding_info.first_seen_time).toBe(Date.parse(PREVIOUS_AT));
    const closed = events[events.length - 1];
    expect(closed?.unmapped.finding_id).toBe(gone.id);
    expect([closed?.activity_id, closed?.type_uid, closed?.status]).toEqual([3, 200403, 'Resolved']);
    for (const event of events) expect(detectionFinding.safeParse(event).success).toBe(true);
  });

  it('names the SG by id and omits the account when the report has no account', () => {
    // Prepare
    const report: AuditReport = { ...sampleReport(), account: {} };

    // Act
    const [event] = toOcsfFindings(report);

    // Assess
    expect(event?.cloud).toEqual({ provider: 'AWS' });
    expect(event?.resources[0]?.uid).toMatch(/^sg-/);
    expect(event?.finding_info.uid).toBe(`sg-audit/${event?.unmapped.finding_id}`);
    expect(detectionFinding.safeParse(event).success).toBe(true);
  });
});

describe('renderOcsf', () => {
  it('renders the same bytes for the same report, as a JSON array with a trailing newline', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const first = renderOcsf(report);
    const second = renderOcsf(sampleReport());

    // Assess
    expect(second).toBe(first);
    expect(first.endsWith(']\n')).toBe(true);
    expect(JSON.parse(first)).toHaveLength(report.findings.length);
  });

  it('does not depend on the order of the findings in the report', () => {
    // Prepare
    const report = sampleReport();
    const reversed: AuditReport = { ...report, findings: [...report.findings].reverse() };

    // Act
    const a = renderOcsf(report);
    const b = renderOcsf(reversed);

    // Assess
    expect(b).toBe(a);
  });

  it('renders an empty array for a report without findings', () => {
    // Prepare
    const report: AuditReport = { ...sampleReport(), findings: [] };

    // Act
    const text = renderOcsf(report);

    // Assess
    expect(text).toBe('[]\n');
  });
});
