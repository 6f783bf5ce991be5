/**
 * The organization report: one run over (account, region) targets, each audited as a single
 * account is (its own report under `<account>/<region>/`) or recorded as a gap (the target could
 * not be audited: its role is missing or does not trust the auditor, its region is not enabled,
 * a step failed). What the org HTML overview, the org CSVs and the one alert digest read.
 * Versioned like the audit report: changes are additive within a major version.
 */
import type { CoverageStatus, Severity } from '../model/analysis';
import type { ComparedRun } from '../report/model';

export const ORG_REPORT_SCHEMA_VERSION = '1.0.0';

/** One (account, region) an organization run audits. */
export interface OrgTarget {
  /** 12-digit AWS account id. */
  readonly accountId: string;
  readonly region: string;
  /** The account's name in the organization, when listed through Organizations. */
  readonly accountName?: string;
}

/** Why a target could not be audited, as far as its error tells. */
export const GAP_KINDS = ['role-unavailable', 'region-unavailable', 'failed'] as const;
export type GapKind = (typeof GAP_KINDS)[number];

/** A target that could not be audited: reported, never a failed run. */
export interface TargetGap {
  readonly kind: GapKind;
  /** The state or step that failed, when known (Discover, Analyze …). */
  readonly step?: string;
  readonly error: { readonly name: string; readonly message: string };
}

/** Findings new, worse, resurfaced and resolved since the previous report. */
export interface FindingChangeCounts {
  readonly newFindings: number;
  readonly worseFindings: number;
  readonly resurfacedFindings: number;
  readonly resolvedFindings: number;
}

/** What changed in a target since its previous report (actively suppressed findings left out). */
export interface TargetChanges extends FindingChangeCounts {
  readonly firstRun: boolean;
}

/** The counts of an audit: a target's, or the organization's totals (the audited targets' summed). */
export interface AuditCounts {
  readonly findingsBySeverity: Readonly<Record<Severity, number>>;
  /** Without the findings an active suppression covers (what alerts and --fail-on count). */
  readonly actionableFindingsBySeverity: Readonly<Record<Severity, number>>;
  readonly securityGroups: number;
  readonly networkInterfaces: number;
  readonly enisByCoverage: Readonly<Record<CoverageStatus, number>>;
}

/** An audited target, summarised from its report. */
export interface TargetAudit extends AuditCounts {
  readonly runId: string;
  readonly generatedAt: string;
  readonly warnings: number;
  /** Flow sources that failed (their ENIs' rules are 'unknown'). */
  readonly failedSources: number;
  /** The target's report.html, relative to the reports root (`<account>/<region>/…/report.html`). */
  readonly reportPath?: string;
  /** Present when the target's report was compared with its previous one. */
  readonly changes?: TargetChanges;
}

export type OrgTargetResult = OrgTarget &
  (
    | { readonly status: 'audited'; readonly audit: TargetAudit }
    | { readonly status: 'gap'; readonly gap: TargetGap }
  );

/** A finding worth naming at organization level (worst first, bounded), with its target. */
export interface OrgFinding {
  readonly accountId: string;
  readonly region: string;
  readonly findingId: string;
  readonly check: string;
  readonly severity: Severity;
  readonly sgId: string;
  readonly sgName: string;
  /** The rule as one line ('ingress tcp 22 from 0.0.0.0/0'), or the SG-level reason. */
  readonly rule: string;
  readonly reason: string;
  /** For the org digest: new, worse (was …) or resurfaced since the target's previous report. */
  readonly change?: 'new' | 'worse' | 'resurfaced';
  readonly previousSeverity?: Severity;
}

export interface OrgTotals extends AuditCounts {
  readonly targets: number;
  readonly audited: number;
  readonly gaps: number;
  readonly accounts: number;
  readonly regions: number;
}

/** Week over week at organization level: the targets' own changes summed, and targets that changed state. */
export interface OrgChanges extends ComparedRun, FindingChangeCounts {
  /** New, worse or resurfaced actionable findings in some target, or a target newly a gap. */
  readonly worsened: boolean;
  /** Targets with new, worse or resurfaced findings. */
  readonly worsenedTargets: readonly OrgTarget[];
  /** Gaps now that were audited (or absent) in the previous run. */
  readonly newGaps: readonly OrgTarget[];
  /** Targets audited now that were gaps in the previous run. */
  readonly resolvedGaps: readonly OrgTarget[];
  /** Targets of this run the previous run did not have. */
  readonly newTargets: readonly OrgTarget[];
  /** Targets of the previous run this run does not have. */
  readonly removedTargets: readonly OrgTarget[];
}

export interface OrgReport {
  readonly schemaVersion: string;
  readonly tool: { readonly name: string; readonly version: string };
  readonly runId: string;
  /** ISO 8601. */
  readonly generatedAt: string;
  /** The audited window (the targets share it), when a target was audited. */
  readonly window?: { readonly start: string; readonly end: string; readonly days: number };
  /** Sorted by account, then region. */
  readonly targets: readonly OrgTargetResult[];
  readonly totals: OrgTotals;
  /** The worst actionable findings across targets (bounded: findings.csv has them all). */
  readonly topFindings: readonly OrgFinding[];
  /** New, worse and resurfaced actionable findings across targets, worst first (bounded). */
  readonly leadingFindings: readonly OrgFinding[];
  /** Present when the run was compared with the previous organization report. */
  readonly changes?: OrgChanges;
}

/**
 * A target's label: '111111111111/eu-west-1'.
 *
 * @example targetLabel({ accountId: '111111111111', region: 'eu-west-1' }) // '111111111111/eu-west-1'
 */
export function targetLabel(target: Pick<OrgTarget, 'accountId' | 'region'>): string {
  return `${target.accountId}/${target.region}`;
}
