import fc from 'fast-check';
import { InvalidValueError } from '../../../shared/errors';
import type {
  Direction,
  Inventory,
  NetworkInterface,
  RuleEntry,
  RulePeer,
  SecurityGroup,
} from '../../../shared/model/inventory';
import { cidrContainsIp, formatCidr } from '../../../shared/net/ip';
import { protocolHasPorts, protocolNumber } from '../../../shared/net/protocol';
import { peerText } from '../../../shared/rules/peer';
import { RuleIndex } from '../../../shared/rules/rule-index';

function cidrPeer(cidr: string): RulePeer {
  return { kind: 'cidr', cidr, family: cidr.includes(':') ? 'ipv6' : 'ipv4' };
}
const sgPeer = (groupId: string): RulePeer => ({ kind: 'sg', groupId });
const listPeer = (prefixListId: string): RulePeer => ({ kind: 'prefix-list', prefixListId });

function rule(
  sgId: string,
  direction: Direction,
  protocol: string,
  ports: [number, number] | undefined,
  peer: RulePeer,
): RuleEntry {
  const [fromPort, toPort] = ports ?? [];
  return {
    id: `${sgId}/${direction}/${protocol}/${fromPort ?? ''}-${toPort ?? ''}/${peerText(peer)}`,
    sgId,
    direction,
    protocol,
    protocolNumber: protocolNumber(protocol),
    fromPort,
    toPort,
    peer,
  };
}

function sg(id: string, rules: RuleEntry[]): SecurityGroup {
  return { id, name: id, description: id, vpcId: 'vpc-1', tags: {}, rules };
}

function eni(id: string, sgIds: string[], addresses: Partial<NetworkInterface> = {}): NetworkInterface {
  return {
    id,
    vpcId: 'vpc-1',
    subnetId: 'subnet-1',
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    privateIpv4: [],
    ipv6: [],
    publicIpv4: [],
    sgIds,
    tags: {},
    ...addresses,
  };
}

function inventory(groups: SecurityGroup[], interfaces: NetworkInterface[]): Inventory {
  return {
    vpcs: [],
    securityGroups: groups,
    networkInterfaces: interfaces,
    flowLogs: [],
    networkAcls: [],
    prefixLists: [
      {
        id: 'pl-corp',
        name: 'corp',
        addressFamily: 'ipv4',
        maxEntries: 5,
        entries: [{ cidr: '192.0.2.0/24' }, { cidr: '2001:db8:cafe::/48' }],
      },
    ],
  };
}

// The fixture: web servers, an app tier referencing them, an extra SG on the app ENI.
const web443v4 = rule('sg-web', 'ingress', 'tcp', [443, 443], cidrPeer('0.0.0.0/0'));
const web443v6 = rule('sg-web', 'ingress', 'tcp', [443, 443], cidrPeer('::/0'));
const webSsh = rule('sg-web', 'ingress', 'tcp', [22, 22], cidrPeer('10.0.0.0/8'));
const webEgressAll = rule('sg-web', 'egress', '-1', undefined, cidrPeer('0.0.0.0/0'));
const appFromWeb = rule('sg-app', 'ingress', 'tcp', [8080, 8080], sgPeer('sg-web'));
const appPing = rule('sg-app', 'ingress', 'icmp', [8, -1], cidrPeer('10.0.0.0/8'));
const appPingV6 = rule('sg-app', 'ingress', 'icmpv6', [-1, -1], cidrPeer('::/0'));
const appEsp = rule('sg-app', 'ingress', '50', undefined, cidrPeer('10.0.0.0/8'));
const appFromCorp = rule('sg-app', 'ingress', 'tcp', [5432, 5432], listPeer('pl-corp'));
const appFromMissingList = rule('sg-app', 'ingress', 'tcp', [9000, 9000], listPeer('pl-missing'));
const appFromPeerVpc = rule('sg-app', 'ingress', 'tcp', [7000, 7000], sgPeer('sg-peer-vpc'));
const appEgressUdp = rule('sg-app', 'egress', 'udp', [53, 53], cidrPeer('10.0.0.2/32'));
const extraRange = rule('sg-extra', 'ingress', 'tcp', [8000, 8100], cidrPeer('10.0.0.0/8'));
const meshAllFromWeb = rule('sg-extra', 'ingress', '-1', undefined, sgPeer('sg-web'));

const groups = [
  sg('sg-web', [web443v4, web443v6, webSsh, webEgressAll]),
  sg('sg-app', [
    appFromWeb,
    appPing,
    appPingV6,
    appEsp,
    appFromCorp,
    appFromMissingList,
    appFromPeerVpc,
    appEgressUdp,
  ]),
  sg('sg-extra', [extraRange]),
  sg('sg-mesh', [meshAllFromWeb, rule('sg-mesh', 'ingress', 'tcp', [7946, 7946], sgPeer('sg-mesh'))]),
];
const interfaces = [
  eni('eni-web1', ['sg-web'], {
    privateIpv4: ['10.0.1.10', '10.0.1.11'],
    ipv6: ['2001:db8:1::10'],
    ipv4Prefixes: ['10.0.16.0/28'],
  }),
  eni('eni-web2', ['sg-web'], { privateIpv4: ['10.0.1.12'], ipv6Prefixes: ['2001:db8:1:ff::/80'] }),
  eni('eni-app', ['sg-app', 'sg-extra'], { privateIpv4: ['10.0.2.20'], ipv6: ['2001:DB8:2:0:0:0:0:20'] }),
  eni('eni-mesh1', ['sg-mesh'], { privateIpv4: ['10.0.3.1'] }),
  eni('eni-mesh2', ['sg-mesh', 'sg-unknown'], { privateIpv4: ['10.0.3.2'] }),
];
const index = RuleIndex.build(inventory(groups, interfaces));
const ids = (rules: readonly RuleEntry[]): string[] => rules.map((r) => r.id);

describe('RuleIndex.build', () => {
  it('throws InvalidValueError naming the rule of a CIDR that does not parse', () => {
    // Prepare
    const bad = rule('sg-bad', 'ingress', 'tcp', [22, 22], cidrPeer('10.0.0.0/33'));
    // Act / Assess
    expect(() => RuleIndex.build(inventory([sg('sg-bad', [bad])], []))).toThrow(InvalidValueError);
    expect(() => RuleIndex.build(inventory([sg('sg-bad', [bad])], []))).toThrow(`rule ${bad.id}`);
  });

  it('throws InvalidValueError naming the ENI of an address that does not parse', () => {
    const broken = eni('eni-broken', [], { privateIpv4: ['10.0.0.300'] });
    expect(() => RuleIndex.build(inventory([], [broken]))).toThrow(
      /eni-broken\.privateIpv4: invalid CIDR '10\.0\.0\.300'/,
    );
  });

  it('indexes an empty inventory', () => {
    const empty = RuleIndex.build(inventory([], []));
    expect(empty.rulesForEni('eni-1', 'ingress')).toEqual([]);
    expect(empty.matching('eni-1', 'ingress', 6, 22, '10.0.0.1')).toEqual([]);
  });
});

describe('RuleIndex.rulesForEni', () => {
  it('lists the rules of every SG on the ENI, in SG order, per direction', () => {
    expect(ids(index.rulesForEni('eni-app', 'ingress'))).toEqual(
      ids([
        appFromWeb,
        appPing,
        appPingV6,
        appEsp,
        appFromCorp,
        appFromMissingList,
        appFromPeerVpc,
        extraRange,
      ]),
    );
    expect(ids(index.rulesForEni('eni-app', 'egress'))).toEqual([appEgressUdp.id]);
  });

  it('gives ENIs with the same SGs the same rules', () => {
    expect(index.rulesForEni('eni-web2', 'ingress')).toEqual(index.rulesForEni('eni-web1', 'ingress'));
  });

  it('skips SGs missing from the inventory and is empty for unknown ENIs', () => {
    expect(index.rulesForEni('eni-mesh2', 'ingress')).toHaveLength(2);
    expect(index.rulesForEni('eni-nope', 'ingress')).toEqual([]);
  });
});

describe('RuleIndex.matching', () => {
  it('matches an SG reference through any private IPv4 of an ENI carrying the SG', () => {
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '10.0.1.11'))).toContain(appFromWeb.id);
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '10.0.1.12'))).toContain(appFromWeb.id);
  });

  it('matches an SG reference through IPv6 addresses in any text form', () => {
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '2001:DB8:1:0:0:0:0:10'))).toEqual([
      appFromWeb.id,
    ]);
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '2001:db8:1::10'))).toEqual([appFromWeb.id]);
  });

  it('matches an SG reference through the delegated prefixes of its ENIs', () => {
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '10.0.16.15'))).toContain(appFromWeb.id);
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '2001:db8:1:ff::abcd'))).toEqual([
      appFromWeb.id,
    ]);
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '10.0.16.16'))).not.toContain(appFromWeb.id);
  });

  it('does not match an SG reference from an address of an ENI without the SG', () => {
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '2001:db8:2::20'))).toEqual([]);
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '10.0.2.20'))).toEqual([extraRange.id]);
  });

  it('counts a connection on every matching rule of every SG on the ENI', () => {
    expect(ids(index.matching('eni-app', 'ingress', 6, 8080, '10.0.1.10'))).toEqual([
      appFromWeb.id,
      extraRange.id,
    ]);
  });

  it('needs the port inside [fromPort, toPort] for tcp', () => {
    expect(ids(index.matching('eni-app', 'ingress', 6, 8000, '10.9.9.9'))).toEqual([extraRange.id]);
    expect(ids(index.matching('eni-app', 'ingress', 6, 8100, '10.9.9.9'))).toEqual([extraRange.id]);
    expect(ids(index.matching('eni-app', 'ingress', 6, 7999, '10.9.9.9'))).toEqual([]);
    expect(ids(index.matching('eni-app', 'ingress', 6, 8101, '10.9.9.9'))).toEqual([]);
  });

  it('does not match tcp rules for udp on the same port', () => {
    expect(index.matching('eni-web1', 'ingress', 17, 443, '203.0.113.5')).toEqual([]);
  });

  it('matches prefix-list peers by the list entries, both families', () => {
    expect(ids(index.matching('eni-app', 'ingress', 6, 5432, '192.0.2.77'))).toEqual([appFromCorp.id]);
    expect(ids(index.matching('eni-app', 'ingress', 6, 5432, '2001:db8:cafe:1::1'))).toEqual([
      appFromCorp.id,
    ]);
    expect(index.matching('eni-app', 'ingress', 6, 5432, '198.51.100.1')).toEqual([]);
  });

  it('matches nothing through an unknown prefix list or an SG outside the inventory', () => {
    expect(index.matching('eni-app', 'ingress', 6, 9000, '192.0.2.77')).toEqual([]);
    expect(index.matching('eni-app', 'ingress', 6, 7000, '10.0.1.10')).toEqual([]);
  });

  it("matches any protocol and port with a '-1' rule, including portless connections", () => {
    expect(ids(index.matching('eni-web1', 'egress', 6, 443, '8.8.8.8'))).toEqual([webEgressAll.id]);
    expect(ids(index.matching('eni-web1', 'egress', 17, 0, '8.8.8.8'))).toEqual([webEgressAll.id]);
    expect(ids(index.matching('eni-web1', 'egress', 47, null, '8.8.8.8'))).toEqual([webEgressAll.id]);
    expect(ids(index.matching('eni-mesh1', 'ingress', 1, null, '10.0.1.10'))).toEqual([meshAllFromWeb.id]);
  });

  it('matches icmp rules for any icmp connection whatever type the rule names', () => {
    expect(ids(index.matching('eni-app', 'ingress', 1, null, '10.1.1.1'))).toEqual([appPing.id]);
    expect(ids(index.matching('eni-app', 'ingress', 1, 0, '10.1.1.1'))).toEqual([appPing.id]);
    expect(index.matching('eni-app', 'ingress', 1, null, '8.8.8.8')).toEqual([]);
  });

  it('keeps icmp and icmpv6 apart', () => {
    expect(ids(index.matching('eni-app', 'ingress', 58, null, '2001:db8::1'))).toEqual([appPingV6.id]);
    expect(index.matching('eni-app', 'ingress', 58, null, '10.1.1.1')).toEqual([]);
    expect(index.matching('eni-app', 'ingress', 1, null, '2001:db8::1')).toEqual([]);
  });

  it('matches a portless protocol (50) by number only', () => {
    expect(ids(index.matching('eni-app', 'ingress', 50, null, '10.9.9.9'))).toEqual([appEsp.id]);
    expect(index.matching('eni-app', 'ingress', 51, null, '10.9.9.9')).toEqual([]);
  });

  it('never matches a peer of the other family', () => {
    expect(ids(index.matching('eni-web1', 'ingress', 6, 443, '203.0.113.5'))).toEqual([web443v4.id]);
    expect(ids(index.matching('eni-web1', 'ingress', 6, 443, '2001:db8::99'))).toEqual([web443v6.id]);
    expect(index.matching('eni-web1', 'ingress', 6, 22, '::ffff:10.0.0.1')).toEqual([]);
    expect(index.matching('eni-web1', 'egress', 6, 443, '2001:db8::99')).toEqual([]);
  });

  it('keeps directions apart', () => {
    expect(index.matching('eni-web1', 'egress', 6, 22, '10.0.0.1')).toEqual([webEgressAll]);
    expect(index.matching('eni-app', 'egress', 6, 8080, '10.0.1.10')).toEqual([]);
  });

  it('matches ENIs of a self-referencing SG to each other', () => {
    expect(ids(index.matching('eni-mesh1', 'ingress', 6, 7946, '10.0.3.2'))).toEqual([
      'sg-mesh/ingress/tcp/7946-7946/sg-mesh',
    ]);
    expect(index.matching('eni-mesh1', 'ingress', 6, 7946, '10.0.2.20')).toEqual([]);
  });

  it('returns nothing for an unknown ENI', () => {
    expect(index.matching('eni-nope', 'ingress', 6, 443, '203.0.113.5')).toEqual([]);
  });

  it('throws InvalidValueError for a peer that is not an address', () => {
    expect(() => index.matching('eni-web1', 'ingress', 6, 443, 'not-an-ip')).toThrow(InvalidValueError);
    expect(() => index.matching('eni-web1', 'ingress', 6, 443, '-')).toThrow("'-'");
  });

  it('accepts a parsed peer address', () => {
    expect(ids(index.matching('eni-web1', 'ingress', 6, 22, { family: 'ipv4', value: 0x0a000001n }))).toEqual(
      [webSsh.id],
    );
  });

  it('matches tcp rules over 0-65535 and 1-65535 at the port edges', () => {
    const wide = RuleIndex.build(
      inventory(
        [
          sg('sg-all-ports', [rule('sg-all-ports', 'ingress', 'tcp', [0, 65535], cidrPeer('0.0.0.0/0'))]),
          sg('sg-one-up', [rule('sg-one-up', 'ingress', 'tcp', [1, 65535], cidrPeer('0.0.0.0/0'))]),
        ],
        [eni('eni-w', ['sg-all-ports', 'sg-one-up'], { privateIpv4: ['10.0.0.9'] })],
      ),
    );
    expect(wide.matching('eni-w', 'ingress', 6, 0, '1.1.1.1')).toHaveLength(1);
    expect(wide.matching('eni-w', 'ingress', 6, 65535, '1.1.1.1')).toHaveLength(2);
  });

  it('agrees with a naive scan over rulesForEni and peerCidrs', () => {
    const peers = [
      '10.0.1.10',
      '10.0.1.12',
      '10.0.16.3',
      '10.0.2.20',
      '10.0.3.2',
      '192.0.2.1',
      '203.0.113.9',
      '2001:db8:1::10',
      '2001:db8:1:ff::1',
      '2001:db8:cafe::9',
      '2001:db8::99',
    ];
    const connection = fc.record({
      eniId: fc.constantFrom(...interfaces.map((e) => e.id)),
      direction: fc.constantFrom<Direction>('ingress', 'egress'),
      protocol: fc.constantFrom(1, 6, 17, 50, 58),
      port: fc.oneof(
        fc.constant(null),
        fc.constantFrom(0, 22, 53, 443, 5432, 7946, 8000, 8080, 8100, 9000, 65535),
      ),
      peer: fc.constantFrom(...peers),
    });
    fc.assert(
      fc.property(connection, ({ eniId, direction, protocol, port, peer }) => {
        const expected = index.rulesForEni(eniId, direction).filter((r) => {
          const protocolOk = r.protocolNumber === 'all' || r.protocolNumber === protocol;
          const portOk =
            port === null ||
            !protocolHasPorts(r.protocolNumber) ||
            ((r.fromPort ?? 0) <= port && port <= (r.toPort ?? 65535));
          return protocolOk && portOk && index.peerCidrs(r).some((c) => cidrContainsIp(c, peer));
        });
        expect(ids(index.matching(eniId, direction, protocol, port, peer))).toEqual(ids(expected));
      }),
    );
  });
});

describe('RuleIndex.admits', () => {
  it('admits from anyone when some rule opens the protocol and port', () => {
    expect(index.admits('eni-web1', 'ingress', 6, 443)).toBe(true);
    expect(index.admits('eni-web1', 'ingress', 6, 80)).toBe(false);
  });

  it('counts rules whose peer resolves to nothing when no peer is given', () => {
    expect(index.admits('eni-app', 'ingress', 6, 9000)).toBe(true);
    expect(index.admits('eni-app', 'ingress', 6, 7000)).toBe(true);
  });

  it('checks the peer when one is given', () => {
    expect(index.admits('eni-web1', 'ingress', 6, 22, '10.1.2.3')).toBe(true);
    expect(index.admits('eni-web1', 'ingress', 6, 22, '203.0.113.5')).toBe(false);
    expect(index.admits('eni-app', 'ingress', 6, 7000, '10.0.1.10')).toBe(false);
  });

  it('is false for an unknown ENI', () => {
    expect(index.admits('eni-nope', 'ingress', 6, 443)).toBe(false);
  });
});

describe('RuleIndex.peerCidrs', () => {
  it('gives a CIDR peer as itself', () => {
    expect(index.peerCidrs(web443v6).map(formatCidr)).toEqual(['::/0']);
  });

  it('resolves an SG reference to the hosts and delegated prefixes of its ENIs, sorted', () => {
    expect(index.peerCidrs(appFromWeb).map(formatCidr)).toEqual([
      '10.0.1.10/32',
      '10.0.1.11/32',
      '10.0.1.12/32',
      '10.0.16.0/28',
      '2001:db8:1::10/128',
      '2001:db8:1:ff::/80',
    ]);
  });

  it('resolves a prefix list to its entries and an unknown one to nothing', () => {
    expect(index.peerCidrs(appFromCorp).map(formatCidr)).toEqual(['192.0.2.0/24', '2001:db8:cafe::/48']);
    expect(index.peerCidrs(appFromMissingList)).toEqual([]);
    expect(index.peerCidrs(appFromPeerVpc)).toEqual([]);
  });
});

describe('RuleIndex.unresolvedPrefixLists', () => {
  it('lists prefix lists referenced but not in the inventory', () => {
    expect(index.unresolvedPrefixLists()).toEqual(['pl-missing']);
  });
});

describe('RuleIndex.unresolvedSgReferences', () => {
  it('lists referenced SGs not in the inventory', () => {
    expect(index.unresolvedSgReferences()).toEqual(['sg-peer-vpc']);
  });
});

describe('RuleIndex.enisOfSg', () => {
  it('lists the ENIs carrying the SG', () => {
    expect(index.enisOfSg('sg-web').map((e) => e.id)).toEqual(['eni-web1', 'eni-web2']);
    expect(index.enisOfSg('sg-extra').map((e) => e.id)).toEqual(['eni-app']);
    expect(index.enisOfSg('sg-none')).toEqual([]);
  });
});

describe('RuleIndex.referencingSgs', () => {
  it('lists the SGs whose rules reference the SG, itself included', () => {
    expect(index.referencingSgs('sg-web')).toEqual(['sg-app', 'sg-mesh']);
    expect(index.referencingSgs('sg-mesh')).toEqual(['sg-mesh']);
    expect(index.referencingSgs('sg-app')).toEqual([]);
  });
});

describe('RuleIndex.eniByAddress', () => {
  it('finds the ENI of a primary or secondary IPv4', () => {
    expect(index.eniByAddress('10.0.1.10')?.id).toBe('eni-web1');
    expect(index.eniByAddress('10.0.1.11')?.id).toBe('eni-web1');
  });

  it('finds the ENI of an IPv6 address written in any form', () => {
    expect(index.eniByAddress('2001:db8:2::20')?.id).toBe('eni-app');
    expect(index.eniByAddress('2001:0DB8:0001:0000:0000:0000:0000:0010')?.id).toBe('eni-web1');
  });

  it('finds the ENI of an address inside a delegated prefix', () => {
    expect(index.eniByAddress('10.0.16.7')?.id).toBe('eni-web1');
    expect(index.eniByAddress('2001:db8:1:ff::1:2')?.id).toBe('eni-web2');
  });

  it('finds the owner among many delegated prefixes of both families', () => {
    // Prepare: 200 ENIs, each with one IPv4 /28 and one IPv6 /80, in shuffled order.
    const pods = Array.from({ length: 200 }, (_, i) => (i * 73) % 200).map((i) =>
      eni(`eni-pod${i}`, [], {
        ipv4Prefixes: [`10.1.${i}.16/28`],
        ipv6Prefixes: [`2001:db8:5:${i.toString(16)}::/80`],
      }),
    );
    const podIndex = RuleIndex.build(inventory([], pods));
    // Act / Assess
    for (const i of [0, 1, 99, 199]) {
      expect(podIndex.eniByAddress(`10.1.${i}.16`)?.id).toBe(`eni-pod${i}`);
      expect(podIndex.eniByAddress(`10.1.${i}.31`)?.id).toBe(`eni-pod${i}`);
      expect(podIndex.eniByAddress(`10.1.${i}.32`)).toBeUndefined();
      expect(podIndex.eniByAddress(`10.1.${i}.15`)).toBeUndefined();
      expect(podIndex.eniByAddress(`2001:db8:5:${i.toString(16)}::ffff`)?.id).toBe(`eni-pod${i}`);
      expect(podIndex.eniByAddress(`2001:db8:5:${i.toString(16)}:1::`)).toBeUndefined();
    }
    expect(podIndex.eniByAddress('0.0.0.0')).toBeUndefined();
    expect(podIndex.eniByAddress('::')).toBeUndefined();
  });

  it('returns undefined for unknown addresses and text that is not an address', () => {
    expect(index.eniByAddress('10.0.16.16')).toBeUndefined();
    expect(index.eniByAddress('garbage')).toBeUndefined();
  });
});

describe('RuleIndex.eniAddresses', () => {
  it('gives the private addresses as canonical text', () => {
    expect([...index.eniAddresses('eni-app')]).toEqual(['10.0.2.20', '2001:db8:2::20']);
    expect(index.eniAddresses('eni-nope').size).toBe(0);
  });
});

describe('RuleIndex.ruleById / sgById / eniById', () => {
  it('looks up rules, SGs and ENIs by id', () => {
    expect(index.ruleById(appFromWeb.id)).toBe(appFromWeb);
    expect(index.sgById('sg-extra')?.rules).toEqual([extraRange]);
    expect(index.eniById('eni-app')?.sgIds).toEqual(['sg-app', 'sg-extra']);
    expect(index.ruleById('nope')).toBeUndefined();
    expect(index.sgById('nope')).toBeUndefined();
  });
});
