import fc from 'fast-check';
import {
  recommendationText,
  recommendRules,
  summariseDistinctPeers,
  summarisePeers,
} from '../../../shared/analysis/recommend';
import { type AnalysisConfig, DEFAULT_CONFIG } from '../../../shared/config';
import type { MatchedConnection, Recommendation } from '../../../shared/model/analysis';
import type { Direction, Inventory, RuleEntry } from '../../../shared/model/inventory';
import {
  type Cidr,
  cidrContains,
  cidrContainsIp,
  cidrLast,
  commonSupernet,
  familyBits,
  formatCidr,
  formatIp,
  hostCidr,
  type IpAddress,
  mergeCidrs,
  parseCidr,
  parseIpOrThrow,
  supernetOf,
} from '../../../shared/net/ip';
import { protocolHasPorts, protocolNumber } from '../../../shared/net/protocol';
import { RuleIndex } from '../../../shared/rules/rule-index';
import {
  inventoryOf,
  networkInterface,
  type PortSpec,
  prefixList,
  ruleEntry,
  securityGroup,
} from '../../../testkit/inventory-builder';

// --- plain-data helpers ----------------------------------------------------------------------

interface Traffic {
  readonly eniId?: string;
  readonly direction?: 'inbound' | 'outbound';
  readonly action?: 'ACCEPT' | 'REJECT';
  readonly protocol?: number;
  readonly port: number | null;
  readonly peer: string;
  readonly connections?: number;
}

/** Connections matched against the inventory's rules, as the usage step hands them over. */
function observe(
  inventory: Inventory,
  traffic: readonly Traffic[],
): { ruleIndex: RuleIndex; matched: MatchedConnection[] } {
  const ruleIndex = RuleIndex.build(inventory);
  const matched = traffic.map((t): MatchedConnection => {
    const eniId = t.eniId ?? 'eni-web';
    const direction = t.direction ?? 'inbound';
    const protocol = t.protocol ?? 6;
    const ruleDirection: Direction = direction === 'inbound' ? 'ingress' : 'egress';
    return {
      eniId,
      direction,
      action: t.action ?? 'ACCEPT',
      protocol,
      port: t.port,
      localAddr: '10.0.0.10',
      peerAddr: t.peer,
      evidence: 'flags',
      connections: t.connections ?? 1,
      records: 2,
      packets: 4,
      bytes: 400,
      firstSeen: 0,
      lastSeen: 60,
      ruleIds: ruleIndex.matching(eniId, ruleDirection, protocol, t.port, t.peer).map((r) => r.id),
    };
  });
  return { ruleIndex, matched };
}

/** sg-web with the given rules on eni-web (10.0.0.10), plus any extra parts. */
function webInventory(rules: readonly RuleEntry[], extra: Partial<Inventory> = {}): Inventory {
  return inventoryOf({
    securityGroups: [securityGroup('sg-web', { rules: [...rules] }), ...(extra.securityGroups ?? [])],
    networkInterfaces: [
      networkInterface('eni-web', { privateIpv4: ['10.0.0.10'], sgIds: ['sg-web'] }),
      ...(extra.networkInterfaces ?? []),
    ],
    prefixLists: extra.prefixLists ?? [],
  });
}

function rule(
  direction: Direction,
  protocol: string,
  ports: PortSpec,
  peer: string,
  sgId = 'sg-web',
): RuleEntry {
  return ruleEntry(sgId, direction, protocol, ports, peer);
}

function recommend(
  inventory: Inventory,
  traffic: readonly Traffic[],
  config: AnalysisConfig = DEFAULT_CONFIG,
) {
  const { ruleIndex, matched } = observe(inventory, traffic);
  return recommendRules(inventory, matched, { ruleIndex }, config);
}

function texts(recommendations: readonly Recommendation[]): string[] {
  return recommendations.map((r) => r.text);
}

/** Every `step`-th port from `from`, `count` of them (non-adjacent, so no exact merge joins them). */
function ports(from: number, count: number, step = 2): number[] {
  return Array.from({ length: count }, (_, i) => from + i * step);
}

// --- example tests ---------------------------------------------------------------------------

describe('recommendRules', () => {
  it('summarises three peers in one /24 into the /24', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 443, '0.0.0.0/0')]);
    const traffic = ['203.0.113.10', '203.0.113.20', '203.0.113.30'].map((peer) => ({ port: 443, peer }));

    // Act
    const { recommendations } = recommend(inventory, traffic);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp port 443 from 203.0.113.0/24']);
    expect(recommendations[0]).toMatchObject({
      peer: '203.0.113.0/24',
      basis: 'summarised-/24',
      distinctPeers: 3,
      connections: 3,
      addedAddresses: '253',
      family: 'ipv4',
      fromPort: 443,
      toPort: 443,
      protocol: 'tcp',
      direction: 'ingress',
      sourceRuleIds: ['sg-web/ingress/tcp/443-443/0.0.0.0/0'],
    });
  });

  it('keeps a public-service rule as written instead of narrowing it to the clients seen', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 443, '0.0.0.0/0')]);
    const traffic = ['203.0.113.10', '198.51.100.7'].map((peer) => ({ port: 443, peer }));
    const { ruleIndex, matched } = observe(inventory, traffic);
    const ruleId = 'sg-web/ingress/tcp/443-443/0.0.0.0/0';

    // Act
    const result = recommendRules(
      inventory,
      matched,
      { ruleIndex, publicServiceRules: new Set([ruleId]) },
      DEFAULT_CONFIG,
    );

    // Assess
    expect(texts(result.recommendations)).toEqual(['- allow tcp port 443 from 0.0.0.0/0']);
    expect(result.recommendations[0]).toMatchObject({
      connections: 2,
      distinctPeers: 2,
      sourceRuleIds: [ruleId],
    });
    expect(result.narrowable.has(ruleId)).toBe(false);
  });

  it('keeps two peers in one /24 as single addresses', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 443, '0.0.0.0/0')]);

    // Act
    const { recommendations } = recommend(inventory, [
      { port: 443, peer: '203.0.113.10' },
      { port: 443, peer: '203.0.113.20' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 443 from 203.0.113.10',
      '- allow tcp port 443 from 203.0.113.20',
    ]);
    expect(recommendations.map((r) => r.peer)).toEqual(['203.0.113.10/32', '203.0.113.20/32']);
    expect(recommendations.every((r) => r.basis === 'observed' && r.addedAddresses === undefined)).toBe(true);
  });

  it('joins adjacent single addresses exactly, without admitting more', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 443, '0.0.0.0/0')]);

    // Act
    const { recommendations } = recommend(inventory, [
      { port: 443, peer: '203.0.113.10' },
      { port: 443, peer: '203.0.113.11' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp port 443 from 203.0.113.10/31']);
    expect(recommendations[0]?.basis).toBe('observed');
    expect(recommendations[0]?.addedAddresses).toBeUndefined();
  });

  it('clips the /24 to a narrower /28 rule', () => {
    // Prepare
    const narrow = rule('ingress', 'tcp', 443, '198.51.100.16/28');
    const inventory = webInventory([narrow]);
    const traffic = ['198.51.100.17', '198.51.100.20', '198.51.100.30'].map((peer) => ({ port: 443, peer }));

    // Act
    const { recommendations, narrowable } = recommend(inventory, traffic);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp port 443 from 198.51.100.16/28']);
    expect(recommendations[0]?.basis).toBe('summarised-/24');
    expect(narrowable.has(narrow.id)).toBe(false);
  });

  it('groups ten used ports of a seed port group into the group range', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', [0, 65535], '0.0.0.0/0')]);
    const traffic = ports(20001, 10).map((port) => ({ port, peer: '192.0.2.1' }));

    // Act
    const { recommendations } = recommend(inventory, traffic);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp ports 20001-30000 from 192.0.2.1']);
    expect(recommendations[0]).toMatchObject({
      basis: 'port-group',
      fromPort: 20001,
      toPort: 30000,
      connections: 10,
    });
  });

  it('keeps nine used ports of a seed port group single', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', [0, 65535], '0.0.0.0/0')]);
    const traffic = ports(20001, 9).map((port) => ({ port, peer: '192.0.2.1' }));

    // Act
    const { recommendations } = recommend(inventory, traffic);

    // Assess
    expect(texts(recommendations)).toEqual(
      ports(20001, 9).map((p) => `- allow tcp port ${p} from 192.0.2.1`),
    );
    expect(recommendations.every((r) => r.basis === 'observed')).toBe(true);
  });

  it('merges adjacent group ranges into one range', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', [0, 65535], '0.0.0.0/0')]);
    const traffic = [...ports(10001, 10), ...ports(20001, 10)].map((port) => ({ port, peer: '192.0.2.1' }));

    // Act
    const { recommendations } = recommend(inventory, traffic);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp ports 10001-30000 from 192.0.2.1']);
    expect(recommendations[0]?.basis).toBe('port-group');
  });

  it('keeps ports below 1024 single however many are used', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', [0, 65535], '0.0.0.0/0')]);
    const traffic = ports(100, 12).map((port) => ({ port, peer: '192.0.2.1' }));

    // Act
    const { recommendations } = recommend(inventory, traffic);

    // Assess
    expect(recommendations).toHaveLength(12);
    expect(recommendations.every((r) => r.fromPort === r.toPort)).toBe(true);
  });

  it('clips a port group to the rule port range', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', [20000, 25000], '0.0.0.0/0')]);
    const traffic = ports(20001, 10).map((port) => ({ port, peer: '192.0.2.1' }));

    // Act
    const { recommendations } = recommend(inventory, traffic);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp ports 20001-25000 from 192.0.2.1']);
  });

  it('recommends the SG whose ENIs are exactly the observed peers', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 5432, '10.0.0.0/16')], {
      securityGroups: [securityGroup('sg-app')],
      networkInterfaces: [
        networkInterface('eni-app-1', { privateIpv4: ['10.0.1.5'], sgIds: ['sg-app'] }),
        networkInterface('eni-app-2', { privateIpv4: ['10.0.1.6'], sgIds: ['sg-app'] }),
      ],
    });

    // Act
    const { recommendations, narrowable } = recommend(inventory, [
      { port: 5432, peer: '10.0.1.5' },
      { port: 5432, peer: '10.0.1.6' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp port 5432 from sg-app']);
    expect(recommendations[0]).toMatchObject({ peer: 'sg-app', basis: 'sg-reference', distinctPeers: 2 });
    expect(narrowable.has('sg-web/ingress/tcp/5432-5432/10.0.0.0/16')).toBe(true);
  });

  it('recommends an SG for the peers that are all its ENIs and keeps the other peers', () => {
    // Prepare
    const inventory = webInventory([rule('egress', '-1', undefined, '0.0.0.0/0')], {
      securityGroups: [securityGroup('sg-redis')],
      networkInterfaces: [
        networkInterface('eni-redis-1', { privateIpv4: ['10.0.20.30'], sgIds: ['sg-redis'] }),
        networkInterface('eni-redis-2', { privateIpv4: ['10.0.21.30'], sgIds: ['sg-redis'] }),
      ],
    });

    // Act
    const { recommendations } = recommend(inventory, [
      { direction: 'outbound', port: 6379, peer: '10.0.20.30' },
      { direction: 'outbound', port: 6379, peer: '10.0.21.30' },
      { direction: 'outbound', port: 6379, peer: '192.0.2.80' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 6379 to 192.0.2.80',
      '- allow tcp port 6379 to sg-redis',
    ]);
  });

  it('summarises peers per service, not across ports', () => {
    // Prepare
    const inventory = webInventory([rule('egress', '-1', undefined, '0.0.0.0/0')]);

    // Act
    const { recommendations } = recommend(inventory, [
      { direction: 'outbound', port: 5432, peer: '10.0.20.15' },
      { direction: 'outbound', port: 6379, peer: '10.0.20.30' },
      { direction: 'outbound', port: 2049, peer: '10.0.20.40' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 2049 to 10.0.20.40',
      '- allow tcp port 5432 to 10.0.20.15',
      '- allow tcp port 6379 to 10.0.20.30',
    ]);
  });

  it('keeps addresses when the peers are only some ENIs of an SG', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 5432, '10.0.0.0/16')], {
      securityGroups: [securityGroup('sg-app')],
      networkInterfaces: [
        networkInterface('eni-app-1', { privateIpv4: ['10.0.1.5'], sgIds: ['sg-app'] }),
        networkInterface('eni-app-2', { privateIpv4: ['10.0.1.6'], sgIds: ['sg-app'] }),
        networkInterface('eni-app-3', { privateIpv4: ['10.0.1.7'], sgIds: ['sg-app'] }),
      ],
    });

    // Act
    const { recommendations } = recommend(inventory, [
      { port: 5432, peer: '10.0.1.5' },
      { port: 5432, peer: '10.0.1.7' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 5432 from 10.0.1.5',
      '- allow tcp port 5432 from 10.0.1.7',
    ]);
  });

  it('recommends egress to AWS service addresses as the AWS-managed prefix list that holds them', () => {
    // Prepare
    const s3 = prefixList('pl-78a54011', ['52.219.56.0/22', '52.219.60.0/23'], {
      name: 'com.amazonaws.ap-northeast-2.s3',
      maxEntries: 1,
    });
    const inventory = webInventory([rule('egress', '-1', undefined, '0.0.0.0/0')], { prefixLists: [s3] });

    // Act
    const { recommendations } = recommend(inventory, [
      { direction: 'outbound', port: 443, peer: '52.219.56.18' },
      { direction: 'outbound', port: 443, peer: '52.219.61.9' },
      { direction: 'outbound', port: 443, peer: '142.250.196.110' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 443 to 142.250.196.110',
      '- allow tcp port 443 to pl-78a54011 (com.amazonaws.ap-northeast-2.s3)',
    ]);
    expect(recommendations[1]).toMatchObject({
      peer: 'pl-78a54011',
      basis: 'aws-prefix-list',
      distinctPeers: 2,
    });
  });

  it('never recommends a service prefix list wider than the rule, nor for ingress', () => {
    // Prepare: the rule admits one /24 of the list; ingress from S3 addresses is no service call.
    const s3 = prefixList('pl-s3', ['52.219.56.0/22'], { name: 'com.amazonaws.ap-northeast-2.s3' });
    const inventory = webInventory(
      [rule('egress', 'tcp', 443, '52.219.56.0/24'), rule('ingress', 'tcp', 443, '0.0.0.0/0')],
      { prefixLists: [s3] },
    );

    // Act
    const { recommendations } = recommend(inventory, [
      { direction: 'outbound', port: 443, peer: '52.219.56.18' },
      { direction: 'inbound', port: 443, peer: '52.219.57.1' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 443 from 52.219.57.1',
      '- allow tcp port 443 to 52.219.56.18',
    ]);
  });

  it('keeps a prefix-list rule as the prefix list', () => {
    // Prepare
    const inventory = webInventory([rule('egress', 'tcp', [0, 65535], 'pl-s3')], {
      prefixLists: [prefixList('pl-s3', ['52.216.0.0/15', '3.5.0.0/19'])],
    });

    // Act
    const { recommendations, narrowable } = recommend(inventory, [
      { direction: 'outbound', port: 443, peer: '52.216.4.1' },
      { direction: 'outbound', port: 443, peer: '3.5.1.9' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp port 443 to pl-s3']);
    expect(recommendations[0]).toMatchObject({
      peer: 'pl-s3',
      basis: 'observed',
      direction: 'egress',
      distinctPeers: 2,
    });
    expect(narrowable.has('sg-web/egress/tcp/0-65535/pl-s3')).toBe(true);
  });

  it('says "to" for egress recommendations', () => {
    // Prepare
    const inventory = webInventory([rule('egress', '-1', undefined, '0.0.0.0/0')]);

    // Act
    const { recommendations } = recommend(inventory, [
      { direction: 'outbound', port: 443, peer: '198.51.100.7' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp port 443 to 198.51.100.7']);
    expect(recommendations[0]?.direction).toBe('egress');
  });

  it("writes the seed's text lines", () => {
    // Prepare
    const inventory = webInventory([
      rule('ingress', 'tcp', 443, '0.0.0.0/0'),
      rule('ingress', 'tcp', [1024, 65535], '10.0.0.0/16'),
    ]);
    const config: AnalysisConfig = { ...DEFAULT_CONFIG, portGroups: [{ from: 20000, to: 30000 }] };
    const grouped = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].flatMap((peer) =>
      ports(20000, 10).map((port) => ({ port, peer })),
    );

    // Act
    const { recommendations } = recommend(
      inventory,
      [{ port: 443, peer: '203.0.113.10' }, ...grouped],
      config,
    );

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 443 from 203.0.113.10',
      '- allow tcp ports 20000-30000 from 10.0.0.0/24',
    ]);
  });

  it('splits a -1 rule into one entry per observed protocol', () => {
    // Prepare
    const all = rule('ingress', '-1', undefined, '10.0.0.0/16');
    const inventory = webInventory([all]);

    // Act
    const { recommendations, narrowable } = recommend(inventory, [
      { protocol: 6, port: 443, peer: '10.0.5.5' },
      { protocol: 17, port: 53, peer: '10.0.5.5' },
      { protocol: 1, port: null, peer: '10.0.5.5' },
      { protocol: 50, port: null, peer: '10.0.5.5' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow icmp from 10.0.5.5',
      '- allow tcp port 443 from 10.0.5.5',
      '- allow udp port 53 from 10.0.5.5',
      '- allow protocol 50 from 10.0.5.5',
    ]);
    expect(recommendations.map((r) => r.protocol)).toEqual(['icmp', 'tcp', 'udp', '50']);
    expect(recommendations[0]?.fromPort).toBeUndefined();
    expect(narrowable.has(all.id)).toBe(true);
  });

  it('keeps the ICMP type an icmp rule admits', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'icmp', [8, -1], '0.0.0.0/0')]);

    // Act
    const { recommendations } = recommend(inventory, [{ protocol: 1, port: null, peer: '192.0.2.9' }]);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow icmp type 8 from 192.0.2.9']);
    expect(recommendations[0]).toMatchObject({ fromPort: 8, toPort: -1 });
  });

  it('marks as narrowable only the used rules their recommendations do not fill', () => {
    // Prepare
    const wide = rule('ingress', 'tcp', [0, 65535], '0.0.0.0/0');
    const exact = rule('ingress', 'tcp', 22, '192.0.2.7/32');
    const unused = rule('ingress', 'tcp', 80, '0.0.0.0/0');
    const inventory = webInventory([wide, exact, unused]);

    // Act
    const { narrowable } = recommend(inventory, [
      { port: 443, peer: '198.51.100.1' },
      { port: 22, peer: '192.0.2.7' },
    ]);

    // Assess
    expect([...narrowable]).toEqual([wide.id]);
  });

  it('does not mark a rule narrowable when its ports are all used by its one peer', () => {
    // Prepare
    const small = rule('ingress', 'tcp', [8000, 8001], '192.0.2.7/32');
    const inventory = webInventory([small]);

    // Act
    const { narrowable, recommendations } = recommend(inventory, [
      { port: 8000, peer: '192.0.2.7' },
      { port: 8001, peer: '192.0.2.7' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual(['- allow tcp ports 8000-8001 from 192.0.2.7']);
    expect(narrowable.size).toBe(0);
  });

  it('summarises IPv6 peers into their /64 and shows single ones bare', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 443, '::/0')]);

    // Act
    const { recommendations, quota } = recommend(inventory, [
      { port: 443, peer: '2001:db8:1::1' },
      { port: 443, peer: '2001:db8:1::2' },
      { port: 443, peer: '2001:db8:1::3' },
      { port: 443, peer: '2001:db8:2::9' },
    ]);

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 443 from 2001:db8:1::/64',
      '- allow tcp port 443 from 2001:db8:2::9',
    ]);
    expect(recommendations.map((r) => r.family)).toEqual(['ipv6', 'ipv6']);
    expect(recommendations[1]?.peer).toBe('2001:db8:2::9/128');
    expect(quota).toEqual([
      {
        sgId: 'sg-web',
        direction: 'ingress',
        family: 'ipv6',
        current: 1,
        recommendedBeforeCompaction: 2,
        recommended: 2,
        limit: 60,
        addedAddresses: '0',
      },
    ]);
  });

  it('counts prefix lists by their max entries and SG references in both families', () => {
    // Prepare
    const inventory = webInventory(
      [
        rule('ingress', 'tcp', 443, '0.0.0.0/0'),
        rule('ingress', 'tcp', 443, 'pl-corp'),
        rule('ingress', 'tcp', 443, 'sg-web'),
        rule('ingress', 'tcp', 443, '::/0'),
      ],
      { prefixLists: [prefixList('pl-corp', ['192.0.2.0/24'], { maxEntries: 5 })] },
    );

    // Act
    const { quota } = recommend(inventory, [{ port: 443, peer: '192.0.2.5' }]);

    // Assess
    expect(quota.map((q) => [q.family, q.current, q.recommended])).toEqual([
      ['ipv4', 7, 5],
      ['ipv6', 2, 0],
    ]);
  });

  it('compacts to the rule quota and reports the exposure added', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 443, '10.0.0.0/16')]);
    const config: AnalysisConfig = { ...DEFAULT_CONFIG, ruleQuota: 2 };
    const peers = ['10.0.1.1', '10.0.1.9', '10.0.7.1', '10.0.7.200'];

    // Act
    const { recommendations, quota } = recommend(
      inventory,
      peers.map((peer) => ({ port: 443, peer })),
      config,
    );

    // Assess
    expect(texts(recommendations)).toEqual([
      '- allow tcp port 443 from 10.0.1.0/28',
      '- allow tcp port 443 from 10.0.7.0/24',
    ]);
    expect(recommendations.map((r) => [r.basis, r.addedAddresses])).toEqual([
      ['compacted', '14'],
      ['compacted', '254'],
    ]);
    expect(quota).toEqual([
      expect.objectContaining({
        family: 'ipv4',
        current: 1,
        recommendedBeforeCompaction: 4,
        recommended: 2,
        addedAddresses: '268',
      }),
    ]);
  });

  it('ignores rejected connections and SGs out of scope', () => {
    // Prepare
    const inventory = webInventory([rule('ingress', 'tcp', 443, '0.0.0.0/0')], {
      securityGroups: [
        securityGroup('sg-other', { rules: [rule('ingress', 'tcp', 443, '0.0.0.0/0', 'sg-other')] }),
      ],
      networkInterfaces: [networkInterface('eni-other', { privateIpv4: ['10.0.0.20'], sgIds: ['sg-other'] })],
    });
    const { ruleIndex, matched } = observe(inventory, [
      { port: 443, peer: '192.0.2.1' },
      { port: 443, peer: '192.0.2.2', action: 'REJECT' },
      { eniId: 'eni-other', port: 443, peer: '192.0.2.3' },
    ]);

    // Act
    const { recommendations } = recommendRules(
      inventory,
      matched,
      { ruleIndex, sgIds: ['sg-web'] },
      DEFAULT_CONFIG,
    );

    // Assess
    expect(recommendations.map((r) => [r.sgId, r.text])).toEqual([
      ['sg-web', '- allow tcp port 443 from 192.0.2.1'],
    ]);
  });
});

describe('recommendationText', () => {
  it.each([
    ['ingress', 'all', undefined, undefined, '10.0.0.0/8', '- allow all traffic from 10.0.0.0/8'],
    ['ingress', 1, undefined, undefined, '10.0.0.1', '- allow icmp from 10.0.0.1'],
    ['egress', 50, undefined, undefined, 'sg-1', '- allow protocol 50 to sg-1'],
    ['egress', 17, { from: 53, to: 53 }, undefined, 'pl-1', '- allow udp port 53 to pl-1'],
    ['ingress', 58, undefined, { type: 128, code: 0 }, '::/0', '- allow icmpv6 type 128 code 0 from ::/0'],
  ] as const)('writes %s %s as the seed does', (direction, protocol, range, icmp, peer, expected) => {
    // Act
    const text = recommendationText(direction, protocol, range, icmp, peer);

    // Assess
    expect(text).toBe(expected);
  });
});

// --- property tests --------------------------------------------------------------------------

interface RuleSpec {
  readonly direction: Direction;
  readonly family: 'ipv4' | 'ipv6';
  readonly network: bigint;
  readonly prefix: number;
  readonly protocol: 'tcp' | 'udp' | 'icmp' | '-1';
  readonly from: number;
  readonly to: number;
}

interface ConnectionSpec {
  readonly rule: number;
  readonly offset: bigint;
  readonly portOffset: number;
  readonly protocol: number;
  readonly connections: number;
}

const ruleSpec: fc.Arbitrary<RuleSpec> = fc
  .record({
    direction: fc.constantFrom<Direction>('ingress', 'egress'),
    family: fc.constantFrom<'ipv4' | 'ipv6'>('ipv4', 'ipv6'),
    v4: fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }),
    v6: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
    v4Prefix: fc.integer({ min: 8, max: 32 }),
    v6Prefix: fc.integer({ min: 48, max: 128 }),
    protocol: fc.constantFrom<RuleSpec['protocol']>('tcp', 'tcp', 'udp', 'icmp', '-1'),
    a: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1000, max: 1100 }), fc.constant(0)),
    b: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1000, max: 1100 }), fc.constant(65535)),
  })
  .map(({ direction, family, v4, v6, v4Prefix, v6Prefix, protocol, a, b }) => {
    const prefix = family === 'ipv4' ? v4Prefix : v6Prefix;
    const bits = BigInt(familyBits(family));
    const hostBits = (1n << (bits - BigInt(prefix))) - 1n;
    const network = (family === 'ipv4' ? v4 : v6) & ~hostBits;
    return { direction, family, network, prefix, protocol, from: Math.min(a, b), to: Math.max(a, b) };
  });

const connectionSpec: fc.Arbitrary<ConnectionSpec> = fc.record({
  rule: fc.nat(),
  // Small offsets put several peers in one /24 or /64 and several ports in one port group.
  offset: fc.oneof(fc.bigInt({ min: 0n, max: 700n }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })),
  portOffset: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 65535 })),
  protocol: fc.constantFrom(6, 17, 1, 50),
  connections: fc.integer({ min: 1, max: 5 }),
});

const configSpec: fc.Arbitrary<AnalysisConfig> = fc
  .record({
    summariseMinIps: fc.integer({ min: 2, max: 4 }),
    portGroupMinPorts: fc.integer({ min: 2, max: 10 }),
    portGroupMinPort: fc.constantFrom(0, 1024),
  })
  .map((overrides) => ({
    ...DEFAULT_CONFIG,
    ...overrides,
    portGroups: [{ from: 0, to: 1023 }, { from: 1000, to: 1100 }, ...DEFAULT_CONFIG.portGroups],
  }));

function ruleOf(spec: RuleSpec): RuleEntry {
  const cidr = formatCidr({ family: spec.family, network: spec.network, prefix: spec.prefix });
  const ports: PortSpec =
    spec.protocol === 'tcp' || spec.protocol === 'udp'
      ? [spec.from, spec.to]
      : spec.protocol === 'icmp'
        ? [spec.from % 2 === 0 ? -1 : 8, -1]
        : undefined;
  return ruleEntry('sg-p', spec.direction, spec.protocol, ports, cidr);
}

/** Fixed rules that exercise SG references, prefix lists and the SG-reference suggestion. */
const FIXED_RULES: readonly RuleEntry[] = [
  ruleEntry('sg-p', 'ingress', 'tcp', [5000, 5100], '10.9.0.0/24'),
  ruleEntry('sg-p', 'ingress', 'udp', [4000, 4100], 'sg-x'),
  ruleEntry('sg-p', 'egress', 'tcp', 443, 'pl-x'),
];
const FIXED_PEERS = ['10.9.0.1', '10.9.0.2', '100.64.3.4', '100.65.0.9'];

function propertyInventory(specs: readonly RuleSpec[]): Inventory {
  const byId = new Map<string, RuleEntry>();
  for (const r of [...specs.map(ruleOf), ...FIXED_RULES]) byId.set(r.id, r);
  return inventoryOf({
    securityGroups: [securityGroup('sg-p', { rules: [...byId.values()] }), securityGroup('sg-x')],
    networkInterfaces: [
      networkInterface('eni-p', { privateIpv4: ['172.31.0.1'], sgIds: ['sg-p'] }),
      networkInterface('eni-x1', { privateIpv4: ['10.9.0.1'], sgIds: ['sg-x'] }),
      networkInterface('eni-x2', { privateIpv4: ['10.9.0.2'], sgIds: ['sg-x'] }),
    ],
    prefixLists: [prefixList('pl-x', ['100.64.0.0/16', '100.65.0.0/24'], { maxEntries: 3 })],
  });
}

/** Traffic each admitted by the rule it was drawn from (plus some to the fixed rules). */
function propertyTraffic(specs: readonly RuleSpec[], conns: readonly ConnectionSpec[]): Traffic[] {
  return conns.map((c): Traffic => {
    const spec = specs[c.rule % Math.max(specs.length, 1)];
    if (spec === undefined || c.rule % 7 === 6) {
      const fixed = FIXED_RULES[c.rule % FIXED_RULES.length] as RuleEntry;
      const peer = FIXED_PEERS[(c.portOffset % 2) + (fixed.direction === 'egress' ? 2 : 0)] as string;
      const from = fixed.fromPort ?? 0;
      const to = fixed.toPort ?? 0;
      return {
        eniId: 'eni-p',
        direction: fixed.direction === 'ingress' ? 'inbound' : 'outbound',
        protocol: fixed.protocolNumber as number,
        port: from + (c.portOffset % (to - from + 1)),
        peer,
        connections: c.connections,
      };
    }
    const size = 1n << BigInt(familyBits(spec.family) - spec.prefix);
    const peer = formatIp(spec.family, spec.network + (c.offset % size));
    const protocol = spec.protocol === '-1' ? c.protocol : (protocolNumber(spec.protocol) as number);
    const port = protocolHasPorts(protocol)
      ? spec.protocol === '-1'
        ? c.portOffset
        : spec.from + (c.portOffset % (spec.to - spec.from + 1))
      : null;
    return {
      eniId: 'eni-p',
      direction: spec.direction === 'ingress' ? 'inbound' : 'outbound',
      protocol,
      port,
      peer,
      connections: c.connections,
    };
  });
}

/** What a recommendation or rule admits, resolved to plain sets for the checks below. */
interface Space {
  readonly protocol: number | 'all';
  /** tcp/udp: inclusive port range; undefined = every port. */
  readonly ports?: readonly [number, number];
  readonly cidrs: readonly Cidr[];
}

function peerCidrsOf(peer: string, inventory: Inventory): Cidr[] {
  if (peer.startsWith('sg-')) {
    return inventory.networkInterfaces
      .filter((eni) => eni.sgIds.includes(peer))
      .flatMap((eni) => eni.privateIpv4.map((ip) => hostCidr(ip)));
  }
  if (peer.startsWith('pl-')) {
    return (inventory.prefixLists.find((pl) => pl.id === peer)?.entries ?? []).map((e) => parseCidr(e.cidr));
  }
  return [parseCidr(peer)];
}

function ruleSpace(r: RuleEntry, inventory: Inventory): Space {
  const withPorts = protocolHasPorts(r.protocolNumber) && r.fromPort !== undefined && r.toPort !== undefined;
  const cidrs = peerCidrsOf(
    r.peer.kind === 'cidr' ? r.peer.cidr : r.peer.kind === 'sg' ? r.peer.groupId : r.peer.prefixListId,
    inventory,
  );
  return {
    protocol: r.protocolNumber,
    ...(withPorts ? { ports: [r.fromPort as number, r.toPort as number] as const } : {}),
    cidrs,
  };
}

function recommendationSpace(r: Recommendation, inventory: Inventory): Space {
  const protocol = protocolNumber(r.protocol);
  const withPorts = protocolHasPorts(protocol);
  return {
    protocol,
    ...(withPorts ? { ports: [r.fromPort as number, r.toPort as number] as const } : {}),
    cidrs: peerCidrsOf(r.peer, inventory),
  };
}

function admitsPoint(space: Space, protocol: number, port: number | null, addr: string): boolean {
  if (space.protocol !== 'all' && space.protocol !== protocol) return false;
  if (space.ports !== undefined && port !== null && (port < space.ports[0] || port > space.ports[1]))
    return false;
  return space.cidrs.some((c) => cidrContainsIp(c, addr));
}

function cidrsWithin(inner: readonly Cidr[], outer: readonly Cidr[]): boolean {
  const merged = mergeCidrs(outer);
  return inner.every((c) => merged.some((m) => cidrContains(m, c)));
}

/** Property (1): never wider than the union of its source rules, checked per field and at sample points. */
function assertWithinSources(recommendations: readonly Recommendation[], inventory: Inventory): void {
  const rules = new Map(inventory.securityGroups.flatMap((sg) => sg.rules).map((r) => [r.id, r]));
  for (const rec of recommendations) {
    const sources = rec.sourceRuleIds.map((id) => rules.get(id) as RuleEntry);
    expect(sources.length).toBeGreaterThan(0);
    expect(
      sources.every((s) => s !== undefined && s.sgId === rec.sgId && s.direction === rec.direction),
    ).toBe(true);
    const space = recommendationSpace(rec, inventory);
    const sourceSpaces = sources.map((s) => ruleSpace(s, inventory));
    const protocol = space.protocol as number;
    const sameProtocol = sourceSpaces.filter((s) => s.protocol === 'all' || s.protocol === protocol);
    expect(sameProtocol.length).toBeGreaterThan(0);
    expect(
      cidrsWithin(
        space.cidrs,
        sameProtocol.flatMap((s) => s.cidrs),
      ),
    ).toBe(true);
    if (space.ports !== undefined) {
      const [from, to] = space.ports;
      const covered = sameProtocol.some((s) => s.ports === undefined)
        ? true
        : mergeRanges(sameProtocol.map((s) => s.ports as readonly [number, number])).some(
            ([a, b]) => a <= from && to <= b,
          );
      expect(covered).toBe(true);
    }
    // Corners and middles of the (ports × addresses) box each lie in one source rule.
    const portPoints =
      space.ports === undefined
        ? [null]
        : [space.ports[0], space.ports[1], (space.ports[0] + space.ports[1]) >> 1];
    for (const cidr of space.cidrs) {
      const addrs = [cidr.network, cidrLast(cidr), (cidr.network + cidrLast(cidr)) / 2n].map((v) =>
        formatIp(cidr.family, v),
      );
      for (const port of portPoints) {
        for (const addr of addrs)
          expect(sourceSpaces.some((s) => admitsPoint(s, protocol, port, addr))).toBe(true);
      }
    }
  }
}

function mergeRanges(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}

/** Property (2): every observed ACCEPT connection an SG admitted is admitted by a recommendation of that SG. */
function assertComplete(
  recommendations: readonly Recommendation[],
  matched: readonly MatchedConnection[],
  inventory: Inventory,
): void {
  const ruleSg = new Map(inventory.securityGroups.flatMap((sg) => sg.rules).map((r) => [r.id, r.sgId]));
  for (const c of matched) {
    if (c.action !== 'ACCEPT') continue;
    const direction = c.direction === 'inbound' ? 'ingress' : 'egress';
    for (const sgId of new Set(c.ruleIds.map((id) => ruleSg.get(id)))) {
      const admitted = recommendations.some(
        (r) =>
          r.sgId === sgId &&
          r.direction === direction &&
          admitsPoint(recommendationSpace(r, inventory), c.protocol, c.port, c.peerAddr),
      );
      expect(admitted).toBe(true);
    }
  }
}

/** Whether two recommendations could still be merged legally (inside one rule both came from). */
function legallyMergeable(a: Recommendation, b: Recommendation, inventory: Inventory): boolean {
  if (a.protocol !== b.protocol) return false;
  const rules = new Map(inventory.securityGroups.flatMap((sg) => sg.rules).map((r) => [r.id, r]));
  const sources = [...new Set([...a.sourceRuleIds, ...b.sourceRuleIds])].map((id) =>
    ruleSpace(rules.get(id) as RuleEntry, inventory),
  );
  const protocol = protocolNumber(a.protocol) as number;
  let merged: Space | undefined;
  const isCidr = (peer: string) => !peer.startsWith('sg-') && !peer.startsWith('pl-');
  if (
    a.fromPort === b.fromPort &&
    a.toPort === b.toPort &&
    isCidr(a.peer) &&
    isCidr(b.peer) &&
    a.family === b.family
  ) {
    merged = {
      ...recommendationSpace(a, inventory),
      cidrs: [commonSupernet(parseCidr(a.peer), parseCidr(b.peer))],
    };
  } else if (a.peer === b.peer && protocolHasPorts(protocol)) {
    const from = Math.min(a.fromPort as number, b.fromPort as number);
    const to = Math.max(a.toPort as number, b.toPort as number);
    merged = { ...recommendationSpace(a, inventory), ports: [from, to] };
  }
  if (merged === undefined) return false;
  const box = merged;
  return sources.some(
    (s) =>
      (s.protocol === 'all' || s.protocol === protocol) &&
      (s.ports === undefined ||
        box.ports === undefined ||
        (s.ports[0] <= box.ports[0] && box.ports[1] <= s.ports[1])) &&
      cidrsWithin(box.cidrs, s.cidrs),
  );
}

describe('recommendRules properties', () => {
  const scenario = fc.record({
    specs: fc.array(ruleSpec, { minLength: 1, maxLength: 5 }),
    conns: fc.array(connectionSpec, { minLength: 1, maxLength: 40 }),
    config: configSpec,
  });

  it('never recommends what its source rules did not admit', () => {
    fc.assert(
      fc.property(scenario, ({ specs, conns, config }) => {
        // Prepare
        const inventory = propertyInventory(specs);
        const { ruleIndex, matched } = observe(inventory, propertyTraffic(specs, conns));

        // Act
        const { recommendations } = recommendRules(inventory, matched, { ruleIndex }, config);

        // Assess
        assertWithinSources(recommendations, inventory);
      }),
    );
  });

  it('admits every observed connection', () => {
    fc.assert(
      fc.property(scenario, ({ specs, conns, config }) => {
        // Prepare
        const inventory = propertyInventory(specs);
        const { ruleIndex, matched } = observe(inventory, propertyTraffic(specs, conns));

        // Act
        const { recommendations } = recommendRules(inventory, matched, { ruleIndex }, config);

        // Assess
        assertComplete(recommendations, matched, inventory);
      }),
    );
  });

  it('keeps both properties after compaction and meets the quota unless no legal merge is left', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 1, max: 4 }), ({ specs, conns, config }, quota) => {
        // Prepare
        const inventory = propertyInventory(specs);
        const { ruleIndex, matched } = observe(inventory, propertyTraffic(specs, conns));

        // Act
        const result = recommendRules(inventory, matched, { ruleIndex }, { ...config, ruleQuota: quota });

        // Assess
        assertWithinSources(result.recommendations, inventory);
        assertComplete(result.recommendations, matched, inventory);
        for (const q of result.quota) {
          if (q.recommended <= q.limit) continue;
          const group = result.recommendations.filter(
            (r) =>
              r.sgId === q.sgId &&
              r.direction === q.direction &&
              (r.family === q.family || r.peer.startsWith('sg-')),
          );
          for (const a of group) {
            for (const b of group) if (a !== b) expect(legallyMergeable(a, b, inventory)).toBe(false);
          }
        }
      }),
    );
  });

  it('meets any quota when every entry can merge inside one rule', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 0n, max: (1n << 16n) - 1n }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom('ipv4', 'ipv6'),
        fc.integer({ min: 1, max: 5 }),
        (offsets, family, quota) => {
          // Prepare
          const base = family === 'ipv4' ? '10.20.0.0/16' : '2001:db8:20::/112';
          const inventory = propertyInventory([]);
          const withRule = inventoryOf({
            ...inventory,
            securityGroups: [
              securityGroup('sg-p', { rules: [ruleEntry('sg-p', 'ingress', 'tcp', 443, base)] }),
            ],
          });
          const network = parseCidr(base).network;
          const traffic = offsets.map((o) => ({
            eniId: 'eni-p',
            port: 443,
            peer: formatIp(family, network + o),
          }));
          const { ruleIndex, matched } = observe(withRule, traffic);

          // Act
          const result = recommendRules(
            withRule,
            matched,
            { ruleIndex },
            { ...DEFAULT_CONFIG, ruleQuota: quota },
          );

          // Assess
          expect(result.recommendations.length).toBeLessThanOrEqual(quota);
          expect(result.quota.every((q) => q.recommended <= q.limit)).toBe(true);
          assertWithinSources(result.recommendations, withRule);
          assertComplete(result.recommendations, matched, withRule);
        },
      ),
    );
  });
});

// --- summarisePeers against a plain reference --------------------------------------------------

type SummaryConfig = Pick<AnalysisConfig, 'summariseMinIps' | 'summarisePrefixV4' | 'summarisePrefixV6'>;

/** The definition, written plainly: count distinct addresses per formatted /N, then map each. */
function referenceSummary(
  ips: readonly IpAddress[],
  config: SummaryConfig,
  within?: Cidr,
): [string, string][] {
  const hosts = new Map(
    ips.map((ip) => [formatIp(ip.family, ip.value), hostCidr(formatIp(ip.family, ip.value))]),
  );
  const blockOf = (host: Cidr) =>
    supernetOf(host, host.family === 'ipv4' ? config.summarisePrefixV4 : config.summarisePrefixV6);
  const counts = new Map<string, number>();
  for (const host of hosts.values()) {
    const key = formatCidr(blockOf(host));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...hosts].map(([addr, host]) => {
    const block = blockOf(host);
    let summary = block;
    if ((counts.get(formatCidr(block)) ?? 0) < config.summariseMinIps) summary = host;
    else if (within !== undefined && within.family === block.family && !cidrContains(within, block)) {
      summary = cidrContains(within, host) ? within : host;
    }
    return [addr, formatCidr(summary)];
  });
}

/** Addresses clustered in a few blocks (so blocks fill up), plus scattered ones, both families. */
const clusteredIp: fc.Arbitrary<IpAddress> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(0x0a000000n, 0x0a000100n, 0xc0a80500n, 0xcb007100n),
      fc.bigInt({ min: 0n, max: 600n }),
    )
    .map(([base, offset]): IpAddress => ({ family: 'ipv4', value: base + offset })),
  fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((value): IpAddress => ({ family: 'ipv4', value })),
  fc
    .tuple(
      fc.constantFrom(
        0x20010db8000000000000000000000000n,
        0x20010db8000000010000000000000000n,
        0xffff0a000000n,
      ),
      fc.bigInt({ min: 0n, max: 600n }),
    )
    .map(([base, offset]): IpAddress => ({ family: 'ipv6', value: base + offset })),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((value): IpAddress => ({ family: 'ipv6', value })),
);

const summaryConfig: fc.Arbitrary<SummaryConfig> = fc.record({
  summariseMinIps: fc.integer({ min: 1, max: 5 }),
  summarisePrefixV4: fc.oneof(fc.constant(24), fc.integer({ min: 0, max: 32 })),
  summarisePrefixV6: fc.oneof(fc.constant(64), fc.constant(120), fc.integer({ min: 0, max: 128 })),
});

/** A rule CIDR around one of the addresses (or anywhere), at any prefix. */
function withinOf(ips: readonly IpAddress[]): fc.Arbitrary<Cidr | undefined> {
  const around = fc
    .tuple(fc.constantFrom(...ips), fc.integer({ min: 0, max: 128 }))
    .map(([ip, prefix]) =>
      supernetOf(hostCidr(formatIp(ip.family, ip.value)), Math.min(prefix, familyBits(ip.family))),
    );
  return fc.oneof(fc.constant(undefined), around);
}

describe('summarisePeers', () => {
  it('maps every address as the plain definition does, for any addresses, config and rule CIDR', () => {
    fc.assert(
      fc.property(
        fc
          .array(clusteredIp, { minLength: 1, maxLength: 80 })
          .chain((ips) => fc.tuple(fc.constant(ips), summaryConfig, withinOf(ips))),
        ([ips, config, within]) => {
          // Prepare
          const expected = referenceSummary(ips, config, within);

          // Act
          const summary = summarisePeers(ips, config, within);

          // Assess
          expect([...summary].map(([addr, cidr]) => [addr, formatCidr(cidr)])).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('throws when a summarise prefix does not fit the family of an address', () => {
    // Prepare
    const ips = ['10.0.0.1', '2001:db8::1'].map((text) => parseIpOrThrow(text));

    // Act
    const summarise = () => summarisePeers(ips, { ...DEFAULT_CONFIG, summarisePrefixV6: 129 });

    // Assess
    expect(summarise).toThrow('invalid ipv6 prefix length 129');
  });
});

describe('summariseDistinctPeers', () => {
  it('gives the addresses of one summary the same Cidr object, in input order', () => {
    // Prepare
    const ips = ['10.0.0.1', '10.0.9.9', '10.0.0.2', '10.0.0.3'].map((text) => parseIpOrThrow(text));

    // Act
    const summaries = summariseDistinctPeers(ips, DEFAULT_CONFIG);

    // Assess
    expect(summaries.map(formatCidr)).toEqual(['10.0.0.0/24', '10.0.9.9/32', '10.0.0.0/24', '10.0.0.0/24']);
    expect(summaries[2]).toBe(summaries[0]);
    expect(summaries[3]).toBe(summaries[0]);
  });
});
