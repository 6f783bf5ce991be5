/**
 * The sample account, declared once: VPCs, subnets, security groups (with what each rule is meant
 * to show), ENIs of every resource type, prefix lists, NACLs and flow logs. The AWS CLI JSON, the
 * traffic and the EXPECTED manifest are all derived from these declarations, so they cannot drift.
 * Small builders (one per kind of rule, finding, ENI, flow log) carry what siblings share, so each
 * declaration says only what sets it apart.
 *
 * The inventory does not depend on the seed or the scale: only traffic does.
 */
import { DEFAULT_FIELDS } from '../../shared/flow/format';
import type { CheckId, RuleVerdict, Severity } from '../../shared/model/analysis';
import type { ResourceType } from '../../shared/model/inventory';
import { awsId, nameUuid } from './ids';

export const ACCOUNT_ID = '123456789012';
export const REGION = 'ap-northeast-2';

/** The week of traffic: Monday 2026-11-09 00:00Z to Monday 2026-11-16 00:00Z (fixed, never Date.now). */
export const WINDOW_END = Date.UTC(2026, 10, 16, 0, 0, 0) / 1000;
export const WINDOW_START = WINDOW_END - 7 * 86400;
export const WINDOW_HOURS = 7 * 24;

/** Ids of the resources behind service ENIs (stable: derived from names). */
export const SERVICE_IDS = {
  natGateway: awsId('nat', 'prod-nat-a'),
  vpcEndpoint: awsId('vpce', 'prod-secretsmanager'),
  efsFileSystem: awsId('fs', 'prod-shared-fs'),
  efsMountTargetA: awsId('fsmt', 'prod-shared-fs-a'),
  efsMountTargetC: awsId('fsmt', 'prod-shared-fs-c'),
  tgwAttachmentProd: awsId('tgw-attach', 'prod'),
  tgwAttachmentShared: awsId('tgw-attach', 'shared'),
  ecsAttachmentArn: (task: string) =>
    `arn:aws:ecs:ap-northeast-2:123456789012:attachment/${nameUuid(`ecs:${task}`)}`,
  lambdaEniSuffix: (subnet: string) => nameUuid(`lambda:${subnet}`),
} as const;

/** The ENI id of an ENI key. */
export function eniIdOf(key: string): string {
  return awsId('eni', key);
}

/** The default (version 2) format's fields: the core's list, so the sample cannot drift from it. */
export const DEFAULT_FORMAT_FIELDS: readonly string[] = DEFAULT_FIELDS;

/** A custom (v5) format in a non-default order, with tcp-flags, packet addresses and direction. */
export const CUSTOM_FORMAT_FIELDS: readonly string[] = (
  'version account-id vpc-id subnet-id instance-id interface-id flow-direction srcaddr dstaddr ' +
  'srcport dstport pkt-srcaddr pkt-dstaddr protocol tcp-flags type packets bytes start end action ' +
  'log-status traffic-path'
).split(' ');

/**
 * The custom v5 format of the shared app subnet's log: {@link CUSTOM_FORMAT_FIELDS} with the AWS
 * services AWS names for the packet-level addresses (pkt-src-aws-service, pkt-dst-aws-service).
 */
export const SERVICE_FORMAT_FIELDS: readonly string[] = CUSTOM_FORMAT_FIELDS.flatMap((field) =>
  field === 'pkt-dstaddr' ? [field, 'pkt-src-aws-service', 'pkt-dst-aws-service'] : [field],
);

/** A container's address on the monitoring instance: a secondary private IP, in its records' pkt-srcaddr/pkt-dstaddr. */
export const CONTAINER_IP = '10.1.10.150';

export interface VpcSpec {
  readonly key: string;
  readonly name: string;
  readonly cidr: string;
  readonly ipv6Cidr?: string;
}

export interface SubnetSpec {
  readonly key: string;
  readonly name: string;
  readonly vpc: string;
  readonly cidr: string;
  readonly ipv6Cidr?: string;
  readonly az: 'a' | 'c';
  readonly tier: 'public' | 'private';
}

export type PeerSpec =
  | { readonly kind: 'cidr'; readonly cidr: string }
  | { readonly kind: 'sg'; readonly sg: string }
  | { readonly kind: 'pl'; readonly pl: string };

export type ExpectedStatus = 'used' | 'unused' | 'unknown';

export interface RuleExpectation {
  readonly status: ExpectedStatus;
  /** Acceptable verdicts (first = the intended one). */
  readonly verdicts: readonly RuleVerdict[];
  readonly why: string;
  /** Recommendation lines in the seed's words that a correct audit should produce (or an equivalent). */
  readonly recommend?: readonly string[];
}

export interface RuleSpec {
  readonly direction: 'ingress' | 'egress';
  /** AWS IpProtocol as written: tcp, udp, icmp, -1, or a number. */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly peer: PeerSpec;
  readonly description?: string;
  readonly expect: RuleExpectation;
}

export interface ExpectedFinding {
  readonly check: CheckId;
  /** Acceptable severities (first = intended). */
  readonly severities: readonly Severity[];
  /** Index into the SG's rules for rule-level findings. */
  readonly rule?: number;
  readonly why: string;
}

export interface SgSpec {
  readonly key: string;
  readonly name: string;
  readonly vpc: string;
  readonly description: string;
  readonly isDefault?: boolean;
  readonly tags?: Readonly<Record<string, string>>;
  readonly rules: readonly RuleSpec[];
  readonly findings: readonly ExpectedFinding[];
  /** What this SG is in the sample for. */
  readonly story: string;
}

export type ClientPorts = 'linux' | 'windows' | 'any';
export type Coverage = 'full' | 'partial' | 'reject-only' | 'none';

export interface EniSpec {
  readonly key: string;
  readonly subnet: string;
  readonly ip: string;
  readonly secondaryIps?: readonly string[];
  readonly ipv6?: readonly string[];
  readonly ipv4Prefixes?: readonly string[];
  readonly publicIp?: string;
  /** Who owns the public IP: the account (EIP) or 'amazon' (auto-assigned, ELB). */
  readonly publicIpOwner?: string;
  readonly sgs: readonly string[];
  readonly interfaceType: string;
  readonly description: string;
  readonly requesterId?: string;
  readonly requesterManaged: boolean;
  /** An EC2 instance behind the ENI (Nitro: 60-second aggregation). */
  readonly instance?: {
    readonly name: string;
    readonly platform: 'linux' | 'windows';
    readonly deviceIndex?: number;
  };
  /** Attachment owner of a service-managed ENI (amazon-elb, amazon-rds …). */
  readonly serviceAttachmentOwner?: string;
  readonly status: 'in-use' | 'available';
  readonly sourceDestCheck?: boolean;
  readonly clientPorts: ClientPorts;
  readonly tags?: Readonly<Record<string, string>>;
  /** The account-id flow-log records show ('unknown' for some service ENIs, as AWS documents). */
  readonly flowAccountId?: string;
  readonly expected: {
    readonly type: ResourceType;
    /** Other classifications that are also right (e.g. an EKS worker node is ec2 or eks). */
    readonly otherTypes?: readonly ResourceType[];
    /** A hint: the best name the ENI's own fields give (classifiers may pick another). */
    readonly name: string;
    readonly coverage: Coverage;
    readonly note?: string;
  };
}

export interface FlowLogSpec {
  readonly key: string;
  readonly name: string;
  readonly scope: 'vpc' | 'subnet' | 'eni';
  /** Key of the VPC, subnet or ENI. */
  readonly resource: string;
  readonly trafficType: 'ACCEPT' | 'REJECT' | 'ALL';
  readonly fields: readonly string[];
  /** Whether LogFormat is the AWS default string (describe-flow-logs still returns it). */
  readonly isDefaultFormat: boolean;
  readonly bucket: string;
  readonly prefix?: string;
  readonly fileFormat: 'plain-text' | 'parquet';
  readonly hivePartitions: boolean;
  readonly perHourPartition: boolean;
  readonly maxAggregationInterval: 60 | 600;
  /** ISO 8601 creation time. */
  readonly created: string;
  /**
   * UTC days (inclusive, `YYYY-MM-DD`) whose objects never reached the export: the log delivered
   * nothing then, so the audit must not read those days' silence as disuse.
   */
  readonly deliveryGap?: { readonly from: string; readonly to: string };
  readonly story: string;
}

export interface PrefixListSpec {
  readonly key: string;
  readonly id: string;
  readonly name: string;
  readonly awsManaged: boolean;
  readonly maxEntries: number;
  readonly entries: readonly { readonly cidr: string; readonly description?: string }[];
}

export interface NaclSpec {
  readonly key: string;
  readonly vpc: string;
  readonly isDefault: boolean;
  readonly subnets: readonly string[];
  readonly entries: readonly {
    readonly ruleNumber: number;
    readonly egress: boolean;
    readonly protocol: string;
    readonly action: 'allow' | 'deny';
    readonly cidr: string;
    readonly ports?: readonly [number, number];
  }[];
}

const subnet = (
  key: string,
  vpc: string,
  cidr: string,
  az: SubnetSpec['az'],
  tier: SubnetSpec['tier'],
  ipv6Cidr?: string,
): SubnetSpec => ({ key, name: key, vpc, cidr, ipv6Cidr, az, tier });

export const VPCS: readonly VpcSpec[] = [
  { key: 'prod', name: 'prod-vpc', cidr: '10.0.0.0/16', ipv6Cidr: '2406:da12:7c1:a600::/56' },
  { key: 'shared', name: 'shared-services-vpc', cidr: '10.1.0.0/16' },
  { key: 'legacy', name: 'legacy-vpc', cidr: '172.16.0.0/16' },
];

export const SUBNETS: readonly SubnetSpec[] = [
  subnet('prod-public-a', 'prod', '10.0.0.0/24', 'a', 'public', '2406:da12:7c1:a600::/64'),
  subnet('prod-public-c', 'prod', '10.0.1.0/24', 'c', 'public', '2406:da12:7c1:a601::/64'),
  subnet('prod-app-a', 'prod', '10.0.10.0/24', 'a', 'private'),
  subnet('prod-app-c', 'prod', '10.0.11.0/24', 'c', 'private'),
  subnet('prod-data-a', 'prod', '10.0.20.0/24', 'a', 'private'),
  subnet('prod-data-c', 'prod', '10.0.21.0/24', 'c', 'private'),
  subnet('shared-app-a', 'shared', '10.1.10.0/24', 'a', 'private'),
  subnet('shared-data-a', 'shared', '10.1.20.0/24', 'a', 'private'),
  subnet('shared-mgmt-a', 'shared', '10.1.30.0/24', 'a', 'public'),
  subnet('shared-edge-a', 'shared', '10.1.40.0/24', 'a', 'public'),
  subnet('legacy-public-a', 'legacy', '172.16.0.0/24', 'a', 'public'),
  subnet('legacy-private-a', 'legacy', '172.16.10.0/24', 'a', 'private'),
];

export const PREFIX_LISTS: readonly PrefixListSpec[] = [
  {
    key: 'corp-office',
    id: 'pl-0f3a6c1d9e2b47a58',
    name: 'corp-office-cidrs',
    awsManaged: false,
    maxEntries: 10,
    entries: [
      { cidr: '203.0.113.0/24', description: 'Seoul HQ' },
      { cidr: '198.51.100.0/25', description: 'Busan branch VPN egress' },
    ],
  },
  {
    key: 's3',
    id: 'pl-78a54011',
    name: 'com.amazonaws.ap-northeast-2.s3',
    awsManaged: true,
    // aws-facts: AWS-managed lists count as their weight against the rule quota.
    maxEntries: 1,
    entries: [
      '3.5.140.0/22',
      '52.92.0.0/20',
      '52.219.56.0/22',
      '52.219.60.0/23',
      '52.219.144.0/22',
      '52.219.148.0/23',
      '52.219.180.0/22',
      '52.219.184.0/21',
      '52.219.202.0/23',
      '52.219.204.0/22',
    ].map((block) => ({ cidr: block })),
  },
];

// ----- security-group builders: a rule is its direction, protocol, ports, peer and expectation -----

const cidr = (value: string): PeerSpec => ({ kind: 'cidr', cidr: value });
const sgRef = (key: string): PeerSpec => ({ kind: 'sg', sg: key });
const prefixList = (key: string): PeerSpec => ({ kind: 'pl', pl: key });
const WORLD = cidr('0.0.0.0/0');
const WORLD_V6 = cidr('::/0');

/** What a rule admits: a protocol and, for TCP/UDP/ICMP, a port range (ICMP: type and code, -1 = all). */
type Traffic = Pick<RuleSpec, 'protocol' | 'fromPort' | 'toPort'>;

const tcp = (fromPort: number, toPort = fromPort): Traffic => ({ protocol: 'tcp', fromPort, toPort });
const udp = (fromPort: number, toPort = fromPort): Traffic => ({ protocol: 'udp', fromPort, toPort });
const ICMP: Traffic = { protocol: 'icmp', fromPort: -1, toPort: -1 };
const ALL_TRAFFIC: Traffic = { protocol: '-1' };
const ESP: Traffic = { protocol: '50' };
const GRE: Traffic = { protocol: '47' };

/** A rule as declared; `description` is the rule's own Description field. */
function rule(
  direction: RuleSpec['direction'],
  traffic: Traffic,
  peer: PeerSpec,
  expect: RuleExpectation,
  description?: string,
): RuleSpec {
  return { direction, ...traffic, peer, description, expect };
}

const ingress = (traffic: Traffic, peer: PeerSpec, expect: RuleExpectation, description?: string) =>
  rule('ingress', traffic, peer, expect, description);
const egress = (traffic: Traffic, peer: PeerSpec, expect: RuleExpectation, description?: string) =>
  rule('egress', traffic, peer, expect, description);
/** All traffic to 0.0.0.0/0 (or ::/0): the egress rule every new SG starts with. */
const openEgress = (expect: RuleExpectation, peer: PeerSpec = WORLD) =>
  rule('egress', ALL_TRAFFIC, peer, expect);

const used = (why: string, verdicts: readonly RuleVerdict[] = ['keep'], recommend?: readonly string[]) =>
  ({ status: 'used', verdicts, why, recommend }) as const;
const unused = (why: string, verdicts: readonly RuleVerdict[] = ['remove']) =>
  ({ status: 'unused', verdicts, why }) as const;
const unknown = (why: string, verdicts: readonly RuleVerdict[] = ['review']) =>
  ({ status: 'unknown', verdicts, why }) as const;

const FULL = 'its ENIs are covered by an ACCEPT/ALL flow log for the whole window';
/** An all-traffic egress rule with no traffic seen: it may still carry what flow logs never record. */
const silentEgress = (why: string) =>
  unknown(
    `${why}, but an all-traffic egress rule may carry what flow logs never record (VPC resolver, metadata, NTP)`,
  );
const NO_ENIS = unknown('no ENIs carry the SG', ['review', 'remove']);
const REJECT_ONLY = unknown('only a REJECT flow log applies');
const NO_FLOW_LOG = unknown('no flow log covers the ENI');

/** A finding the audit must report on the SG; `index` names the rule for rule-level checks. */
function finding(
  check: CheckId,
  severities: readonly Severity[],
  index: number | undefined,
  why: string,
): ExpectedFinding {
  return index === undefined ? { check, severities, why } : { check, severities, rule: index, why };
}

const egressAllOpen = (index: number, why = 'egress allow-all') =>
  finding('egress-all-open', ['info', 'low'], index, why);
const unusedRule = (index: number, why = 'unused under full coverage') =>
  finding('unused-rule', ['low', 'info'], index, why);
const worldOpenWeb = (index: number, why: string) => finding('world-open-web', ['info', 'low'], index, why);
const membersOnlyAllTraffic = (index: number) =>
  finding('all-traffic-open', ['low', 'info'], index, 'all traffic, but only from members of an SG');
/** Internet scans the SG refused: blocked probing, an SG-level finding of no concern. */
const blockedProbing = (why = 'internet scans refused: the SG doing its job') =>
  finding('rejected-probe', ['info', 'low'], undefined, why);

export const SECURITY_GROUPS: readonly SgSpec[] = [
  // ----- prod-vpc (VPC-level default-format flow log: full coverage) -----
  {
    key: 'prod-alb',
    name: 'prod-web-alb-sg',
    vpc: 'prod',
    description: 'Public ALB for www',
    tags: { 'aws:cloudformation:stack-name': 'prod-web' },
    story: 'Public ALB: 80/443 from 0.0.0.0/0 and ::/0 are expected; ::/0 port 80 is never used.',
    rules: [
      ingress(
        tcp(443),
        WORLD,
        used(
          'web clients (hundreds of /32s) and the API Gateway VPC link; expected for a public ALB',
          ['keep', 'narrow', 'review'],
          ['keep 0.0.0.0/0 (public web); if narrowed, > 60 peers force quota compaction'],
        ),
        'HTTPS from anywhere',
      ),
      ingress(
        tcp(443),
        WORLD_V6,
        used('IPv6 web clients', ['keep', 'narrow', 'review']),
        'HTTPS from anywhere (IPv6)',
      ),
      ingress(
        tcp(80),
        WORLD,
        used('a few clients hit the HTTP->HTTPS redirect', ['keep', 'narrow', 'review']),
        'HTTP redirect',
      ),
      ingress(
        tcp(80),
        WORLD_V6,
        unused(`no IPv6 client ever uses port 80; ${FULL}`, ['remove', 'review']),
        'HTTP redirect (IPv6)',
      ),
      egress(tcp(8080), sgRef('prod-app'), used('ALB -> app targets on 8080')),
      egress(tcp(9000), sgRef('prod-ecs'), used('ALB -> ECS tasks on 9000')),
    ],
    findings: [
      worldOpenWeb(0, '443 from the world on ELB ENIs: expected, not high'),
      worldOpenWeb(1, '443 from ::/0 on ELB ENIs'),
      worldOpenWeb(2, '80 from the world on ELB ENIs'),
      worldOpenWeb(3, '80 from ::/0 on ELB ENIs'),
      blockedProbing('scans on 21, 22, 3389, 8080, 8443 refused'),
    ],
  },
  {
    key: 'prod-app',
    name: 'prod-app-sg',
    vpc: 'prod',
    description: 'Application servers',
    story:
      'App tier: SG references from ALB and bastion, a narrowable Prometheus CIDR, an unused admin rule, and egress allow-all (v4 used, v6 unused).',
    rules: [
      ingress(
        tcp(8080),
        sgRef('prod-alb'),
        used('ALB targets; ALB client ports are 1024-65535 (no tcp-flags in the default format)'),
        'from ALB',
      ),
      ingress(tcp(22), sgRef('prod-bastion'), used('bastion SSH sessions'), 'SSH from bastion'),
      ingress(ICMP, sgRef('prod-bastion'), used('ICMP echo from the bastion'), 'ping from bastion'),
      ingress(
        tcp(9100),
        cidr('10.1.0.0/16'),
        used(
          'only 10.1.10.50 (monitoring, via transit gateway) scrapes it',
          ['narrow'],
          ['- allow tcp port 9100 from 10.1.10.50'],
        ),
        'Prometheus node exporter (shared-services)',
      ),
      ingress(tcp(8443), cidr('10.0.0.0/8'), unused(`no traffic on 8443; ${FULL}`), 'legacy admin console'),
      openEgress(
        used(
          'db 5432, redis 6379, EFS 2049, endpoint 443, DNS udp 53 (TGW), internet 443 (NAT)',
          ['narrow', 'keep'],
          [
            '- allow tcp port 443 to 211.115.106.0/24',
            '- allow tcp port 5432 to 10.0.20.15 (10.0.20.0/24 if /24 summarisation counts peers across ports)',
            '- allow udp port 53 to 10.1.10.53',
            'SG references to prod-redis-sg / prod-efs-sg / prod-vpce-sg (peers are exactly their ENIs)',
          ],
        ),
      ),
      openEgress(silentEgress('no IPv6 traffic seen'), WORLD_V6),
    ],
    findings: [
      egressAllOpen(5, 'egress allow-all is normal, not critical'),
      egressAllOpen(6, 'egress allow-all (IPv6)'),
      unusedRule(4, '8443 never used under full coverage'),
    ],
  },
  {
    key: 'prod-db',
    name: 'prod-db-sg',
    vpc: 'prod',
    description: 'PostgreSQL (RDS)',
    story:
      'RDS: SG refs with UserId (app, lambda, and an SG that has no ENIs), and 5432 open to 52.0.0.0/8 (very wide public, unused); its exports to S3 are refused by the NACL of its subnets, not by its SG.',
    rules: [
      ingress(tcp(5432), sgRef('prod-app'), used('app connection pools to the primary'), 'from app'),
      ingress(
        tcp(5432),
        sgRef('prod-lambda'),
        used('Lambda functions (client ports 1024-65535)'),
        'from lambda',
      ),
      ingress(
        tcp(5432),
        sgRef('prod-legacy-admin'),
        unknown('the referenced SG has no ENIs in the inventory: nothing can match it today', [
          'review',
          'remove',
        ]),
        'from legacy admin hosts',
      ),
      ingress(
        tcp(5432),
        cidr('52.0.0.0/8'),
        unused(`no traffic from 52.0.0.0/8; ${FULL}`),
        'vendor analytics (temporary)',
      ),
      openEgress(
        silentEgress(
          'no accepted connection: the nightly exports to S3 (443) are refused by the data subnets NACL, which lets nothing out but to the app and data subnets',
        ),
      ),
    ],
    findings: [
      finding('sensitive-port-wide-public', ['high', 'critical'], 3, '5432 (EC2.19) to a /8 public CIDR'),
      egressAllOpen(4),
      unusedRule(3, 'no traffic under full coverage'),
      finding(
        'rejected-by-nacl',
        ['low', 'info'],
        4,
        'the orders DB exports to S3 443: its SG admits them, the data subnets NACL refuses them (outbound rule 32767)',
      ),
    ],
  },
  {
    key: 'prod-bastion',
    name: 'prod-bastion-sg',
    vpc: 'prod',
    description: 'Bastion host',
    story:
      'SSH from 0.0.0.0/0 used only by the admin office /24 (>= 3 IPs -> /24) and one branch IP; RDP on ::/0 unused; REJECTed scans.',
    rules: [
      ingress(
        tcp(22),
        WORLD,
        used(
          'admins from 203.0.113.10/.11/.12/.45 and 198.51.100.7 only',
          ['narrow'],
          ['- allow tcp port 22 from 203.0.113.0/24', '- allow tcp port 22 from 198.51.100.7'],
        ),
        'SSH',
      ),
      ingress(
        tcp(3389),
        WORLD_V6,
        unused(`no IPv6 RDP; scans on v4 3389 are REJECTed and prove nothing; ${FULL}`),
        'RDP (old Windows jump host)',
      ),
      egress(tcp(22), sgRef('prod-app'), used('bastion -> app SSH')),
      egress(ICMP, sgRef('prod-app'), used('ping to app servers')),
      egress(tcp(443), WORLD, used('package mirrors only', ['narrow', 'keep'])),
    ],
    findings: [
      finding('sensitive-port-world', ['critical'], 0, '22 from 0.0.0.0/0 (EC2.19, EC2.13)'),
      finding('sensitive-port-world', ['critical'], 1, '3389 from ::/0 (EC2.19, EC2.14)'),
      unusedRule(1),
      blockedProbing(),
    ],
  },
  {
    key: 'prod-default',
    name: 'default',
    vpc: 'prod',
    description: 'default VPC security group',
    isDefault: true,
    story: 'Default SG in use (a cron EC2 and a detached ENI) with the default rules.',
    rules: [
      ingress(ALL_TRAFFIC, sgRef('prod-default'), unused(`no traffic between members; ${FULL}`)),
      openEgress(
        used('legacy-cron -> internet 443 via NAT, and git over SSH (22) to GitHub (allow-listed)', [
          'narrow',
          'keep',
        ]),
      ),
      openEgress(silentEgress('no IPv6 traffic seen'), WORLD_V6),
    ],
    findings: [
      finding('default-sg-in-use', ['high', 'medium'], undefined, 'EC2.2: default SG has ENIs and rules'),
      egressAllOpen(1),
      egressAllOpen(2, 'egress allow-all (IPv6)'),
      membersOnlyAllTraffic(0),
    ],
  },
  {
    key: 'prod-lambda',
    name: 'prod-lambda-sg',
    vpc: 'prod',
    description: 'VPC Lambda functions',
    story:
      'Lambda ENIs: egress to an AWS-managed prefix list (S3), the world on 443, and an SG reference; the functions now also try Redis on 6379, which their egress rules refuse.',
    rules: [
      egress(
        tcp(443),
        prefixList('s3'),
        used('S3 via the gateway endpoint (destinations inside the prefix list)'),
        'S3 gateway endpoint',
      ),
      egress(
        tcp(443),
        WORLD,
        used('internet APIs via NAT, S3 and the interface endpoint also match', ['narrow', 'keep']),
      ),
      egress(tcp(5432), sgRef('prod-db'), used('functions query the database')),
    ],
    findings: [
      finding(
        'rejected-missing-rule',
        ['low', 'info'],
        undefined,
        'Lambda -> Redis 6379 refused by the functions own egress rules, while Redis serves 6379 to the app servers: suggest (for review) 6379 to the Redis nodes or to prod-redis-sg',
      ),
    ],
  },
  {
    key: 'prod-vpce',
    name: 'prod-vpce-sg',
    vpc: 'prod',
    description: 'Interface endpoints',
    story: 'Interface endpoint with 443 from 0.0.0.0/0 (expected), used only from inside the VPC.',
    rules: [
      ingress(
        tcp(443),
        WORLD,
        used(
          'app servers and Lambda ENIs (3 in 10.0.10.0/24 -> /24)',
          ['narrow', 'keep'],
          [
            '- allow tcp port 443 from 10.0.10.0/24',
            '- allow tcp port 443 from 10.0.11.13',
            '- allow tcp port 443 from 10.0.11.82',
          ],
        ),
      ),
      openEgress(silentEgress('endpoints never initiate')),
    ],
    findings: [worldOpenWeb(0, '443 from the world on endpoint ENIs is expected'), egressAllOpen(1)],
  },
  {
    key: 'prod-apigw',
    name: 'prod-apigw-vpclink-sg',
    vpc: 'prod',
    description: 'API Gateway VPC link',
    story:
      'API Gateway managed ENI: 443 from the world (expected) but the link only connects out, to the ALB.',
    rules: [
      ingress(tcp(443), WORLD, unused(`nothing connects to the VPC link ENI; ${FULL}`, ['remove', 'review'])),
      egress(
        tcp(443),
        cidr('10.0.0.0/16'),
        used(
          'VPC link -> ALB 443; peers are exactly the ENIs of prod-web-alb-sg',
          ['narrow'],
          ['- allow tcp port 443 to prod-web-alb-sg (SG reference), or to 10.0.0.21 and 10.0.1.21'],
        ),
      ),
    ],
    findings: [worldOpenWeb(0, '443 from the world on an API Gateway ENI is expected')],
  },
  {
    key: 'prod-nlb',
    name: 'prod-ingest-nlb-sg',
    vpc: 'prod',
    description: 'Ingest NLB',
    story:
      '0.0.0.0/0 with a port range (the seed rule) on an NLB; clients come from a few carrier /24s (-> /24 recommendations).',
    rules: [
      ingress(
        tcp(8000, 8100),
        WORLD,
        used(
          'ports 8001-8004 only, from 175.223.10.0/24, 211.246.68.0/24, 39.7.24.0/24 and 2 singles',
          ['narrow'],
          [
            '- allow tcp ports 8001-8004 from 175.223.10.0/24',
            '- allow tcp ports 8001-8004 from 211.246.68.0/24',
            '- allow tcp ports 8001-8004 from 39.7.24.0/24',
          ],
        ),
        'ingest ports',
      ),
      openEgress(
        used(
          'NLB -> ingest targets 8001-8004',
          ['narrow', 'keep'],
          ['- allow tcp ports 8001-8004 to prod-ingest-sg (SG reference)'],
        ),
      ),
    ],
    findings: [
      finding('world-port-range', ['high', 'medium'], 0, '0.0.0.0/0 with 8000-8100'),
      finding(
        'sensitive-port-world',
        ['critical', 'high'],
        0,
        'the range contains EC2.19 ports 8080 and 8088',
      ),
      egressAllOpen(1),
      blockedProbing('scans on 22, 80, 443, 3389 refused'),
    ],
  },
  {
    key: 'prod-ingest',
    name: 'prod-ingest-sg',
    vpc: 'prod',
    description: 'Ingest workers behind the NLB',
    story:
      'Peers of its VPC-wide CIDR rule are exactly the ENIs of prod-ingest-nlb-sg -> SG-reference suggestion.',
    rules: [
      ingress(
        tcp(8000, 8100),
        cidr('10.0.0.0/16'),
        used(
          'only the two NLB ENIs (10.0.0.31, 10.0.1.31) connect, on 8001-8004',
          ['narrow'],
          ['- allow tcp ports 8001-8004 from prod-ingest-nlb-sg (SG reference)'],
        ),
        'from NLB',
      ),
      openEgress(used('uploads to S3 443', ['narrow', 'keep'])),
    ],
    findings: [egressAllOpen(1)],
  },
  {
    key: 'prod-ecs',
    name: 'prod-ecs-tasks-sg',
    vpc: 'prod',
    description: 'ECS Fargate tasks',
    story:
      'ECS task ENIs behind the ALB; they started uploading to 45.139.122.9, a destination the egress allow-list does not know.',
    rules: [
      ingress(tcp(9000), sgRef('prod-alb'), used('ALB -> tasks on 9000')),
      openEgress(used('internet 443 via NAT, the unexpected 45.139.122.9 included', ['narrow', 'keep'])),
    ],
    findings: [
      egressAllOpen(1),
      finding(
        'unexpected-egress',
        ['medium', 'low'],
        undefined,
        'uploads to 45.139.122.0/24 on 443 (via NAT): not on the egress allow-list',
      ),
    ],
  },
  {
    key: 'prod-redis',
    name: 'prod-redis-sg',
    vpc: 'prod',
    description: 'ElastiCache Redis',
    story: 'Two subnet CIDRs whose peers together are exactly the app ENIs; no egress rules at all.',
    rules: [
      ingress(
        tcp(6379),
        cidr('10.0.10.0/24'),
        used('app-1 and app-2 only', ['narrow', 'keep'], ['SG reference prod-app-sg (or the two /32s)']),
      ),
      ingress(
        tcp(6379),
        cidr('10.0.11.0/24'),
        used('app-3 only', ['narrow', 'keep'], ['- allow tcp port 6379 from 10.0.11.13']),
      ),
    ],
    findings: [],
  },
  {
    key: 'prod-efs',
    name: 'prod-efs-sg',
    vpc: 'prod',
    description: 'EFS mount targets',
    story: 'EFS mount targets reached from the app SG.',
    rules: [
      ingress(tcp(2049), sgRef('prod-app'), used('NFS from app servers (same AZ)')),
      openEgress(silentEgress('mount targets never initiate')),
    ],
    findings: [egressAllOpen(1)],
  },
  {
    key: 'prod-vpn',
    name: 'vpn-gateway-sg',
    vpc: 'prod',
    description: 'strongSwan VPN instance',
    story:
      'Portless protocols open to the world: ESP used by two customer gateways, GRE never; IKE NAT-T unused.',
    rules: [
      ingress(
        udp(500),
        WORLD,
        used(
          'IKE (udp 500 <-> 500) from 121.134.55.10 and 211.45.120.7',
          ['narrow'],
          ['- allow udp port 500 from 121.134.55.10', '- allow udp port 500 from 211.45.120.7'],
        ),
        'IKE',
      ),
      ingress(udp(4500), WORLD, unused(`no NAT traversal; ${FULL}`), 'IKE NAT-T'),
      ingress(
        ESP,
        WORLD,
        used(
          'ESP from the two customer gateways',
          ['narrow'],
          ['- allow 50 from 121.134.55.10', '- allow 50 from 211.45.120.7'],
        ),
        'ESP',
      ),
      ingress(GRE, WORLD, unused(`no GRE; ${FULL}`), 'GRE'),
      openEgress(used('package mirrors 443', ['narrow', 'keep'])),
    ],
    findings: [
      finding('world-open-port', ['medium', 'low'], 0, 'udp 500 from 0.0.0.0/0'),
      finding('world-open-port', ['medium', 'low'], 1, 'udp 4500 from 0.0.0.0/0'),
      finding('portless-protocol-open', ['high', 'medium'], 2, 'ESP (50) from the world'),
      finding('portless-protocol-open', ['high', 'medium'], 3, 'GRE (47) from the world'),
      unusedRule(3, 'GRE never used'),
      egressAllOpen(4),
      blockedProbing(),
    ],
  },
  {
    key: 'prod-eks-cluster',
    name: 'eks-cluster-sg-prod-eks-1847263950',
    vpc: 'prod',
    description:
      'EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.',
    tags: { 'aws:eks:cluster-name': 'prod-eks', 'kubernetes.io/cluster/prod-eks': 'owned' },
    story:
      'EKS cluster SG: -1 from itself used by 443 and 10250 only (-> narrow to tcp 443/10250 from itself).',
    rules: [
      ingress(
        ALL_TRAFFIC,
        sgRef('prod-eks-cluster'),
        used(
          'node -> control plane 443, control plane -> kubelet 10250',
          ['narrow', 'keep'],
          [
            '- allow tcp port 443 from eks-cluster-sg (SG reference)',
            '- allow tcp port 10250 from eks-cluster-sg (SG reference)',
          ],
        ),
      ),
      openEgress(used('443, 10250, DNS', ['narrow', 'keep'])),
    ],
    findings: [egressAllOpen(1), membersOnlyAllTraffic(0)],
  },
  {
    key: 'prod-eks-pods',
    name: 'prod-eks-pods-sg',
    vpc: 'prod',
    description: 'Security groups for pods (branch ENIs)',
    story: 'Branch ENI of a pod: ingress rule unused, egress 443 used.',
    rules: [
      ingress(tcp(8080), sgRef('prod-eks-cluster'), unused(`no traffic to the pod; ${FULL}`)),
      egress(tcp(443), WORLD, used('internet 443 via NAT', ['narrow', 'keep'])),
    ],
    findings: [],
  },
  {
    key: 'prod-legacy-admin',
    name: 'prod-legacy-admin-sg',
    vpc: 'prod',
    description: 'Old admin hosts (decommissioned)',
    story: 'No ENIs, but prod-db-sg references it: not an unused SG.',
    rules: [
      ingress(
        tcp(22),
        cidr('10.0.0.0/8'),
        unknown('no ENIs carry the SG (coverage no-enis)', ['review', 'remove']),
      ),
      openEgress(NO_ENIS),
    ],
    findings: [egressAllOpen(1)],
  },
  {
    key: 'prod-temp-migration',
    name: 'temp-migration-sg',
    vpc: 'prod',
    description: 'DB migration 2025 (temporary)',
    story: 'No ENIs and no references: an unused SG (with a world-open 3306 rule).',
    rules: [ingress(tcp(1521), cidr('10.20.0.0/16'), NO_ENIS), ingress(tcp(3306), WORLD, NO_ENIS)],
    findings: [
      finding('unused-sg', ['low', 'medium', 'info'], undefined, 'no ENI and no SG references it'),
      finding(
        'sensitive-port-world',
        ['critical', 'high', 'medium'],
        1,
        '3306 from 0.0.0.0/0 (no ENIs today)',
      ),
    ],
  },

  // ----- shared-services-vpc (subnet-level custom log, Parquet log, ENI-level log, a subnet without logs) -----
  {
    key: 'shared-scheduler',
    name: 'batch-scheduler-sg',
    vpc: 'shared',
    description: 'Batch schedulers',
    story: 'Egress allow-all used to reach the workers on >= 10 ports of 20001-30000.',
    rules: [
      openEgress(
        used(
          'workers on tcp 20100-20139',
          ['narrow', 'keep'],
          ['- allow tcp ports 20001-30000 to batch-workers-sg (SG reference) or to 10.1.10.21, 10.1.10.22'],
        ),
      ),
    ],
    findings: [egressAllOpen(0)],
  },
  {
    key: 'shared-workers',
    name: 'batch-workers-sg',
    vpc: 'shared',
    description: 'Batch workers',
    story:
      'tcp 20000-30000 where 40 ports are used by 3 schedulers in one /24 (port-group + /24 recommendation, tcp-flags evidence).',
    rules: [
      ingress(
        tcp(20000, 30000),
        cidr('10.1.0.0/16'),
        used(
          'schedulers 10.1.10.5/.6/.7 on ports 20100-20139',
          ['narrow'],
          [
            '- allow tcp ports 20001-30000 from 10.1.10.0/24 (or from batch-scheduler-sg: the peers are exactly its ENIs)',
          ],
        ),
        'worker RPC range',
      ),
      ingress(tcp(22), cidr('10.1.30.0/24'), unused(`no SSH from the ops subnet; ${FULL}`), 'ops subnet'),
      openEgress(used('analytics DB 3306', ['narrow', 'keep'])),
    ],
    findings: [unusedRule(1), egressAllOpen(2)],
  },
  {
    key: 'shared-monitoring',
    name: 'monitoring-sg',
    vpc: 'shared',
    description: 'Grafana / Prometheus',
    story:
      'tcp 1-65535 from the world, used only on 443 and 3000 from the office /24; a customer prefix list rule.',
    rules: [
      ingress(
        tcp(1, 65535),
        WORLD,
        used(
          'only 443 and 3000 from 203.0.113.21-.24 (UDP scans are REJECTed)',
          ['narrow'],
          [
            '- allow tcp port 443 from 203.0.113.0/24 (or from pl-corp-office, which already admits it)',
            '- allow tcp port 3000 from 203.0.113.0/24',
          ],
        ),
        'temp: open for vendor debug',
      ),
      ingress(tcp(443), prefixList('corp-office'), used('office users on 443'), 'office via prefix list'),
      openEgress(
        used('scrapes app 9100 across the transit gateway; DynamoDB 443 from a container', [
          'narrow',
          'keep',
        ]),
      ),
    ],
    findings: [
      finding('all-ports-open', ['critical', 'high'], 0, 'tcp 1-65535 from 0.0.0.0/0'),
      egressAllOpen(2),
      blockedProbing('UDP scans refused (the rule admits TCP only)'),
    ],
  },
  {
    key: 'shared-dns',
    name: 'dns-forwarder-sg',
    vpc: 'shared',
    description: 'DNS forwarder',
    story: 'DNS-like UDP across the transit gateway; tcp 53 unused.',
    rules: [
      ingress(
        udp(53),
        cidr('10.0.0.0/8'),
        used(
          'app servers and the EKS node (3 in 10.0.10.0/24)',
          ['narrow'],
          ['- allow udp port 53 from 10.0.10.0/24', '- allow udp port 53 from 10.0.11.13'],
        ),
      ),
      ingress(tcp(53), cidr('10.0.0.0/8'), unused(`no DNS over TCP; ${FULL}`)),
      openEgress(
        used(
          'forwards to on-prem 10.100.0.2 udp 53',
          ['narrow', 'keep'],
          ['- allow udp port 53 to 10.100.0.2'],
        ),
      ),
    ],
    findings: [unusedRule(1), egressAllOpen(2)],
  },
  {
    key: 'shared-analytics-db',
    name: 'analytics-db-sg',
    vpc: 'shared',
    description: 'Analytics MySQL (RDS)',
    story:
      'Covered only by the Parquet flow log, which delivered nothing 2026-11-11 – 2026-11-12; no egress rules.',
    rules: [
      ingress(
        tcp(3306),
        cidr('10.1.10.0/24'),
        used(
          'workers 10.1.10.21 and 10.1.10.22 (read from Parquet); wider than its traffic, but with two days unproven it is kept as written for review, not narrowed',
          ['review', 'narrow', 'keep'],
          [
            '- keep tcp port 3306 from 10.1.10.0/24 as written (until every day is proven)',
            'once proven: allow tcp port 3306 from 10.1.10.21 and 10.1.10.22, or from batch-workers-sg',
          ],
        ),
      ),
      ingress(
        tcp(3306),
        cidr('10.1.30.0/24'),
        unknown(
          'the old reporting subnet: unseen on the five delivered days, but the Parquet log delivered nothing 2026-11-11 – 2026-11-12, so its use is unknown (gap named), never unused',
        ),
      ),
    ],
    findings: [],
  },
  {
    key: 'shared-ops',
    name: 'ops-rdp-sg',
    vpc: 'shared',
    description: 'Ops Windows jump host',
    story:
      'Covered by an ENI-level flow log created mid-window (partial): RDP used after creation, WinRM unknown.',
    rules: [
      ingress(
        tcp(3389),
        cidr('203.0.113.0/24'),
        used(
          'office RDP after the flow log was created; wider than its traffic, but the days before the log existed are unproven: review, not narrow',
          ['review', 'keep'],
        ),
        'office',
      ),
      ingress(
        tcp(5985),
        cidr('10.1.0.0/16'),
        unknown('no traffic, but coverage is partial (flow log created 2026-11-12T05:20Z)'),
        'WinRM',
      ),
      openEgress(
        used('Windows Update 443 (client ports 49152-65535); partial coverage: review, not narrow', [
          'review',
          'keep',
        ]),
      ),
    ],
    findings: [egressAllOpen(2)],
  },
  {
    key: 'shared-sftp',
    name: 'partner-sftp-sg',
    vpc: 'shared',
    description: 'Partner SFTP',
    story: 'In a subnet with no flow log at all: every rule unknown.',
    rules: [ingress(tcp(22), cidr('211.234.10.0/24'), NO_FLOW_LOG, 'partner'), openEgress(NO_FLOW_LOG)],
    findings: [egressAllOpen(1)],
  },
  {
    key: 'shared-default',
    name: 'default',
    vpc: 'shared',
    description: 'default VPC security group',
    isDefault: true,
    story: 'Default SG with the default rules but no ENIs (EC2.2 still fails).',
    rules: [ingress(ALL_TRAFFIC, sgRef('shared-default'), NO_ENIS), openEgress(NO_ENIS)],
    findings: [
      finding(
        'default-sg-has-rules',
        ['medium', 'low'],
        undefined,
        'EC2.2: the default SG must have no rules',
      ),
      egressAllOpen(1),
      membersOnlyAllTraffic(0),
    ],
  },

  // ----- legacy-vpc (REJECT-only VPC flow log) -----
  {
    key: 'legacy-all-open',
    name: 'legacy-all-open',
    vpc: 'legacy',
    description: 'launch-wizard-3',
    story: 'All traffic from the world; only a REJECT-only flow log: nothing can be known about use.',
    rules: [ingress(ALL_TRAFFIC, WORLD, REJECT_ONLY), openEgress(REJECT_ONLY)],
    findings: [finding('all-traffic-open', ['critical'], 0, 'protocol -1 from 0.0.0.0/0'), egressAllOpen(1)],
  },
  {
    key: 'legacy-mysql',
    name: 'legacy-mysql-sg',
    vpc: 'legacy',
    description: 'Legacy MySQL on EC2',
    story: '3306 from the world (EC2.19); REJECT records of scans on other ports are no evidence of use.',
    rules: [
      ingress(tcp(3306), WORLD, REJECT_ONLY),
      ingress(tcp(22), cidr('172.16.0.0/16'), REJECT_ONLY),
      openEgress(REJECT_ONLY),
    ],
    findings: [
      finding('sensitive-port-world', ['critical'], 0, '3306 from 0.0.0.0/0 (EC2.19)'),
      egressAllOpen(2),
      blockedProbing('scans on other ports refused (the REJECT-only log records them)'),
    ],
  },
  {
    key: 'legacy-jenkins',
    name: 'dev-jenkins-sg',
    vpc: 'legacy',
    description: 'Jenkins (dev)',
    story: 'tcp 0-65535 from the world (the seed rule for all ports).',
    rules: [ingress(tcp(0, 65535), WORLD, REJECT_ONLY), openEgress(REJECT_ONLY)],
    findings: [
      finding('all-ports-open', ['critical'], 0, 'tcp 0-65535 from 0.0.0.0/0'),
      egressAllOpen(1),
      blockedProbing('UDP scans refused (the rule admits TCP only)'),
    ],
  },
  {
    key: 'legacy-default',
    name: 'default',
    vpc: 'legacy',
    description: 'default VPC security group',
    isDefault: true,
    story: 'Default SG with no rules and no ENIs: compliant with EC2.2; no finding expected.',
    rules: [],
    findings: [],
  },
];

// ----- ENI builders: one per kind of resource; each ENI then says where it sits and what is its own -----

/**
 * Where an ENI sits, its SGs (none if absent) and what sets it apart from its kind;
 * `coverage` (default full), `note` and `otherTypes` go to EXPECTED.
 */
type EniPlace = Pick<EniSpec, 'key' | 'subnet' | 'ip'> &
  Partial<Omit<EniSpec, 'key' | 'subnet' | 'ip' | 'expected'>> & {
    readonly coverage?: Coverage;
    readonly note?: string;
    readonly otherTypes?: readonly ResourceType[];
  };

/** What every ENI of one kind shares. */
type EniKind = Omit<EniSpec, 'key' | 'subnet' | 'ip' | 'sgs' | 'status' | 'expected'>;

/** An ENI of a kind, placed; in use unless said, and with no SGs unless given. */
function eni(place: EniPlace, kind: EniKind, resource: { type: ResourceType; name: string }): EniSpec {
  const { coverage = 'full', note, otherTypes, ...own } = place;
  return {
    sgs: [],
    status: 'in-use',
    ...kind,
    ...own,
    expected: { ...resource, otherTypes, coverage, note },
  };
}

/** A public IP the account owns (an Elastic IP). */
const eip = (publicIp: string) => ({ publicIp, publicIpOwner: ACCOUNT_ID });

/** The ENI of an EC2 instance (its primary, device index 0). */
function instanceEni(place: EniPlace, name: string, platform: 'linux' | 'windows' = 'linux'): EniSpec {
  const kind: EniKind = {
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: { name, platform },
    clientPorts: platform,
  };
  return eni(place, kind, { type: 'ec2', name });
}

interface LoadBalancer {
  readonly type: 'app' | 'net' | 'gwy';
  readonly name: string;
  readonly id: string;
}
const WEB_ALB: LoadBalancer = { type: 'app', name: 'prod-web-alb', id: '5f3c9d2e1a7b4c60' };
const INGEST_NLB: LoadBalancer = { type: 'net', name: 'prod-ingest-nlb', id: '9a1b7c3d5e2f4a60' };
const INSPECTION_GWLB: LoadBalancer = { type: 'gwy', name: 'inspection-gwlb', id: '0c4e8a2f7b1d9e35' };
const LOAD_BALANCER_INTERFACE_TYPES = {
  app: 'interface',
  net: 'network_load_balancer',
  gwy: 'gateway_load_balancer',
} as const;

/** An ENI of a load balancer node: ALB ENIs are attached by amazon-elb, NLB and GWLB ones by amazon-aws. */
function loadBalancerEni(place: EniPlace, lb: LoadBalancer): EniSpec {
  const kind: EniKind = {
    interfaceType: LOAD_BALANCER_INTERFACE_TYPES[lb.type],
    description: `ELB ${lb.type}/${lb.name}/${lb.id}`,
    requesterId: 'amazon-elb',
    requesterManaged: true,
    serviceAttachmentOwner: lb.type === 'app' ? 'amazon-elb' : 'amazon-aws',
    clientPorts: 'any',
  };
  return eni(place, kind, { type: 'elb', name: lb.name });
}

/** The AWS accounts that request ENIs on the account's behalf (ECS, EKS, endpoints, transit gateway …). */
const ECS_ACCOUNT = '578734482556';
const EKS_ACCOUNT = '296578399912';
const VPC_ENDPOINT_ACCOUNT = '727180483921';
const TRANSIT_GATEWAY_ACCOUNT = '785130259531';

/** A Fargate task of the checkout service (awsvpc mode: one ENI per task). */
function ecsTaskEni(place: EniPlace, task: string): EniSpec {
  const kind: EniKind = {
    interfaceType: 'interface',
    description: SERVICE_IDS.ecsAttachmentArn(task),
    requesterId: ECS_ACCOUNT,
    requesterManaged: true,
    serviceAttachmentOwner: ECS_ACCOUNT,
    clientPorts: 'linux',
    tags: { 'aws:ecs:clusterName': 'prod-cluster', 'aws:ecs:serviceName': 'checkout' },
  };
  return eni(place, kind, { type: 'ecs', name: 'prod-cluster' });
}

/** A Hyperplane ENI of a VPC Lambda function (one per subnet and SG set). */
function lambdaEni(place: EniPlace, fn: string): EniSpec {
  const kind: EniKind = {
    interfaceType: 'lambda',
    description: `AWS Lambda VPC ENI-${fn}-${SERVICE_IDS.lambdaEniSuffix(place.subnet)}`,
    requesterId: `AROAQXZ4TLKEXAMPLE7B2:${fn}`,
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-aws',
    clientPorts: 'any',
  };
  return eni(place, kind, { type: 'lambda', name: fn });
}

/** A cross-account ENI of the EKS control plane (not requester-managed, as AWS shows it). */
function eksControlPlaneEni(place: EniPlace, cluster: string): EniSpec {
  const kind: EniKind = {
    interfaceType: 'interface',
    description: `Amazon EKS ${cluster}`,
    requesterId: EKS_ACCOUNT,
    requesterManaged: false,
    serviceAttachmentOwner: EKS_ACCOUNT,
    clientPorts: 'linux',
  };
  return eni(place, kind, { type: 'eks', name: cluster });
}

function vpcEndpointEni(place: EniPlace, endpoint: string): EniSpec {
  const kind: EniKind = {
    interfaceType: 'vpc_endpoint',
    description: `VPC Endpoint Interface ${endpoint}`,
    requesterId: VPC_ENDPOINT_ACCOUNT,
    requesterManaged: true,
    clientPorts: 'any',
  };
  return eni(place, kind, { type: 'vpc-endpoint', name: endpoint });
}

/** A transit gateway attachment's ENI: no SGs, and it forwards traffic it does not originate. */
function transitGatewayEni(place: EniPlace, attachment: string): EniSpec {
  const kind: EniKind = {
    interfaceType: 'transit_gateway',
    description: `Network Interface for Transit Gateway Attachment ${attachment}`,
    requesterId: TRANSIT_GATEWAY_ACCOUNT,
    requesterManaged: true,
    sourceDestCheck: false,
    clientPorts: 'any',
  };
  return eni(place, kind, { type: 'transit-gateway', name: attachment });
}

/** An RDS instance's ENI; its description never names the DB (hence the name is only a hint). */
function rdsEni(place: EniPlace, db: string): EniSpec {
  const kind: EniKind = {
    interfaceType: 'interface',
    description: 'RDSNetworkInterface',
    requesterId: 'amazon-rds',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-rds',
    clientPorts: 'linux',
  };
  return eni(place, kind, { type: 'rds', name: db });
}

function elastiCacheEni(place: EniPlace, node: string): EniSpec {
  const kind: EniKind = {
    interfaceType: 'interface',
    description: `ElastiCache ${node}`,
    requesterId: 'amazon-elasticache',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-elasticache',
    clientPorts: 'linux',
  };
  return eni(place, kind, { type: 'elasticache', name: node });
}

/** The ENI of one of the shared file system's mount targets. */
function efsMountTargetEni(place: EniPlace, mountTarget: string): EniSpec {
  const kind: EniKind = {
    interfaceType: 'efs',
    description: `EFS mount target for ${SERVICE_IDS.efsFileSystem} (${mountTarget})`,
    requesterId: 'amazon-elasticfilesystem',
    requesterManaged: true,
    clientPorts: 'linux',
  };
  return eni(place, kind, { type: 'efs', name: SERVICE_IDS.efsFileSystem });
}

export const NETWORK_INTERFACES: readonly EniSpec[] = [
  // ----- prod-vpc -----
  loadBalancerEni(
    {
      key: 'alb-a',
      subnet: 'prod-public-a',
      ip: '10.0.0.21',
      ipv6: ['2406:da12:7c1:a600::21'],
      publicIp: '3.34.112.61',
      publicIpOwner: 'amazon-elb',
      sgs: ['prod-alb'],
    },
    WEB_ALB,
  ),
  loadBalancerEni(
    {
      key: 'alb-c',
      subnet: 'prod-public-c',
      ip: '10.0.1.21',
      ipv6: ['2406:da12:7c1:a601::21'],
      publicIp: '43.200.17.205',
      publicIpOwner: 'amazon-elb',
      sgs: ['prod-alb'],
    },
    WEB_ALB,
  ),
  loadBalancerEni(
    {
      key: 'nlb-a',
      subnet: 'prod-public-a',
      ip: '10.0.0.31',
      ...eip('3.35.41.10'),
      sgs: ['prod-nlb'],
      flowAccountId: 'unknown',
      note: 'flow records show account-id "unknown" (AWS does this for some service ENIs)',
    },
    INGEST_NLB,
  ),
  loadBalancerEni(
    {
      key: 'nlb-c',
      subnet: 'prod-public-c',
      ip: '10.0.1.31',
      ...eip('3.35.41.11'),
      sgs: ['prod-nlb'],
      flowAccountId: 'unknown',
    },
    INGEST_NLB,
  ),
  eni(
    {
      key: 'nat-a',
      subnet: 'prod-public-a',
      ip: '10.0.0.220',
      ...eip('3.38.121.40'),
      note: 'no SGs; 4 records per connection',
    },
    {
      interfaceType: 'nat_gateway',
      description: `Interface for NAT Gateway ${SERVICE_IDS.natGateway}`,
      requesterId: 'amazon-vpc-nat',
      requesterManaged: true,
      sourceDestCheck: false,
      clientPorts: 'any',
    },
    { type: 'nat-gateway', name: SERVICE_IDS.natGateway },
  ),
  instanceEni(
    {
      key: 'bastion',
      subnet: 'prod-public-a',
      ip: '10.0.0.10',
      ipv6: ['2406:da12:7c1:a600::10'],
      ...eip('43.201.12.34'),
      sgs: ['prod-bastion'],
    },
    'prod-bastion',
  ),
  instanceEni(
    {
      key: 'vpn',
      subnet: 'prod-public-c',
      ip: '10.0.1.50',
      ...eip('3.39.88.21'),
      sgs: ['prod-vpn'],
      sourceDestCheck: false,
    },
    'prod-vpn-strongswan',
  ),
  instanceEni(
    {
      key: 'app-1',
      subnet: 'prod-app-a',
      ip: '10.0.10.11',
      secondaryIps: ['10.0.10.111'],
      sgs: ['prod-app'],
      note: 'has a secondary private IP',
    },
    'prod-app-1',
  ),
  instanceEni({ key: 'app-2', subnet: 'prod-app-a', ip: '10.0.10.12', sgs: ['prod-app'] }, 'prod-app-2'),
  instanceEni({ key: 'app-3', subnet: 'prod-app-c', ip: '10.0.11.13', sgs: ['prod-app'] }, 'prod-app-3'),
  instanceEni(
    { key: 'ingest-1', subnet: 'prod-app-a', ip: '10.0.10.41', sgs: ['prod-ingest'] },
    'prod-ingest-1',
  ),
  instanceEni(
    { key: 'ingest-2', subnet: 'prod-app-c', ip: '10.0.11.42', sgs: ['prod-ingest'] },
    'prod-ingest-2',
  ),
  ecsTaskEni({ key: 'ecs-task-1', subnet: 'prod-app-a', ip: '10.0.10.61', sgs: ['prod-ecs'] }, 'checkout-1'),
  ecsTaskEni({ key: 'ecs-task-2', subnet: 'prod-app-c', ip: '10.0.11.62', sgs: ['prod-ecs'] }, 'checkout-2'),
  lambdaEni(
    { key: 'lambda-a', subnet: 'prod-app-a', ip: '10.0.10.81', sgs: ['prod-lambda'] },
    'order-processor',
  ),
  lambdaEni(
    { key: 'lambda-c', subnet: 'prod-app-c', ip: '10.0.11.82', sgs: ['prod-lambda'] },
    'order-processor',
  ),
  eksControlPlaneEni(
    { key: 'eks-cp-a', subnet: 'prod-app-a', ip: '10.0.10.100', sgs: ['prod-eks-cluster'] },
    'prod-eks',
  ),
  eksControlPlaneEni(
    { key: 'eks-cp-c', subnet: 'prod-app-c', ip: '10.0.11.100', sgs: ['prod-eks-cluster'] },
    'prod-eks',
  ),
  instanceEni(
    {
      key: 'eks-node-1',
      subnet: 'prod-app-a',
      ip: '10.0.10.120',
      ipv4Prefixes: ['10.0.10.176/28'],
      sgs: ['prod-eks-cluster'],
      tags: { 'eks:nodegroup-name': 'general', 'eks:cluster-name': 'prod-eks' },
      otherTypes: ['eks'],
      note: 'EKS worker node (EC2)',
    },
    'prod-eks-ng-general-node-1',
  ),
  eni(
    {
      key: 'eks-trunk',
      subnet: 'prod-app-a',
      ip: '10.0.10.121',
      sgs: ['prod-eks-cluster'],
      otherTypes: ['ec2'],
      note: 'trunk ENI (security groups for pods) attached to the node: eks or ec2; NODATA only',
    },
    {
      interfaceType: 'trunk',
      description: 'aws-k8s-trunk-eni',
      requesterManaged: false,
      instance: { name: 'prod-eks-ng-general-node-1', platform: 'linux', deviceIndex: 1 },
      clientPorts: 'linux',
      tags: { 'eks:eni:owner': 'eks-vpc-resource-controller', 'kubernetes.io/cluster/prod-eks': 'owned' },
    },
    { type: 'eks', name: 'prod-eks' },
  ),
  eni(
    {
      key: 'eks-branch',
      subnet: 'prod-app-a',
      ip: '10.0.10.130',
      sgs: ['prod-eks-pods'],
      note: 'branch ENI of a pod',
    },
    {
      interfaceType: 'branch',
      description: 'aws-k8s-branch-eni',
      requesterId: EKS_ACCOUNT,
      requesterManaged: true,
      clientPorts: 'linux',
      tags: {
        'eks:eni:owner': 'eks-vpc-resource-controller',
        'kubernetes.io/cluster/prod-eks': 'owned',
        'vpcresources.k8s.aws/trunk-eni-id': eniIdOf('eks-trunk'),
      },
    },
    { type: 'eks', name: 'prod-eks' },
  ),
  vpcEndpointEni(
    {
      key: 'vpce-a',
      subnet: 'prod-app-a',
      ip: '10.0.10.201',
      sgs: ['prod-vpce'],
      note: 'com.amazonaws.ap-northeast-2.secretsmanager',
    },
    SERVICE_IDS.vpcEndpoint,
  ),
  vpcEndpointEni(
    { key: 'vpce-c', subnet: 'prod-app-c', ip: '10.0.11.201', sgs: ['prod-vpce'] },
    SERVICE_IDS.vpcEndpoint,
  ),
  eni(
    { key: 'apigw', subnet: 'prod-app-a', ip: '10.0.10.210', sgs: ['prod-apigw'] },
    {
      interfaceType: 'api_gateway_managed',
      description: 'VPC Link ENI for API Gateway vpclink-3k9x2a',
      requesterId: '392220576650',
      requesterManaged: true,
      clientPorts: 'any',
    },
    { type: 'api-gateway', name: 'vpclink-3k9x2a' },
  ),
  transitGatewayEni(
    { key: 'tgw-prod', subnet: 'prod-app-a', ip: '10.0.10.250', note: 'no SGs; pass-through records' },
    SERVICE_IDS.tgwAttachmentProd,
  ),
  instanceEni(
    {
      key: 'legacy-cron',
      subnet: 'prod-app-c',
      ip: '10.0.11.20',
      sgs: ['prod-default'],
      note: 'uses the default SG',
    },
    'legacy-cron',
  ),
  eni(
    {
      key: 'floating',
      subnet: 'prod-app-c',
      ip: '10.0.11.250',
      sgs: ['prod-default'],
      status: 'available',
      tags: { Name: 'license-floating' },
      note: 'detached (available): no records',
    },
    {
      interfaceType: 'interface',
      description: 'license-server floating ENI',
      requesterManaged: false,
      clientPorts: 'linux',
    },
    { type: 'other', name: 'license-floating' },
  ),
  rdsEni(
    {
      key: 'rds-primary',
      subnet: 'prod-data-a',
      ip: '10.0.20.15',
      sgs: ['prod-db'],
      note: 'primary; the DB identifier is not in the ENI (needs DescribeDBInstances): any name is acceptable',
    },
    'prod-orders-db',
  ),
  rdsEni(
    {
      key: 'rds-standby',
      subnet: 'prod-data-c',
      ip: '10.0.21.15',
      sgs: ['prod-db'],
      note: 'Multi-AZ standby: NODATA records only; any name is acceptable',
    },
    'prod-orders-db',
  ),
  elastiCacheEni(
    { key: 'redis-1', subnet: 'prod-data-a', ip: '10.0.20.30', sgs: ['prod-redis'] },
    'prod-redis-001',
  ),
  elastiCacheEni(
    { key: 'redis-2', subnet: 'prod-data-c', ip: '10.0.21.30', sgs: ['prod-redis'] },
    'prod-redis-002',
  ),
  efsMountTargetEni(
    { key: 'efs-a', subnet: 'prod-data-a', ip: '10.0.20.40', sgs: ['prod-efs'] },
    SERVICE_IDS.efsMountTargetA,
  ),
  efsMountTargetEni(
    { key: 'efs-c', subnet: 'prod-data-c', ip: '10.0.21.40', sgs: ['prod-efs'] },
    SERVICE_IDS.efsMountTargetC,
  ),

  // ----- shared-services-vpc -----
  ...[5, 6, 7].map((octet, i) =>
    instanceEni(
      {
        key: `scheduler-${i + 1}`,
        subnet: 'shared-app-a',
        ip: `10.1.10.${octet}`,
        sgs: ['shared-scheduler'],
      },
      `batch-scheduler-${i + 1}`,
    ),
  ),
  ...[21, 22].map((octet, i) =>
    instanceEni(
      { key: `worker-${i + 1}`, subnet: 'shared-app-a', ip: `10.1.10.${octet}`, sgs: ['shared-workers'] },
      `batch-worker-${i + 1}`,
    ),
  ),
  instanceEni(
    {
      key: 'monitoring',
      subnet: 'shared-app-a',
      ip: '10.1.10.50',
      secondaryIps: [CONTAINER_IP],
      note: 'a container (alert state in DynamoDB) uses its secondary IP',
      ...eip('3.36.77.12'),
      sgs: ['shared-monitoring'],
    },
    'monitoring',
  ),
  instanceEni({ key: 'dns', subnet: 'shared-app-a', ip: '10.1.10.53', sgs: ['shared-dns'] }, 'dns-forwarder'),
  transitGatewayEni(
    { key: 'tgw-shared', subnet: 'shared-app-a', ip: '10.1.10.250' },
    SERVICE_IDS.tgwAttachmentShared,
  ),
  rdsEni(
    {
      key: 'analytics-db',
      subnet: 'shared-data-a',
      ip: '10.1.20.10',
      sgs: ['shared-analytics-db'],
      coverage: 'partial',
      note: 'covered by the Parquet flow log, which delivered nothing 2026-11-11 – 2026-11-12 (delivery gap); any name is acceptable',
    },
    'analytics-mysql',
  ),
  instanceEni(
    {
      key: 'ops-win',
      subnet: 'shared-mgmt-a',
      ip: '10.1.30.10',
      ...eip('3.37.5.60'),
      sgs: ['shared-ops'],
      coverage: 'partial',
      note: 'ENI-level flow log created 2026-11-12T05:20:00Z',
    },
    'ops-jump-win',
    'windows',
  ),
  loadBalancerEni(
    { key: 'gwlb', subnet: 'shared-edge-a', ip: '10.1.40.100', sourceDestCheck: false, coverage: 'none' },
    INSPECTION_GWLB,
  ),
  instanceEni(
    {
      key: 'sftp',
      subnet: 'shared-edge-a',
      ip: '10.1.40.20',
      ...eip('3.37.200.9'),
      sgs: ['shared-sftp'],
      coverage: 'none',
      note: 'subnet without any flow log',
    },
    'partner-sftp',
  ),

  // ----- legacy-vpc (auto-assigned public IPs, owned by amazon) -----
  instanceEni(
    {
      key: 'legacy-erp',
      subnet: 'legacy-public-a',
      ip: '172.16.0.10',
      publicIp: '13.125.40.7',
      publicIpOwner: 'amazon',
      sgs: ['legacy-all-open'],
      coverage: 'reject-only',
    },
    'legacy-erp',
    'windows',
  ),
  instanceEni(
    {
      key: 'legacy-db',
      subnet: 'legacy-public-a',
      ip: '172.16.0.20',
      publicIp: '13.125.40.8',
      publicIpOwner: 'amazon',
      sgs: ['legacy-mysql'],
      coverage: 'reject-only',
    },
    'legacy-mysql',
  ),
  instanceEni(
    {
      key: 'jenkins',
      subnet: 'legacy-public-a',
      ip: '172.16.0.30',
      publicIp: '13.125.40.9',
      publicIpOwner: 'amazon',
      sgs: ['legacy-jenkins'],
      coverage: 'reject-only',
    },
    'dev-jenkins',
  ),
];

const CENTRAL_BUCKET = 'acme-central-flowlogs-123456789012';

/** A flow log to S3; unless said: ALL traffic, the default format, plain text, no partitioning options. */
function s3FlowLog(
  spec: Omit<
    FlowLogSpec,
    'trafficType' | 'fields' | 'isDefaultFormat' | 'fileFormat' | 'hivePartitions' | 'perHourPartition'
  > &
    Partial<FlowLogSpec>,
): FlowLogSpec {
  const fields = spec.fields ?? DEFAULT_FORMAT_FIELDS;
  return {
    trafficType: 'ALL',
    fields,
    isDefaultFormat: fields === DEFAULT_FORMAT_FIELDS,
    fileFormat: 'plain-text',
    hivePartitions: false,
    perHourPartition: false,
    ...spec,
  };
}

export const FLOW_LOGS: readonly FlowLogSpec[] = [
  s3FlowLog({
    key: 'prod-vpc',
    name: 'prod-vpc-flowlogs',
    scope: 'vpc',
    resource: 'prod',
    bucket: CENTRAL_BUCKET,
    maxAggregationInterval: 600,
    created: '2025-03-04T02:11:45.000Z',
    story: 'VPC-level, default format, ALL, created long before the window: full coverage, no tcp-flags.',
  }),
  s3FlowLog({
    key: 'shared-app-subnet',
    name: 'shared-app-subnet-flowlogs',
    scope: 'subnet',
    resource: 'shared-app-a',
    fields: SERVICE_FORMAT_FIELDS,
    bucket: CENTRAL_BUCKET,
    prefix: 'shared-services',
    maxAggregationInterval: 60,
    created: '2025-09-18T07:42:10.000Z',
    story:
      'Subnet-level custom v5 format (non-default order) with tcp-flags, pkt-srcaddr/pkt-dstaddr (a container on a secondary address of the monitoring instance), pkt-src/dst-aws-service (DynamoDB), flow-direction, traffic-path.',
  }),
  s3FlowLog({
    key: 'shared-data-subnet',
    name: 'shared-data-subnet-parquet',
    scope: 'subnet',
    resource: 'shared-data-a',
    bucket: 'acme-analytics-flowlogs',
    fileFormat: 'parquet',
    hivePartitions: true,
    perHourPartition: true,
    maxAggregationInterval: 600,
    created: '2026-02-10T01:05:33.000Z',
    deliveryGap: { from: '2026-11-11', to: '2026-11-12' },
    story:
      'Subnet-level, Parquet, Hive-compatible partitions per hour; no objects 2026-11-11 – 2026-11-12 (a delivery gap): its ENI is partial and its unseen rule unknown, never unused.',
  }),
  s3FlowLog({
    key: 'ops-eni',
    name: 'ops-jump-eni-flowlog',
    scope: 'eni',
    resource: 'ops-win',
    bucket: CENTRAL_BUCKET,
    prefix: 'eni-logs',
    maxAggregationInterval: 60,
    created: '2026-11-12T05:20:00.000Z',
    story: 'ENI-level log created mid-window: partial coverage.',
  }),
  s3FlowLog({
    key: 'legacy-vpc',
    name: 'legacy-vpc-rejects',
    scope: 'vpc',
    resource: 'legacy',
    trafficType: 'REJECT',
    bucket: 'acme-legacy-logs',
    prefix: 'vpc',
    maxAggregationInterval: 600,
    created: '2024-11-20T09:30:00.000Z',
    story: 'REJECT-only VPC log: proves nothing about use.',
  }),
];

type NaclEntry = NaclSpec['entries'][number];

const naclAll = (
  ruleNumber: number,
  isEgress: boolean,
  action: NaclEntry['action'],
  cidr: string,
): NaclEntry => ({
  ruleNumber,
  egress: isEgress,
  protocol: '-1',
  action,
  cidr,
});
const naclAllowTcp = (
  ruleNumber: number,
  isEgress: boolean,
  cidr: string,
  from: number,
  to = from,
): NaclEntry => ({
  ruleNumber,
  egress: isEgress,
  protocol: '6',
  action: 'allow',
  cidr,
  ports: [from, to],
});

/** A default NACL's entries: allow everything (IPv4, and IPv6 where the VPC has it), then the final deny. */
const defaultNaclEntries = (ipv6: boolean): NaclEntry[] =>
  [false, true].flatMap((isEgress) => [
    naclAll(100, isEgress, 'allow', '0.0.0.0/0'),
    ...(ipv6 ? [naclAll(101, isEgress, 'allow', '::/0')] : []),
    naclAll(32767, isEgress, 'deny', '0.0.0.0/0'),
  ]);

export const NETWORK_ACLS: readonly NaclSpec[] = [
  {
    key: 'prod-default',
    vpc: 'prod',
    isDefault: true,
    subnets: ['prod-public-a', 'prod-public-c', 'prod-app-a', 'prod-app-c'],
    entries: defaultNaclEntries(true),
  },
  {
    key: 'prod-data',
    vpc: 'prod',
    isDefault: false,
    subnets: ['prod-data-a', 'prod-data-c'],
    entries: [
      naclAllowTcp(100, false, '10.0.10.0/23', 5432),
      naclAllowTcp(110, false, '10.0.10.0/23', 6379),
      naclAllowTcp(120, false, '10.0.10.0/23', 2049),
      naclAll(130, false, 'allow', '10.0.20.0/23'),
      naclAll(32767, false, 'deny', '0.0.0.0/0'),
      naclAllowTcp(100, true, '10.0.10.0/23', 1024, 65535),
      naclAll(130, true, 'allow', '10.0.20.0/23'),
      naclAll(32767, true, 'deny', '0.0.0.0/0'),
    ],
  },
  {
    key: 'shared-default',
    vpc: 'shared',
    isDefault: true,
    subnets: ['shared-app-a', 'shared-data-a', 'shared-mgmt-a', 'shared-edge-a'],
    entries: defaultNaclEntries(false),
  },
  {
    key: 'legacy-default',
    vpc: 'legacy',
    isDefault: true,
    subnets: ['legacy-public-a', 'legacy-private-a'],
    entries: defaultNaclEntries(false),
  },
];

/** Ids of declared resources (stable, derived from keys). */
export const vpcIdOf = (key: string): string => awsId('vpc', key);
export const subnetIdOf = (key: string): string => awsId('subnet', key);
export const sgIdOf = (key: string): string => awsId('sg', key);
export const instanceIdOf = (name: string): string => awsId('i', name);
/**
 * How the flow logs write their objects: as each one is designed, or (`v5-text`, the scale
 * benchmark's account) every one in the custom v5 format with tcp-flags, as gzip text without
 * partitioning options: realistic client ports and flags in every record, and files a plain
 * read_csv reads.
 */
export type FlowLogFormats = 'as-designed' | 'v5-text';

/** A flow log as it writes under `formats`. */
export function formattedFlowLog(log: FlowLogSpec, formats: FlowLogFormats): FlowLogSpec {
  if (formats === 'as-designed') return log;
  return {
    ...log,
    fields: CUSTOM_FORMAT_FIELDS,
    isDefaultFormat: false,
    fileFormat: 'plain-text',
    hivePartitions: false,
    perHourPartition: false,
  };
}

export const flowLogIdOf = (key: string): string => awsId('fl', key);
export const naclIdOf = (key: string): string => awsId('acl', key);

function indexBy<T extends { readonly key: string }>(items: readonly T[], what: string): (key: string) => T {
  const byKey = new Map(items.map((item) => [item.key, item]));
  return (key) => {
    const item = byKey.get(key);
    if (item === undefined) throw new Error(`sample account: unknown ${what} '${key}'`);
    return item;
  };
}

export const vpcSpec = indexBy(VPCS, 'VPC');
export const subnetSpec = indexBy(SUBNETS, 'subnet');
export const sgSpec = indexBy(SECURITY_GROUPS, 'security group');
export const eniSpec = indexBy(NETWORK_INTERFACES, 'ENI');
export const prefixListSpec = indexBy(PREFIX_LISTS, 'prefix list');

/** The peer of a rule as the report writes it: a CIDR, sg-… or pl-…. */
export function peerText(peer: PeerSpec): string {
  if (peer.kind === 'cidr') return peer.cidr;
  if (peer.kind === 'sg') return sgIdOf(peer.sg);
  return prefixListSpec(peer.pl).id;
}

/** The flow log that records an ENI (ENI level, else subnet, else VPC), if any. */
export function flowLogOf(eni: EniSpec): FlowLogSpec | undefined {
  if (flowLogCache.has(eni.key)) return flowLogCache.get(eni.key);
  const subnet = subnetSpec(eni.subnet);
  const found =
    FLOW_LOGS.find((log) => log.scope === 'eni' && log.resource === eni.key) ??
    FLOW_LOGS.find((log) => log.scope === 'subnet' && log.resource === eni.subnet) ??
    FLOW_LOGS.find((log) => log.scope === 'vpc' && log.resource === subnet.vpc);
  flowLogCache.set(eni.key, found);
  return found;
}

const flowLogCache = new Map<string, FlowLogSpec | undefined>();
