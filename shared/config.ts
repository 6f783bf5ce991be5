/**
 * Analysis settings with the seed's defaults. Every threshold and limit the core uses lives
 * here, so runners can override any of them (CLI flags, Lambda config) and tests can pin them.
 */
import type { ResourceType } from './model/inventory';

export interface PortGroup {
  readonly from: number;
  readonly to: number;
}

export interface AnalysisConfig {
  /** Peers with at least this many IPs in one /N become the /N (seed: 3 in a /24). */
  readonly summariseMinIps: number;
  readonly summarisePrefixV4: number;
  readonly summarisePrefixV6: number;
  /** Ports at or above this stay single below it (seed: ≤ 1023 stay single). */
  readonly portGroupMinPort: number;
  /** Seed port groups: 1024–10000, 10001–20000, …, 50001–65535. */
  readonly portGroups: readonly PortGroup[];
  /** A group becomes one range rule when at least this many of its ports are used (seed: 10). */
  readonly portGroupMinPorts: number;
  /** Rule entries per SG, direction and IP family (AWS default 60). */
  readonly ruleQuota: number;
  /** Client (ephemeral) port ranges by the resource type of the client. */
  readonly ephemeralRanges: Readonly<Partial<Record<ResourceType | 'default', readonly PortGroup[]>>>;
  /** A port with at least this many distinct counterpart ports is a service port. */
  readonly counterpartMinPorts: number;
  /** Ports that count as sensitive when open to the world (Security Hub EC2.19 + Prowler). */
  readonly sensitivePorts: readonly number[];
  /** A public CIDR with a prefix shorter than this is "very wide". */
  readonly widePublicPrefixV4: number;
  readonly widePublicPrefixV6: number;
  /** The newest seconds of flow logs are incomplete (delivery is best effort). */
  readonly incompleteTailSeconds: number;
  /** Port ranges (inclusive) to analyse; empty = all. */
  readonly ports: readonly PortGroup[];
  /** NACL rule numbering for recommendations. */
  readonly naclFirstRuleNumber: number;
  readonly naclRuleStep: number;
  readonly naclRuleQuota: number;
  /** Delivery is proven per bucket of this length: 86,400 (UTC days) or 3,600 (hours). */
  readonly deliveryBucketSeconds: number;
  /** Unproven buckets an ENI may have and still be fully covered (0: every bucket proven). */
  readonly deliveryToleranceBuckets: number;
  /** Relative difference between a source's own counter and what was read that still agrees. */
  readonly deliveryCounterTolerance: number;
  /**
   * A world-open service port (not a sensitive one) used from at least this many unrelated public
   * networks (IPv4 /16, IPv6 /32) is a public service: kept world-open, never narrowed.
   */
  readonly publicServiceMinNetworks: number;
  /** Refused attempts from one internal peer that read as a missing rule rather than a one-off. */
  readonly rejectedMinAttempts: number;
  /** Rejected connection groups the report lists (every missing-rule and NACL one, then the busiest probes). */
  readonly rejectedRowLimit: number;
  /** External destination groups listed per SG (unexpected ones first, then the busiest). */
  readonly egressDestinationsPerSg: number;
}

/** Security Hub EC2.19 blocked ports. */
export const EC2_19_PORTS: readonly number[] = [
  20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080,
  8088, 8888, 9200, 9300,
];
/** Prowler's additional sensitive ports. */
export const PROWLER_EXTRA_PORTS: readonly number[] = [
  1521, 2483, 6379, 7199, 9092, 9160, 11211, 27017, 27018,
];

export function seedPortGroups(): PortGroup[] {
  const groups: PortGroup[] = [{ from: 1024, to: 10000 }];
  for (let from = 10001; from <= 50001; from += 10000) {
    groups.push({ from, to: from === 50001 ? 65535 : from + 9999 });
  }
  return groups;
}

const ANY_CLIENT_PORT: readonly PortGroup[] = [{ from: 1024, to: 65535 }];

export const DEFAULT_CONFIG: AnalysisConfig = {
  summariseMinIps: 3,
  summarisePrefixV4: 24,
  summarisePrefixV6: 64,
  portGroupMinPort: 1024,
  portGroups: seedPortGroups(),
  portGroupMinPorts: 10,
  ruleQuota: 60,
  ephemeralRanges: {
    // Linux (AWS docs say 32768–61000), Windows 2008+; the default covers both.
    default: [{ from: 32768, to: 65535 }],
    ec2: [{ from: 32768, to: 65535 }],
    elb: ANY_CLIENT_PORT,
    'nat-gateway': ANY_CLIENT_PORT,
    lambda: ANY_CLIENT_PORT,
    'api-gateway': ANY_CLIENT_PORT,
    'vpc-endpoint': ANY_CLIENT_PORT,
    'transit-gateway': ANY_CLIENT_PORT,
  },
  counterpartMinPorts: 5,
  sensitivePorts: [...EC2_19_PORTS, ...PROWLER_EXTRA_PORTS].sort((a, b) => a - b),
  widePublicPrefixV4: 24,
  widePublicPrefixV6: 48,
  incompleteTailSeconds: 15 * 60,
  ports: [],
  naclFirstRuleNumber: 100,
  naclRuleStep: 10,
  naclRuleQuota: 20,
  deliveryBucketSeconds: 86_400,
  deliveryToleranceBuckets: 0,
  deliveryCounterTolerance: 0.05,
  publicServiceMinNetworks: 10,
  rejectedMinAttempts: 3,
  rejectedRowLimit: 2000,
  egressDestinationsPerSg: 50,
};
