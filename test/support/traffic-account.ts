/**
 * A small account for the traffic views' tests (rejected connections, egress destinations): app
 * servers, a database behind a strict subnet NACL, a web server, two sibling workers (one carries
 * an extra SG), an AWS-managed S3 prefix list, and connection builders with defaults.
 *
 * | ENI       | address    | SGs                    | subnet      |
 * |-----------|------------|------------------------|-------------|
 * | eni-app1  | 10.0.1.10  | sg-app                 | subnet-app  |
 * | eni-app2  | 10.0.1.11  | sg-app                 | subnet-app  |
 * | eni-web   | 10.0.1.20  | sg-web                 | subnet-app  |
 * | eni-w1    | 10.0.1.30  | sg-worker, sg-metrics  | subnet-app  |
 * | eni-w2    | 10.0.1.31  | sg-worker              | subnet-app  |
 * | eni-db    | 10.0.2.10  | sg-db                  | subnet-data |
 */
import { DEFAULT_CONFIG } from '../../shared/config';
import type { Connection, EniCoverage } from '../../shared/model/analysis';
import type { EgressDestination } from '../../shared/model/egress';
import type { Inventory, NaclEntry, NetworkAcl, ResourceRef } from '../../shared/model/inventory';
import type { RejectedConnection } from '../../shared/model/rejected';
import { RuleIndex } from '../../shared/rules/rule-index';
import {
  flowLog,
  inventoryOf,
  networkInterface,
  prefixList,
  ruleEntry as rule,
  sgWithRules as sg,
  vpc,
} from '../../testkit/inventory-builder';

const allow = (
  ruleNumber: number,
  egress: boolean,
  cidr: string,
  ports?: [number, number],
  protocol = ports ? '6' : '-1',
): NaclEntry => ({
  ruleNumber,
  egress,
  protocol,
  action: 'allow',
  cidr,
  ...(ports ? { portRange: { from: ports[0], to: ports[1] } } : {}),
});
const deny = (ruleNumber: number, egress: boolean, cidr: string): NaclEntry => ({
  ruleNumber,
  egress,
  protocol: '-1',
  action: 'deny',
  cidr,
});

/** The data subnet's NACL: 5432 from the app subnet in, replies to it out; nothing else. */
export const DATA_NACL: NetworkAcl = {
  id: 'acl-data',
  vpcId: 'vpc-1',
  isDefault: false,
  subnetIds: ['subnet-data'],
  entries: [
    allow(100, false, '10.0.1.0/24', [5432, 5432]),
    deny(32767, false, '0.0.0.0/0'),
    allow(100, true, '10.0.1.0/24', [1024, 65535]),
    deny(32767, true, '0.0.0.0/0'),
  ],
};

export const DEFAULT_NACL: NetworkAcl = {
  id: 'acl-default',
  vpcId: 'vpc-1',
  isDefault: true,
  subnetIds: ['subnet-app'],
  entries: [
    allow(100, false, '0.0.0.0/0'),
    deny(32767, false, '0.0.0.0/0'),
    allow(100, true, '0.0.0.0/0'),
    deny(32767, true, '0.0.0.0/0'),
  ],
};

export const S3_LIST = 'pl-s3';

export const TRAFFIC_ACCOUNT: Inventory = inventoryOf({
  vpcs: [vpc('vpc-1', { cidrs: ['10.0.0.0/16'] })],
  securityGroups: [
    sg('sg-app', [
      rule('sg-app', 'ingress', 'tcp', [8080, 8080], '10.0.0.0/16'),
      rule('sg-app', 'egress', '-1', undefined, '0.0.0.0/0'),
    ]),
    sg('sg-web', [
      rule('sg-web', 'ingress', 'tcp', [443, 443], '0.0.0.0/0'),
      rule('sg-web', 'egress', 'tcp', [8080, 8080], 'sg-app'),
    ]),
    sg('sg-db', [
      rule('sg-db', 'ingress', 'tcp', [5432, 5432], 'sg-app'),
      rule('sg-db', 'ingress', 'tcp', [5432, 5432], '10.9.0.0/16'),
      rule('sg-db', 'egress', '-1', undefined, '0.0.0.0/0'),
    ]),
    sg('sg-worker', [rule('sg-worker', 'egress', '-1', undefined, '0.0.0.0/0')]),
    sg('sg-metrics', [rule('sg-metrics', 'ingress', 'tcp', [9100, 9100], '10.0.0.0/16')]),
  ],
  networkInterfaces: [
    ['eni-app1', '10.0.1.10', ['sg-app'], 'subnet-app'],
    ['eni-app2', '10.0.1.11', ['sg-app'], 'subnet-app'],
    ['eni-web', '10.0.1.20', ['sg-web'], 'subnet-app'],
    ['eni-w1', '10.0.1.30', ['sg-worker', 'sg-metrics'], 'subnet-app'],
    ['eni-w2', '10.0.1.31', ['sg-worker'], 'subnet-app'],
    ['eni-db', '10.0.2.10', ['sg-db'], 'subnet-data'],
  ].map(([id, ip, sgIds, subnetId]) =>
    networkInterface(id as string, {
      privateIpv4: [ip as string],
      sgIds: sgIds as string[],
      subnetId: subnetId as string,
    }),
  ),
  flowLogs: [flowLog('fl-1', { resourceId: 'vpc-1' })],
  networkAcls: [DATA_NACL, DEFAULT_NACL],
  prefixLists: [
    prefixList(S3_LIST, ['52.219.56.0/22'], { name: 'com.amazonaws.ap-northeast-2.s3', ownerId: 'AWS' }),
  ],
});

export const TRAFFIC_INDEX = RuleIndex.build(TRAFFIC_ACCOUNT);

const TYPES: Readonly<Record<string, ResourceRef>> = {
  'eni-app1': { type: 'ec2', id: 'i-app1', name: 'app-1', basis: 'test' },
  'eni-app2': { type: 'ec2', id: 'i-app2', name: 'app-2', basis: 'test' },
  'eni-web': { type: 'ec2', id: 'i-web', name: 'web', basis: 'test' },
  'eni-w1': { type: 'ec2', id: 'i-w1', name: 'worker-1', basis: 'test' },
  'eni-w2': { type: 'ec2', id: 'i-w2', name: 'worker-2', basis: 'test' },
  'eni-db': { type: 'rds', id: 'orders', name: 'orders', basis: 'test' },
};
export const TRAFFIC_RESOURCES: ReadonlyMap<string, ResourceRef> = new Map(Object.entries(TYPES));

/** Full coverage by fl-1 (ALL) for every ENI, except what `changes` says per ENI. */
export function trafficCoverage(
  changes: Readonly<Record<string, Partial<EniCoverage>>> = {},
): Map<string, EniCoverage> {
  return new Map(
    TRAFFIC_ACCOUNT.networkInterfaces.map((eni): [string, EniCoverage] => [
      eni.id,
      {
        eniId: eni.id,
        status: 'full',
        flowLogIds: ['fl-1'],
        reasons: [],
        hasTcpFlags: true,
        hasPacketAddresses: false,
        ...changes[eni.id],
      },
    ]),
  );
}

/** The rejected analysis' context over the account. */
export function rejectedContext(overrides: Partial<{ coverage: Map<string, EniCoverage> }> = {}) {
  return {
    inventory: TRAFFIC_ACCOUNT,
    ruleIndex: TRAFFIC_INDEX,
    resources: TRAFFIC_RESOURCES,
    coverage: overrides.coverage ?? trafficCoverage(),
    eniIds: new Set(TRAFFIC_ACCOUNT.networkInterfaces.map((eni) => eni.id)),
    config: DEFAULT_CONFIG,
  };
}

/** A connection seen from one ENI: by default one accepted HTTPS attempt, request records only. */
export function trafficConnection(
  fields: Partial<Connection> & Pick<Connection, 'eniId' | 'peerAddr'>,
): Connection {
  const local = TRAFFIC_ACCOUNT.networkInterfaces.find((eni) => eni.id === fields.eniId)?.privateIpv4[0];
  return {
    direction: 'inbound',
    action: 'ACCEPT',
    protocol: 6,
    port: 443,
    localAddr: local ?? '10.0.0.1',
    evidence: 'flags',
    connections: 1,
    records: 1,
    packets: 3,
    bytes: 180,
    firstSeen: 1_000,
    lastSeen: 1_060,
    requestRecords: 1,
    ...fields,
  };
}

/** A rejected group: by default 4 attempts from 10.0.1.20 on the database's 5432. */
export function rejectedRow(
  fields: Partial<RejectedConnection> & Pick<RejectedConnection, 'class'>,
): RejectedConnection {
  return {
    eniId: 'eni-db',
    sgIds: ['sg-db'],
    vpcId: 'vpc-1',
    direction: 'ingress',
    protocol: 'tcp',
    port: 5432,
    peer: '10.0.1.20',
    origin: 'vpc',
    connections: 4,
    records: 4,
    packets: 8,
    firstSeen: 1_700_000_000,
    lastSeen: 1_700_003_600,
    reason: 'test',
    ...fields,
  };
}

/** An external destination of sg-app: by default 12 unexpected connections to 45.139.122.0/24 on 443. */
export function egressDestination(fields: Partial<EgressDestination>): EgressDestination {
  return {
    sgId: 'sg-app',
    destination: '45.139.122.0/24',
    kind: 'network',
    peer: '45.139.122.0/24',
    public: true,
    protocol: 'tcp',
    port: 443,
    connections: 12,
    bytes: 90_000,
    addresses: 1,
    topAddresses: ['45.139.122.9'],
    firstSeen: 1_700_000_000,
    lastSeen: 1_700_003_600,
    expected: 'no',
    adminPort: false,
    ...fields,
  };
}

/** The rule that would admit the web server's refused attempts on the database (without its why). */
export const DB_SUGGESTION = {
  sgId: 'sg-db',
  direction: 'ingress',
  protocol: 'tcp',
  fromPort: 5432,
  toPort: 5432,
  peer: '10.0.1.20/32',
  peerSgIds: ['sg-web'],
  basis: 'served-to-others',
  text: '- allow tcp port 5432 from 10.0.1.20',
} as const;
