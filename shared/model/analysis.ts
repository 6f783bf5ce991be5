/**
 * What the core computes: coverage per ENI, connections, rule usage and verdicts, risk findings,
 * recommendations. Plain data; the report model (shared/report) assembles them.
 */
import type { Direction, IpFamily, ResourceRef, ResourceType } from './inventory';
import type { RuleChange } from './rule-change';

/** Worst first: the order of report tables, summaries and alerts. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** Lower is worse: critical = 0 … info = 4. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  critical: 0,
  high: 1,
  medium: 2,
  low: 3,
  info: 4,
};

/**
 * The rank of a severity for sorting and thresholds (lower is worse).
 *
 * @example severityRank('high') < severityRank('low') // true
 */
export function severityRank(severity: Severity): number {
  return SEVERITY_RANK[severity];
}

/** full: ACCEPT/ALL logs cover the whole window; partial: some of it or some fields missing;
 * reject-only: only REJECT logs apply; none: no flow log applies. Strongest first. */
export const COVERAGE_STATUSES = ['full', 'partial', 'reject-only', 'none'] as const;
export type CoverageStatus = (typeof COVERAGE_STATUSES)[number];

export interface EniCoverage {
  readonly eniId: string;
  readonly status: CoverageStatus;
  /** Flow logs that apply to the ENI (VPC, subnet or ENI level). */
  readonly flowLogIds: readonly string[];
  /** Human-readable reasons behind a status other than 'full' (e.g. "flow log fl-1 created 2026-11-18, after the window start"). */
  readonly reasons: readonly string[];
  /** Epoch seconds from which ACCEPT traffic is covered, when partial because of creation time. */
  readonly coveredFrom?: number;
  /** Runs of the window in which no applicable log is proven to have delivered (epoch seconds, inclusive). */
  readonly deliveryGaps?: readonly { readonly from: number; readonly to: number }[];
  /** Whether the applicable formats carry tcp-flags (folding evidence quality). */
  readonly hasTcpFlags: boolean;
  readonly hasPacketAddresses: boolean;
}

/** How the core decided who initiated a connection. */
export type InitiatorEvidence =
  | 'flags'
  | 'well-known'
  | 'peer-ephemeral'
  | 'listening'
  | 'refused-packets'
  | 'counterpart-ports'
  | 'lower-port'
  | 'portless';

/** One connection group as seen from one ENI, after folding. */
export interface Connection {
  readonly eniId: string;
  /** inbound: the peer initiated (needs an ingress rule); outbound: the ENI initiated (egress rule). */
  readonly direction: 'inbound' | 'outbound';
  readonly action: 'ACCEPT' | 'REJECT';
  readonly protocol: number;
  /** Service port; null for protocols without ports. */
  readonly port: number | null;
  readonly localAddr: string;
  readonly peerAddr: string;
  readonly evidence: InitiatorEvidence;
  /** Estimated connection count (SYNs when flags are known, else distinct client ports, at least 1). */
  readonly connections: number;
  readonly records: number;
  readonly packets: number;
  readonly bytes: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /**
   * Records that travelled initiator → service (the rest are replies). A REJECT connection with
   * none is a refused reply, never an attempt: only a (stateless) NACL refuses the reply of an
   * accepted connection. Absent on connections built before the fold counted it.
   */
  readonly requestRecords?: number;
}

/** A connection with the rule entries (of every SG on its ENI, in its direction) that admit it. */
export interface MatchedConnection extends Connection {
  readonly ruleIds: readonly string[];
}

export const RULE_STATUSES = ['used', 'unused', 'unknown'] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];
export const RULE_VERDICTS = ['keep', 'narrow', 'remove', 'review'] as const;
export type RuleVerdict = (typeof RULE_VERDICTS)[number];

export interface PeerUsage {
  readonly addr: string;
  readonly connections: number;
  readonly bytes: number;
}

export interface PortUsage {
  readonly protocol: number;
  readonly port: number | null;
  readonly connections: number;
  readonly bytes: number;
}

/** Usage and verdict of one rule entry. */
export interface RuleUsage {
  readonly ruleId: string;
  readonly sgId: string;
  readonly status: RuleStatus;
  /** Why unknown/unused (coverage gaps, ENIs absent, traffic flow logs never record …). */
  readonly statusReason: string;
  readonly verdict: RuleVerdict;
  readonly verdictReason: string;
  readonly connections: number;
  readonly records: number;
  readonly packets: number;
  readonly bytes: number;
  readonly distinctPeers: number;
  /** Epoch seconds, absent when unused. */
  readonly firstSeen?: number;
  readonly lastSeen?: number;
  /** Coverage of the ENIs carrying the SG, summarised: the weakest status among them. */
  readonly coverage: CoverageStatus | 'no-enis';
  /** Top peers by connections (at most 10). */
  readonly topPeers: readonly PeerUsage[];
  /** Ports seen on this rule (at most 200, most used first). */
  readonly ports: readonly PortUsage[];
}

/**
 * The risk checks (shared/risk/checks.ts) and the traffic checks (shared/risk/traffic-checks.ts:
 * rejected connections and egress destinations), in the order the report schema lists them.
 */
export const CHECK_IDS = [
  'all-traffic-open',
  'all-ports-open',
  'portless-protocol-open',
  'world-port-range',
  'sensitive-port-world',
  'sensitive-port-wide-public',
  'wide-public-cidr',
  'world-open-web',
  'world-open-port',
  'world-open-icmp',
  'default-sg-in-use',
  'default-sg-has-rules',
  'unused-sg',
  'egress-all-open',
  'unused-rule',
  'rejected-missing-rule',
  'rejected-probe',
  'rejected-by-nacl',
  'unexpected-egress',
  'egress-admin-port',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export interface Finding {
  /** Stable across runs: derived from check, SG and rule entry. */
  readonly id: string;
  readonly check: CheckId;
  readonly severity: Severity;
  readonly sgId: string;
  readonly sgName: string;
  readonly vpcId: string;
  /** Rule-level findings carry the rule; SG-level findings (unused SG, default SG) do not. */
  readonly ruleId?: string;
  readonly direction?: Direction;
  readonly protocol?: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  /** CIDR as written, sg-…, or pl-…. */
  readonly peer?: string;
  readonly reason: string;
  /** Resources behind the SG's ENIs, counted by type. */
  readonly resources: Readonly<Partial<Record<ResourceType, number>>>;
  /** Traffic evidence on the rule, e.g. "used: 120 connections from 4 peers, ports 22". */
  readonly evidence: string;
  /** Related Security Hub controls (EC2.2, EC2.13, EC2.14, EC2.18, EC2.19, EC2.21). */
  readonly controls: readonly string[];
  /** The accepted-risk entry that matched (suppressions file); 'expired' ones no longer suppress. */
  readonly suppression?: FindingSuppression;
  /**
   * ISO time of the earliest report in the unbroken run of reports that carry this finding, as
   * far as the compared history proves (set when a run is compared with its previous report).
   */
  readonly firstReportedAt?: string;
  /** The rule's usage status (rule-level findings): what is live ranks before what is not. */
  readonly ruleStatus?: RuleStatus;
  /** Who last created or widened the rule (its SG's creation for SG-level findings), when CloudTrail was read. */
  readonly change?: RuleChange;
  /** What to do about it (shared/remediation/fix.ts). */
  readonly fix?: Fix;
}

/**
 * What a fix does: remove the rule; replace it with the narrower entries its traffic needs; keep
 * it (expected, or in use as written); prove its use first (evidence incomplete: no change is
 * proposed); delete the unused SG; empty the default SG (after moving its ENIs away).
 */
export const FIX_ACTIONS = ['remove', 'replace', 'keep', 'prove', 'delete-sg', 'empty-default-sg'] as const;
export type FixAction = (typeof FIX_ACTIONS)[number];

/** The change a finding asks for, in words and as AWS CLI commands (in order; none when it needs a choice). */
export interface Fix {
  readonly action: FixAction;
  readonly text: string;
  readonly commands: readonly string[];
}

export interface FindingSuppression {
  readonly id: string;
  readonly owner: string;
  readonly reason: string;
  /** ISO date (inclusive). */
  readonly expires: string;
  readonly status: 'active' | 'expired';
}

/**
 * `unproven`: a rule kept as written because its use is not proven either way (partial evidence);
 * `aws-prefix-list`: addresses of an AWS service, recommended as the AWS-managed prefix list
 * that holds them (`com.amazonaws.<region>.s3` …) instead of the single addresses seen.
 */
export const RECOMMENDATION_BASES = [
  'observed',
  'summarised-/24',
  'port-group',
  'compacted',
  'sg-reference',
  'unproven',
  'aws-prefix-list',
] as const;
export type RecommendationBasis = (typeof RECOMMENDATION_BASES)[number];

export interface Recommendation {
  readonly sgId: string;
  readonly direction: Direction;
  readonly family: IpFamily;
  /** AWS IpProtocol: tcp, udp, icmp, icmpv6, -1 or a number. */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  /** A CIDR, sg-… or pl-…. */
  readonly peer: string;
  readonly connections: number;
  readonly distinctPeers: number;
  readonly basis: RecommendationBasis;
  /** The seed's line: `- allow tcp port 443 from 203.0.113.10`. */
  readonly text: string;
  /** Rule entries whose observed traffic this recommendation admits (never wider than them). */
  readonly sourceRuleIds: readonly string[];
  /** Addresses this entry admits beyond what was observed (compaction / summarisation exposure). */
  readonly addedAddresses?: string;
}

/** Quota accounting per SG, direction and IP family after compaction. */
export interface QuotaReport {
  readonly sgId: string;
  readonly direction: Direction;
  readonly family: IpFamily;
  readonly current: number;
  readonly recommendedBeforeCompaction: number;
  readonly recommended: number;
  readonly limit: number;
  /** Addresses the compaction merges added, as a decimal string (IPv6 counts exceed 2^53). */
  readonly addedAddresses: string;
}

export interface NaclRecommendation {
  readonly naclId: string;
  readonly subnetIds: readonly string[];
  readonly direction: 'inbound' | 'outbound';
  readonly ruleNumber: number;
  /** AWS protocol number as a string ('6', '17', '-1'). */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidr: string;
  readonly action: 'allow' | 'deny';
  /** 'service' for the connection itself, 'return-traffic' for the stateless reply on the client's ephemeral range. */
  readonly purpose: 'service' | 'return-traffic' | 'default-deny';
  readonly reason: string;
}

export interface ResourceRow {
  readonly eniId: string;
  readonly sgIds: readonly string[];
  readonly resource: ResourceRef;
  readonly privateIps: readonly string[];
  readonly vpcId: string;
  readonly subnetId: string;
  readonly coverage: CoverageStatus;
}
