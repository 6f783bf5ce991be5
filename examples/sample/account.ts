/**
 * The sample account, declared once: VPCs, subnets, security groups (with what each rule is meant
 * to show), ENIs of every resource type, prefix lists, NACLs and flow logs. The AWS CLI JSON, the
 * traffic and the EXPECTED manifest are all derived from these declarations, so they cannot drift.
 *
 * The inventory does not depend on the seed or the scale: only traffic does.
 */
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

export const DEFAULT_FORMAT_FIELDS: readonly string[] = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
];

/** A custom (v5) format in a non-default order, with tcp-flags, packet addresses and direction. */
export const CUSTOM_FORMAT_FIELDS: readonly string[] = [
  'version',
  'account-id',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'interface-id',
  'flow-direction',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'protocol',
  'tcp-flags',
  'type',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  'traffic-path',
];

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

export const VPCS: readonly VpcSpec[] = [
  { key: 'prod', name: 'prod-vpc', cidr: '10.0.0.0/16', ipv6Cidr: '2406:da12:7c1:a600::/56' },
  { key: 'shared', name: 'shared-services-vpc', cidr: '10.1.0.0/16' },
  { key: 'legacy', name: 'legacy-vpc', cidr: '172.16.0.0/16' },
];

export const SUBNETS: readonly SubnetSpec[] = [
  {
    key: 'prod-public-a',
    name: 'prod-public-a',
    vpc: 'prod',
    cidr: '10.0.0.0/24',
    ipv6Cidr: '2406:da12:7c1:a600::/64',
    az: 'a',
    tier: 'public',
  },
  {
    key: 'prod-public-c',
    name: 'prod-public-c',
    vpc: 'prod',
    cidr: '10.0.1.0/24',
    ipv6Cidr: '2406:da12:7c1:a601::/64',
    az: 'c',
    tier: 'public',
  },
  { key: 'prod-app-a', name: 'prod-app-a', vpc: 'prod', cidr: '10.0.10.0/24', az: 'a', tier: 'private' },
  { key: 'prod-app-c', name: 'prod-app-c', vpc: 'prod', cidr: '10.0.11.0/24', az: 'c', tier: 'private' },
  { key: 'prod-data-a', name: 'prod-data-a', vpc: 'prod', cidr: '10.0.20.0/24', az: 'a', tier: 'private' },
  { key: 'prod-data-c', name: 'prod-data-c', vpc: 'prod', cidr: '10.0.21.0/24', az: 'c', tier: 'private' },
  {
    key: 'shared-app-a',
    name: 'shared-app-a',
    vpc: 'shared',
    cidr: '10.1.10.0/24',
    az: 'a',
    tier: 'private',
  },
  {
    key: 'shared-data-a',
    name: 'shared-data-a',
    vpc: 'shared',
    cidr: '10.1.20.0/24',
    az: 'a',
    tier: 'private',
  },
  {
    key: 'shared-mgmt-a',
    name: 'shared-mgmt-a',
    vpc: 'shared',
    cidr: '10.1.30.0/24',
    az: 'a',
    tier: 'public',
  },
  {
    key: 'shared-edge-a',
    name: 'shared-edge-a',
    vpc: 'shared',
    cidr: '10.1.40.0/24',
    az: 'a',
    tier: 'public',
  },
  {
    key: 'legacy-public-a',
    name: 'legacy-public-a',
    vpc: 'legacy',
    cidr: '172.16.0.0/24',
    az: 'a',
    tier: 'public',
  },
  {
    key: 'legacy-private-a',
    name: 'legacy-private-a',
    vpc: 'legacy',
    cidr: '172.16.10.0/24',
    az: 'a',
    tier: 'private',
  },
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
      { cidr: '3.5.140.0/22' },
      { cidr: '52.92.0.0/20' },
      { cidr: '52.219.56.0/22' },
      { cidr: '52.219.60.0/23' },
      { cidr: '52.219.144.0/22' },
      { cidr: '52.219.148.0/23' },
      { cidr: '52.219.180.0/22' },
      { cidr: '52.219.184.0/21' },
      { cidr: '52.219.202.0/23' },
      { cidr: '52.219.204.0/22' },
    ],
  },
];

const cidr = (value: string): PeerSpec => ({ kind: 'cidr', cidr: value });
const sgRef = (key: string): PeerSpec => ({ kind: 'sg', sg: key });
const prefixList = (key: string): PeerSpec => ({ kind: 'pl', pl: key });

const used = (why: string, verdicts: readonly RuleVerdict[] = ['keep'], recommend?: readonly string[]) =>
  ({ status: 'used', verdicts, why, recommend }) as const;
const unused = (why: string, verdicts: readonly RuleVerdict[] = ['remove']) =>
  ({ status: 'unused', verdicts, why }) as const;
const unknown = (why: string, verdicts: readonly RuleVerdict[] = ['review']) =>
  ({ status: 'unknown', verdicts, why }) as const;

const FULL = 'its ENIs are covered by an ACCEPT/ALL flow log for the whole window';

export const SECURITY_GROUPS: readonly SgSpec[] = [
  // ----- prod-vpc (VPC-level default-format flow log: full coverage) -----
  {
    key: 'prod-alb',
    name: 'prod-web-alb-sg',
    vpc: 'prod',
    description: 'Public ALB for www',
    story: 'Public ALB: 80/443 from 0.0.0.0/0 and ::/0 are expected; ::/0 port 80 is never used.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: cidr('0.0.0.0/0'),
        description: 'HTTPS from anywhere',
        expect: used(
          'web clients (hundreds of /32s) and the API Gateway VPC link; expected for a public ALB',
          ['keep', 'narrow', 'review'],
          ['keep 0.0.0.0/0 (public web); if narrowed, > 60 peers force quota compaction'],
        ),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: cidr('::/0'),
        description: 'HTTPS from anywhere (IPv6)',
        expect: used('IPv6 web clients', ['keep', 'narrow', 'review']),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 80,
        toPort: 80,
        peer: cidr('0.0.0.0/0'),
        description: 'HTTP redirect',
        expect: used('a few clients hit the HTTP->HTTPS redirect', ['keep', 'narrow', 'review']),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 80,
        toPort: 80,
        peer: cidr('::/0'),
        description: 'HTTP redirect (IPv6)',
        expect: unused(`no IPv6 client ever uses port 80; ${FULL}`, ['remove', 'review']),
      },
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 8080,
        toPort: 8080,
        peer: sgRef('prod-app'),
        expect: used('ALB -> app targets on 8080'),
      },
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 9000,
        toPort: 9000,
        peer: sgRef('prod-ecs'),
        expect: used('ALB -> ECS tasks on 9000'),
      },
    ],
    findings: [
      {
        check: 'world-open-web',
        severities: ['info', 'low'],
        rule: 0,
        why: '443 from the world on ELB ENIs: expected, not high',
      },
      { check: 'world-open-web', severities: ['info', 'low'], rule: 1, why: '443 from ::/0 on ELB ENIs' },
      { check: 'world-open-web', severities: ['info', 'low'], rule: 2, why: '80 from the world on ELB ENIs' },
      { check: 'world-open-web', severities: ['info', 'low'], rule: 3, why: '80 from ::/0 on ELB ENIs' },
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
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 8080,
        toPort: 8080,
        peer: sgRef('prod-alb'),
        description: 'from ALB',
        expect: used('ALB targets; ALB client ports are 1024-65535 (no tcp-flags in the default format)'),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: sgRef('prod-bastion'),
        description: 'SSH from bastion',
        expect: used('bastion SSH sessions'),
      },
      {
        direction: 'ingress',
        protocol: 'icmp',
        fromPort: -1,
        toPort: -1,
        peer: sgRef('prod-bastion'),
        description: 'ping from bastion',
        expect: used('ICMP echo from the bastion'),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 9100,
        toPort: 9100,
        peer: cidr('10.1.0.0/16'),
        description: 'Prometheus node exporter (shared-services)',
        expect: used(
          'only 10.1.10.50 (monitoring, via transit gateway) scrapes it',
          ['narrow'],
          ['- allow tcp port 9100 from 10.1.10.50'],
        ),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 8443,
        toPort: 8443,
        peer: cidr('10.0.0.0/8'),
        description: 'legacy admin console',
        expect: unused(`no traffic on 8443; ${FULL}`),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used(
          'db 5432, redis 6379, EFS 2049, endpoint 443, DNS udp 53 (TGW), internet 443 (NAT)',
          ['narrow', 'keep'],
          [
            '- allow tcp port 443 to 211.115.106.0/24',
            '- allow tcp port 5432 to 10.0.20.15 (10.0.20.0/24 if /24 summarisation counts peers across ports)',
            '- allow udp port 53 to 10.1.10.53',
            'SG references to prod-redis-sg / prod-efs-sg / prod-vpce-sg (peers are exactly their ENIs)',
          ],
        ),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('::/0'),
        expect: unknown(
          'no IPv6 traffic seen, but an all-traffic egress rule may carry what flow logs never record (VPC resolver, metadata, NTP)',
        ),
      },
    ],
    findings: [
      {
        check: 'egress-all-open',
        severities: ['info', 'low'],
        rule: 5,
        why: 'egress allow-all is normal, not critical',
      },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 6, why: 'egress allow-all (IPv6)' },
      {
        check: 'unused-rule',
        severities: ['low', 'info'],
        rule: 4,
        why: '8443 never used under full coverage',
      },
    ],
  },
  {
    key: 'prod-db',
    name: 'prod-db-sg',
    vpc: 'prod',
    description: 'PostgreSQL (RDS)',
    story:
      'RDS: SG refs with UserId (app, lambda, and an SG that has no ENIs), and 5432 open to 52.0.0.0/8 (very wide public, unused).',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        peer: sgRef('prod-app'),
        description: 'from app',
        expect: used('app connection pools to the primary'),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        peer: sgRef('prod-lambda'),
        description: 'from lambda',
        expect: used('Lambda functions (client ports 1024-65535)'),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        peer: sgRef('prod-legacy-admin'),
        description: 'from legacy admin hosts',
        expect: unknown('the referenced SG has no ENIs in the inventory: nothing can match it today', [
          'review',
          'remove',
        ]),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        peer: cidr('52.0.0.0/8'),
        description: 'vendor analytics (temporary)',
        expect: unused(`no traffic from 52.0.0.0/8; ${FULL}`),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown(
          'RDS never initiates connections, but an all-traffic egress rule may carry what flow logs never record (VPC resolver, metadata, NTP)',
        ),
      },
    ],
    findings: [
      {
        check: 'sensitive-port-wide-public',
        severities: ['high', 'critical'],
        rule: 3,
        why: '5432 (EC2.19) to a /8 public CIDR',
      },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 4, why: 'egress allow-all' },
      { check: 'unused-rule', severities: ['low', 'info'], rule: 3, why: 'no traffic under full coverage' },
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
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: cidr('0.0.0.0/0'),
        description: 'SSH',
        expect: used(
          'admins from 203.0.113.10/.11/.12/.45 and 198.51.100.7 only',
          ['narrow'],
          ['- allow tcp port 22 from 203.0.113.0/24', '- allow tcp port 22 from 198.51.100.7'],
        ),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 3389,
        toPort: 3389,
        peer: cidr('::/0'),
        description: 'RDP (old Windows jump host)',
        expect: unused(`no IPv6 RDP; scans on v4 3389 are REJECTed and prove nothing; ${FULL}`),
      },
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: sgRef('prod-app'),
        expect: used('bastion -> app SSH'),
      },
      {
        direction: 'egress',
        protocol: 'icmp',
        fromPort: -1,
        toPort: -1,
        peer: sgRef('prod-app'),
        expect: used('ping to app servers'),
      },
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: cidr('0.0.0.0/0'),
        expect: used('package mirrors only', ['narrow', 'keep']),
      },
    ],
    findings: [
      {
        check: 'sensitive-port-world',
        severities: ['critical'],
        rule: 0,
        why: '22 from 0.0.0.0/0 (EC2.19, EC2.13)',
      },
      {
        check: 'sensitive-port-world',
        severities: ['critical'],
        rule: 1,
        why: '3389 from ::/0 (EC2.19, EC2.14)',
      },
      { check: 'unused-rule', severities: ['low', 'info'], rule: 1, why: 'unused under full coverage' },
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
      {
        direction: 'ingress',
        protocol: '-1',
        peer: sgRef('prod-default'),
        expect: unused(`no traffic between members; ${FULL}`),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used('legacy-cron -> internet 443 via NAT', ['narrow', 'keep']),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('::/0'),
        expect: unknown(
          'no IPv6 traffic seen, but an all-traffic egress rule may carry what flow logs never record (VPC resolver, metadata, NTP)',
        ),
      },
    ],
    findings: [
      {
        check: 'default-sg-in-use',
        severities: ['high', 'medium'],
        why: 'EC2.2: default SG has ENIs and rules',
      },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 2, why: 'egress allow-all (IPv6)' },
      {
        check: 'all-traffic-open',
        severities: ['low', 'info'],
        rule: 0,
        why: 'all traffic, but only from members of an SG',
      },
    ],
  },
  {
    key: 'prod-lambda',
    name: 'prod-lambda-sg',
    vpc: 'prod',
    description: 'VPC Lambda functions',
    story: 'Lambda ENIs: egress to an AWS-managed prefix list (S3), the world on 443, and an SG reference.',
    rules: [
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: prefixList('s3'),
        description: 'S3 gateway endpoint',
        expect: used('S3 via the gateway endpoint (destinations inside the prefix list)'),
      },
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: cidr('0.0.0.0/0'),
        expect: used('internet APIs via NAT, S3 and the interface endpoint also match', ['narrow', 'keep']),
      },
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        peer: sgRef('prod-db'),
        expect: used('functions query the database'),
      },
    ],
    findings: [],
  },
  {
    key: 'prod-vpce',
    name: 'prod-vpce-sg',
    vpc: 'prod',
    description: 'Interface endpoints',
    story: 'Interface endpoint with 443 from 0.0.0.0/0 (expected), used only from inside the VPC.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: cidr('0.0.0.0/0'),
        expect: used(
          'app servers and Lambda ENIs (3 in 10.0.10.0/24 -> /24)',
          ['narrow', 'keep'],
          [
            '- allow tcp port 443 from 10.0.10.0/24',
            '- allow tcp port 443 from 10.0.11.13',
            '- allow tcp port 443 from 10.0.11.82',
          ],
        ),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown(
          'endpoints never initiate, but an all-traffic egress rule may carry what flow logs never record (VPC resolver, metadata, NTP)',
        ),
      },
    ],
    findings: [
      {
        check: 'world-open-web',
        severities: ['info', 'low'],
        rule: 0,
        why: '443 from the world on endpoint ENIs is expected',
      },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' },
    ],
  },
  {
    key: 'prod-apigw',
    name: 'prod-apigw-vpclink-sg',
    vpc: 'prod',
    description: 'API Gateway VPC link',
    story:
      'API Gateway managed ENI: 443 from the world (expected) but the link only connects out, to the ALB.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: cidr('0.0.0.0/0'),
        expect: unused(`nothing connects to the VPC link ENI; ${FULL}`, ['remove', 'review']),
      },
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: cidr('10.0.0.0/16'),
        expect: used(
          'VPC link -> ALB 443; peers are exactly the ENIs of prod-web-alb-sg',
          ['narrow'],
          ['- allow tcp port 443 to prod-web-alb-sg (SG reference), or to 10.0.0.21 and 10.0.1.21'],
        ),
      },
    ],
    findings: [
      {
        check: 'world-open-web',
        severities: ['info', 'low'],
        rule: 0,
        why: '443 from the world on an API Gateway ENI is expected',
      },
    ],
  },
  {
    key: 'prod-nlb',
    name: 'prod-ingest-nlb-sg',
    vpc: 'prod',
    description: 'Ingest NLB',
    story:
      '0.0.0.0/0 with a port range (the seed rule) on an NLB; clients come from a few carrier /24s (-> /24 recommendations).',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 8000,
        toPort: 8100,
        peer: cidr('0.0.0.0/0'),
        description: 'ingest ports',
        expect: used(
          'ports 8001-8004 only, from 175.223.10.0/24, 211.246.68.0/24, 39.7.24.0/24 and 2 singles',
          ['narrow'],
          [
            '- allow tcp ports 8001~8004 from 175.223.10.0/24',
            '- allow tcp ports 8001~8004 from 211.246.68.0/24',
            '- allow tcp ports 8001~8004 from 39.7.24.0/24',
          ],
        ),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used(
          'NLB -> ingest targets 8001-8004',
          ['narrow', 'keep'],
          ['- allow tcp ports 8001~8004 to prod-ingest-sg (SG reference)'],
        ),
      },
    ],
    findings: [
      { check: 'world-port-range', severities: ['high', 'medium'], rule: 0, why: '0.0.0.0/0 with 8000-8100' },
      {
        check: 'sensitive-port-world',
        severities: ['critical', 'high'],
        rule: 0,
        why: 'the range contains EC2.19 ports 8080 and 8088',
      },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' },
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
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 8000,
        toPort: 8100,
        peer: cidr('10.0.0.0/16'),
        description: 'from NLB',
        expect: used(
          'only the two NLB ENIs (10.0.0.31, 10.0.1.31) connect, on 8001-8004',
          ['narrow'],
          ['- allow tcp ports 8001~8004 from prod-ingest-nlb-sg (SG reference)'],
        ),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used('uploads to S3 443', ['narrow', 'keep']),
      },
    ],
    findings: [{ check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' }],
  },
  {
    key: 'prod-ecs',
    name: 'prod-ecs-tasks-sg',
    vpc: 'prod',
    description: 'ECS Fargate tasks',
    story: 'ECS task ENIs behind the ALB.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 9000,
        toPort: 9000,
        peer: sgRef('prod-alb'),
        expect: used('ALB -> tasks on 9000'),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used('internet 443 via NAT', ['narrow', 'keep']),
      },
    ],
    findings: [{ check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' }],
  },
  {
    key: 'prod-redis',
    name: 'prod-redis-sg',
    vpc: 'prod',
    description: 'ElastiCache Redis',
    story: 'Two subnet CIDRs whose peers together are exactly the app ENIs; no egress rules at all.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 6379,
        toPort: 6379,
        peer: cidr('10.0.10.0/24'),
        expect: used(
          'app-1 and app-2 only',
          ['narrow', 'keep'],
          ['SG reference prod-app-sg (or the two /32s)'],
        ),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 6379,
        toPort: 6379,
        peer: cidr('10.0.11.0/24'),
        expect: used('app-3 only', ['narrow', 'keep'], ['- allow tcp port 6379 from 10.0.11.13']),
      },
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
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 2049,
        toPort: 2049,
        peer: sgRef('prod-app'),
        expect: used('NFS from app servers (same AZ)'),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown(
          'mount targets never initiate, but an all-traffic egress rule may carry what flow logs never record (VPC resolver, metadata, NTP)',
        ),
      },
    ],
    findings: [{ check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' }],
  },
  {
    key: 'prod-vpn',
    name: 'vpn-gateway-sg',
    vpc: 'prod',
    description: 'strongSwan VPN instance',
    story:
      'Portless protocols open to the world: ESP used by two customer gateways, GRE never; IKE NAT-T unused.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'udp',
        fromPort: 500,
        toPort: 500,
        peer: cidr('0.0.0.0/0'),
        description: 'IKE',
        expect: used(
          'IKE (udp 500 <-> 500) from 121.134.55.10 and 211.45.120.7',
          ['narrow'],
          ['- allow udp port 500 from 121.134.55.10', '- allow udp port 500 from 211.45.120.7'],
        ),
      },
      {
        direction: 'ingress',
        protocol: 'udp',
        fromPort: 4500,
        toPort: 4500,
        peer: cidr('0.0.0.0/0'),
        description: 'IKE NAT-T',
        expect: unused(`no NAT traversal; ${FULL}`),
      },
      {
        direction: 'ingress',
        protocol: '50',
        peer: cidr('0.0.0.0/0'),
        description: 'ESP',
        expect: used(
          'ESP from the two customer gateways',
          ['narrow'],
          ['- allow 50 from 121.134.55.10', '- allow 50 from 211.45.120.7'],
        ),
      },
      {
        direction: 'ingress',
        protocol: '47',
        peer: cidr('0.0.0.0/0'),
        description: 'GRE',
        expect: unused(`no GRE; ${FULL}`),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used('package mirrors 443', ['narrow', 'keep']),
      },
    ],
    findings: [
      { check: 'world-open-port', severities: ['medium', 'low'], rule: 0, why: 'udp 500 from 0.0.0.0/0' },
      { check: 'world-open-port', severities: ['medium', 'low'], rule: 1, why: 'udp 4500 from 0.0.0.0/0' },
      {
        check: 'portless-protocol-open',
        severities: ['high', 'medium'],
        rule: 2,
        why: 'ESP (50) from the world',
      },
      {
        check: 'portless-protocol-open',
        severities: ['high', 'medium'],
        rule: 3,
        why: 'GRE (47) from the world',
      },
      { check: 'unused-rule', severities: ['low', 'info'], rule: 3, why: 'GRE never used' },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 4, why: 'egress allow-all' },
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
      {
        direction: 'ingress',
        protocol: '-1',
        peer: sgRef('prod-eks-cluster'),
        expect: used(
          'node -> control plane 443, control plane -> kubelet 10250',
          ['narrow', 'keep'],
          [
            '- allow tcp port 443 from eks-cluster-sg (SG reference)',
            '- allow tcp port 10250 from eks-cluster-sg (SG reference)',
          ],
        ),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used('443, 10250, DNS', ['narrow', 'keep']),
      },
    ],
    findings: [
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' },
      {
        check: 'all-traffic-open',
        severities: ['low', 'info'],
        rule: 0,
        why: 'all traffic, but only from members of an SG',
      },
    ],
  },
  {
    key: 'prod-eks-pods',
    name: 'prod-eks-pods-sg',
    vpc: 'prod',
    description: 'Security groups for pods (branch ENIs)',
    story: 'Branch ENI of a pod: ingress rule unused, egress 443 used.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 8080,
        toPort: 8080,
        peer: sgRef('prod-eks-cluster'),
        expect: unused(`no traffic to the pod; ${FULL}`),
      },
      {
        direction: 'egress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: cidr('0.0.0.0/0'),
        expect: used('internet 443 via NAT', ['narrow', 'keep']),
      },
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
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: cidr('10.0.0.0/8'),
        expect: unknown('no ENIs carry the SG (coverage no-enis)', ['review', 'remove']),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown('no ENIs carry the SG', ['review', 'remove']),
      },
    ],
    findings: [{ check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' }],
  },
  {
    key: 'prod-temp-migration',
    name: 'temp-migration-sg',
    vpc: 'prod',
    description: 'DB migration 2025 (temporary)',
    story: 'No ENIs and no references: an unused SG (with a world-open 3306 rule).',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 1521,
        toPort: 1521,
        peer: cidr('10.20.0.0/16'),
        expect: unknown('no ENIs carry the SG', ['review', 'remove']),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 3306,
        toPort: 3306,
        peer: cidr('0.0.0.0/0'),
        expect: unknown('no ENIs carry the SG', ['review', 'remove']),
      },
    ],
    findings: [
      { check: 'unused-sg', severities: ['low', 'medium', 'info'], why: 'no ENI and no SG references it' },
      {
        check: 'sensitive-port-world',
        severities: ['critical', 'high', 'medium'],
        rule: 1,
        why: '3306 from 0.0.0.0/0 (no ENIs today)',
      },
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
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used(
          'workers on tcp 20100-20139',
          ['narrow', 'keep'],
          ['- allow tcp ports 20001~30000 to batch-workers-sg (SG reference) or to 10.1.10.21, 10.1.10.22'],
        ),
      },
    ],
    findings: [{ check: 'egress-all-open', severities: ['info', 'low'], rule: 0, why: 'egress allow-all' }],
  },
  {
    key: 'shared-workers',
    name: 'batch-workers-sg',
    vpc: 'shared',
    description: 'Batch workers',
    story:
      'tcp 20000-30000 where 40 ports are used by 3 schedulers in one /24 (port-group + /24 recommendation, tcp-flags evidence).',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 20000,
        toPort: 30000,
        peer: cidr('10.1.0.0/16'),
        description: 'worker RPC range',
        expect: used(
          'schedulers 10.1.10.5/.6/.7 on ports 20100-20139',
          ['narrow'],
          [
            '- allow tcp ports 20001~30000 from 10.1.10.0/24 (or from batch-scheduler-sg: the peers are exactly its ENIs)',
          ],
        ),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: cidr('10.1.30.0/24'),
        description: 'ops subnet',
        expect: unused(`no SSH from the ops subnet; ${FULL}`),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used('analytics DB 3306', ['narrow', 'keep']),
      },
    ],
    findings: [
      { check: 'unused-rule', severities: ['low', 'info'], rule: 1, why: 'unused under full coverage' },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 2, why: 'egress allow-all' },
    ],
  },
  {
    key: 'shared-monitoring',
    name: 'monitoring-sg',
    vpc: 'shared',
    description: 'Grafana / Prometheus',
    story:
      'tcp 1-65535 from the world, used only on 443 and 3000 from the office /24; a customer prefix list rule.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 1,
        toPort: 65535,
        peer: cidr('0.0.0.0/0'),
        description: 'temp: open for vendor debug',
        expect: used(
          'only 443 and 3000 from 203.0.113.21-.24 (UDP scans are REJECTed)',
          ['narrow'],
          [
            '- allow tcp port 443 from 203.0.113.0/24 (or from pl-corp-office, which already admits it)',
            '- allow tcp port 3000 from 203.0.113.0/24',
          ],
        ),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        peer: prefixList('corp-office'),
        description: 'office via prefix list',
        expect: used('office users on 443'),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used('scrapes app 9100 across the transit gateway', ['narrow', 'keep']),
      },
    ],
    findings: [
      {
        check: 'all-ports-open',
        severities: ['critical', 'high'],
        rule: 0,
        why: 'tcp 1-65535 from 0.0.0.0/0',
      },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 2, why: 'egress allow-all' },
    ],
  },
  {
    key: 'shared-dns',
    name: 'dns-forwarder-sg',
    vpc: 'shared',
    description: 'DNS forwarder',
    story: 'DNS-like UDP across the transit gateway; tcp 53 unused.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'udp',
        fromPort: 53,
        toPort: 53,
        peer: cidr('10.0.0.0/8'),
        expect: used(
          'app servers and the EKS node (3 in 10.0.10.0/24)',
          ['narrow'],
          ['- allow udp port 53 from 10.0.10.0/24', '- allow udp port 53 from 10.0.11.13'],
        ),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 53,
        toPort: 53,
        peer: cidr('10.0.0.0/8'),
        expect: unused(`no DNS over TCP; ${FULL}`),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used(
          'forwards to on-prem 10.100.0.2 udp 53',
          ['narrow', 'keep'],
          ['- allow udp port 53 to 10.100.0.2'],
        ),
      },
    ],
    findings: [
      { check: 'unused-rule', severities: ['low', 'info'], rule: 1, why: 'unused under full coverage' },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 2, why: 'egress allow-all' },
    ],
  },
  {
    key: 'shared-analytics-db',
    name: 'analytics-db-sg',
    vpc: 'shared',
    description: 'Analytics MySQL (RDS)',
    story: 'Covered only by the Parquet flow log; no egress rules.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 3306,
        toPort: 3306,
        peer: cidr('10.1.10.0/24'),
        expect: used(
          'workers 10.1.10.21 and 10.1.10.22 (read from Parquet)',
          ['narrow', 'keep'],
          [
            '- allow tcp port 3306 from 10.1.10.21',
            '- allow tcp port 3306 from 10.1.10.22',
            'or from batch-workers-sg (SG reference: the peers are exactly its ENIs)',
          ],
        ),
      },
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
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 3389,
        toPort: 3389,
        peer: cidr('203.0.113.0/24'),
        description: 'office',
        expect: used('office RDP after the flow log was created', ['keep', 'narrow']),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 5985,
        toPort: 5985,
        peer: cidr('10.1.0.0/16'),
        description: 'WinRM',
        expect: unknown('no traffic, but coverage is partial (flow log created 2026-11-12T05:20Z)'),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: used('Windows Update 443 (client ports 49152-65535)', ['narrow', 'keep']),
      },
    ],
    findings: [{ check: 'egress-all-open', severities: ['info', 'low'], rule: 2, why: 'egress allow-all' }],
  },
  {
    key: 'shared-sftp',
    name: 'partner-sftp-sg',
    vpc: 'shared',
    description: 'Partner SFTP',
    story: 'In a subnet with no flow log at all: every rule unknown.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: cidr('211.234.10.0/24'),
        description: 'partner',
        expect: unknown('no flow log covers the ENI'),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown('no flow log covers the ENI'),
      },
    ],
    findings: [{ check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' }],
  },
  {
    key: 'shared-default',
    name: 'default',
    vpc: 'shared',
    description: 'default VPC security group',
    isDefault: true,
    story: 'Default SG with the default rules but no ENIs (EC2.2 still fails).',
    rules: [
      {
        direction: 'ingress',
        protocol: '-1',
        peer: sgRef('shared-default'),
        expect: unknown('no ENIs carry the SG', ['review', 'remove']),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown('no ENIs carry the SG', ['review', 'remove']),
      },
    ],
    findings: [
      {
        check: 'default-sg-has-rules',
        severities: ['medium', 'low'],
        why: 'EC2.2: the default SG must have no rules',
      },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' },
      {
        check: 'all-traffic-open',
        severities: ['low', 'info'],
        rule: 0,
        why: 'all traffic, but only from members of an SG',
      },
    ],
  },

  // ----- legacy-vpc (REJECT-only VPC flow log) -----
  {
    key: 'legacy-all-open',
    name: 'legacy-all-open',
    vpc: 'legacy',
    description: 'launch-wizard-3',
    story: 'All traffic from the world; only a REJECT-only flow log: nothing can be known about use.',
    rules: [
      {
        direction: 'ingress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown('only a REJECT flow log applies'),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown('only a REJECT flow log applies'),
      },
    ],
    findings: [
      { check: 'all-traffic-open', severities: ['critical'], rule: 0, why: 'protocol -1 from 0.0.0.0/0' },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' },
    ],
  },
  {
    key: 'legacy-mysql',
    name: 'legacy-mysql-sg',
    vpc: 'legacy',
    description: 'Legacy MySQL on EC2',
    story: '3306 from the world (EC2.19); REJECT records of scans on other ports are no evidence of use.',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 3306,
        toPort: 3306,
        peer: cidr('0.0.0.0/0'),
        expect: unknown('only a REJECT flow log applies'),
      },
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: cidr('172.16.0.0/16'),
        expect: unknown('only a REJECT flow log applies'),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown('only a REJECT flow log applies'),
      },
    ],
    findings: [
      {
        check: 'sensitive-port-world',
        severities: ['critical'],
        rule: 0,
        why: '3306 from 0.0.0.0/0 (EC2.19)',
      },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 2, why: 'egress allow-all' },
    ],
  },
  {
    key: 'legacy-jenkins',
    name: 'dev-jenkins-sg',
    vpc: 'legacy',
    description: 'Jenkins (dev)',
    story: 'tcp 0-65535 from the world (the seed rule for all ports).',
    rules: [
      {
        direction: 'ingress',
        protocol: 'tcp',
        fromPort: 0,
        toPort: 65535,
        peer: cidr('0.0.0.0/0'),
        expect: unknown('only a REJECT flow log applies'),
      },
      {
        direction: 'egress',
        protocol: '-1',
        peer: cidr('0.0.0.0/0'),
        expect: unknown('only a REJECT flow log applies'),
      },
    ],
    findings: [
      { check: 'all-ports-open', severities: ['critical'], rule: 0, why: 'tcp 0-65535 from 0.0.0.0/0' },
      { check: 'egress-all-open', severities: ['info', 'low'], rule: 1, why: 'egress allow-all' },
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

const LINUX_EC2 = (name: string) => ({ name, platform: 'linux' as const });

export const NETWORK_INTERFACES: readonly EniSpec[] = [
  // ----- prod-vpc -----
  {
    key: 'alb-a',
    subnet: 'prod-public-a',
    ip: '10.0.0.21',
    ipv6: ['2406:da12:7c1:a600::21'],
    publicIp: '3.34.112.61',
    publicIpOwner: 'amazon-elb',
    sgs: ['prod-alb'],
    interfaceType: 'interface',
    description: 'ELB app/prod-web-alb/5f3c9d2e1a7b4c60',
    requesterId: 'amazon-elb',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-elb',
    status: 'in-use',
    clientPorts: 'any',
    expected: { type: 'elb', name: 'prod-web-alb', coverage: 'full' },
  },
  {
    key: 'alb-c',
    subnet: 'prod-public-c',
    ip: '10.0.1.21',
    ipv6: ['2406:da12:7c1:a601::21'],
    publicIp: '43.200.17.205',
    publicIpOwner: 'amazon-elb',
    sgs: ['prod-alb'],
    interfaceType: 'interface',
    description: 'ELB app/prod-web-alb/5f3c9d2e1a7b4c60',
    requesterId: 'amazon-elb',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-elb',
    status: 'in-use',
    clientPorts: 'any',
    expected: { type: 'elb', name: 'prod-web-alb', coverage: 'full' },
  },
  {
    key: 'nlb-a',
    subnet: 'prod-public-a',
    ip: '10.0.0.31',
    publicIp: '3.35.41.10',
    publicIpOwner: ACCOUNT_ID,
    sgs: ['prod-nlb'],
    interfaceType: 'network_load_balancer',
    description: 'ELB net/prod-ingest-nlb/9a1b7c3d5e2f4a60',
    requesterId: 'amazon-elb',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-aws',
    status: 'in-use',
    clientPorts: 'any',
    flowAccountId: 'unknown',
    expected: {
      type: 'elb',
      name: 'prod-ingest-nlb',
      coverage: 'full',
      note: 'flow records show account-id "unknown" (AWS does this for some service ENIs)',
    },
  },
  {
    key: 'nlb-c',
    subnet: 'prod-public-c',
    ip: '10.0.1.31',
    publicIp: '3.35.41.11',
    publicIpOwner: ACCOUNT_ID,
    sgs: ['prod-nlb'],
    interfaceType: 'network_load_balancer',
    description: 'ELB net/prod-ingest-nlb/9a1b7c3d5e2f4a60',
    requesterId: 'amazon-elb',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-aws',
    status: 'in-use',
    clientPorts: 'any',
    flowAccountId: 'unknown',
    expected: { type: 'elb', name: 'prod-ingest-nlb', coverage: 'full' },
  },
  {
    key: 'nat-a',
    subnet: 'prod-public-a',
    ip: '10.0.0.220',
    publicIp: '3.38.121.40',
    publicIpOwner: ACCOUNT_ID,
    sgs: [],
    interfaceType: 'nat_gateway',
    description: `Interface for NAT Gateway ${SERVICE_IDS.natGateway}`,
    requesterId: 'amazon-vpc-nat',
    requesterManaged: true,
    status: 'in-use',
    sourceDestCheck: false,
    clientPorts: 'any',
    expected: {
      type: 'nat-gateway',
      name: SERVICE_IDS.natGateway,
      coverage: 'full',
      note: 'no SGs; 4 records per connection',
    },
  },
  {
    key: 'bastion',
    subnet: 'prod-public-a',
    ip: '10.0.0.10',
    ipv6: ['2406:da12:7c1:a600::10'],
    publicIp: '43.201.12.34',
    publicIpOwner: ACCOUNT_ID,
    sgs: ['prod-bastion'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('prod-bastion'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'prod-bastion', coverage: 'full' },
  },
  {
    key: 'vpn',
    subnet: 'prod-public-c',
    ip: '10.0.1.50',
    publicIp: '3.39.88.21',
    publicIpOwner: ACCOUNT_ID,
    sgs: ['prod-vpn'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('prod-vpn-strongswan'),
    status: 'in-use',
    sourceDestCheck: false,
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'prod-vpn-strongswan', coverage: 'full' },
  },
  {
    key: 'app-1',
    subnet: 'prod-app-a',
    ip: '10.0.10.11',
    secondaryIps: ['10.0.10.111'],
    sgs: ['prod-app'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('prod-app-1'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'prod-app-1', coverage: 'full', note: 'has a secondary private IP' },
  },
  {
    key: 'app-2',
    subnet: 'prod-app-a',
    ip: '10.0.10.12',
    sgs: ['prod-app'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('prod-app-2'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'prod-app-2', coverage: 'full' },
  },
  {
    key: 'app-3',
    subnet: 'prod-app-c',
    ip: '10.0.11.13',
    sgs: ['prod-app'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('prod-app-3'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'prod-app-3', coverage: 'full' },
  },
  {
    key: 'ingest-1',
    subnet: 'prod-app-a',
    ip: '10.0.10.41',
    sgs: ['prod-ingest'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('prod-ingest-1'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'prod-ingest-1', coverage: 'full' },
  },
  {
    key: 'ingest-2',
    subnet: 'prod-app-c',
    ip: '10.0.11.42',
    sgs: ['prod-ingest'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('prod-ingest-2'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'prod-ingest-2', coverage: 'full' },
  },
  {
    key: 'ecs-task-1',
    subnet: 'prod-app-a',
    ip: '10.0.10.61',
    sgs: ['prod-ecs'],
    interfaceType: 'interface',
    description: SERVICE_IDS.ecsAttachmentArn('checkout-1'),
    requesterId: '578734482556',
    requesterManaged: true,
    serviceAttachmentOwner: '578734482556',
    status: 'in-use',
    clientPorts: 'linux',
    tags: { 'aws:ecs:clusterName': 'prod-cluster', 'aws:ecs:serviceName': 'checkout' },
    expected: { type: 'ecs', name: 'prod-cluster', coverage: 'full' },
  },
  {
    key: 'ecs-task-2',
    subnet: 'prod-app-c',
    ip: '10.0.11.62',
    sgs: ['prod-ecs'],
    interfaceType: 'interface',
    description: SERVICE_IDS.ecsAttachmentArn('checkout-2'),
    requesterId: '578734482556',
    requesterManaged: true,
    serviceAttachmentOwner: '578734482556',
    status: 'in-use',
    clientPorts: 'linux',
    tags: { 'aws:ecs:clusterName': 'prod-cluster', 'aws:ecs:serviceName': 'checkout' },
    expected: { type: 'ecs', name: 'prod-cluster', coverage: 'full' },
  },
  {
    key: 'lambda-a',
    subnet: 'prod-app-a',
    ip: '10.0.10.81',
    sgs: ['prod-lambda'],
    interfaceType: 'lambda',
    description: `AWS Lambda VPC ENI-order-processor-${SERVICE_IDS.lambdaEniSuffix('prod-app-a')}`,
    requesterId: 'AROAQXZ4TLKEXAMPLE7B2:order-processor',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-aws',
    status: 'in-use',
    clientPorts: 'any',
    expected: { type: 'lambda', name: 'order-processor', coverage: 'full' },
  },
  {
    key: 'lambda-c',
    subnet: 'prod-app-c',
    ip: '10.0.11.82',
    sgs: ['prod-lambda'],
    interfaceType: 'lambda',
    description: `AWS Lambda VPC ENI-order-processor-${SERVICE_IDS.lambdaEniSuffix('prod-app-c')}`,
    requesterId: 'AROAQXZ4TLKEXAMPLE7B2:order-processor',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-aws',
    status: 'in-use',
    clientPorts: 'any',
    expected: { type: 'lambda', name: 'order-processor', coverage: 'full' },
  },
  {
    key: 'eks-cp-a',
    subnet: 'prod-app-a',
    ip: '10.0.10.100',
    sgs: ['prod-eks-cluster'],
    interfaceType: 'interface',
    description: 'Amazon EKS prod-eks',
    requesterId: '296578399912',
    requesterManaged: false,
    serviceAttachmentOwner: '296578399912',
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'eks', name: 'prod-eks', coverage: 'full' },
  },
  {
    key: 'eks-cp-c',
    subnet: 'prod-app-c',
    ip: '10.0.11.100',
    sgs: ['prod-eks-cluster'],
    interfaceType: 'interface',
    description: 'Amazon EKS prod-eks',
    requesterId: '296578399912',
    requesterManaged: false,
    serviceAttachmentOwner: '296578399912',
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'eks', name: 'prod-eks', coverage: 'full' },
  },
  {
    key: 'eks-node-1',
    subnet: 'prod-app-a',
    ip: '10.0.10.120',
    ipv4Prefixes: ['10.0.10.176/28'],
    sgs: ['prod-eks-cluster'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('prod-eks-ng-general-node-1'),
    status: 'in-use',
    clientPorts: 'linux',
    tags: { 'eks:nodegroup-name': 'general', 'eks:cluster-name': 'prod-eks' },
    expected: {
      type: 'ec2',
      otherTypes: ['eks'],
      name: 'prod-eks-ng-general-node-1',
      coverage: 'full',
      note: 'EKS worker node (EC2)',
    },
  },
  {
    key: 'eks-trunk',
    subnet: 'prod-app-a',
    ip: '10.0.10.121',
    sgs: ['prod-eks-cluster'],
    interfaceType: 'trunk',
    description: 'aws-k8s-trunk-eni',
    requesterManaged: false,
    instance: { name: 'prod-eks-ng-general-node-1', platform: 'linux', deviceIndex: 1 },
    status: 'in-use',
    clientPorts: 'linux',
    tags: { 'eks:eni:owner': 'eks-vpc-resource-controller', 'kubernetes.io/cluster/prod-eks': 'owned' },
    expected: {
      type: 'eks',
      otherTypes: ['ec2'],
      name: 'prod-eks',
      coverage: 'full',
      note: 'trunk ENI (security groups for pods) attached to the node: eks or ec2; NODATA only',
    },
  },
  {
    key: 'eks-branch',
    subnet: 'prod-app-a',
    ip: '10.0.10.130',
    sgs: ['prod-eks-pods'],
    interfaceType: 'branch',
    description: 'aws-k8s-branch-eni',
    requesterId: '296578399912',
    requesterManaged: true,
    status: 'in-use',
    clientPorts: 'linux',
    tags: {
      'eks:eni:owner': 'eks-vpc-resource-controller',
      'kubernetes.io/cluster/prod-eks': 'owned',
      'vpcresources.k8s.aws/trunk-eni-id': eniIdOf('eks-trunk'),
    },
    expected: { type: 'eks', name: 'prod-eks', coverage: 'full', note: 'branch ENI of a pod' },
  },
  {
    key: 'vpce-a',
    subnet: 'prod-app-a',
    ip: '10.0.10.201',
    sgs: ['prod-vpce'],
    interfaceType: 'vpc_endpoint',
    description: `VPC Endpoint Interface ${SERVICE_IDS.vpcEndpoint}`,
    requesterId: '727180483921',
    requesterManaged: true,
    status: 'in-use',
    clientPorts: 'any',
    expected: {
      type: 'vpc-endpoint',
      name: SERVICE_IDS.vpcEndpoint,
      coverage: 'full',
      note: 'com.amazonaws.ap-northeast-2.secretsmanager',
    },
  },
  {
    key: 'vpce-c',
    subnet: 'prod-app-c',
    ip: '10.0.11.201',
    sgs: ['prod-vpce'],
    interfaceType: 'vpc_endpoint',
    description: `VPC Endpoint Interface ${SERVICE_IDS.vpcEndpoint}`,
    requesterId: '727180483921',
    requesterManaged: true,
    status: 'in-use',
    clientPorts: 'any',
    expected: { type: 'vpc-endpoint', name: SERVICE_IDS.vpcEndpoint, coverage: 'full' },
  },
  {
    key: 'apigw',
    subnet: 'prod-app-a',
    ip: '10.0.10.210',
    sgs: ['prod-apigw'],
    interfaceType: 'api_gateway_managed',
    description: 'VPC Link ENI for API Gateway vpclink-3k9x2a',
    requesterId: '392220576650',
    requesterManaged: true,
    status: 'in-use',
    clientPorts: 'any',
    expected: { type: 'api-gateway', name: 'vpclink-3k9x2a', coverage: 'full' },
  },
  {
    key: 'tgw-prod',
    subnet: 'prod-app-a',
    ip: '10.0.10.250',
    sgs: [],
    interfaceType: 'transit_gateway',
    description: `Network Interface for Transit Gateway Attachment ${SERVICE_IDS.tgwAttachmentProd}`,
    requesterId: '785130259531',
    requesterManaged: true,
    status: 'in-use',
    sourceDestCheck: false,
    clientPorts: 'any',
    expected: {
      type: 'transit-gateway',
      name: SERVICE_IDS.tgwAttachmentProd,
      coverage: 'full',
      note: 'no SGs; pass-through records',
    },
  },
  {
    key: 'legacy-cron',
    subnet: 'prod-app-c',
    ip: '10.0.11.20',
    sgs: ['prod-default'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('legacy-cron'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'legacy-cron', coverage: 'full', note: 'uses the default SG' },
  },
  {
    key: 'floating',
    subnet: 'prod-app-c',
    ip: '10.0.11.250',
    sgs: ['prod-default'],
    interfaceType: 'interface',
    description: 'license-server floating ENI',
    requesterManaged: false,
    status: 'available',
    clientPorts: 'linux',
    tags: { Name: 'license-floating' },
    expected: {
      type: 'other',
      name: 'license-floating',
      coverage: 'full',
      note: 'detached (available): no records',
    },
  },
  {
    key: 'rds-primary',
    subnet: 'prod-data-a',
    ip: '10.0.20.15',
    sgs: ['prod-db'],
    interfaceType: 'interface',
    description: 'RDSNetworkInterface',
    requesterId: 'amazon-rds',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-rds',
    status: 'in-use',
    clientPorts: 'linux',
    expected: {
      type: 'rds',
      name: 'prod-orders-db',
      coverage: 'full',
      note: 'primary; the DB identifier is not in the ENI (needs DescribeDBInstances): any name is acceptable',
    },
  },
  {
    key: 'rds-standby',
    subnet: 'prod-data-c',
    ip: '10.0.21.15',
    sgs: ['prod-db'],
    interfaceType: 'interface',
    description: 'RDSNetworkInterface',
    requesterId: 'amazon-rds',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-rds',
    status: 'in-use',
    clientPorts: 'linux',
    expected: {
      type: 'rds',
      name: 'prod-orders-db',
      coverage: 'full',
      note: 'Multi-AZ standby: NODATA records only; any name is acceptable',
    },
  },
  {
    key: 'redis-1',
    subnet: 'prod-data-a',
    ip: '10.0.20.30',
    sgs: ['prod-redis'],
    interfaceType: 'interface',
    description: 'ElastiCache prod-redis-001',
    requesterId: 'amazon-elasticache',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-elasticache',
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'elasticache', name: 'prod-redis-001', coverage: 'full' },
  },
  {
    key: 'redis-2',
    subnet: 'prod-data-c',
    ip: '10.0.21.30',
    sgs: ['prod-redis'],
    interfaceType: 'interface',
    description: 'ElastiCache prod-redis-002',
    requesterId: 'amazon-elasticache',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-elasticache',
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'elasticache', name: 'prod-redis-002', coverage: 'full' },
  },
  {
    key: 'efs-a',
    subnet: 'prod-data-a',
    ip: '10.0.20.40',
    sgs: ['prod-efs'],
    interfaceType: 'efs',
    description: `EFS mount target for ${SERVICE_IDS.efsFileSystem} (${SERVICE_IDS.efsMountTargetA})`,
    requesterId: 'amazon-elasticfilesystem',
    requesterManaged: true,
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'efs', name: SERVICE_IDS.efsFileSystem, coverage: 'full' },
  },
  {
    key: 'efs-c',
    subnet: 'prod-data-c',
    ip: '10.0.21.40',
    sgs: ['prod-efs'],
    interfaceType: 'efs',
    description: `EFS mount target for ${SERVICE_IDS.efsFileSystem} (${SERVICE_IDS.efsMountTargetC})`,
    requesterId: 'amazon-elasticfilesystem',
    requesterManaged: true,
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'efs', name: SERVICE_IDS.efsFileSystem, coverage: 'full' },
  },

  // ----- shared-services-vpc -----
  ...[5, 6, 7].map(
    (octet, i): EniSpec => ({
      key: `scheduler-${i + 1}`,
      subnet: 'shared-app-a',
      ip: `10.1.10.${octet}`,
      sgs: ['shared-scheduler'],
      interfaceType: 'interface',
      description: '',
      requesterManaged: false,
      instance: LINUX_EC2(`batch-scheduler-${i + 1}`),
      status: 'in-use',
      clientPorts: 'linux',
      expected: { type: 'ec2', name: `batch-scheduler-${i + 1}`, coverage: 'full' },
    }),
  ),
  ...[21, 22].map(
    (octet, i): EniSpec => ({
      key: `worker-${i + 1}`,
      subnet: 'shared-app-a',
      ip: `10.1.10.${octet}`,
      sgs: ['shared-workers'],
      interfaceType: 'interface',
      description: '',
      requesterManaged: false,
      instance: LINUX_EC2(`batch-worker-${i + 1}`),
      status: 'in-use',
      clientPorts: 'linux',
      expected: { type: 'ec2', name: `batch-worker-${i + 1}`, coverage: 'full' },
    }),
  ),
  {
    key: 'monitoring',
    subnet: 'shared-app-a',
    ip: '10.1.10.50',
    publicIp: '3.36.77.12',
    publicIpOwner: ACCOUNT_ID,
    sgs: ['shared-monitoring'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('monitoring'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'monitoring', coverage: 'full' },
  },
  {
    key: 'dns',
    subnet: 'shared-app-a',
    ip: '10.1.10.53',
    sgs: ['shared-dns'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('dns-forwarder'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'dns-forwarder', coverage: 'full' },
  },
  {
    key: 'tgw-shared',
    subnet: 'shared-app-a',
    ip: '10.1.10.250',
    sgs: [],
    interfaceType: 'transit_gateway',
    description: `Network Interface for Transit Gateway Attachment ${SERVICE_IDS.tgwAttachmentShared}`,
    requesterId: '785130259531',
    requesterManaged: true,
    status: 'in-use',
    sourceDestCheck: false,
    clientPorts: 'any',
    expected: { type: 'transit-gateway', name: SERVICE_IDS.tgwAttachmentShared, coverage: 'full' },
  },
  {
    key: 'analytics-db',
    subnet: 'shared-data-a',
    ip: '10.1.20.10',
    sgs: ['shared-analytics-db'],
    interfaceType: 'interface',
    description: 'RDSNetworkInterface',
    requesterId: 'amazon-rds',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-rds',
    status: 'in-use',
    clientPorts: 'linux',
    expected: {
      type: 'rds',
      name: 'analytics-mysql',
      coverage: 'full',
      note: 'covered by the Parquet flow log; any name is acceptable',
    },
  },
  {
    key: 'ops-win',
    subnet: 'shared-mgmt-a',
    ip: '10.1.30.10',
    publicIp: '3.37.5.60',
    publicIpOwner: ACCOUNT_ID,
    sgs: ['shared-ops'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: { name: 'ops-jump-win', platform: 'windows' },
    status: 'in-use',
    clientPorts: 'windows',
    expected: {
      type: 'ec2',
      name: 'ops-jump-win',
      coverage: 'partial',
      note: 'ENI-level flow log created 2026-11-12T05:20:00Z',
    },
  },
  {
    key: 'gwlb',
    subnet: 'shared-edge-a',
    ip: '10.1.40.100',
    sgs: [],
    interfaceType: 'gateway_load_balancer',
    description: 'ELB gwy/inspection-gwlb/0c4e8a2f7b1d9e35',
    requesterId: 'amazon-elb',
    requesterManaged: true,
    serviceAttachmentOwner: 'amazon-aws',
    status: 'in-use',
    sourceDestCheck: false,
    clientPorts: 'any',
    expected: { type: 'elb', name: 'inspection-gwlb', coverage: 'none' },
  },
  {
    key: 'sftp',
    subnet: 'shared-edge-a',
    ip: '10.1.40.20',
    publicIp: '3.37.200.9',
    publicIpOwner: ACCOUNT_ID,
    sgs: ['shared-sftp'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('partner-sftp'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'partner-sftp', coverage: 'none', note: 'subnet without any flow log' },
  },

  // ----- legacy-vpc -----
  {
    key: 'legacy-erp',
    subnet: 'legacy-public-a',
    ip: '172.16.0.10',
    publicIp: '13.125.40.7',
    publicIpOwner: 'amazon',
    sgs: ['legacy-all-open'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: { name: 'legacy-erp', platform: 'windows' },
    status: 'in-use',
    clientPorts: 'windows',
    expected: { type: 'ec2', name: 'legacy-erp', coverage: 'reject-only' },
  },
  {
    key: 'legacy-db',
    subnet: 'legacy-public-a',
    ip: '172.16.0.20',
    publicIp: '13.125.40.8',
    publicIpOwner: 'amazon',
    sgs: ['legacy-mysql'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('legacy-mysql'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'legacy-mysql', coverage: 'reject-only' },
  },
  {
    key: 'jenkins',
    subnet: 'legacy-public-a',
    ip: '172.16.0.30',
    publicIp: '13.125.40.9',
    publicIpOwner: 'amazon',
    sgs: ['legacy-jenkins'],
    interfaceType: 'interface',
    description: '',
    requesterManaged: false,
    instance: LINUX_EC2('dev-jenkins'),
    status: 'in-use',
    clientPorts: 'linux',
    expected: { type: 'ec2', name: 'dev-jenkins', coverage: 'reject-only' },
  },
];

export const FLOW_LOGS: readonly FlowLogSpec[] = [
  {
    key: 'prod-vpc',
    name: 'prod-vpc-flowlogs',
    scope: 'vpc',
    resource: 'prod',
    trafficType: 'ALL',
    fields: DEFAULT_FORMAT_FIELDS,
    isDefaultFormat: true,
    bucket: 'acme-central-flowlogs-123456789012',
    fileFormat: 'plain-text',
    hivePartitions: false,
    perHourPartition: false,
    maxAggregationInterval: 600,
    created: '2025-03-04T02:11:45.000Z',
    story: 'VPC-level, default format, ALL, created long before the window: full coverage, no tcp-flags.',
  },
  {
    key: 'shared-app-subnet',
    name: 'shared-app-subnet-flowlogs',
    scope: 'subnet',
    resource: 'shared-app-a',
    trafficType: 'ALL',
    fields: CUSTOM_FORMAT_FIELDS,
    isDefaultFormat: false,
    bucket: 'acme-central-flowlogs-123456789012',
    prefix: 'shared-services',
    fileFormat: 'plain-text',
    hivePartitions: false,
    perHourPartition: false,
    maxAggregationInterval: 60,
    created: '2025-09-18T07:42:10.000Z',
    story:
      'Subnet-level custom v5 format (non-default order) with tcp-flags, pkt-*, flow-direction, traffic-path.',
  },
  {
    key: 'shared-data-subnet',
    name: 'shared-data-subnet-parquet',
    scope: 'subnet',
    resource: 'shared-data-a',
    trafficType: 'ALL',
    fields: DEFAULT_FORMAT_FIELDS,
    isDefaultFormat: true,
    bucket: 'acme-analytics-flowlogs',
    fileFormat: 'parquet',
    hivePartitions: true,
    perHourPartition: true,
    maxAggregationInterval: 600,
    created: '2026-02-10T01:05:33.000Z',
    story: 'Subnet-level, Parquet, Hive-compatible partitions per hour.',
  },
  {
    key: 'ops-eni',
    name: 'ops-jump-eni-flowlog',
    scope: 'eni',
    resource: 'ops-win',
    trafficType: 'ALL',
    fields: DEFAULT_FORMAT_FIELDS,
    isDefaultFormat: true,
    bucket: 'acme-central-flowlogs-123456789012',
    prefix: 'eni-logs',
    fileFormat: 'plain-text',
    hivePartitions: false,
    perHourPartition: false,
    maxAggregationInterval: 60,
    created: '2026-11-12T05:20:00.000Z',
    story: 'ENI-level log created mid-window: partial coverage.',
  },
  {
    key: 'legacy-vpc',
    name: 'legacy-vpc-rejects',
    scope: 'vpc',
    resource: 'legacy',
    trafficType: 'REJECT',
    fields: DEFAULT_FORMAT_FIELDS,
    isDefaultFormat: true,
    bucket: 'acme-legacy-logs',
    prefix: 'vpc',
    fileFormat: 'plain-text',
    hivePartitions: false,
    perHourPartition: false,
    maxAggregationInterval: 600,
    created: '2024-11-20T09:30:00.000Z',
    story: 'REJECT-only VPC log: proves nothing about use.',
  },
];

export const NETWORK_ACLS: readonly NaclSpec[] = [
  {
    key: 'prod-default',
    vpc: 'prod',
    isDefault: true,
    subnets: ['prod-public-a', 'prod-public-c', 'prod-app-a', 'prod-app-c'],
    entries: [
      { ruleNumber: 100, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
      { ruleNumber: 101, egress: false, protocol: '-1', action: 'allow', cidr: '::/0' },
      { ruleNumber: 32767, egress: false, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
      { ruleNumber: 100, egress: true, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
      { ruleNumber: 101, egress: true, protocol: '-1', action: 'allow', cidr: '::/0' },
      { ruleNumber: 32767, egress: true, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
    ],
  },
  {
    key: 'prod-data',
    vpc: 'prod',
    isDefault: false,
    subnets: ['prod-data-a', 'prod-data-c'],
    entries: [
      {
        ruleNumber: 100,
        egress: false,
        protocol: '6',
        action: 'allow',
        cidr: '10.0.10.0/23',
        ports: [5432, 5432],
      },
      {
        ruleNumber: 110,
        egress: false,
        protocol: '6',
        action: 'allow',
        cidr: '10.0.10.0/23',
        ports: [6379, 6379],
      },
      {
        ruleNumber: 120,
        egress: false,
        protocol: '6',
        action: 'allow',
        cidr: '10.0.10.0/23',
        ports: [2049, 2049],
      },
      { ruleNumber: 130, egress: false, protocol: '-1', action: 'allow', cidr: '10.0.20.0/23' },
      { ruleNumber: 32767, egress: false, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
      {
        ruleNumber: 100,
        egress: true,
        protocol: '6',
        action: 'allow',
        cidr: '10.0.10.0/23',
        ports: [1024, 65535],
      },
      { ruleNumber: 130, egress: true, protocol: '-1', action: 'allow', cidr: '10.0.20.0/23' },
      { ruleNumber: 32767, egress: true, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
    ],
  },
  {
    key: 'shared-default',
    vpc: 'shared',
    isDefault: true,
    subnets: ['shared-app-a', 'shared-data-a', 'shared-mgmt-a', 'shared-edge-a'],
    entries: [
      { ruleNumber: 100, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
      { ruleNumber: 32767, egress: false, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
      { ruleNumber: 100, egress: true, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
      { ruleNumber: 32767, egress: true, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
    ],
  },
  {
    key: 'legacy-default',
    vpc: 'legacy',
    isDefault: true,
    subnets: ['legacy-public-a', 'legacy-private-a'],
    entries: [
      { ruleNumber: 100, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
      { ruleNumber: 32767, egress: false, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
      { ruleNumber: 100, egress: true, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
      { ruleNumber: 32767, egress: true, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
    ],
  },
];

/** Ids of declared resources (stable, derived from keys). */
export const vpcIdOf = (key: string): string => awsId('vpc', key);
export const subnetIdOf = (key: string): string => awsId('subnet', key);
export const sgIdOf = (key: string): string => awsId('sg', key);
export const instanceIdOf = (name: string): string => awsId('i', name);
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
