import type { AnalysisConfig } from '../../../shared/config';
import { buildPlan } from '../../../shared/remediation/plan';
import type { AuditReport } from '../../../shared/report/model';
import { auditOnData, connectionRow } from '../../../testkit/audit-on-data';
import {
  flowLog,
  inventoryOf,
  networkInterface,
  ruleEntry,
  securityGroup,
} from '../../../testkit/inventory-builder';

/** An EC2 web server (no load balancer) with a world-open port, used by these peers. */
async function webServer(
  port: number,
  peers: readonly string[],
  config: Partial<AnalysisConfig> = {},
): Promise<AuditReport> {
  const inventory = inventoryOf({
    securityGroups: [
      securityGroup('sg-web', {
        rules: [
          ruleEntry('sg-web', 'ingress', 'tcp', port, '0.0.0.0/0'),
          ruleEntry('sg-web', 'egress', 'tcp', 443, '10.0.0.0/8'),
        ],
      }),
    ],
    networkInterfaces: [
      networkInterface('eni-web', {
        privateIpv4: ['10.0.0.10'],
        sgIds: ['sg-web'],
        attachment: { instanceId: 'i-1' },
      }),
    ],
    flowLogs: [flowLog('fl-1', { creationTime: '2020-01-01T00:00:00Z' })],
  });
  const rows = peers.map((peer) => connectionRow('eni-web', peer, '10.0.0.10', 6, port, 3));
  return auditOnData(inventory, rows, config);
}

/** One peer in each of `n` unrelated public /16s. */
function publicPeers(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${11 + i}.${20 + i}.7.9`);
}

function worldRule(report: AuditReport) {
  return report.securityGroups[0]?.rules[0];
}

describe('public services', () => {
  it('keeps a world-open port that many unrelated public networks use world-open, on an EC2 instance', async () => {
    // Act
    const report = await webServer(443, publicPeers(12));
    // Assess
    const rule = worldRule(report);
    expect(rule?.usage.verdict).toBe('keep');
    expect(rule?.usage.verdictReason).toBe(
      'keep: public service (world-open tcp 443 serving 12 unrelated public networks), never narrowed to the peers of one week; used: 36 connections from 12 peers in the window',
    );
    expect(report.securityGroups[0]?.recommendations.map((r) => r.text)).toContain(
      '- allow tcp port 443 from 0.0.0.0/0',
    );
  });

  it('narrows it where the peers are few', async () => {
    // Act
    const report = await webServer(443, publicPeers(3));
    // Assess
    expect(worldRule(report)?.usage.verdict).toBe('narrow');
  });

  it('narrows it where the peers are many but private, or share a few networks', async () => {
    // Act
    const privatePeers = await webServer(
      8443,
      Array.from({ length: 30 }, (_, i) => `10.${i}.1.1`),
    );
    const fewNetworks = await webServer(
      8443,
      Array.from({ length: 30 }, (_, i) => `203.0.${i}.1`),
    );
    // Assess
    expect(worldRule(privatePeers)?.usage.verdict).toBe('narrow');
    expect(worldRule(fewNetworks)?.usage.verdict).toBe('narrow');
  });

  it('never calls a sensitive port a public service, however many networks reach it', async () => {
    // Act
    const report = await webServer(22, publicPeers(40));
    // Assess
    expect(worldRule(report)?.usage.verdict).toBe('narrow');
  });

  it('follows the threshold of the settings', async () => {
    // Act
    const report = await webServer(443, publicPeers(3), { publicServiceMinNetworks: 3 });
    // Assess
    expect(worldRule(report)?.usage.verdictReason).toMatch(/^keep: public service/);
  });

  it('never enters a change plan, and the plan says why', async () => {
    // Prepare
    const report = await webServer(443, publicPeers(12));
    // Act
    const plan = buildPlan(report, { createdAt: new Date(0), toolVersion: 'test' });
    // Assess
    const sg = plan.securityGroups[0];
    expect(sg?.revoke.map((r) => r.ruleId)).not.toContain('sg-web/ingress/tcp/443-443/0.0.0.0/0');
    expect(sg?.kept.find((k) => k.ruleId === 'sg-web/ingress/tcp/443-443/0.0.0.0/0')?.reason).toMatch(
      /^keep: public service \(world-open tcp 443 serving 12 unrelated public networks\)/,
    );
  });
});
