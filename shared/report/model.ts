/**
 * The versioned report model: what every renderer (JSON, CSV, XLSX, Markdown, HTML) and every
 * notifier reads. Published as a JSON Schema in docs/report.schema.json; changes are additive
 * within a major version.
 */

import type {
  CoverageStatus,
  EniCoverage,
  Finding,
  NaclRecommendation,
  QuotaReport,
  Recommendation,
  ResourceRow,
  RuleStatus,
  RuleUsage,
  RuleVerdict,
  Severity,
} from '../model/analysis';
import type { DeliveryReport, DeliveryStatus } from '../model/delivery';
import type { EgressReport } from '../model/egress';
import type { FlowSourceStats } from '../model/flow';
import type { Direction, NetworkAcl } from '../model/inventory';
import type { RejectedReport } from '../model/rejected';
import type { ChangeHistorySummary, RuleChange } from '../model/rule-change';

export const REPORT_SCHEMA_VERSION = '1.3.0';

export interface ReportRule {
  /** RuleEntry id. */
  readonly id: string;
  readonly direction: Direction;
  /** AWS IpProtocol: tcp, udp, icmp, icmpv6, -1, or a protocol number as text. */
  readonly protocol: string;
  /** tcp/udp: the port range; icmp/icmpv6: type and code (-1 = all); absent otherwise. */
  readonly fromPort?: number;
  readonly toPort?: number;
  /** CIDR as written, sg-…, or pl-…. */
  readonly peer: string;
  readonly description?: string;
  /** `sgr-…` when the inventory named it (live runs): a change plan revokes the rule by it. */
  readonly securityGroupRuleId?: string;
  readonly usage: RuleUsage;
  /** Who last created or widened the rule, when CloudTrail was read. */
  readonly change?: RuleChange;
}

/**
 * A network ACL of the audited VPCs as it stood — its numbered entries and the default rules ('*',
 * number 32767), both directions: what a NACL change plan starts from.
 */
export type ReportNetworkAcl = NetworkAcl;

export interface ReportSecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly vpcId: string;
  readonly description: string;
  /** The SG's tags (suppressions match on them). */
  readonly tags?: Readonly<Record<string, string>>;
  readonly isDefault: boolean;
  readonly eniIds: readonly string[];
  /** SGs whose rules reference this one. */
  readonly referencedBy: readonly string[];
  readonly rules: readonly ReportRule[];
  readonly recommendations: readonly Recommendation[];
  readonly quota: readonly QuotaReport[];
  /** Worst finding severity on this SG, if any. */
  readonly worstSeverity?: Severity;
  /** Who created the SG, when CloudTrail was read. */
  readonly change?: RuleChange;
}

export interface ReportWarning {
  /** e.g. 'malformed-records', 'skipdata', 'no-flow-log', 'window-incomplete'. */
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  /** Examples of what the warning counts (malformed flow-log lines with their file and line). */
  readonly samples?: readonly { readonly file: string; readonly line: number; readonly reason: string }[];
}

export interface ReportSummary {
  readonly securityGroups: number;
  readonly ruleEntries: number;
  readonly networkInterfaces: number;
  readonly findingsBySeverity: Readonly<Record<Severity, number>>;
  readonly rulesByStatus: Readonly<Record<RuleStatus, number>>;
  readonly rulesByVerdict: Readonly<Record<RuleVerdict, number>>;
  readonly enisByCoverage: Readonly<Record<CoverageStatus, number>>;
  readonly flowRecords: number;
  readonly connections: number;
  readonly malformedRecords: number;
  readonly bytesScanned: number;
  readonly queries: number;
  /** Flow logs by delivery status over the window (absent in reports before delivery proof). */
  readonly flowLogsByDelivery?: Readonly<Record<DeliveryStatus, number>>;
}

export interface AuditReport {
  readonly schemaVersion: string;
  readonly tool: { readonly name: string; readonly version: string };
  readonly runId: string;
  /** ISO 8601. */
  readonly generatedAt: string;
  readonly mode: 'offline' | 'live';
  readonly account: { readonly id?: string; readonly region?: string };
  /** ISO 8601 bounds of the analysed window and its length in days. */
  readonly window: { readonly start: string; readonly end: string; readonly days: number };
  readonly scope: {
    readonly vpcIds: readonly string[];
    readonly sgIds: readonly string[];
    /** Port ranges as text ('22', '1024-2048'); empty = all. */
    readonly ports: readonly string[];
  };
  readonly summary: ReportSummary;
  readonly findings: readonly Finding[];
  readonly securityGroups: readonly ReportSecurityGroup[];
  readonly resources: readonly ResourceRow[];
  readonly coverage: readonly EniCoverage[];
  readonly naclRecommendations: readonly NaclRecommendation[];
  /** The network ACLs of the audited VPCs (absent in reports before change plans). */
  readonly networkAcls?: readonly ReportNetworkAcl[];
  readonly flowSources: readonly FlowSourceStats[];
  /** What each flow log is proven to have delivered, per bucket of the window. */
  readonly delivery?: DeliveryReport;
  readonly warnings: readonly ReportWarning[];
  /** What changed since the previous report (absent when no previous report was given). */
  readonly changes?: ReportChanges;
  /** What the rules refused: rejected connections by class (absent in reports before 1.3.0). */
  readonly rejected?: RejectedReport;
  /** Where accepted traffic went outside the inventory's VPCs, per SG (absent in reports before 1.3.0). */
  readonly egress?: EgressReport;
  /** The CloudTrail history rule changes were attributed from (absent when none was read). */
  readonly changeHistory?: ChangeHistorySummary;
}

/** The previous run a report (or an organization report) was compared with; none on a first run. */
export interface ComparedRun {
  /** No previous report: everything in the current one is new. */
  readonly firstRun: boolean;
  readonly previousRunId?: string;
  /** ISO 8601 time of the previous report. */
  readonly previousGeneratedAt?: string;
}

/** Security groups and ENIs of the current report the previous one lacked, and the reverse. */
export interface InventoryChanges {
  readonly newSecurityGroups: readonly string[];
  readonly removedSecurityGroups: readonly string[];
  readonly newEnis: readonly string[];
  readonly removedEnis: readonly string[];
}

export interface ReportChanges extends ComparedRun, InventoryChanges {
  /** New or worse (severity raised) findings: what alerting is about. */
  readonly worsened: boolean;
  readonly newFindingIds: readonly string[];
  /** Findings of the previous report that are gone (kept whole: they are not in this report). */
  readonly resolvedFindings: readonly Finding[];
  readonly changedFindings: readonly {
    readonly id: string;
    readonly previousSeverity: Severity;
    readonly changes: readonly string[];
  }[];
  readonly unchangedFindings: number;
  readonly ruleVerdictChanges: readonly {
    readonly ruleId: string;
    readonly sgId: string;
    readonly before: { readonly status: RuleStatus; readonly verdict: RuleVerdict };
    readonly after: { readonly status: RuleStatus; readonly verdict: RuleVerdict };
  }[];
  readonly renamedSecurityGroups: readonly {
    readonly sgId: string;
    readonly before: string;
    readonly after: string;
  }[];
}
