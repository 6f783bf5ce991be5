import { isAwsManaged, reviewEgress } from '../../../shared/analysis/egress';
import { matchConnections } from '../../../shared/analysis/usage';
import { DEFAULT_CONFIG } from '../../../shared/config';
import type { Connection } from '../../../shared/model/analysis';
import { EgressAllowMatcher, parseEgressAllowList } from '../../../shared/suppressions/egress-allowlist';
import {
  S3_LIST,
  TRAFFIC_ACCOUNT,
  TRAFFIC_INDEX,
  trafficConnection,
  trafficCoverage,
} from '../../support/traffic-account';

const NOW = new Date('2026-11-20T00:00:00Z');

/** An accepted outbound connection from an ENI. */
function out(fields: Partial<Connection> & Pick<Connection, 'eniId' | 'peerAddr'>): Connection {
  return trafficConnection({ direction: 'outbound', bytes: 1000, ...fields });
}

function review(
  connections: readonly Connection[],
  allowList?: string,
  config = DEFAULT_CONFIG,
  awsServices?: ReadonlyMap<string, string>,
) {
  const list = allowList === undefined ? undefined : parseEgressAllowList(allowList, 'allow.yaml');
  return reviewEgress(matchConnections(connections, TRAFFIC_INDEX), {
    inventory: TRAFFIC_ACCOUNT,
    ruleIndex: TRAFFIC_INDEX,
    coverage: trafficCoverage(),
    sgIds: new Set(TRAFFIC_ACCOUNT.securityGroups.map((sg) => sg.id)),
    config,
    ...(awsServices ? { awsServices } : {}),
    ...(list ? { allowList: new EgressAllowMatcher(list, NOW) } : {}),
  });
}

const ALLOW_PARTNER = `version: 1
destinations:
  - id: partner
    owner: integrations
    reason: partner API
    expires: 2027-01-31
    match: { cidr: 211.115.106.0/24, protocol: tcp, ports: '443' }
  - id: s3
    owner: platform
    reason: S3
    expires: 2027-01-31
    match: { awsService: S3 }
`;

describe('reviewEgress', () => {
  it('lists external destinations per SG, by AWS service where a managed prefix list holds them, else by /24', () => {
    // Prepare
    const connections = [
      out({ eniId: 'eni-app1', peerAddr: '211.115.106.10', connections: 3, bytes: 300 }),
      out({ eniId: 'eni-app2', peerAddr: '211.115.106.11', connections: 2, bytes: 200 }),
      out({ eniId: 'eni-app1', peerAddr: '52.219.57.1', connections: 1 }),
    ];

    // Act
    const { report } = review(connections);

    // Assess
    expect(
      report.destinations.map((d) => [d.sgId, d.destination, d.kind, d.peer, d.connections, d.addresses]),
    ).toEqual([
      ['sg-app', '211.115.106.0/24', 'network', '211.115.106.0/24', 5, 2],
      ['sg-app', 'com.amazonaws.ap-northeast-2.s3', 'aws-service', S3_LIST, 1, 1],
    ]);
    expect(report.destinations.every((d) => d.expected === 'unreviewed')).toBe(true);
    expect(report.unexpected).toBe(0);
    expect(report.connections).toBe(6);
  });

  it('groups by the AWS service the flow log named (pkt-dst-aws-service) before prefix lists and networks', () => {
    // Prepare: two DynamoDB addresses in two /24s, an S3 address a managed prefix list also holds,
    // and an address the flow log named no service for.
    const connections = [
      out({ eniId: 'eni-app1', peerAddr: '52.94.12.10', connections: 2 }),
      out({ eniId: 'eni-app1', peerAddr: '52.94.12.11', connections: 1 }),
      out({ eniId: 'eni-app1', peerAddr: '52.94.13.7', connections: 1 }),
      out({ eniId: 'eni-app1', peerAddr: '52.219.57.1', connections: 4 }),
      out({ eniId: 'eni-app1', peerAddr: '211.115.106.10', connections: 1 }),
    ];
    const services = new Map([
      ['52.94.12.10', 'DYNAMODB'],
      ['52.94.12.11', 'DYNAMODB'],
      ['52.94.13.7', 'DYNAMODB'],
      ['52.219.57.1', 'S3'],
    ]);

    // Act
    const { report } = review(connections, ALLOW_PARTNER, DEFAULT_CONFIG, services);

    // Assess: the service names the group; what a rule would name (prefix list, else network) keeps
    // groups apart; the allow-list's awsService matches the flow log's name, case-insensitively.
    expect(
      report.destinations.map((d) => [d.destination, d.kind, d.service, d.peer, d.connections, d.expected]),
    ).toEqual([
      ['AWS DYNAMODB', 'aws-service', 'DYNAMODB', '52.94.12.0/24', 3, 'no'],
      ['AWS DYNAMODB', 'aws-service', 'DYNAMODB', '52.94.13.0/24', 1, 'no'],
      ['AWS S3', 'aws-service', 'S3', S3_LIST, 4, 'yes'],
      ['211.115.106.0/24', 'network', undefined, '211.115.106.0/24', 1, 'yes'],
    ]);
  });

  it('leaves out destinations inside the account: its VPCs and its ENIs, and inbound or refused traffic', () => {
    // Prepare
    const connections = [
      out({ eniId: 'eni-app1', peerAddr: '10.0.2.10', port: 5432 }),
      out({ eniId: 'eni-app1', peerAddr: '10.0.99.9' }),
      trafficConnection({ eniId: 'eni-app1', peerAddr: '203.0.113.9' }),
      out({ eniId: 'eni-app1', peerAddr: '203.0.113.9', action: 'REJECT' }),
    ];

    // Act / Assess
    expect(review(connections).report.destinations).toEqual([]);
  });

  it('holds each destination against the allow-list: expected (naming the entry) or unexpected', () => {
    // Prepare
    const connections = [
      out({ eniId: 'eni-app1', peerAddr: '211.115.106.10' }),
      out({ eniId: 'eni-app1', peerAddr: '211.115.106.10', port: 8443 }),
      out({ eniId: 'eni-app1', peerAddr: '52.219.57.1' }),
      out({ eniId: 'eni-app1', peerAddr: '45.139.122.9' }),
    ];

    // Act
    const { report } = review(connections, ALLOW_PARTNER);

    // Assess
    expect(report.destinations.map((d) => [d.destination, d.port, d.expected, d.allowListId])).toEqual([
      ['211.115.106.0/24', 8443, 'no', undefined],
      ['45.139.122.0/24', 443, 'no', undefined],
      ['211.115.106.0/24', 443, 'yes', 'partner'],
      ['com.amazonaws.ap-northeast-2.s3', 443, 'yes', 's3'],
    ]);
    expect(report.unexpected).toBe(2);
    expect(report.allowList).toEqual({ file: 'allow.yaml', entries: 2, expired: [], unused: [] });
  });

  it('attributes a connection to the SGs whose egress rules admitted it', () => {
    // Prepare: eni-w1 carries sg-worker (egress all) and sg-metrics (no egress rules).
    const { report } = review([out({ eniId: 'eni-w1', peerAddr: '8.8.8.8', port: 53, protocol: 17 })]);

    // Assess
    expect(report.destinations.map((d) => [d.sgId, d.protocol, d.port])).toEqual([['sg-worker', 'udp', 53]]);
  });

  it('marks admin ports to the internet (below 1024, not 80/443), never to private space', () => {
    // Prepare
    const connections = [
      out({ eniId: 'eni-app1', peerAddr: '140.82.121.3', port: 22 }),
      out({ eniId: 'eni-app1', peerAddr: '140.82.121.3', port: 443 }),
      out({ eniId: 'eni-app1', peerAddr: '192.168.50.5', port: 22 }),
    ];

    // Act
    const { report } = review(connections);

    // Assess
    expect(report.destinations.map((d) => [d.destination, d.port, d.public, d.adminPort])).toEqual([
      ['140.82.121.0/24', 22, true, true],
      ['140.82.121.0/24', 443, true, false],
      ['192.168.50.0/24', 22, false, false],
    ]);
  });

  it('keeps the unexpected and then the busiest destinations of each SG within egressDestinationsPerSg', () => {
    // Prepare
    const connections = [1, 2, 3].map((octet) =>
      out({ eniId: 'eni-app1', peerAddr: `198.51.${octet}.1`, connections: 10 * octet }),
    );
    const config = { ...DEFAULT_CONFIG, egressDestinationsPerSg: 2 };

    // Act
    const { report, destinations } = review(connections, undefined, config);

    // Assess
    expect(report.destinations.map((d) => d.destination)).toEqual(['198.51.3.0/24', '198.51.2.0/24']);
    expect(report.omittedRows).toBe(1);
    expect(destinations).toHaveLength(3);
  });
});

describe('reviewEgress on reordered rows', () => {
  it('gives the same destinations whatever order the connections come in', () => {
    // Prepare
    const connections = [
      out({ eniId: 'eni-app1', peerAddr: '211.115.106.10', connections: 2 }),
      out({ eniId: 'eni-app2', peerAddr: '211.115.106.11', connections: 2 }),
      out({ eniId: 'eni-app1', peerAddr: '211.115.106.10', protocol: 17, connections: 2 }),
      out({ eniId: 'eni-w1', peerAddr: '52.219.57.1', connections: 2 }),
    ];

    // Act / Assess
    expect(review([...connections].reverse(), ALLOW_PARTNER).report).toEqual(
      review(connections, ALLOW_PARTNER).report,
    );
  });
});

describe('isAwsManaged', () => {
  it('knows AWS-managed prefix lists by owner or by name', () => {
    expect(isAwsManaged({ name: 'com.amazonaws.global.cloudfront.origin-facing' })).toBe(true);
    expect(isAwsManaged({ name: 'corp-office', ownerId: 'AWS' })).toBe(true);
    expect(isAwsManaged({ name: 'corp-office', ownerId: '123456789012' })).toBe(false);
  });
});
