import fc from 'fast-check';
import { foldConnections } from '../../../shared/analysis/fold';
import { DEFAULT_CONFIG, type PortGroup } from '../../../shared/config';
import type { Connection } from '../../../shared/model/analysis';
import type { FlowAggregate, FoldEvidence } from '../../../shared/model/flow';
import type {
  Direction,
  Inventory,
  NetworkInterface,
  ResourceType,
  SecurityGroup,
} from '../../../shared/model/inventory';
import { RuleIndex } from '../../../shared/rules/rule-index';
import {
  inventoryOf,
  networkInterface,
  ruleEntry as rule,
  sgWithRules as sg,
  vpc,
} from '../../../testkit/inventory-builder';
import { flowAggregate } from '../../support/flow-records';

// --- plain-data builders ---------------------------------------------------------------------

function eni(id: string, privateIpv4: string[], sgIds: string[], ipv6: string[] = []): NetworkInterface {
  return networkInterface(id, { privateIpv4, ipv6, sgIds });
}

function inventory(securityGroups: SecurityGroup[], networkInterfaces: NetworkInterface[]): Inventory {
  return inventoryOf({
    vpcs: [vpc('vpc-1', { cidrs: ['10.0.0.0/8'], ipv6Cidrs: ['2600:1f18:abcd::/56'] })],
    securityGroups,
    networkInterfaces,
  });
}

/** A flow aggregate of one SYN-flagged request and its reply: the fold's usual input. */
function aggregate(
  fields: Partial<FlowAggregate> & Pick<FlowAggregate, 'eniId' | 'clientAddr' | 'serverAddr'>,
): FlowAggregate {
  return flowAggregate({
    evidence: 'flags',
    synRecords: 1,
    packets: 10,
    bytes: 1000,
    firstSeen: 1_000,
    lastSeen: 1_060,
    ...fields,
  });
}

// --- a small account ---------------------------------------------------------------------------

const ALLOW_ALL_EGRESS = (sgId: string) => rule(sgId, 'egress', '-1', undefined, '0.0.0.0/0');

const ACCOUNT = inventory(
  [
    sg('sg-web', [
      rule('sg-web', 'ingress', 'tcp', [443, 443], '0.0.0.0/0'),
      rule('sg-web', 'ingress', 'tcp', [443, 443], '::/0'),
      rule('sg-web', 'ingress', 'tcp', [8080, 8080], '10.0.0.0/16'),
      ALLOW_ALL_EGRESS('sg-web'),
      rule('sg-web', 'egress', '-1', undefined, '::/0'),
    ]),
    sg('sg-alb', [rule('sg-alb', 'ingress', 'tcp', [443, 443], '0.0.0.0/0'), ALLOW_ALL_EGRESS('sg-alb')]),
    sg('sg-grpc', [
      rule('sg-grpc', 'ingress', 'tcp', [50051, 50051], '10.0.0.0/16'),
      ALLOW_ALL_EGRESS('sg-grpc'),
    ]),
    sg('sg-open', [
      rule('sg-open', 'ingress', 'tcp', [0, 65535], '10.0.0.0/16'),
      ALLOW_ALL_EGRESS('sg-open'),
    ]),
    sg('sg-vpn', [rule('sg-vpn', 'ingress', '50', undefined, '198.51.100.7/32'), ALLOW_ALL_EGRESS('sg-vpn')]),
    sg('sg-ike', [rule('sg-ike', 'ingress', 'udp', [500, 500], '0.0.0.0/0'), ALLOW_ALL_EGRESS('sg-ike')]),
    sg('sg-tunnel', [
      ALLOW_ALL_EGRESS('sg-tunnel'),
      rule('sg-tunnel', 'ingress', '-1', undefined, '0.0.0.0/0'),
    ]),
  ],
  [
    eni('eni-web', ['10.0.1.10'], ['sg-web'], ['2600:1f18:abcd:1::10']),
    eni('eni-alb', ['10.0.0.5'], ['sg-alb']),
    eni('eni-grpc', ['10.0.2.20'], ['sg-grpc']),
    eni('eni-app', ['10.0.4.40'], ['sg-open']),
    eni('eni-vpn', ['10.0.3.30'], ['sg-vpn']),
    eni('eni-tunnel', ['10.0.3.31'], ['sg-tunnel']),
    eni('eni-ike', ['10.0.3.32'], ['sg-ike']),
    eni('eni-nat', ['10.0.0.100'], []),
  ],
);
const TYPES = new Map<string, ResourceType>([
  ['eni-web', 'ec2'],
  ['eni-alb', 'elb'],
  ['eni-grpc', 'ec2'],
  ['eni-app', 'ec2'],
  ['eni-vpn', 'ec2'],
  ['eni-tunnel', 'ec2'],
  ['eni-ike', 'ec2'],
  ['eni-nat', 'nat-gateway'],
]);
const INDEX = RuleIndex.build(ACCOUNT);
const CONTEXT = { ruleIndex: INDEX, resourceTypeOfEni: (id: string) => TYPES.get(id) };

function fold(aggregates: FlowAggregate[]) {
  return foldConnections(aggregates, CONTEXT, DEFAULT_CONFIG);
}

function summary(connection: Connection) {
  return {
    eniId: connection.eniId,
    direction: connection.direction,
    port: connection.port,
    localAddr: connection.localAddr,
    peerAddr: connection.peerAddr,
    evidence: connection.evidence,
  };
}

/** A fold case: its rows and the connections they must fold into. */
interface FoldCase {
  readonly title: string;
  readonly rows: FlowAggregate[];
  readonly expected: ReturnType<typeof summary>[];
}

/** Rows whose orientation one piece of evidence decides. */
const ORIENTATION_CASES: readonly FoldCase[] = [
  {
    title: 'lets tcp-flags decide over ports when the service port is high',
    // The ENI's SYN went to port 40000 of a peer; ports alone would call 40000 a client port.
    rows: [
      aggregate({ eniId: 'eni-web', clientAddr: '10.0.1.10', serverAddr: '198.51.100.9', serverPort: 40000 }),
    ],
    expected: [
      {
        eniId: 'eni-web',
        direction: 'outbound',
        port: 40000,
        localAddr: '10.0.1.10',
        peerAddr: '198.51.100.9',
        evidence: 'flags',
      },
    ],
  },
  {
    title: 'takes the target port as the service when an ALB connects from port 3000 without flags',
    // The engine tentatively calls the higher port (8080) the client.
    rows: [
      aggregate({
        eniId: 'eni-web',
        evidence: 'undecided',
        clientAddr: '10.0.1.10',
        clientPort: 8080,
        serverAddr: '10.0.0.5',
        serverPort: 3000,
        synRecords: 0,
      }),
    ],
    expected: [
      {
        eniId: 'eni-web',
        direction: 'inbound',
        port: 8080,
        localAddr: '10.0.1.10',
        peerAddr: '10.0.0.5',
        evidence: 'peer-ephemeral',
      },
    ],
  },
  {
    title: 'decides IKE udp 500 <-> 500 as inbound by the narrower ingress rule over an egress allow-all',
    // Both ports are 500, so only the rules' specificity can tell who listens.
    rows: [
      aggregate({
        eniId: 'eni-ike',
        protocol: 17,
        evidence: 'undecided',
        clientAddr: '10.0.3.32',
        clientPort: 500,
        serverAddr: '203.0.113.50',
        serverPort: 500,
        synRecords: 0,
      }),
    ],
    expected: [
      {
        eniId: 'eni-ike',
        direction: 'inbound',
        port: 500,
        localAddr: '10.0.3.32',
        peerAddr: '203.0.113.50',
        evidence: 'listening',
      },
    ],
  },
  {
    title: 'matches IPv6 addresses whatever their text form and reports them canonically',
    rows: [
      aggregate({
        eniId: 'eni-web',
        clientAddr: '2001:DB8:0:0::1',
        serverAddr: '2600:1f18:abcd:0001:0000:0000:0000:0010',
      }),
    ],
    expected: [
      {
        eniId: 'eni-web',
        direction: 'inbound',
        port: 443,
        localAddr: '2600:1f18:abcd:1::10',
        peerAddr: '2001:db8::1',
        evidence: 'flags',
      },
    ],
  },
];

const PORTLESS = { protocol: 47, evidence: 'undecided' as FoldEvidence, serverPort: null, synRecords: 0 };

/** Rows the fold decides, with how many of them it counts as ambiguous. */
const AMBIGUITY_CASES: readonly (FoldCase & { readonly ambiguous: number })[] = [
  {
    title: 'decides gRPC 50051 from a Linux client port 40000 by the listening ingress rule',
    // Both ports lie in the Linux ephemeral range; only an ingress rule names 50051.
    rows: [
      aggregate({
        eniId: 'eni-grpc',
        evidence: 'undecided',
        clientAddr: '10.0.2.20',
        clientPort: 50051,
        serverAddr: '10.0.9.9',
        serverPort: 40000,
        synRecords: 0,
      }),
    ],
    expected: [
      {
        eniId: 'eni-grpc',
        direction: 'inbound',
        port: 50051,
        localAddr: '10.0.2.20',
        peerAddr: '10.0.9.9',
        evidence: 'listening',
      },
    ],
    ambiguous: 0,
  },
  {
    title: 'falls back to the lower port and counts the row as ambiguous when nothing else decides',
    rows: [
      aggregate({
        eniId: 'eni-app',
        evidence: 'undecided',
        clientAddr: '10.0.9.1',
        clientPort: 47000,
        serverAddr: '10.0.4.40',
        serverPort: 46000,
        synRecords: 0,
      }),
    ],
    expected: [
      {
        eniId: 'eni-app',
        direction: 'inbound',
        port: 46000,
        localAddr: '10.0.4.40',
        peerAddr: '10.0.9.1',
        evidence: 'lower-port',
      },
    ],
    ambiguous: 1,
  },
  {
    title: 'takes the side that sent more records as the portless initiator when the rules admit both ways',
    // Allow-all both ways; the ENI sent 5 GRE records, received 2.
    rows: [
      aggregate({
        ...PORTLESS,
        eniId: 'eni-tunnel',
        clientAddr: '10.0.3.31',
        serverAddr: '192.0.2.8',
        records: 5,
        requestRecords: 5,
      }),
      aggregate({
        ...PORTLESS,
        eniId: 'eni-tunnel',
        clientAddr: '192.0.2.8',
        serverAddr: '10.0.3.31',
        records: 2,
        requestRecords: 2,
      }),
    ],
    expected: [
      {
        eniId: 'eni-tunnel',
        direction: 'outbound',
        port: null,
        localAddr: '10.0.3.31',
        peerAddr: '192.0.2.8',
        evidence: 'portless',
      },
    ],
    ambiguous: 1,
  },
];

// --- examples ------------------------------------------------------------------------------------

describe('foldConnections', () => {
  it('folds the request and reply of an inbound connection into ONE inbound connection', () => {
    // Prepare: the engine put the client's SYN and the server's SYN-ACK in one 'flags' row.
    const rows = [
      aggregate({
        eniId: 'eni-web',
        clientAddr: '203.0.113.10',
        serverAddr: '10.0.1.10',
        records: 2,
        synRecords: 1,
      }),
    ];

    // Act
    const { connections, transit } = fold(rows);

    // Assess
    expect(connections.map(summary)).toEqual([
      {
        eniId: 'eni-web',
        direction: 'inbound',
        port: 443,
        localAddr: '10.0.1.10',
        peerAddr: '203.0.113.10',
        evidence: 'flags',
      },
    ]);
    expect(connections[0]?.connections).toBe(1);
    expect(connections[0]?.records).toBe(2);
    expect(transit).toBe(0);
  });

  it('drops the reply of an inbound SYN: no connection on the client port', () => {
    // Prepare: only the reply (server → client port 51000) survived, without tcp-flags.
    const rows = [
      aggregate({
        eniId: 'eni-web',
        evidence: 'undecided',
        clientAddr: '203.0.113.10',
        clientPort: 51000,
        serverAddr: '10.0.1.10',
        serverPort: 8443,
        records: 1,
        requestRecords: 0,
        synRecords: 0,
      }),
    ];

    // Act
    const { connections } = fold(rows);

    // Assess
    expect(connections.map(summary)).toEqual([
      {
        eniId: 'eni-web',
        direction: 'inbound',
        port: 8443,
        localAddr: '10.0.1.10',
        peerAddr: '203.0.113.10',
        evidence: 'peer-ephemeral',
      },
    ]);
    expect(connections.some((c) => c.port === 51000)).toBe(false);
  });

  it.each(ORIENTATION_CASES)('$title', ({ rows, expected }) => {
    // Act
    const { connections } = fold(rows);

    // Assess
    expect(connections.map(summary)).toEqual(expected);
  });

  it.each(AMBIGUITY_CASES)('$title', ({ rows, expected, ambiguous }) => {
    // Act
    const result = fold(rows);

    // Assess
    expect(result.connections.map(summary)).toEqual(expected);
    expect(result.ambiguous).toBe(ambiguous);
  });

  it('takes a port with many distinct counterpart ports as the service when ranges and rules are silent', () => {
    // Prepare: local 45000 meets client ports 33001..33006 (lower!) from three peers; the rules
    // admit every port both ways.
    const rows = [1, 2, 3].flatMap((host) =>
      [0, 1].map((n) =>
        aggregate({
          eniId: 'eni-app',
          evidence: 'undecided',
          clientAddr: '10.0.4.40',
          clientPort: 45000,
          serverAddr: `10.0.9.${host}`,
          serverPort: 33000 + host * 2 - n,
          synRecords: 0,
        }),
      ),
    );

    // Act
    const { connections, ambiguous } = fold(rows);

    // Assess
    expect(connections.map(summary)).toEqual(
      [1, 2, 3].map((host) => ({
        eniId: 'eni-app',
        direction: 'inbound',
        port: 45000,
        localAddr: '10.0.4.40',
        peerAddr: `10.0.9.${host}`,
        evidence: 'counterpart-ports',
      })),
    );
    expect(connections.map((c) => c.connections)).toEqual([2, 2, 2]);
    expect(ambiguous).toBe(0);
  });

  it('reads a REJECT as the orientation the rules refuse', () => {
    // Prepare: a blocked attempt on local 52000 from peer port 41000; egress admits 41000, ingress admits nothing.
    const rows = [
      aggregate({
        eniId: 'eni-web',
        action: 'REJECT',
        evidence: 'undecided',
        clientAddr: '10.0.1.10',
        clientPort: 52000,
        serverAddr: '198.51.100.20',
        serverPort: 41000,
        records: 1,
        requestRecords: 0,
        synRecords: 0,
      }),
    ];

    // Act
    const { connections } = fold(rows);

    // Assess
    expect(connections.map(summary)).toEqual([
      {
        eniId: 'eni-web',
        direction: 'inbound',
        port: 52000,
        localAddr: '10.0.1.10',
        peerAddr: '198.51.100.20',
        evidence: 'listening',
      },
    ]);
    expect(connections[0]?.action).toBe('REJECT');
  });

  it('merges the SYN row and the later flagless row of one long connection, keeping the stronger evidence', () => {
    // Prepare: the first interval carries the SYN; later intervals show flags 0, so the engine
    // kept both ports for them.
    const rows = [
      aggregate({
        eniId: 'eni-web',
        clientAddr: '203.0.113.10',
        serverAddr: '10.0.1.10',
        serverPort: 8443,
        firstSeen: 100,
        lastSeen: 160,
      }),
      aggregate({
        eniId: 'eni-web',
        evidence: 'undecided',
        clientAddr: '203.0.113.10',
        clientPort: 50123,
        serverAddr: '10.0.1.10',
        serverPort: 8443,
        records: 4,
        synRecords: 0,
        firstSeen: 160,
        lastSeen: 400,
      }),
    ];

    // Act
    const { connections } = fold(rows);

    // Assess
    expect(connections).toHaveLength(1);
    expect(connections[0]).toMatchObject({
      direction: 'inbound',
      port: 8443,
      evidence: 'flags',
      connections: 2,
      records: 6,
      firstSeen: 100,
      lastSeen: 400,
    });
  });

  it('merges the two portless ESP rows of a tunnel into one connection decided by the ingress rule', () => {
    // Prepare: A→B and B→A rows, as the engine writes portless records.
    const rows = [
      aggregate({
        eniId: 'eni-vpn',
        protocol: 50,
        evidence: 'undecided',
        clientAddr: '198.51.100.7',
        serverAddr: '10.0.3.30',
        serverPort: null,
        records: 3,
        requestRecords: 3,
        synRecords: 0,
        distinctClientPorts: 0,
      }),
      aggregate({
        eniId: 'eni-vpn',
        protocol: 50,
        evidence: 'undecided',
        clientAddr: '10.0.3.30',
        serverAddr: '198.51.100.7',
        serverPort: null,
        records: 3,
        requestRecords: 3,
        synRecords: 0,
        distinctClientPorts: 0,
      }),
    ];

    // Act
    const { connections } = fold(rows);

    // Assess
    expect(connections.map(summary)).toEqual([
      {
        eniId: 'eni-vpn',
        direction: 'inbound',
        port: null,
        localAddr: '10.0.3.30',
        peerAddr: '198.51.100.7',
        evidence: 'listening',
      },
    ]);
    expect(connections[0]).toMatchObject({ connections: 1, records: 6, protocol: 50 });
  });

  it('counts NAT gateway pass-through as transit and makes no connection of it', () => {
    // Prepare: the NAT ENI forwards 10.0.1.10 → 93.184.216.34; neither address is the NAT's.
    const rows = [aggregate({ eniId: 'eni-nat', clientAddr: '10.0.1.10', serverAddr: '93.184.216.34' })];

    // Act
    const { connections, transit } = fold(rows);

    // Assess
    expect(connections).toEqual([]);
    expect(transit).toBe(1);
  });

  it('counts the accepted pass-through rows per ENI: what its rules may have admitted unseen', () => {
    // Prepare: an appliance ENI (eni-web, 10.0.1.10) forwarding traffic it is neither end of, as
    // its packet-level addresses show; one refused.
    const rows = [
      aggregate({ eniId: 'eni-web', clientAddr: '203.0.113.5', serverAddr: '10.0.2.20', serverPort: 50051 }),
      aggregate({ eniId: 'eni-web', clientAddr: '203.0.113.6', serverAddr: '10.0.2.20', serverPort: 50051 }),
      aggregate({ eniId: 'eni-web', clientAddr: '203.0.113.7', serverAddr: '10.0.2.20', action: 'REJECT' }),
      aggregate({ eniId: 'eni-nat', clientAddr: '10.0.1.10', serverAddr: '93.184.216.34' }),
    ];

    // Act
    const { transit, passThrough } = fold(rows);

    // Assess
    expect(transit).toBe(4);
    expect([...passThrough]).toEqual([
      ['eni-web', 2],
      ['eni-nat', 1],
    ]);
  });

  it('owns a packet-level address that is a secondary private IP of the ENI (an EKS pod) as the local side', () => {
    // Prepare: a node ENI whose pod holds the secondary 10.0.5.57; the engines read pkt-srcaddr.
    const pods = inventory(
      [sg('sg-node', [ALLOW_ALL_EGRESS('sg-node')])],
      [eni('eni-node', ['10.0.5.10', '10.0.5.57'], ['sg-node'])],
    );
    const rows = [
      aggregate({ eniId: 'eni-node', clientAddr: '10.0.5.57', serverAddr: '52.94.12.10', serverPort: 443 }),
    ];

    // Act
    const { connections, transit } = foldConnections(
      rows,
      { ruleIndex: RuleIndex.build(pods), resourceTypeOfEni: () => 'ec2' },
      DEFAULT_CONFIG,
    );

    // Assess
    expect(connections.map(summary)).toEqual([
      {
        eniId: 'eni-node',
        direction: 'outbound',
        port: 443,
        localAddr: '10.0.5.57',
        peerAddr: '52.94.12.10',
        evidence: 'flags',
      },
    ]);
    expect(transit).toBe(0);
  });

  it('keeps the AWS service the rows name for their server addresses, whatever the row becomes', () => {
    // Prepare: the service named twice for one address (the greater kept, as the engines' max),
    // once on a pass-through row, never for a row without one.
    const rows = [
      aggregate({
        eniId: 'eni-web',
        clientAddr: '10.0.1.10',
        serverAddr: '52.219.57.1',
        serverService: 'S3',
      }),
      aggregate({
        eniId: 'eni-web',
        clientAddr: '10.0.1.10',
        serverAddr: '52.219.57.1',
        serverService: 'AMAZON',
      }),
      aggregate({
        eniId: 'eni-nat',
        clientAddr: '10.0.1.10',
        serverAddr: '52.94.12.10',
        serverService: 'DYNAMODB',
      }),
      aggregate({ eniId: 'eni-web', clientAddr: '10.0.1.10', serverAddr: '93.184.216.34' }),
      aggregate({
        eniId: 'eni-web',
        clientAddr: '10.0.1.10',
        serverAddr: '2600:1F18:ABCD:0:0::9',
        serverService: 'EC2',
      }),
    ];

    // Act
    const { awsServices } = fold(rows);

    // Assess
    expect([...awsServices].sort()).toEqual([
      ['2600:1f18:abcd::9', 'EC2'],
      ['52.219.57.1', 'S3'],
      ['52.94.12.10', 'DYNAMODB'],
    ]);
  });

  it('counts SYN records as connections, else distinct client ports', () => {
    // Prepare
    const rows = [
      aggregate({ eniId: 'eni-web', clientAddr: '203.0.113.1', serverAddr: '10.0.1.10', synRecords: 7 }),
      aggregate({
        eniId: 'eni-web',
        evidence: 'well-known',
        clientAddr: '203.0.113.2',
        serverAddr: '10.0.1.10',
        synRecords: 0,
        distinctClientPorts: 4,
      }),
      aggregate({
        eniId: 'eni-web',
        evidence: 'well-known',
        clientAddr: '203.0.113.3',
        serverAddr: '10.0.1.10',
        synRecords: 0,
        distinctClientPorts: 0,
      }),
    ];

    // Act
    const { connections } = fold(rows);

    // Assess
    expect(connections.map((c) => [c.peerAddr, c.connections])).toEqual([
      ['203.0.113.1', 7],
      ['203.0.113.2', 4],
      ['203.0.113.3', 1],
    ]);
  });
});

// --- property: folding recovers the generated connections ------------------------------------

interface GeneratedConnection {
  readonly localType: ResourceType;
  readonly direction: 'inbound' | 'outbound';
  readonly peer: number;
  readonly protocol: 6 | 17;
  readonly servicePort: number;
  readonly clientPortSeeds: readonly number[];
  readonly flags: 'syn' | 'none' | 'mixed';
  readonly withAllowAllEgress: boolean;
}

/** Peers: addresses outside the inventory (default range) and ENIs of types with wide ranges. */
const PEERS: readonly { addr: string; eniId?: string; type?: ResourceType }[] = [
  { addr: '198.51.100.10' },
  { addr: '2001:db8::77' },
  { addr: '10.9.0.1', eniId: 'eni-peer-elb', type: 'elb' },
  { addr: '10.9.0.2', eniId: 'eni-peer-lambda', type: 'lambda' },
  { addr: '10.9.0.3', eniId: 'eni-peer-ec2', type: 'ec2' },
  { addr: '10.9.0.4', eniId: 'eni-peer-nat', type: 'nat-gateway' },
];
const LOCAL_TYPES: readonly ResourceType[] = ['ec2', 'elb', 'lambda', 'rds', 'ecs'];

function ephemeralRanges(type: ResourceType | undefined): readonly PortGroup[] {
  return (
    (type === undefined ? undefined : DEFAULT_CONFIG.ephemeralRanges[type]) ??
    DEFAULT_CONFIG.ephemeralRanges.default ??
    []
  );
}

function portInRanges(ranges: readonly PortGroup[], seed: number): number {
  const sizes = ranges.map((r) => r.to - r.from + 1);
  let offset = seed % sizes.reduce((a, b) => a + b, 0);
  for (const [i, range] of ranges.entries()) {
    const size = sizes[i] ?? 0;
    if (offset < size) return range.from + offset;
    offset -= size;
  }
  throw new Error('unreachable');
}

interface FlowRecord {
  readonly eniId: string;
  readonly srcaddr: string;
  readonly dstaddr: string;
  readonly srcport: number;
  readonly dstport: number;
  readonly protocol: number;
  readonly tcpFlags?: number;
  readonly start: number;
}

/** The engine contract, written plainly: decide per record, then sum per row. */
function referencePreFold(records: readonly FlowRecord[]): FlowAggregate[] {
  const rows = new Map<string, FlowAggregate & { clientPorts: Set<number> }>();
  for (const record of records) {
    let clientIsSrc: boolean | undefined;
    let evidence: FoldEvidence = 'undecided';
    if (record.protocol === 6 && record.tcpFlags !== undefined) {
      if ((record.tcpFlags & 18) === 18) clientIsSrc = false;
      else if ((record.tcpFlags & 2) === 2) clientIsSrc = true;
      if (clientIsSrc !== undefined) evidence = 'flags';
    }
    if (clientIsSrc === undefined && record.srcport < 1024 !== record.dstport < 1024) {
      clientIsSrc = record.dstport < 1024;
      evidence = 'well-known';
    }
    if (clientIsSrc === undefined) clientIsSrc = record.srcport >= record.dstport;
    const clientAddr = clientIsSrc ? record.srcaddr : record.dstaddr;
    const serverAddr = clientIsSrc ? record.dstaddr : record.srcaddr;
    const clientPort = clientIsSrc ? record.srcport : record.dstport;
    const serverPort = clientIsSrc ? record.dstport : record.srcport;
    const keptClientPort = evidence === 'undecided' ? clientPort : null;
    const key = [
      record.eniId,
      record.protocol,
      clientAddr,
      serverAddr,
      serverPort,
      keptClientPort,
      evidence,
    ].join('|');
    const isSyn = record.tcpFlags !== undefined && (record.tcpFlags & 18) === 2 && clientIsSrc;
    let row = rows.get(key);
    if (row === undefined) {
      row = {
        eniId: record.eniId,
        action: 'ACCEPT',
        protocol: record.protocol,
        clientAddr,
        serverAddr,
        serverPort,
        clientPort: keptClientPort,
        evidence,
        records: 0,
        requestRecords: 0,
        synRecords: 0,
        packets: 0,
        bytes: 0,
        firstSeen: record.start,
        lastSeen: record.start + 60,
        distinctClientPorts: 0,
        clientPorts: new Set(),
      };
      rows.set(key, row);
    }
    row.clientPorts.add(clientPort);
    rows.set(key, {
      ...row,
      records: row.records + 1,
      requestRecords: row.requestRecords + (clientIsSrc ? 1 : 0),
      synRecords: row.synRecords + (isSyn ? 1 : 0),
      packets: row.packets + 1,
      bytes: row.bytes + 100,
      firstSeen: Math.min(row.firstSeen, record.start),
      lastSeen: Math.max(row.lastSeen, record.start + 60),
      distinctClientPorts: row.clientPorts.size,
    });
  }
  return [...rows.values()].map(({ clientPorts: _, ...row }) => row);
}

const generatedConnection: fc.Arbitrary<GeneratedConnection> = fc.record({
  localType: fc.constantFrom(...LOCAL_TYPES),
  direction: fc.constantFrom('inbound' as const, 'outbound' as const),
  peer: fc.integer({ min: 0, max: PEERS.length - 1 }),
  protocol: fc.constantFrom(6 as const, 17 as const),
  servicePort: fc.integer({ min: 1, max: 32767 }),
  clientPortSeeds: fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 3 }),
  flags: fc.constantFrom('syn' as const, 'none' as const, 'mixed' as const),
  withAllowAllEgress: fc.boolean(),
});

describe('foldConnections (property)', () => {
  it('recovers exactly the generated connections from their request and reply records', () => {
    fc.assert(
      fc.property(fc.array(generatedConnection, { minLength: 1, maxLength: 12 }), (generated) => {
        // Prepare: one local ENI per connection, with the rule that lets the service listen.
        const groups: SecurityGroup[] = [];
        const interfaces: NetworkInterface[] = PEERS.flatMap((peer) =>
          peer.eniId === undefined ? [] : [eni(peer.eniId, [peer.addr], [])],
        );
        const types = new Map<string, ResourceType>();
        for (const peer of PEERS)
          if (peer.eniId !== undefined && peer.type !== undefined) types.set(peer.eniId, peer.type);
        const records: FlowRecord[] = [];
        const expected = new Map<string, number>();
        const clientPortsByEni = new Map<string, number[]>();

        generated.forEach((connection, i) => {
          const eniId = `eni-local-${i}`;
          const sgId = `sg-local-${i}`;
          const peer = PEERS[connection.peer] ?? { addr: '198.51.100.10' };
          const family = peer.addr.includes(':') ? 'ipv6' : 'ipv4';
          const localAddr = family === 'ipv6' ? `2600:1f18:abcd:2::${(i + 1).toString(16)}` : `10.1.${i}.10`;
          const peerCidr = family === 'ipv6' ? `${peer.addr}/128` : `${peer.addr}/32`;
          const protocolName = connection.protocol === 6 ? 'tcp' : 'udp';
          const direction: Direction = connection.direction === 'inbound' ? 'ingress' : 'egress';
          const rules = [
            rule(sgId, direction, protocolName, [connection.servicePort, connection.servicePort], peerCidr),
          ];
          if (connection.withAllowAllEgress) rules.push(rule(sgId, 'egress', '-1', undefined, '0.0.0.0/0'));
          groups.push(sg(sgId, rules));
          interfaces.push(
            family === 'ipv6'
              ? eni(eniId, [`10.1.${i}.10`], [sgId], [localAddr])
              : eni(eniId, [localAddr], [sgId]),
          );
          types.set(eniId, connection.localType);

          const clientType = connection.direction === 'inbound' ? peer.type : connection.localType;
          const clientPorts = [
            ...new Set(
              connection.clientPortSeeds.map((seed) => portInRanges(ephemeralRanges(clientType), seed)),
            ),
          ].filter((port) => port !== connection.servicePort);
          if (clientPorts.length === 0) return;
          clientPortsByEni.set(eniId, clientPorts);
          const client = connection.direction === 'inbound' ? peer.addr : localAddr;
          const server = connection.direction === 'inbound' ? localAddr : peer.addr;
          const tcp = connection.protocol === 6;
          for (const clientPort of clientPorts) {
            const request = {
              eniId,
              srcaddr: client,
              dstaddr: server,
              srcport: clientPort,
              dstport: connection.servicePort,
            };
            const reply = {
              eniId,
              srcaddr: server,
              dstaddr: client,
              srcport: connection.servicePort,
              dstport: clientPort,
            };
            const protocol = connection.protocol;
            if (connection.flags === 'none' || !tcp) {
              records.push({ ...request, protocol, start: 0 }, { ...reply, protocol, start: 0 });
            } else {
              records.push(
                { ...request, protocol, tcpFlags: 2, start: 0 },
                { ...reply, protocol, tcpFlags: 18, start: 0 },
              );
              if (connection.flags === 'mixed') {
                records.push(
                  { ...request, protocol, tcpFlags: 0, start: 60 },
                  { ...reply, protocol, tcpFlags: 1, start: 60 },
                );
              }
            }
          }
          const key = [
            eniId,
            connection.direction,
            connection.protocol,
            connection.servicePort,
            localAddr,
            peer.addr,
          ].join('|');
          expected.set(key, clientPorts.length);
        });
        const index = RuleIndex.build(inventory(groups, interfaces));

        // Act
        const { connections, transit } = foldConnections(
          referencePreFold(records),
          { ruleIndex: index, resourceTypeOfEni: (id) => types.get(id) },
          DEFAULT_CONFIG,
        );

        // Assess
        const folded = connections.map((c) =>
          [c.eniId, c.direction, c.protocol, c.port, c.localAddr, c.peerAddr].join('|'),
        );
        expect(new Set(folded)).toEqual(new Set(expected.keys()));
        expect(folded).toHaveLength(expected.size);
        expect(transit).toBe(0);
        for (const c of connections) {
          expect(clientPortsByEni.get(c.eniId) ?? []).not.toContain(c.port);
          const key = [c.eniId, c.direction, c.protocol, c.port, c.localAddr, c.peerAddr].join('|');
          expect(c.connections).toBeGreaterThanOrEqual(expected.get(key) ?? 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('foldConnections on refused rows', () => {
  /** An ENI whose SG has no rules (neither orientation of any row is admitted), and a load balancer. */
  const closed = RuleIndex.build(
    inventory(
      [sg('sg-closed', [])],
      [eni('eni-closed', ['10.0.9.9'], ['sg-closed']), eni('eni-lb', ['10.0.9.20'], [])],
    ),
  );
  const closedContext = {
    ruleIndex: closed,
    resourceTypeOfEni: (id: string): ResourceType => (id === 'eni-lb' ? 'elb' : 'ec2'),
  };

  it('counts the attempts of a REJECT row by client port, not by its retried SYN records', () => {
    // Prepare: two attempts whose SYNs were sent five times in all.
    const retried = aggregate({
      eniId: 'eni-web',
      action: 'REJECT',
      clientAddr: '203.0.113.7',
      serverAddr: '10.0.1.10',
      serverPort: 22,
      records: 5,
      requestRecords: 5,
      synRecords: 5,
      distinctClientPorts: 2,
    });
    const accepted = { ...retried, action: 'ACCEPT' as const };

    // Act
    const [rejectedRow] = fold([retried]).connections;
    const [acceptedRow] = fold([accepted]).connections;

    // Assess
    expect(rejectedRow?.connections).toBe(2);
    expect(acceptedRow?.connections).toBe(5);
  });

  it('carries the request records of each connection, turned around with a row the core turns around', () => {
    // Prepare: undecided, the engine's tentative client (the higher port) is the ENI's 8080; the
    // load balancer's 3000 is in its ephemeral range, so the ENI serves 8080 and the load
    // balancer's 3 records were the requests.
    const row = flowAggregate({
      eniId: 'eni-closed',
      evidence: 'undecided',
      clientAddr: '10.0.9.9',
      serverAddr: '10.0.9.20',
      serverPort: 3000,
      clientPort: 8080,
      records: 4,
      requestRecords: 1,
    });

    // Act
    const [connection] = foldConnections([row], closedContext, DEFAULT_CONFIG).connections;

    // Assess
    expect(connection).toMatchObject({
      direction: 'inbound',
      port: 8080,
      evidence: 'peer-ephemeral',
      requestRecords: 3,
    });
  });

  it('lets the sender of refused packets decide a REJECT row that ports and rules leave undecided', () => {
    // Prepare: 198.51.100.7:2000 → 10.0.9.9:8443, refused; neither port is ephemeral, no rule admits either way.
    const row = flowAggregate({
      eniId: 'eni-closed',
      action: 'REJECT',
      evidence: 'undecided',
      clientAddr: '10.0.9.9',
      serverAddr: '198.51.100.7',
      serverPort: 2000,
      clientPort: 8443,
      records: 2,
      requestRecords: 0,
    });

    // Act
    const { connections, ambiguous } = foldConnections([row], closedContext, DEFAULT_CONFIG);

    // Assess
    expect(connections).toEqual([
      expect.objectContaining({
        direction: 'inbound',
        port: 8443,
        peerAddr: '198.51.100.7',
        evidence: 'refused-packets',
        requestRecords: 2,
      }),
    ]);
    expect(ambiguous).toBe(0);
  });
});
