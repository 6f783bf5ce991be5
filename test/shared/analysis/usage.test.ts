import {
  assignVerdicts,
  computeRuleUsage,
  countUnadmittedAccepts,
  matchConnections,
} from '../../../shared/analysis/usage';
import type {
  Connection,
  CoverageStatus,
  EniCoverage,
  MatchedConnection,
} from '../../../shared/model/analysis';
import type { Inventory, NetworkInterface } from '../../../shared/model/inventory';
import { RuleIndex } from '../../../shared/rules/rule-index';
import {
  inventoryOf,
  networkInterface,
  ruleEntry as rule,
  sgWithRules as sg,
  vpc,
} from '../../../testkit/inventory-builder';

// --- plain-data builders ---------------------------------------------------------------------

function eni(id: string, privateIpv4: string, sgIds: string[]): NetworkInterface {
  return networkInterface(id, { privateIpv4: [privateIpv4], sgIds });
}

function coverage(eniId: string, status: CoverageStatus, reasons: string[] = []): EniCoverage {
  return { eniId, status, flowLogIds: ['fl-1'], reasons, hasTcpFlags: true, hasPacketAddresses: false };
}

function connection(fields: Partial<Connection> & Pick<Connection, 'peerAddr'>): Connection {
  return {
    eniId: 'eni-1',
    direction: 'inbound',
    action: 'ACCEPT',
    protocol: 6,
    port: 443,
    localAddr: '10.0.1.10',
    evidence: 'flags',
    connections: 1,
    records: 2,
    packets: 10,
    bytes: 1000,
    firstSeen: 1_000,
    lastSeen: 1_100,
    ...fields,
  };
}

// --- a small account ---------------------------------------------------------------------------

const HTTPS_WORLD = rule('sg-a', 'ingress', 'tcp', [443, 443], '0.0.0.0/0');
const SSH_VPC = rule('sg-a', 'ingress', 'tcp', [22, 22], '10.0.0.0/16');
const HTTPS_OUT = rule('sg-a', 'egress', 'tcp', [443, 443], '0.0.0.0/0');
const ANY_PORT_PRIVATE = rule('sg-b', 'ingress', 'tcp', [0, 65535], '10.0.0.0/8');
const DNS_RESOLVER = rule('sg-b', 'egress', 'udp', [53, 53], '10.0.0.2/32');
const METADATA = rule('sg-b', 'egress', 'tcp', [80, 80], '169.254.169.254/32');
const TIME_SYNC_V6 = rule('sg-b', 'egress', 'udp', [123, 123], 'fd00:ec2::123/128');
const EGRESS_ALL = rule('sg-b', 'egress', '-1', undefined, '0.0.0.0/0');
const SG_C_RULE = rule('sg-c', 'ingress', 'tcp', [5432, 5432], '10.0.0.0/16');
const SG_D_RULE = rule('sg-d', 'ingress', 'tcp', [6379, 6379], '10.0.0.0/16');
const SG_E_RULE = rule('sg-e', 'ingress', 'tcp', [9092, 9092], '10.0.0.0/16');
const SG_EMPTY_RULE = rule('sg-empty', 'ingress', 'tcp', [22, 22], '0.0.0.0/0');
const FROM_PEERED_SG = rule('sg-f', 'ingress', 'tcp', 5432, {
  kind: 'sg',
  groupId: 'sg-0peer',
  vpcPeeringConnectionId: 'pcx-1',
});
const FROM_MISSING_LIST = rule('sg-f', 'ingress', 'tcp', 443, 'pl-0missing');

const ACCOUNT: Inventory = inventoryOf({
  vpcs: [vpc('vpc-1', { cidrs: ['10.0.0.0/16'] })],
  securityGroups: [
    sg('sg-a', [HTTPS_WORLD, SSH_VPC, HTTPS_OUT]),
    sg('sg-b', [ANY_PORT_PRIVATE, DNS_RESOLVER, METADATA, TIME_SYNC_V6, EGRESS_ALL]),
    sg('sg-c', [SG_C_RULE]),
    sg('sg-d', [SG_D_RULE]),
    sg('sg-e', [SG_E_RULE]),
    sg('sg-empty', [SG_EMPTY_RULE]),
    sg('sg-f', [FROM_PEERED_SG, FROM_MISSING_LIST]),
  ],
  networkInterfaces: [
    eni('eni-1', '10.0.1.10', ['sg-a', 'sg-b']),
    eni('eni-2', '10.0.2.10', ['sg-c']),
    eni('eni-3', '10.0.2.11', ['sg-c']),
    eni('eni-4', '10.0.2.12', ['sg-c']),
    eni('eni-5', '10.0.3.10', ['sg-d']),
    eni('eni-6', '10.0.4.10', ['sg-e']),
    eni('eni-7', '10.0.5.10', ['sg-f']),
  ],
});
const INDEX = RuleIndex.build(ACCOUNT);
const COVERAGE = new Map<string, EniCoverage>([
  ['eni-1', coverage('eni-1', 'full')],
  ['eni-2', coverage('eni-2', 'full')],
  ['eni-3', coverage('eni-3', 'none', ['no flow log applies'])],
  // eni-4 is absent from the coverage map: it counts as 'none'.
  ['eni-5', coverage('eni-5', 'reject-only', ['flow log fl-9 records REJECT only'])],
  ['eni-6', coverage('eni-6', 'partial', ['flow log fl-1 created 2026-11-18, after the window start'])],
  ['eni-7', coverage('eni-7', 'full')],
]);
const WINDOW = { start: 0, end: 10_000 };
const CONTEXT = { ruleIndex: INDEX, coverage: COVERAGE, window: WINDOW };

function usageOf(matched: MatchedConnection[], sgIds?: string[]) {
  return computeRuleUsage(ACCOUNT, matched, sgIds === undefined ? CONTEXT : { ...CONTEXT, sgIds });
}

// --- tests ------------------------------------------------------------------------------------

describe('matchConnections', () => {
  it('attaches every admitting rule across the SGs of the ENI', () => {
    // Prepare
    const connections = [connection({ peerAddr: '10.0.5.5' }), connection({ peerAddr: '203.0.113.9' })];

    // Act
    const matched = matchConnections(connections, INDEX);

    // Assess
    expect(matched.map((c) => c.ruleIds)).toEqual([[HTTPS_WORLD.id, ANY_PORT_PRIVATE.id], [HTTPS_WORLD.id]]);
  });

  it('gives connections admitted by the same rules one shared, frozen list of rule ids', () => {
    // Prepare: two internet clients (the world rule) and one private peer (two rules).
    const connections = [
      connection({ peerAddr: '203.0.113.9' }),
      connection({ peerAddr: '10.0.5.5' }),
      connection({ peerAddr: '198.51.100.7' }),
    ];

    // Act
    const [first, inside, second] = matchConnections(connections, INDEX);

    // Assess
    expect(second?.ruleIds).toBe(first?.ruleIds);
    expect(inside?.ruleIds).not.toBe(first?.ruleIds);
    expect(inside?.ruleIds).toEqual([HTTPS_WORLD.id, ANY_PORT_PRIVATE.id]);
    expect(Object.isFrozen(first?.ruleIds)).toBe(true);
  });

  it('matches outbound connections against egress rules', () => {
    // Prepare
    const connections = [connection({ direction: 'outbound', protocol: 17, port: 53, peerAddr: '10.0.0.2' })];

    // Act
    const matched = matchConnections(connections, INDEX);

    // Assess
    expect(matched[0]?.ruleIds).toEqual([DNS_RESOLVER.id, EGRESS_ALL.id]);
  });

  it('gives REJECT connections no rules: blocked attempts are not use', () => {
    // Prepare
    const connections = [connection({ action: 'REJECT', port: 22, peerAddr: '10.0.5.5' })];

    // Act
    const matched = matchConnections(connections, INDEX);

    // Assess
    expect(matched[0]?.ruleIds).toEqual([]);
  });
});

describe('countUnadmittedAccepts', () => {
  it('counts ACCEPT connections no rule admits, not REJECTs', () => {
    // Prepare: 3389 from the internet is open in no SG of eni-1.
    const matched = matchConnections(
      [
        connection({ port: 3389, peerAddr: '203.0.113.9' }),
        connection({ action: 'REJECT', port: 3389, peerAddr: '203.0.113.9' }),
        connection({ peerAddr: '203.0.113.9' }),
      ],
      INDEX,
    );

    // Act
    const count = countUnadmittedAccepts(matched);

    // Assess
    expect(count).toBe(1);
  });
});

describe('computeRuleUsage', () => {
  it('counts a connection on every rule that admits it, across two SGs', () => {
    // Prepare
    const matched = matchConnections(
      [
        connection({ peerAddr: '10.0.5.5', connections: 3, bytes: 300, firstSeen: 100, lastSeen: 200 }),
        connection({ peerAddr: '203.0.113.9', connections: 2, bytes: 5000, firstSeen: 50, lastSeen: 150 }),
        connection({
          port: 8080,
          peerAddr: '10.0.5.6',
          connections: 1,
          bytes: 10,
          firstSeen: 300,
          lastSeen: 400,
        }),
      ],
      INDEX,
    );

    // Act
    const usage = usageOf(matched);

    // Assess
    expect(usage.get(HTTPS_WORLD.id)).toMatchObject({
      status: 'used',
      verdict: 'keep',
      connections: 5,
      records: 4,
      bytes: 5300,
      distinctPeers: 2,
      firstSeen: 50,
      lastSeen: 200,
      coverage: 'full',
      topPeers: [
        { addr: '10.0.5.5', connections: 3, bytes: 300 },
        { addr: '203.0.113.9', connections: 2, bytes: 5000 },
      ],
      ports: [{ protocol: 6, port: 443, connections: 5, bytes: 5300 }],
    });
    expect(usage.get(HTTPS_WORLD.id)?.statusReason).toBe('5 connections from 2 peers in the window');
    expect(usage.get(ANY_PORT_PRIVATE.id)).toMatchObject({
      status: 'used',
      connections: 4,
      distinctPeers: 2,
      firstSeen: 100,
      lastSeen: 400,
      ports: [
        { protocol: 6, port: 443, connections: 3, bytes: 300 },
        { protocol: 6, port: 8080, connections: 1, bytes: 10 },
      ],
    });
  });

  it('keeps at most 10 top peers and 200 ports, most used first', () => {
    // Prepare: 250 ports from 15 peers on the any-port rule.
    const connections = Array.from({ length: 250 }, (_, i) =>
      connection({ port: 1000 + i, peerAddr: `10.0.6.${i % 15}`, connections: 1 + (i % 15) }),
    );

    // Act
    const usage = usageOf(matchConnections(connections, INDEX)).get(ANY_PORT_PRIVATE.id);

    // Assess
    expect(usage?.distinctPeers).toBe(15);
    expect(usage?.topPeers).toHaveLength(10);
    expect(usage?.topPeers[0]?.addr).toBe('10.0.6.14');
    expect(usage?.ports).toHaveLength(200);
    const counts = usage?.ports.map((p) => p.connections) ?? [];
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('marks a rule unused when no connection matched and every ENI was fully covered', () => {
    // Prepare
    const matched: MatchedConnection[] = [];

    // Act
    const usage = usageOf(matched);

    // Assess
    expect(usage.get(SSH_VPC.id)).toMatchObject({
      status: 'unused',
      verdict: 'remove',
      connections: 0,
      distinctPeers: 0,
      coverage: 'full',
      topPeers: [],
      ports: [],
    });
    expect(usage.get(SSH_VPC.id)?.firstSeen).toBeUndefined();
    expect(usage.get(SSH_VPC.id)?.statusReason).toBe(
      'no connection in the window, and flow logs covered its ENI for the whole window',
    );
    expect(usage.get(HTTPS_OUT.id)?.status).toBe('unused');
  });

  it('does not count REJECT connections as use', () => {
    // Prepare
    const matched = matchConnections(
      [connection({ action: 'REJECT', port: 22, peerAddr: '10.0.5.5' })],
      INDEX,
    );

    // Act
    const usage = usageOf(matched);

    // Assess
    expect(usage.get(SSH_VPC.id)?.status).toBe('unused');
  });

  it('ignores connections outside the window', () => {
    // Prepare
    const matched = matchConnections(
      [connection({ port: 22, peerAddr: '10.0.5.5', firstSeen: 20_000, lastSeen: 20_100 })],
      INDEX,
    );

    // Act
    const usage = usageOf(matched);

    // Assess
    expect(usage.get(SSH_VPC.id)?.status).toBe('unused');
  });

  it('says which ENIs lack coverage when some have none', () => {
    // Prepare
    const matched: MatchedConnection[] = [];

    // Act
    const usage = usageOf(matched).get(SG_C_RULE.id);

    // Assess
    expect(usage).toMatchObject({ status: 'unknown', verdict: 'review', coverage: 'none' });
    expect(usage?.statusReason).toBe('2 of 3 ENIs have no flow-log coverage: eni-3, eni-4');
    expect(usage?.verdictReason).toContain('2 of 3 ENIs have no flow-log coverage');
  });

  it('says when only REJECT records are logged', () => {
    // Prepare
    const matched: MatchedConnection[] = [];

    // Act
    const usage = usageOf(matched).get(SG_D_RULE.id);

    // Assess
    expect(usage).toMatchObject({ status: 'unknown', coverage: 'reject-only' });
    expect(usage?.statusReason).toBe('only REJECT records are logged for eni-5');
  });

  it('passes on why coverage is partial', () => {
    // Prepare
    const matched: MatchedConnection[] = [];

    // Act
    const usage = usageOf(matched).get(SG_E_RULE.id);

    // Assess
    expect(usage).toMatchObject({ status: 'unknown', coverage: 'partial' });
    expect(usage?.statusReason).toBe('flow log fl-1 created 2026-11-18, after the window start (eni-6)');
  });

  it('reports an SG without ENIs as unknown, not unused', () => {
    // Prepare
    const matched: MatchedConnection[] = [];

    // Act
    const usage = usageOf(matched).get(SG_EMPTY_RULE.id);

    // Assess
    expect(usage).toMatchObject({
      status: 'unknown',
      verdict: 'review',
      coverage: 'no-enis',
      statusReason: 'not attached to any network interface',
    });
  });

  it('keeps rules for traffic flow logs never record unknown, the egress allow-all included', () => {
    // Prepare
    const matched: MatchedConnection[] = [];

    // Act
    const usage = usageOf(matched);

    // Assess
    expect(usage.get(DNS_RESOLVER.id)).toMatchObject({
      status: 'unknown',
      verdict: 'review',
      coverage: 'full',
      statusReason: 'may carry traffic flow logs never record: DNS to the VPC resolver',
    });
    expect(usage.get(METADATA.id)?.statusReason).toBe(
      'may carry traffic flow logs never record: instance metadata',
    );
    expect(usage.get(TIME_SYNC_V6.id)?.statusReason).toBe(
      'may carry traffic flow logs never record: time sync',
    );
    expect(usage.get(EGRESS_ALL.id)?.statusReason).toBe(
      'may carry traffic flow logs never record: DNS to the VPC resolver, instance metadata, time sync, DHCP',
    );
  });

  it('keeps rules whose peer resolves to no address here unknown', () => {
    // Prepare
    const matched: MatchedConnection[] = [];

    // Act
    const usage = usageOf(matched);

    // Assess
    expect(usage.get(FROM_PEERED_SG.id)?.status).toBe('unknown');
    expect(usage.get(FROM_PEERED_SG.id)?.statusReason).toContain(
      'its peer sg-0peer has no network interface',
    );
    expect(usage.get(FROM_MISSING_LIST.id)?.status).toBe('unknown');
    expect(usage.get(FROM_MISSING_LIST.id)?.statusReason).toBe(
      'its prefix list pl-0missing is not in the inventory',
    );
  });

  it('marks a never-logged rule used once a connection matched it', () => {
    // Prepare
    const matched = matchConnections(
      [connection({ direction: 'outbound', protocol: 17, port: 53, peerAddr: '10.0.0.2' })],
      INDEX,
    );

    // Act
    const usage = usageOf(matched);

    // Assess
    expect(usage.get(DNS_RESOLVER.id)?.status).toBe('used');
    expect(usage.get(EGRESS_ALL.id)?.status).toBe('used');
  });

  it('reports only the SGs in scope', () => {
    // Prepare
    const matched: MatchedConnection[] = [];

    // Act
    const usage = usageOf(matched, ['sg-a']);

    // Assess
    expect([...usage.keys()]).toEqual([HTTPS_WORLD.id, SSH_VPC.id, HTTPS_OUT.id]);
    expect([...usage.values()].every((u) => u.sgId === 'sg-a')).toBe(true);
  });
});

describe('assignVerdicts', () => {
  it('narrows used rules a recommendation covers and keeps, removes or reviews the rest', () => {
    // Prepare
    const matched = matchConnections([connection({ peerAddr: '10.0.5.5' })], INDEX);
    const usage = usageOf(matched);

    // Act
    const verdicts = assignVerdicts(usage, new Set([ANY_PORT_PRIVATE.id, SSH_VPC.id]));

    // Assess
    expect(verdicts.get(ANY_PORT_PRIVATE.id)?.verdict).toBe('narrow');
    expect(verdicts.get(ANY_PORT_PRIVATE.id)?.verdictReason).toContain('wider than its traffic');
    expect(verdicts.get(HTTPS_WORLD.id)?.verdict).toBe('keep');
    expect(verdicts.get(SSH_VPC.id)?.verdict).toBe('remove');
    expect(verdicts.get(SG_C_RULE.id)?.verdict).toBe('review');
    expect(usage.get(ANY_PORT_PRIVATE.id)?.verdict).toBe('keep');
    expect(verdicts.get(HTTPS_WORLD.id)).not.toBe(usage.get(HTTPS_WORLD.id));
  });
});
