/**
 * What the sample's traffic views must show (EXPECTED.json `rejected` and `egress`): the refused
 * connections by class and the external destinations the allow-list does or does not expect.
 * The scenarios behind them are in traffic.ts (SCENARIO_PROFILES and the internet scans).
 */
import type { EgressExpectation } from '../../shared/model/egress';
import type { RejectedClass } from '../../shared/model/rejected';
import { CONTAINER_IP, eniIdOf, eniSpec, NETWORK_ACLS, naclIdOf, sgIdOf } from './account';
import { ALLOWLIST_FILE } from './allowlist';
import { DYNAMODB_ADDRESSES, GIT_SSH_DESTINATION, S3_ADDRESSES, UNEXPECTED_DESTINATION } from './traffic';

export interface ExpectedRejected {
  readonly class: RejectedClass;
  /** The ENIs that refused it (any of them). */
  readonly enis: readonly string[];
  readonly direction: 'ingress' | 'egress';
  /** Any protocol when absent (scans try TCP and UDP). */
  readonly protocol?: string;
  readonly port?: number;
  /** The peers (any of them). */
  readonly peers?: readonly string[];
  /** Where the suggested rule goes, for class missing-rule. */
  readonly suggestionSg?: string;
  /** The NACL entry that refused it, for class nacl. */
  readonly nacl?: { readonly key: string; readonly ruleNumber: number };
  readonly why: string;
}

export interface ExpectedEgress {
  readonly sg: string;
  readonly destination: string;
  readonly protocol: string;
  readonly port: number;
  readonly expected: EgressExpectation;
  readonly allowListId?: string;
  readonly why: string;
}

export const EXPECTED_REJECTED: readonly ExpectedRejected[] = [
  {
    class: 'missing-rule',
    enis: ['lambda-a', 'lambda-c'],
    direction: 'egress',
    protocol: 'tcp',
    port: 6379,
    peers: [eniSpec('redis-1').ip, eniSpec('redis-2').ip],
    suggestionSg: 'prod-lambda',
    why: 'a blocked internal connection: the functions try Redis, which serves 6379 to the app servers, and their own egress rules refuse it (SYN retries count once)',
  },
  {
    class: 'nacl',
    enis: ['rds-primary'],
    direction: 'egress',
    protocol: 'tcp',
    port: 443,
    peers: S3_ADDRESSES,
    nacl: { key: 'prod-data', ruleNumber: 32767 },
    why: 'NACL-blocked: prod-db-sg admits the exports to S3, the data subnets NACL refuses them',
  },
  {
    class: 'probe',
    enis: ['bastion', 'vpn', 'alb-a', 'alb-c', 'nlb-a', 'nlb-c', 'monitoring', 'legacy-db', 'jenkins'],
    direction: 'ingress',
    why: 'internet scans (22, 3389, 445 …) refused: blocked probing, no rule suggested',
  },
];

export const EXPECTED_EGRESS: readonly ExpectedEgress[] = [
  {
    sg: 'prod-ecs',
    destination: '45.139.122.0/24',
    protocol: 'tcp',
    port: 443,
    expected: 'no',
    why: `the checkout tasks upload to ${UNEXPECTED_DESTINATION}, which no allow-list entry expects`,
  },
  {
    sg: 'prod-default',
    destination: '140.82.121.0/24',
    protocol: 'tcp',
    port: 22,
    expected: 'yes',
    allowListId: 'github-ssh',
    why: `git over SSH to ${GIT_SSH_DESTINATION}: an admin port, but allow-listed`,
  },
  {
    sg: 'prod-app',
    destination: '211.115.106.0/24',
    protocol: 'tcp',
    port: 443,
    expected: 'yes',
    allowListId: 'partner-order-api',
    why: 'the partner order API',
  },
  {
    sg: 'shared-monitoring',
    destination: 'AWS DYNAMODB',
    protocol: 'tcp',
    port: 443,
    expected: 'yes',
    allowListId: 'monitoring-dynamodb',
    why: `a container on ${CONTAINER_IP} (a secondary address of the monitoring instance, in pkt-srcaddr) writes to DynamoDB (${DYNAMODB_ADDRESSES.join(', ')}): grouped by the service the flow log names in pkt-dst-aws-service`,
  },
];

/** The manifest's view of the expectations: ids instead of keys. */
export function trafficViewsManifest(): Record<string, unknown> {
  return {
    egressAllowList: ALLOWLIST_FILE,
    rejected: EXPECTED_REJECTED.map((r) => ({
      class: r.class,
      eniIds: r.enis.map(eniIdOf),
      direction: r.direction,
      ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
      ...(r.port !== undefined ? { port: r.port } : {}),
      ...(r.peers ? { peers: r.peers } : {}),
      ...(r.suggestionSg ? { suggestionSgId: sgIdOf(r.suggestionSg) } : {}),
      ...(r.nacl ? { nacl: { naclId: naclIdOf(r.nacl.key), ruleNumber: r.nacl.ruleNumber } } : {}),
      why: r.why,
    })),
    egress: EXPECTED_EGRESS.map((e) => ({
      sgId: sgIdOf(e.sg),
      destination: e.destination,
      protocol: e.protocol,
      port: e.port,
      expected: e.expected,
      ...(e.allowListId ? { allowListId: e.allowListId } : {}),
      why: e.why,
    })),
  };
}

/** EXPECTED.md's section on the traffic views. */
export function trafficViewsMarkdown(): string[] {
  const nacls = new Set(NETWORK_ACLS.map((acl) => acl.key));
  return [
    '## Traffic views: rejected connections and egress destinations',
    '',
    `With \`--egress-allowlist ${ALLOWLIST_FILE}\` (as \`npm start\` runs it):`,
    '',
    '| class | ENIs | direction | traffic | peers | why |',
    '|---|---|---|---|---|---|',
    ...EXPECTED_REJECTED.map(
      (r) =>
        `| ${r.class} | ${r.enis.join(', ')} | ${r.direction} | ${r.protocol ?? 'tcp, udp, icmp'}${r.port !== undefined ? `/${r.port}` : ''} | ${(r.peers ?? ['internet scanners']).join(', ')} | ${r.why}${r.nacl && nacls.has(r.nacl.key) ? ` (${naclIdOf(r.nacl.key)} rule ${r.nacl.ruleNumber})` : ''} |`,
    ),
    '',
    '| SG | destination | traffic | expected | why |',
    '|---|---|---|---|---|',
    ...EXPECTED_EGRESS.map(
      (e) =>
        `| ${sgIdOf(e.sg)} | ${e.destination} | ${e.protocol}/${e.port} | ${e.expected}${e.allowListId ? ` (${e.allowListId})` : ''} | ${e.why} |`,
    ),
  ];
}
