/**
 * The inventory the core audits: security groups with their rule entries, network interfaces,
 * VPCs, flow-log configurations, network ACLs and managed prefix lists.
 *
 * These are the core's own shapes, independent of where they came from (an AWS CLI export
 * directory, live EC2 APIs). Adapters translate AWS responses into them; the core never sees an
 * AWS SDK type.
 */

export const IP_FAMILIES = ['ipv4', 'ipv6'] as const;
export type IpFamily = (typeof IP_FAMILIES)[number];
export const DIRECTIONS = ['ingress', 'egress'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** The peer of one rule entry, as written in the rule. */
export type RulePeer =
  | { readonly kind: 'cidr'; readonly cidr: string; readonly family: IpFamily }
  | {
      readonly kind: 'sg';
      readonly groupId: string;
      /** Owner account of the referenced group, when it differs or is given. */
      readonly userId?: string;
      readonly vpcId?: string;
      /** Set for a reference into a peered VPC. */
      readonly vpcPeeringConnectionId?: string;
    }
  | { readonly kind: 'prefix-list'; readonly prefixListId: string };

/**
 * One rule entry: one peer (CIDR, SG reference or prefix list) of one AWS IpPermission.
 * This is the unit AWS counts against the 60-rule quota, and the unit every verdict is about.
 *
 * @example
 * { id: 'sg-1/ingress/tcp/443-443/0.0.0.0/0', sgId: 'sg-1', direction: 'ingress',
 *   protocol: 'tcp', protocolNumber: 6, fromPort: 443, toPort: 443,
 *   peer: { kind: 'cidr', cidr: '0.0.0.0/0', family: 'ipv4' } }
 */
export interface RuleEntry {
  /** Stable id within a report: `${sgId}/${direction}/${protocol}/${fromPort}-${toPort}/${peerText}`. */
  readonly id: string;
  readonly sgId: string;
  readonly direction: Direction;
  /** AWS IpProtocol as written: 'tcp', 'udp', 'icmp', 'icmpv6', '-1', or a protocol number ('50'). */
  readonly protocol: string;
  /** IANA protocol number, or 'all' for '-1'. */
  readonly protocolNumber: number | 'all';
  /**
   * FromPort/ToPort as AWS wrote them. For tcp/udp a port range; for icmp/icmpv6 the type and
   * code (-1 = all); undefined for '-1' and portless protocols.
   */
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly peer: RulePeer;
  readonly description?: string;
  /** `sgr-…` when known (DescribeSecurityGroupRules). */
  readonly securityGroupRuleId?: string;
}

export interface SecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  readonly ownerId?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Ingress and egress rule entries, in AWS order. */
  readonly rules: readonly RuleEntry[];
}

/** The owner types of ENIs, in the CSV contract's words (and the order reports list them in). */
export const RESOURCE_TYPES = [
  'ec2',
  'lambda',
  'rds',
  'ecs',
  'elb',
  'nat-gateway',
  'vpc-endpoint',
  'efs',
  'elasticache',
  'eks',
  'transit-gateway',
  'api-gateway',
  'other',
] as const;
/** The owner type of an ENI. */
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export interface NetworkInterface {
  readonly id: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly availabilityZone?: string;
  /** AWS InterfaceType: interface, lambda, nat_gateway, vpc_endpoint, load_balancer, … */
  readonly interfaceType: string;
  readonly description: string;
  readonly requesterId?: string;
  readonly requesterManaged: boolean;
  readonly status?: string;
  readonly attachment?: {
    readonly instanceId?: string;
    readonly instanceOwnerId?: string;
    readonly status?: string;
  };
  /** Primary first, then secondary private IPv4 addresses. */
  readonly privateIpv4: readonly string[];
  readonly ipv6: readonly string[];
  /** Public IPv4 addresses associated (Elastic IP / auto-assigned). */
  readonly publicIpv4: readonly string[];
  readonly sgIds: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /** Delegated IPv4 prefixes (EKS prefix delegation), CIDR notation. */
  readonly ipv4Prefixes?: readonly string[];
  readonly ipv6Prefixes?: readonly string[];
}

/** The resource behind an ENI (resource classification). */
export interface ResourceRef {
  readonly type: ResourceType;
  readonly id: string;
  readonly name: string;
  /** Why this classification: which field decided it. */
  readonly basis: string;
}

export interface Vpc {
  readonly id: string;
  readonly cidrs: readonly string[];
  readonly ipv6Cidrs: readonly string[];
  readonly isDefault: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

export type FlowLogTrafficType = 'ACCEPT' | 'REJECT' | 'ALL';
export type FlowLogScope = 'vpc' | 'subnet' | 'eni' | 'transit-gateway' | 'other';

export interface FlowLogConfig {
  readonly id: string;
  /** vpc-…, subnet-…, eni-… */
  readonly resourceId: string;
  readonly scope: FlowLogScope;
  readonly trafficType: FlowLogTrafficType;
  readonly destinationType: 'cloud-watch-logs' | 's3' | 'kinesis-data-firehose' | string;
  readonly logGroupName?: string;
  /** ARN of the S3 bucket (with prefix) or Firehose stream. */
  readonly destination?: string;
  /** The field names of the log format, in order (e.g. ['version','account-id',…]). */
  readonly fields: readonly string[];
  /** The LogFormat string as AWS returned it. */
  readonly logFormat: string;
  /** ISO 8601. */
  readonly creationTime?: string;
  readonly status?: string;
  readonly deliverStatus?: string;
  readonly maxAggregationInterval?: number;
  /** S3 destination options (file format, hive-compatible partitions, per-hour partition). */
  readonly s3Options?: {
    readonly fileFormat?: string;
    readonly hivePartitions?: boolean;
    readonly perHour?: boolean;
  };
}

export interface NaclEntry {
  readonly ruleNumber: number;
  readonly egress: boolean;
  /** AWS protocol number as a string, '-1' for all. */
  readonly protocol: string;
  readonly action: 'allow' | 'deny';
  readonly cidr: string;
  readonly portRange?: { readonly from: number; readonly to: number };
  readonly icmp?: { readonly type: number; readonly code: number };
}

export interface NetworkAcl {
  readonly id: string;
  readonly vpcId: string;
  readonly isDefault: boolean;
  readonly subnetIds: readonly string[];
  readonly entries: readonly NaclEntry[];
}

export interface PrefixList {
  readonly id: string;
  readonly name: string;
  readonly addressFamily: IpFamily;
  /** MaxEntries: the weight the list has against the SG rule quota. */
  readonly maxEntries: number;
  readonly ownerId?: string;
  readonly entries: readonly { readonly cidr: string; readonly description?: string }[];
}

export interface Inventory {
  readonly accountId?: string;
  readonly region?: string;
  readonly vpcs: readonly Vpc[];
  readonly securityGroups: readonly SecurityGroup[];
  readonly networkInterfaces: readonly NetworkInterface[];
  readonly flowLogs: readonly FlowLogConfig[];
  readonly networkAcls: readonly NetworkAcl[];
  readonly prefixLists: readonly PrefixList[];
}
