import { type AuditOptions, runAudit } from '../../shared/audit';
import { DEFAULT_CONFIG } from '../../shared/config';
import type { DeliveryCount } from '../../shared/model/delivery';
import type { FlowAggregate, FlowAggregateSource, FlowQuery, FlowSourceStats } from '../../shared/model/flow';
import type { Inventory } from '../../shared/model/inventory';
import type { RuleChangeHistory } from '../../shared/model/rule-change';
import { authorizeEvent, CALLERS } from '../../testkit/cloudtrail-events';
import { deliveredEveryDay } from '../../testkit/delivery';
import {
  DEFAULT_SUBNET,
  flowLog,
  inventoryOf,
  networkInterface,
  ruleEntry,
  securityGroup,
  vpc,
} from '../../testkit/inventory-builder';

const WINDOW = { start: 1_700_000_000, end: 1_700_000_000 + 7 * 86400 };

/**
 * A flow source on plain data that records the queries it was asked. It proves that fl-1 (the
 * VPC's log) delivered every day unless given other delivery counts.
 */
class FixedFlowSource implements FlowAggregateSource {
  readonly queries: FlowQuery[] = [];
  constructor(
    private readonly rows: FlowAggregate[],
    private readonly deliveries: DeliveryCount[] = deliveredEveryDay('fl-1', 'eni-web', WINDOW),
  ) {}
  async aggregate(query: FlowQuery) {
    this.queries.push(query);
    const stats: FlowSourceStats = {
      engine: 'fixed',
      sources: ['fl-1'],
      files: 1,
      records: this.rows.reduce((n, r) => n + r.records, 0),
      nodataRecords: 0,
      skipdataRecords: 2,
      malformedRecords: 1,
      malformedSamples: [{ file: 'a.log.gz', line: 7, reason: 'wrong field count' }],
      queries: 1,
      bytesScanned: 1234,
      enisWithRecords: ['eni-web'],
      warnings: [],
      deliveries: this.deliveries,
      flowLogIds: ['fl-1'],
    };
    return { aggregates: this.rows.filter((r) => query.eniIds.includes(r.eniId)), stats };
  }
}

function row(fields: Partial<FlowAggregate>): FlowAggregate {
  return {
    eniId: 'eni-web',
    action: 'ACCEPT',
    protocol: 6,
    clientAddr: '203.0.113.9',
    serverAddr: '10.0.1.10',
    serverPort: 22,
    clientPort: null,
    evidence: 'well-known',
    records: 2,
    requestRecords: 1,
    synRecords: 0,
    packets: 10,
    bytes: 500,
    firstSeen: WINDOW.start + 100,
    lastSeen: WINDOW.start + 160,
    distinctClientPorts: 1,
    ...fields,
  };
}

function account(): Inventory {
  return inventoryOf({
    vpcs: [vpc('vpc-1', { cidrs: ['10.0.0.0/16'] }), vpc('vpc-2', { cidrs: ['10.1.0.0/16'] })],
    securityGroups: [
      securityGroup('sg-web', {
        vpcId: 'vpc-1',
        rules: [
          ruleEntry('sg-web', 'ingress', 'tcp', 22, '0.0.0.0/0'),
          ruleEntry('sg-web', 'ingress', 'tcp', 3389, '0.0.0.0/0'),
          ruleEntry('sg-web', 'egress', '-1', undefined, '0.0.0.0/0'),
        ],
      }),
      securityGroup('sg-other', {
        vpcId: 'vpc-2',
        rules: [ruleEntry('sg-other', 'ingress', 'tcp', 80, '0.0.0.0/0')],
      }),
    ],
    networkInterfaces: [
      networkInterface('eni-web', {
        vpcId: 'vpc-1',
        privateIpv4: ['10.0.1.10'],
        sgIds: ['sg-web'],
        attachment: { instanceId: 'i-1' },
      }),
      networkInterface('eni-other', { vpcId: 'vpc-2', privateIpv4: ['10.1.1.10'], sgIds: ['sg-other'] }),
      networkInterface('eni-nat', {
        vpcId: 'vpc-1',
        privateIpv4: ['10.0.0.100'],
        sgIds: [],
        interfaceType: 'nat_gateway',
      }),
    ],
    flowLogs: [flowLog('fl-1', { resourceId: 'vpc-1', creationTime: '2020-01-01T00:00:00Z' })],
  });
}

/** runAudit of the test week, offline, with these options over the defaults. */
function auditWith(inventory: Inventory, source: FlowAggregateSource, options: Partial<AuditOptions> = {}) {
  return runAudit({
    inventory,
    flowSource: source,
    window: WINDOW,
    scope: { vpcIds: [], sgIds: [] },
    config: DEFAULT_CONFIG,
    mode: 'offline',
    runId: 'run-1',
    generatedAt: new Date('2026-11-21T00:00:00Z'),
    toolVersion: '0.0.0-test',
    ...options,
  });
}

async function audit(
  inventory: Inventory,
  source: FlowAggregateSource,
  scope = { vpcIds: [] as string[], sgIds: [] as string[] },
  config = DEFAULT_CONFIG,
  ruleChanges?: RuleChangeHistory,
) {
  return auditWith(inventory, source, { scope, config, ...(ruleChanges ? { ruleChanges } : {}) });
}

describe('runAudit', () => {
  it('queries only covered ENIs of the audited SGs and judges every rule', async () => {
    // Prepare
    const source = new FixedFlowSource([row({})]);
    // Act
    const report = await audit(account(), source);
    // Assess
    expect(source.queries).toHaveLength(1);
    expect(source.queries[0]?.eniIds).toEqual(['eni-web']);
    const web = report.securityGroups.find((sg) => sg.id === 'sg-web');
    expect(web?.rules.map((r) => [r.peer, r.fromPort, r.usage.status, r.usage.verdict])).toEqual([
      ['0.0.0.0/0', 22, 'used', 'narrow'],
      ['0.0.0.0/0', 3389, 'unused', 'remove'],
      ['0.0.0.0/0', undefined, 'unknown', 'review'],
    ]);
    expect(report.securityGroups.find((sg) => sg.id === 'sg-other')?.rules[0]?.usage.status).toBe('unknown');
    // The egress allow-all may carry traffic flow logs never record: its reach is kept, as written.
    expect(web?.recommendations.map((r) => r.text)).toEqual([
      '- allow tcp port 22 from 203.0.113.9',
      '- keep all traffic to 0.0.0.0/0 as written (usage unknown: may carry traffic flow logs never record: DNS to the VPC resolver, instance metadata, time sync, DHCP)',
    ]);
  });

  it('releases streamed rows once the fold has read them, before the analyses, with the report of rows held', async () => {
    // Prepare: the same rows held, and streamed by a source that logs what is asked of them
    const rows = [row({}), row({ clientAddr: '198.51.100.7', serverPort: 3389, action: 'REJECT' })];
    const held = await audit(account(), new FixedFlowSource(rows));
    const events: string[] = [];
    const fixed = new FixedFlowSource(rows);
    const streaming: FlowAggregateSource = {
      async aggregate(query) {
        const result = await fixed.aggregate(query);
        let released = false;
        const chunks = result.aggregates;
        return {
          ...result,
          aggregates: [],
          rows: {
            async *read() {
              if (released) throw new Error('read after release');
              events.push('read');
              yield chunks;
            },
            async readers() {
              events.push('readers');
              return chunks.map((r) => ({ eniId: r.eniId, action: r.action }));
            },
            async release() {
              events.push('release');
              released = true;
            },
          },
        };
      },
    };
    // Act
    const report = await audit(account(), streaming);
    // Assess
    expect(events).toEqual(['readers', 'read', 'release']);
    expect(report).toEqual(held);
  });

  it('lets the host release memory before each per-peer analysis, after the fold, with the same report', async () => {
    // Prepare: the host's calls and the progress lines in one sequence
    const rows = [row({}), row({ clientAddr: '198.51.100.7', serverPort: 3389, action: 'REJECT' })];
    const plain = await audit(account(), new FixedFlowSource(rows));
    const events: string[] = [];
    // Act
    const report = await auditWith(account(), new FixedFlowSource(rows), {
      progress: (message) => events.push(message.split(':')[0] ?? message),
      releaseMemory: () => events.push('release'),
    });
    // Assess: the recommendations, the traffic review and the NACLs each after one release
    expect(events).toEqual([
      'inventory',
      'flow aggregates',
      'connections',
      'release',
      'release',
      'release',
      'findings',
    ]);
    expect(report).toEqual(plain);
  });

  it('lists every ENI of the audited VPCs in resources, the NAT gateway without SGs included', async () => {
    // Act
    const report = await audit(account(), new FixedFlowSource([]), { vpcIds: ['vpc-1'], sgIds: [] });
    // Assess
    expect(report.resources.map((r) => [r.eniId, r.resource.type, r.coverage])).toEqual([
      ['eni-web', 'ec2', 'full'],
      ['eni-nat', 'nat-gateway', 'full'],
    ]);
    expect(report.securityGroups.map((sg) => sg.id)).toEqual(['sg-web']);
    expect(report.findings.every((f) => f.sgId === 'sg-web')).toBe(true);
  });

  it('marks rules outside a --ports filter as unknown rather than unused', async () => {
    // Prepare
    const config = { ...DEFAULT_CONFIG, ports: [{ from: 22, to: 22 }] };
    // Act
    const report = await audit(
      account(),
      new FixedFlowSource([row({})]),
      { vpcIds: [], sgIds: ['sg-web'] },
      config,
    );
    // Assess
    const rules = report.securityGroups[0]?.rules ?? [];
    expect(rules.map((r) => r.usage.status)).toEqual(['used', 'unknown', 'unknown']);
    expect(rules[1]?.usage.statusReason).toMatch(/outside the analysed ports \(22\)/);
    expect(report.scope.ports).toEqual(['22']);
  });

  it('carries malformed lines with file and line, SKIPDATA and uncovered ENIs into the warnings', async () => {
    // Act
    const report = await audit(account(), new FixedFlowSource([row({})]));
    // Assess
    const codes = report.warnings.map((w) => w.code);
    expect(codes).toEqual(expect.arrayContaining(['malformed-records', 'skipdata', 'no-flow-log']));
    // Each code once: the malformed lines are the samples of the one malformed-records warning.
    expect(new Set(codes).size).toBe(codes.length);
    expect(report.warnings.find((w) => w.code === 'malformed-records')?.samples?.[0]).toMatchObject({
      file: 'a.log.gz',
      line: 7,
    });
    expect(report.summary).toMatchObject({ malformedRecords: 1, bytesScanned: 1234, flowRecords: 2 });
  });

  it('counts an accepted connection that no rule admits as a warning, not as usage', async () => {
    // Prepare: tcp 8443 inbound, which no ingress rule of sg-web admits.
    const source = new FixedFlowSource([row({ serverPort: 8443, clientPort: 50000, evidence: 'undecided' })]);
    // Act
    const report = await audit(account(), source);
    // Assess
    expect(report.warnings.map((w) => w.code)).toContain('unmatched-connections');
    expect(report.summary.rulesByStatus.used).toBe(0);
  });

  it('calls no rule unused when the flow log delivered nothing: silence is never evidence', async () => {
    // Prepare: the VPC's flow log is active and covers eni-web, but no record of it was read.
    const source = new FixedFlowSource([], []);
    // Act
    const report = await audit(account(), source);
    // Assess
    const rules = report.securityGroups.find((sg) => sg.id === 'sg-web')?.rules ?? [];
    expect(rules.map((r) => r.usage.status)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(rules[0]?.usage.statusReason).toMatch(/no records from fl-1 .*delivery not proven/);
    expect(report.summary.rulesByVerdict.remove).toBe(0);
    expect(report.resources.find((r) => r.eniId === 'eni-web')?.coverage).toBe('partial');
    expect(report.delivery?.flowLogs).toEqual([
      expect.objectContaining({ flowLogId: 'fl-1', status: 'silent' }),
    ]);
    expect(report.warnings[0]).toMatchObject({ code: 'flow-log-silent' });
  });

  it('names the days without delivery and keeps their rules unknown', async () => {
    // Prepare: fl-1 delivered on every day of the week but the third and fourth.
    const source = new FixedFlowSource(
      [row({})],
      deliveredEveryDay('fl-1', 'eni-web', WINDOW, { missing: [2, 3] }),
    );
    // Act
    const report = await audit(account(), source);
    // Assess
    const rdp = report.securityGroups.find((sg) => sg.id === 'sg-web')?.rules[1];
    expect(rdp?.usage).toMatchObject({ status: 'unknown', verdict: 'review' });
    const missing = report.delivery?.buckets
      .slice(2, 4)
      .map((b) => new Date(b.start * 1000).toISOString().slice(0, 10));
    expect(rdp?.usage.statusReason).toContain(`${missing?.[0]} – ${missing?.[1]}`);
    expect(report.delivery?.flowLogs[0]).toMatchObject({
      status: 'gaps',
      proven: [true, true, false, false, true, true, true, true],
    });
    expect(report.warnings.map((w) => w.code)).toContain('delivery-gap');
  });

  it('keeps every unproven rule’s reach in the recommendations, as written and saying why', async () => {
    // Prepare: days 3 and 4 unproven; 22 is used, 3389 unseen.
    const source = new FixedFlowSource(
      [row({})],
      deliveredEveryDay('fl-1', 'eni-web', WINDOW, { missing: [2, 3] }),
    );
    // Act
    const report = await audit(account(), source);
    // Assess
    const web = report.securityGroups.find((sg) => sg.id === 'sg-web');
    expect(web?.rules.map((r) => r.usage.verdict)).toEqual(['review', 'review', 'review']);
    expect(web?.rules[0]?.usage.verdictReason).toMatch(/used .* but not every ENI's delivery is proven/);
    expect(web?.recommendations.map((r) => [r.basis, r.text.split(' (')[0]])).toEqual([
      ['unproven', '- keep tcp port 22 from 0.0.0.0/0 as written'],
      ['unproven', '- keep tcp port 3389 from 0.0.0.0/0 as written'],
      ['unproven', '- keep all traffic to 0.0.0.0/0 as written'],
    ]);
  });

  it('recommends no NACL for subnets whose ENIs lack proven coverage', async () => {
    // Prepare: acl-1 on eni-web's subnet (eni-other, uncovered, moved to a subnet of its own).
    const base = account();
    const inventory = {
      ...base,
      networkInterfaces: base.networkInterfaces.map((eni) =>
        eni.id === 'eni-other' ? { ...eni, subnetId: 'subnet-2' } : eni,
      ),
      networkAcls: [
        { id: 'acl-1', vpcId: 'vpc-1', isDefault: false, subnetIds: [DEFAULT_SUBNET], entries: [] },
      ],
    } as Inventory;
    const proven = await audit(inventory, new FixedFlowSource([row({})]));
    // Act
    const unproven = await audit(
      inventory,
      new FixedFlowSource([row({})], deliveredEveryDay('fl-1', 'eni-web', WINDOW, { missing: [5] })),
    );
    // Assess
    expect(proven.naclRecommendations.length).toBeGreaterThan(0);
    expect(unproven.naclRecommendations).toEqual([]);
    expect(unproven.warnings.find((w) => w.code === 'nacl-not-recommended')?.message).toMatch(
      /acl-1: 1 ENI\(s\) .*eni-web/,
    );
  });

  it('warns about SGs attached but missing from the inventory, records of unknown ENIs and skipped TGW flow logs', async () => {
    // Prepare
    const base = account();
    const inventory: Inventory = {
      ...base,
      networkInterfaces: base.networkInterfaces.map((eni) =>
        eni.id === 'eni-web' ? { ...eni, sgIds: ['sg-web', 'sg-gone'] } : eni,
      ),
      flowLogs: [
        ...base.flowLogs,
        flowLog('fl-tgw', { resourceId: 'tgw-0a1', scope: 'transit-gateway', fields: [] }),
      ],
    };
    class OtherEnis extends FixedFlowSource {
      override async aggregate(query: FlowQuery) {
        const result = await super.aggregate(query);
        return {
          ...result,
          stats: {
            ...result.stats,
            otherEnis: [
              { eniId: 'eni-ghost', records: 42 },
              { eniId: 'eni-other', records: 3 },
            ],
          },
        };
      }
    }
    // Act
    const report = await audit(inventory, new OtherEnis([row({})]));
    // Assess
    const byCode = new Map(report.warnings.map((w) => [w.code, w.message]));
    expect(byCode.get('unknown-security-group')).toBe(
      'sg-gone is attached to eni-web but absent from the security groups: its rules are not audited',
    );
    expect(byCode.get('unknown-eni-records')).toMatch(
      /^42 record\(s\) of 1 ENI\(s\) absent .*\(eni-ghost: 42\)/,
    );
    expect(byCode.get('flow-log-skipped')).toMatch(/fl-tgw records a Transit Gateway/);
    expect(report.delivery?.flowLogs.map((f) => f.flowLogId)).toEqual(['fl-1']);
  });

  it("reports progress with the summary's counts, naming the ENIs with an audited SG and the groups", async () => {
    // Prepare: two client addresses on port 22, three client ports each.
    const source = new FixedFlowSource([
      row({ distinctClientPorts: 3 }),
      row({ clientAddr: '203.0.113.10', distinctClientPorts: 3 }),
    ]);
    const lines: string[] = [];

    // Act
    const report = await auditWith(account(), source, { progress: (line) => lines.push(line) });

    // Assess: the NAT gateway's ENI carries no SG but is one of the summary's network interfaces.
    expect(report.summary.networkInterfaces).toBe(3);
    expect(report.summary.connections).toBe(6);
    expect(lines).toContain(
      'inventory: 2 security groups in scope, 3 network interfaces (2 carrying an audited SG), 1 flow log',
    );
    expect(lines).toContain('connections: 6 in 2 groups (0 pass-through rows skipped)');
  });

  it('states an object cut short as its own warning, naming the file', async () => {
    // Prepare
    class CutObject extends FixedFlowSource {
      override async aggregate(query: FlowQuery) {
        const result = await super.aggregate(query);
        const warnings = ['a.log.gz: truncated gzip object: 41 records read before the cut'];
        return { ...result, stats: { ...result.stats, warnings } };
      }
    }
    // Act
    const report = await audit(account(), new CutObject([row({})]));
    // Assess
    expect(report.warnings).toContainEqual({
      code: 'truncated-object',
      message: 'a.log.gz: truncated gzip object: 41 records read before the cut',
    });
  });
});

describe('runAudit with the CloudTrail history', () => {
  const ALICE = 'arn:aws:sts::123456789012:assumed-role/Admin/alice';

  it('names who opened each rule on the rules, the findings and the SGs, and sums the history up', async () => {
    // Prepare
    const events = [
      authorizeEvent(
        { id: 'a1', time: '2023-11-13T09:12:44Z', caller: CALLERS.console(ALICE, '203.0.113.10') },
        'ingress',
        'sg-web',
        [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
      ),
    ];
    const ruleChanges = {
      source: 'cloudtrail-export',
      events,
      start: WINDOW.end - 90 * 86400,
      end: WINDOW.end,
      complete: true,
      warnings: [],
    };

    // Act
    const report = await audit(
      account(),
      new FixedFlowSource([row({})]),
      { vpcIds: [], sgIds: [] },
      DEFAULT_CONFIG,
      ruleChanges,
    );

    // Assess
    const web = report.securityGroups.find((sg) => sg.id === 'sg-web');
    const ssh = web?.rules.find((r) => r.fromPort === 22);
    expect(ssh?.change).toMatchObject({ kind: 'created', principalArn: ALICE, channel: 'console' });
    const sshFinding = report.findings.find((f) => f.check === 'sensitive-port-world' && f.fromPort === 22);
    expect(sshFinding?.change?.text).toBe(
      'opened by assumed-role/Admin/alice via console on 2023-11-13 09:12 UTC from 203.0.113.10',
    );
    expect(web?.rules.find((r) => r.fromPort === 3389)?.change?.kind).toBe('before-history');
    expect(web?.change?.kind).toBe('before-history');
    expect(report.changeHistory).toEqual({
      source: 'cloudtrail-export',
      start: '2023-08-23T22:13:20Z',
      end: '2023-11-21T22:13:20Z',
      complete: true,
      events: 1,
      attributedRules: 1,
      olderRules: 3,
      unknownRules: 0,
    });
  });

  it('sets the fix of every finding and lists the used rule first within a severity', async () => {
    // Act
    const report = await audit(account(), new FixedFlowSource([row({})]));

    // Assess
    expect(report.findings.every((f) => f.fix !== undefined)).toBe(true);
    const critical = report.findings.filter((f) => f.severity === 'critical');
    expect(critical.map((f) => [f.fromPort, f.ruleStatus])).toEqual([
      [22, 'used'],
      [3389, 'unused'],
    ]);
    expect(critical[1]?.fix).toMatchObject({ action: 'remove' });
    expect(report.changeHistory).toBeUndefined();
  });
});
