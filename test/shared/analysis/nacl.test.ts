import { type NaclContext, recommendNacls } from '../../../shared/analysis/nacl';
import { type AnalysisConfig, DEFAULT_CONFIG } from '../../../shared/config';
import type { MatchedConnection, NaclRecommendation } from '../../../shared/model/analysis';
import type { Inventory, NetworkAcl, ResourceType } from '../../../shared/model/inventory';
import { RuleIndex } from '../../../shared/rules/rule-index';
import { inventoryOf, networkInterface } from '../../../testkit/inventory-builder';

// --- plain-data helpers ----------------------------------------------------------------------

function acl(id: string, subnetIds: string[]): NetworkAcl {
  return { id, vpcId: 'vpc-1', isDefault: false, subnetIds, entries: [] };
}

/**
 * eni-web (10.0.0.10) and eni-db (10.0.0.20) in subnet-1 behind acl-web; eni-elb (10.0.1.10) in
 * subnet-2 behind acl-edge.
 */
function inventory(): Inventory {
  return inventoryOf({
    networkInterfaces: [
      networkInterface('eni-web', { privateIpv4: ['10.0.0.10'], subnetId: 'subnet-1' }),
      networkInterface('eni-db', { privateIpv4: ['10.0.0.20'], subnetId: 'subnet-1' }),
      networkInterface('eni-elb', { privateIpv4: ['10.0.1.10'], subnetId: 'subnet-2' }),
    ],
    networkAcls: [acl('acl-web', ['subnet-1']), acl('acl-edge', ['subnet-2'])],
  });
}

const TYPES: Readonly<Record<string, ResourceType>> = { 'eni-web': 'ec2', 'eni-db': 'rds', 'eni-elb': 'elb' };
const ADDRESS_TYPES: Readonly<Record<string, ResourceType>> = {
  '10.0.0.10': 'ec2',
  '10.0.0.20': 'rds',
  '10.0.1.10': 'elb',
};

function context(inv: Inventory): NaclContext {
  return {
    ruleIndex: RuleIndex.build(inv),
    resourceTypeOfEni: (eniId) => TYPES[eniId],
    resourceTypeOfAddress: (addr) => ADDRESS_TYPES[addr],
  };
}

function connection(
  fields: Partial<MatchedConnection> & Pick<MatchedConnection, 'peerAddr'>,
): MatchedConnection {
  return {
    eniId: 'eni-web',
    direction: 'inbound',
    action: 'ACCEPT',
    protocol: 6,
    port: 443,
    localAddr: '10.0.0.10',
    evidence: 'flags',
    connections: 1,
    records: 2,
    packets: 4,
    bytes: 400,
    firstSeen: 0,
    lastSeen: 60,
    ruleIds: [],
    ...fields,
  };
}

function recommend(
  matched: MatchedConnection[],
  config: AnalysisConfig = DEFAULT_CONFIG,
): NaclRecommendation[] {
  const inv = inventory();
  return recommendNacls(inv, matched, context(inv), config);
}

/** The allow rules of one NACL and direction as compact text: 'number protocol from-to cidr purpose'. */
function allows(
  rules: readonly NaclRecommendation[],
  naclId: string,
  direction: 'inbound' | 'outbound',
): string[] {
  return rules
    .filter((r) => r.naclId === naclId && r.direction === direction && r.action === 'allow')
    .map(
      (r) => `${r.ruleNumber} ${r.protocol} ${r.fromPort ?? '*'}-${r.toPort ?? '*'} ${r.cidr} ${r.purpose}`,
    );
}

// --- tests -----------------------------------------------------------------------------------

describe('recommendNacls', () => {
  it('allows inbound 443 and the ELB client ephemeral range 1024-65535 outbound', () => {
    // Prepare
    const matched = [connection({ peerAddr: '10.0.1.10' })];

    // Act
    const rules = recommend(matched);

    // Assess
    expect(allows(rules, 'acl-web', 'inbound')).toEqual(['100 6 443-443 10.0.1.10/32 service']);
    expect(allows(rules, 'acl-web', 'outbound')).toEqual(['100 6 1024-65535 10.0.1.10/32 return-traffic']);
    const reply = rules.find((r) => r.direction === 'outbound' && r.purpose === 'return-traffic');
    expect(reply?.reason).toContain('(elb clients)');
    expect(reply?.reason).toContain('stateless');
    expect(reply?.subnetIds).toEqual(['subnet-1']);
  });

  it('allows the default client ephemeral range 32768-65535 for an unknown client', () => {
    // Prepare
    const matched = [connection({ peerAddr: '203.0.113.7' })];

    // Act
    const rules = recommend(matched);

    // Assess
    expect(allows(rules, 'acl-web', 'inbound')).toEqual(['100 6 443-443 203.0.113.7/32 service']);
    expect(allows(rules, 'acl-web', 'outbound')).toEqual(['100 6 32768-65535 203.0.113.7/32 return-traffic']);
  });

  it('allows an outbound request on the service port and its reply on the local ENI ephemeral range', () => {
    // Prepare
    const matched = [connection({ direction: 'outbound', port: 443, peerAddr: '198.51.100.7' })];

    // Act
    const rules = recommend(matched);

    // Assess
    expect(allows(rules, 'acl-web', 'outbound')).toEqual(['100 6 443-443 198.51.100.7/32 service']);
    expect(allows(rules, 'acl-web', 'inbound')).toEqual(['100 6 32768-65535 198.51.100.7/32 return-traffic']);
    const reply = rules.find((r) => r.direction === 'inbound' && r.action === 'allow');
    expect(reply?.reason).toContain('(ec2 clients)');
  });

  it('sees both ends of a connection between two NACLs', () => {
    // Prepare: the ELB connects to the web ENI; each ENI's flow logs record it.
    const matched = [
      connection({ eniId: 'eni-web', direction: 'inbound', peerAddr: '10.0.1.10' }),
      connection({ eniId: 'eni-elb', direction: 'outbound', localAddr: '10.0.1.10', peerAddr: '10.0.0.10' }),
    ];

    // Act
    const rules = recommend(matched);

    // Assess
    expect(allows(rules, 'acl-edge', 'outbound')).toEqual(['100 6 443-443 10.0.0.10/32 service']);
    expect(allows(rules, 'acl-edge', 'inbound')).toEqual(['100 6 1024-65535 10.0.0.10/32 return-traffic']);
    expect(allows(rules, 'acl-web', 'inbound')).toEqual(['100 6 443-443 10.0.1.10/32 service']);
  });

  it('skips traffic between ENIs of the same subnet', () => {
    // Prepare
    const matched = [
      connection({ eniId: 'eni-db', port: 5432, localAddr: '10.0.0.20', peerAddr: '10.0.0.10' }),
      connection({ eniId: 'eni-web', direction: 'outbound', port: 5432, peerAddr: '10.0.0.20' }),
    ];

    // Act
    const rules = recommend(matched);

    // Assess
    expect(rules).toEqual([]);
  });

  it('ignores rejected connections', () => {
    // Act
    const rules = recommend([connection({ action: 'REJECT', peerAddr: '203.0.113.7' })]);

    // Assess
    expect(rules).toEqual([]);
  });

  it('numbers rules uniquely per NACL and direction and ends each direction with the default deny', () => {
    // Prepare
    const matched = [
      connection({ port: 443, peerAddr: '203.0.113.7' }),
      connection({ port: 22, peerAddr: '192.0.2.4' }),
      connection({ protocol: 17, port: 53, peerAddr: '192.0.2.53' }),
      connection({ protocol: 1, port: null, peerAddr: '192.0.2.99' }),
    ];

    // Act
    const rules = recommend(matched);

    // Assess
    for (const direction of ['inbound', 'outbound'] as const) {
      const own = rules.filter((r) => r.naclId === 'acl-web' && r.direction === direction);
      const numbers = own.map((r) => r.ruleNumber);
      expect(new Set(numbers).size).toBe(numbers.length);
      expect(numbers).toEqual([100, 110, 120, 130, 32767]);
      expect(own[own.length - 1]).toMatchObject({
        action: 'deny',
        purpose: 'default-deny',
        protocol: '-1',
        cidr: '0.0.0.0/0',
      });
    }
    expect(allows(rules, 'acl-web', 'inbound')).toEqual([
      '100 1 *-* 192.0.2.99/32 service',
      '110 6 22-22 192.0.2.4/32 service',
      '120 6 443-443 203.0.113.7/32 service',
      '130 17 53-53 192.0.2.53/32 service',
    ]);
  });

  it('summarises peers like SG recommendations', () => {
    // Prepare
    const matched = ['203.0.113.7', '203.0.113.80', '203.0.113.200'].map((peerAddr) =>
      connection({ peerAddr }),
    );

    // Act
    const rules = recommend(matched);

    // Assess
    expect(allows(rules, 'acl-web', 'inbound')).toEqual(['100 6 443-443 203.0.113.0/24 service']);
    expect(allows(rules, 'acl-web', 'outbound')).toEqual(['100 6 32768-65535 203.0.113.0/24 return-traffic']);
  });

  it('keeps a public service open to the world, requests and replies, as the SG side does', () => {
    // Prepare: 443 from 12 unrelated public networks (one /16 each), and one IPv6 client
    const clients = Array.from({ length: 12 }, (_, i) => `${20 + i * 10}.${i}.7.9`);
    const matched = [
      ...clients.map((peerAddr) => connection({ peerAddr })),
      connection({ peerAddr: '2001:db8::7' }),
    ];

    // Act
    const rules = recommend(matched);

    // Assess: the world in IPv4 (12 networks), the one IPv6 client as observed
    expect(allows(rules, 'acl-web', 'inbound')).toEqual([
      '100 6 443-443 0.0.0.0/0 service',
      '110 6 443-443 2001:db8::7/128 service',
    ]);
    expect(allows(rules, 'acl-web', 'outbound')).toEqual([
      '100 6 32768-65535 0.0.0.0/0 return-traffic',
      '110 6 32768-65535 2001:db8::7/128 return-traffic',
    ]);
    const service = rules.find((r) => r.cidr === '0.0.0.0/0' && r.purpose === 'service');
    expect(service?.reason).toContain('from 12 peers');
    expect(service?.reason).toContain('a public service');
  });

  it('narrows a sensitive port, or one served to too few networks, to its peers', () => {
    // Prepare: SSH from 12 networks; 443 from 9 (publicServiceMinNetworks is 10)
    const ssh = Array.from({ length: 12 }, (_, i) =>
      connection({ peerAddr: `${20 + i * 10}.${i}.7.9`, port: 22 }),
    );
    const https = Array.from({ length: 9 }, (_, i) => connection({ peerAddr: `${20 + i * 10}.${i}.8.9` }));

    // Act
    const rules = recommend([...ssh, ...https]);

    // Assess
    const inbound = allows(rules, 'acl-web', 'inbound');
    expect(inbound.some((r) => r.includes(' 0.0.0.0/0 '))).toBe(false);
    expect(rules.some((r) => r.reason.includes('a public service'))).toBe(false);
  });

  it('merges peers to stay within the rule quota', () => {
    // Prepare
    const config: AnalysisConfig = { ...DEFAULT_CONFIG, naclRuleQuota: 2 };
    const matched = ['198.51.100.7', '198.51.101.7', '198.51.102.7', '203.0.113.7', '192.0.2.7'].map(
      (peerAddr) => connection({ peerAddr }),
    );

    // Act
    const rules = recommend(matched, config);

    // Assess
    const inbound = rules.filter(
      (r) => r.naclId === 'acl-web' && r.direction === 'inbound' && r.action === 'allow',
    );
    expect(inbound.length).toBeLessThanOrEqual(2);
    expect(inbound.some((r) => r.reason.includes('merged to fit the 2-rule quota'))).toBe(true);
    expect(inbound.every((r) => !r.reason.includes('over the quota'))).toBe(true);
  });

  it('widens ports when entries differ in both port and peer', () => {
    // Prepare
    const config: AnalysisConfig = { ...DEFAULT_CONFIG, naclRuleQuota: 1 };
    const matched = [
      connection({ port: 443, peerAddr: '203.0.113.7' }),
      connection({ port: 22, peerAddr: '192.0.2.4' }),
    ];

    // Act
    const rules = recommend(matched, config);

    // Assess
    const inbound = allows(rules, 'acl-web', 'inbound');
    expect(inbound).toHaveLength(1);
    expect(inbound[0]).toMatch(/^100 6 22-443 /);
  });

  it('merges IPv6 clients of a public port before opening SSH to more addresses', () => {
    // Prepare: SSH from two distant peers (their merge adds 2^31 addresses), 443 from two IPv6
    // clients (their merge adds 2^113): cheaper by address count, the SSH merge opens port 22
    const matched = [
      connection({ port: 22, peerAddr: '198.51.100.7' }),
      connection({ port: 22, peerAddr: '203.0.113.7' }),
      connection({ peerAddr: '2001:db8:1::1' }),
      connection({ peerAddr: '2001:db8:8000::1' }),
    ];

    // Act
    const three = recommend(matched, { ...DEFAULT_CONFIG, naclRuleQuota: 3 });
    const two = recommend(matched, { ...DEFAULT_CONFIG, naclRuleQuota: 2 });

    // Assess: SSH stays with its peers while another merge fits the quota, and only then widens
    expect(allows(three, 'acl-web', 'inbound')).toEqual([
      '100 6 22-22 198.51.100.7/32 service',
      '110 6 22-22 203.0.113.7/32 service',
      '120 6 443-443 2001:db8::/32 service',
    ]);
    expect(allows(two, 'acl-web', 'inbound')).toEqual([
      '100 6 22-22 192.0.0.0/4 service',
      '110 6 443-443 2001:db8::/32 service',
    ]);
  });

  it('says so in the last rule when protocols alone exceed the quota', () => {
    // Prepare
    const config: AnalysisConfig = { ...DEFAULT_CONFIG, naclRuleQuota: 2 };
    const matched = [
      connection({ protocol: 6, port: 443, peerAddr: '203.0.113.7' }),
      connection({ protocol: 17, port: 53, peerAddr: '203.0.113.7' }),
      connection({ protocol: 50, port: null, peerAddr: '203.0.113.7' }),
    ];

    // Act
    const rules = recommend(matched, config);

    // Assess
    const inbound = rules.filter(
      (r) => r.naclId === 'acl-web' && r.direction === 'inbound' && r.action === 'allow',
    );
    expect(inbound).toHaveLength(3);
    expect(inbound[2]?.reason).toContain('still 1 rule over the quota of 2');
    expect(inbound.slice(0, 2).every((r) => !r.reason.includes('over the quota'))).toBe(true);
  });

  it('counts IPv4 and IPv6 rules of a direction against one quota', () => {
    // Prepare
    const config: AnalysisConfig = { ...DEFAULT_CONFIG, naclRuleQuota: 1 };
    const matched = [connection({ peerAddr: '203.0.113.7' }), connection({ peerAddr: '2001:db8::7' })];

    // Act
    const rules = recommend(matched, config);

    // Assess
    const inbound = rules.filter(
      (r) => r.naclId === 'acl-web' && r.direction === 'inbound' && r.action === 'allow',
    );
    expect(inbound.map((r) => r.cidr)).toEqual(['203.0.113.7/32', '2001:db8::7/128']);
    expect(inbound[1]?.reason).toContain('still 1 rule over the quota of 1 per direction');
  });

  it('writes protocols as AWS numbers and keeps IPv6 peers', () => {
    // Prepare
    const matched = [connection({ protocol: 17, port: 123, peerAddr: '2001:db8::7' })];

    // Act
    const rules = recommend(matched);

    // Assess
    expect(allows(rules, 'acl-web', 'inbound')).toEqual(['100 17 123-123 2001:db8::7/128 service']);
    expect(allows(rules, 'acl-web', 'outbound')).toEqual([
      '100 17 32768-65535 2001:db8::7/128 return-traffic',
    ]);
  });
});
