/**
 * The change plan (plan.json) and the record of what was applied (applied-<time>.json): plain,
 * versioned data. docs/plan.schema.json and docs/applied.schema.json publish them
 * (shared/remediation/schema.ts); changes are additive within a major version.
 */
import type { RecommendationBasis } from '../model/analysis';
import type { Direction, IpFamily, NaclEntry } from '../model/inventory';
import type { RuleSpec } from './rule-spec';

export const PLAN_SCHEMA_VERSION = '1.0.0';
export const APPLIED_SCHEMA_VERSION = '1.0.0';

/** The verdicts a plan may act on: both proven (full coverage), never 'review'. */
export const PLANNABLE_VERDICTS = ['narrow', 'remove'] as const;
export type PlannableVerdict = (typeof PLANNABLE_VERDICTS)[number];

/** Who manages an SG: a direct change to an SG that code manages drifts from the code. */
export interface IacOwner {
  readonly tool: 'cloudformation' | 'cdk' | 'terraform' | 'pulumi';
  /** The stack, workspace or project, when a marker names it. */
  readonly name?: string;
  /** The tag or description that gave it away. */
  readonly evidence: string;
}

/** A rule the plan adds: a recommended entry, its description citing the evidence. */
export interface PlannedAdd {
  readonly rule: RuleSpec;
  /** Rule ids (of the report) whose observed traffic this entry admits and that the plan revokes. */
  readonly replaces: readonly string[];
  readonly basis: RecommendationBasis;
  readonly connections: number;
  readonly distinctPeers: number;
  /** The recommendation line of the report. */
  readonly text: string;
}

/** A rule the plan revokes: by its `sgr-` id when known, always by its full spec. */
export interface PlannedRevoke {
  readonly ruleId: string;
  readonly rule: RuleSpec;
  readonly verdict: PlannableVerdict;
  readonly reason: string;
  /** Keys (rule-spec.ts specKey) of the rules that admit its observed traffic afterwards. */
  readonly replacedBy: readonly string[];
}

/** A rule the plan considered and leaves as it is, and why. */
export interface KeptRule {
  readonly ruleId: string;
  readonly verdict: string;
  readonly reason: string;
}

/** One change, in the order it is made. */
export interface SgStep {
  readonly action: 'authorize' | 'revoke';
  readonly rule: RuleSpec;
  /** The report's rule id (revokes). */
  readonly ruleId?: string;
}

/** Rule entries of one direction and family against the quota, after each step. */
export interface QuotaLine {
  readonly direction: Direction;
  readonly family: IpFamily;
  readonly limit: number;
  readonly before: number;
  /** After each step of `steps`, in order. */
  readonly afterStep: readonly number[];
  readonly peak: number;
  readonly after: number;
}

/**
 * apply: sg-audit applies it; iac: code manages the SG, the IaC snippets carry the change;
 * blocked: a safety rule stopped it (blockedReason); none: nothing proven to change.
 */
export type SgPlanAction = 'apply' | 'iac' | 'blocked' | 'none';

export interface SgPlan {
  readonly sgId: string;
  readonly sgName: string;
  readonly vpcId: string;
  readonly action: SgPlanAction;
  readonly owner?: IacOwner;
  readonly blockedReason?: string;
  /** The rule set the plan was made for (the report's): apply refuses an SG that drifted from it. */
  readonly expected: { readonly fingerprint: string; readonly rules: readonly RuleSpec[] };
  readonly add: readonly PlannedAdd[];
  readonly revoke: readonly PlannedRevoke[];
  readonly kept: readonly KeptRule[];
  /** Adds before revokes, revokes moved earlier only where the quota demands and safety allows. */
  readonly steps: readonly SgStep[];
  readonly quota: readonly QuotaLine[];
  /** The fingerprint of the rule set after every step. */
  readonly afterFingerprint: string;
}

/** One NACL entry, as the inventory holds it (rule numbers 1–32766; the default rule '*' is not one). */
export type NaclEntrySpec = NaclEntry;

export interface NaclStep {
  /** create: a new number; replace: the entry at that number becomes this one; delete: the number goes. */
  readonly action: 'create' | 'replace' | 'delete';
  readonly entry: NaclEntrySpec;
  readonly reason: string;
}

export interface NaclPlan {
  readonly naclId: string;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly action: 'apply' | 'blocked' | 'none';
  readonly blockedReason?: string;
  readonly expected: { readonly fingerprint: string; readonly entries: readonly NaclEntrySpec[] };
  readonly target: readonly NaclEntrySpec[];
  readonly steps: readonly NaclStep[];
  /** Numbered entries per direction against the quota, after each step. */
  readonly quota: readonly {
    readonly direction: 'inbound' | 'outbound';
    readonly limit: number;
    readonly before: number;
    readonly peak: number;
    readonly after: number;
  }[];
  readonly afterFingerprint: string;
}

export interface RemediationPlan {
  readonly schemaVersion: string;
  readonly kind: 'sg-audit-plan';
  /** sha256 of the plan's content (without this field and createdAt). */
  readonly planId: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly tool: { readonly name: string; readonly version: string };
  /** The report the plan was made from. */
  readonly report: {
    readonly runId: string;
    readonly generatedAt: string;
    readonly window: { readonly start: string; readonly end: string; readonly days: number };
    readonly account: { readonly id?: string; readonly region?: string };
  };
  readonly include: readonly PlannableVerdict[];
  readonly securityGroups: readonly SgPlan[];
  readonly nacls: readonly NaclPlan[];
  readonly summary: {
    readonly securityGroups: number;
    readonly toApply: number;
    readonly iac: number;
    readonly blocked: number;
    readonly adds: number;
    readonly revokes: number;
    readonly nacls: number;
  };
}

/** What happened to one SG or NACL in an apply or a rollback. */
export type AppliedStatus =
  | 'applied'
  | 'verified-unchanged'
  | 'failed'
  | 'refused-drift'
  | 'skipped'
  | 'not-reached'
  | 'dry-run';

/** What an apply or rollback did to one SG or NACL, whatever its kind. */
interface AppliedTarget<S> {
  readonly status: AppliedStatus;
  readonly message?: string;
  readonly steps: readonly S[];
  /** How many of `steps` were made. */
  readonly stepsDone: number;
  /** Drift: keys present now that the plan did not expect, and expected keys now missing. */
  readonly drift?: { readonly added: readonly string[]; readonly removed: readonly string[] };
}

export interface AppliedSecurityGroup extends AppliedTarget<SgStep> {
  readonly sgId: string;
  /** The exact rules before any change (descriptions and ids as AWS returned them). */
  readonly before?: { readonly fingerprint: string; readonly rules: readonly RuleSpec[] };
  /** As read back after the last step made (the verify describe). */
  readonly after?: { readonly fingerprint: string; readonly rules: readonly RuleSpec[] };
}

export interface AppliedNacl extends AppliedTarget<NaclStep> {
  readonly naclId: string;
  readonly before?: { readonly fingerprint: string; readonly entries: readonly NaclEntrySpec[] };
  readonly after?: { readonly fingerprint: string; readonly entries: readonly NaclEntrySpec[] };
}

export interface AppliedRecord {
  readonly schemaVersion: string;
  readonly kind: 'sg-audit-applied';
  readonly operation: 'apply' | 'rollback';
  readonly planId: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly account?: { readonly id?: string; readonly region?: string };
  /** complete: every target reached; stopped: a failure stopped the run (stoppedAt). */
  readonly status: 'in-progress' | 'complete' | 'stopped';
  readonly stoppedAt?: {
    readonly target: string;
    readonly step: number;
    readonly of: number;
    readonly error: string;
  };
  readonly securityGroups: readonly AppliedSecurityGroup[];
  readonly nacls: readonly AppliedNacl[];
}
