import { buildPlan } from '../../../shared/remediation/plan';
import { ruleSetFingerprint, specText } from '../../../shared/remediation/rule-spec';
import { applySteps } from '../../../shared/remediation/simulate';
import type { AuditReport } from '../../../shared/report/model';
import { auditOnData, connectionRow } from '../../../testkit/audit-on-data';
import {
  flowLog,
  inventoryOf,
  networkInterface,
  ruleEntry,
  securityGroup,
} from '../../../testkit/inventory-builder';
import { CREATED, remediationReport as sampleReport } from '../../fixtures/remediation-fixture';

describe('buildPlan', () => {
  it('adds the recommended entries of narrowed rules before it revokes them and the unused ones', async () => {
    // Prepare
    const report = await sampleReport();
    // Act
    const plan = buildPlan(report, { createdAt: CREATED, toolVersion: 'test' });
    // Assess
    const bastion = plan.securityGroups.find((sg) => sg.sgId === 'sg-bastion');
    expect(bastion?.action).toBe('apply');
    expect(bastion?.steps.map((s) => `${s.action} ${specText(s.rule)}`)).toEqual([
      'authorize ingress tcp 22 from 198.51.100.7/32',
      'authorize ingress tcp 22 from 203.0.113.0/24',
      'authorize egress tcp 443 to 52.95.194.12/32',
      'revoke ingress tcp 22 from 0.0.0.0/0',
      'revoke ingress tcp 3389 from ::/0',
      'revoke egress tcp 443 to 0.0.0.0/0',
    ]);
    expect(bastion?.add[1]?.rule.description).toBe(
      'sg-audit 2026-11-17: 12 connections from 3 peers (summarised-/24)',
    );
    expect(bastion?.revoke.find((r) => r.verdict === 'remove')?.rule.securityGroupRuleId).toBe('sgr-0rdp');
    expect(bastion?.quota.find((q) => q.direction === 'ingress' && q.family === 'ipv4')).toMatchObject({
      before: 1,
      peak: 3,
      after: 2,
      limit: 60,
    });
  });

  it('never plans a rule under review, and says why it stays', async () => {
    // Prepare
    const report = await sampleReport();
    // Act
    const plan = buildPlan(report, { createdAt: CREATED, toolVersion: 'test' });
    // Assess
    const dark = plan.securityGroups.find((sg) => sg.sgId === 'sg-dark');
    expect(dark?.action).toBe('none');
    expect(dark?.steps).toEqual([]);
    expect(dark?.kept[0]?.reason).toMatch(/^unproven, never planned: usage unknown: .*no flow-log coverage/);
  });

  it('gives an SG that CloudFormation manages to its stack instead of changing it', async () => {
    // Prepare
    const report = await sampleReport();
    // Act
    const plan = buildPlan(report, { createdAt: CREATED, toolVersion: 'test' });
    // Assess
    const app = plan.securityGroups.find((sg) => sg.sgId === 'sg-app');
    expect(app?.action).toBe('iac');
    expect(app?.owner).toEqual({
      tool: 'cloudformation',
      name: 'app-stack',
      evidence: 'tag aws:cloudformation:stack-name=app-stack',
    });
    expect(app?.add.map((a) => specText(a.rule))).toEqual(['ingress tcp 8080 from 10.0.5.5/32']);
    expect(plan.summary).toMatchObject({ toApply: 1, iac: 1, blocked: 0 });
  });

  it('acts only on the verdicts and SGs asked for', async () => {
    // Prepare
    const report = await sampleReport();
    // Act
    const plan = buildPlan(report, {
      createdAt: CREATED,
      toolVersion: 'test',
      include: ['remove'],
      sgIds: ['sg-bastion'],
    });
    // Assess
    expect(plan.securityGroups.map((sg) => sg.sgId)).toEqual(['sg-bastion']);
    const bastion = plan.securityGroups[0];
    expect(bastion?.steps.map((s) => `${s.action} ${specText(s.rule)}`)).toEqual([
      'revoke ingress tcp 3389 from ::/0',
    ]);
    expect(bastion?.kept.map((k) => k.reason)).toEqual([
      'not included (--include remove)',
      'not included (--include remove)',
    ]);
  });

  it('keeps a narrowed rule whose replacement is not inside the SG’s rules (a report edited by hand)', async () => {
    // Prepare
    const report = await sampleReport();
    const tampered: AuditReport = {
      ...report,
      securityGroups: report.securityGroups.map((sg) =>
        sg.id !== 'sg-app'
          ? sg
          : {
              ...sg,
              recommendations: sg.recommendations.map((rec) => ({ ...rec, fromPort: 8000, toPort: 9000 })),
            },
      ),
    };
    // Act
    const plan = buildPlan(tampered, { createdAt: CREATED, toolVersion: 'test' });
    // Assess
    const app = plan.securityGroups.find((sg) => sg.sgId === 'sg-app');
    expect(app?.action).toBe('none');
    expect(app?.kept[0]?.reason).toMatch(/could not be proven inside the SG's rules/);
  });

  it('acts on no verdict whose coverage is not full, whatever the report says', async () => {
    // Prepare
    const report = await sampleReport();
    const tampered: AuditReport = {
      ...report,
      securityGroups: report.securityGroups.map((sg) => ({
        ...sg,
        rules: sg.rules.map((rule) => ({ ...rule, usage: { ...rule.usage, coverage: 'partial' as const } })),
      })),
    };
    // Act
    const plan = buildPlan(tampered, { createdAt: CREATED, toolVersion: 'test' });
    // Assess
    expect(plan.securityGroups.every((sg) => sg.steps.length === 0)).toBe(true);
    expect(plan.summary.revokes).toBe(0);
  });

  it('revokes unused rules first when the adds would pass the quota, and never passes it', async () => {
    // Prepare: 5 rules at a quota of 5; the narrowed SSH rule needs 3 entries.
    const inventory = inventoryOf({
      securityGroups: [
        securityGroup('sg-full', {
          rules: [
            ruleEntry('sg-full', 'ingress', 'tcp', 22, '0.0.0.0/0'),
            ...[23, 24, 25, 26].map((port) => ruleEntry('sg-full', 'ingress', 'tcp', port, '10.0.0.0/8')),
          ],
        }),
      ],
      networkInterfaces: [networkInterface('eni-1', { privateIpv4: ['10.0.0.10'], sgIds: ['sg-full'] })],
      flowLogs: [flowLog('fl-1', { creationTime: '2020-01-01T00:00:00Z' })],
    });
    const rows = ['198.51.100.7', '192.0.2.1', '203.0.113.1'].map((peer) =>
      connectionRow('eni-1', peer, '10.0.0.10', 6, 22, 2),
    );
    const report = await auditOnData(inventory, rows, { ruleQuota: 5 });
    // Act
    const plan = buildPlan(report, { createdAt: CREATED, toolVersion: 'test' });
    // Assess
    const sg = plan.securityGroups[0];
    expect(sg?.action).toBe('apply');
    expect(sg?.steps[0]?.action).toBe('revoke');
    const ingress = sg?.quota.find((q) => q.direction === 'ingress' && q.family === 'ipv4');
    expect(ingress?.afterStep.every((n) => n <= 5)).toBe(true);
    expect(ingress?.after).toBe(3);
    // The SSH rule goes only after its three replacements are in.
    const sshRevoke = sg?.steps.findIndex((s) => s.action === 'revoke' && s.rule.fromPort === 22) ?? -1;
    const lastAdd = sg?.steps.map((s) => s.action).lastIndexOf('authorize') ?? -1;
    expect(sshRevoke).toBeGreaterThan(lastAdd);
  });

  it('blocks an SG when no order keeps both the quota and the observed access', async () => {
    // Prepare: a quota of 3, every rule used, and the narrowed rule needs 2 entries.
    const inventory = inventoryOf({
      securityGroups: [
        securityGroup('sg-tight', {
          rules: [
            ruleEntry('sg-tight', 'ingress', 'tcp', 22, '0.0.0.0/0'),
            ruleEntry('sg-tight', 'ingress', 'tcp', 80, '198.51.100.1/32'),
            ruleEntry('sg-tight', 'ingress', 'tcp', 81, '198.51.100.2/32'),
          ],
        }),
      ],
      networkInterfaces: [networkInterface('eni-1', { privateIpv4: ['10.0.0.10'], sgIds: ['sg-tight'] })],
      flowLogs: [flowLog('fl-1', { creationTime: '2020-01-01T00:00:00Z' })],
    });
    const rows = [
      connectionRow('eni-1', '192.0.2.1', '10.0.0.10', 6, 22, 2),
      connectionRow('eni-1', '203.0.113.1', '10.0.0.10', 6, 22, 2),
      connectionRow('eni-1', '198.51.100.1', '10.0.0.10', 6, 80, 2),
      connectionRow('eni-1', '198.51.100.2', '10.0.0.10', 6, 81, 2),
    ];
    const report = await auditOnData(inventory, rows, { ruleQuota: 3 });
    // Act
    const plan = buildPlan(report, { createdAt: CREATED, toolVersion: 'test' });
    // Assess
    const sg = plan.securityGroups[0];
    expect(sg?.action).toBe('blocked');
    expect(sg?.blockedReason).toMatch(/^quota: ingress ipv4 holds 3 of 3 entries/);
    expect(sg?.steps).toEqual([]);
    expect(sg?.afterFingerprint).toBe(sg?.expected.fingerprint);
  });

  it('leads to the fingerprint it announces', async () => {
    // Prepare
    const report = await sampleReport();
    // Act
    const plan = buildPlan(report, { createdAt: CREATED, toolVersion: 'test' });
    // Assess
    for (const sg of plan.securityGroups) {
      expect(ruleSetFingerprint(applySteps(sg.expected.rules, sg.steps))).toBe(sg.afterFingerprint);
    }
    expect(plan.planId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(buildPlan(report, { createdAt: new Date(0), toolVersion: 'test' }).planId).toBe(plan.planId);
  });
});
