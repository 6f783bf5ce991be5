/**
 * The deployed, approval-gated remediation's own pieces of the core: the plan of the SGs that
 * opted in by tag (the others listed, never planned), the approval record the workflow stores with
 * its task token and `sg-audit approve|reject` reads, and the commands the alert gives.
 *
 * Opt-in is by the SG's tag in the report (what discovery read); the apply function's IAM policy
 * enforces the same tag on the SG at change time (aws:ResourceTag), so an SG whose tag was removed
 * since is refused by EC2 (DryRun first: nothing changes).
 */
import { z } from 'zod';
import type { RemediationAlert } from '../model/ports';
import type { AuditReport } from '../report/model';
import type { PlannableVerdict, RemediationPlan } from './model';
import { buildPlan } from './plan';
import { type PlanFile, renderPlanFiles } from './render';
import { planSummary } from './summary';

export const APPROVAL_SCHEMA_VERSION = '1.0.0';

/** The SG tag that opts an SG in to deployed remediation. */
export interface OptInTag {
  readonly key: string;
  readonly value: string;
}

/** An SG the full plan would change but that does not carry the opt-in tag: listed, not planned. */
export interface NotOptedIn {
  readonly sgId: string;
  readonly sgName: string;
  readonly adds: number;
  readonly revokes: number;
}

/** pending: waiting for the decision; the other states end it. */
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'failed'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A run's approval, in the work bucket at {@link approvalKey}; the task token only while pending. */
export interface ApprovalRecord {
  readonly schemaVersion: string;
  readonly kind: 'sg-audit-approval';
  readonly runId: string;
  readonly planId: string;
  readonly account: { readonly id?: string; readonly region?: string };
  readonly status: ApprovalStatus;
  /** ISO 8601. */
  readonly requestedAt: string;
  /** ISO 8601: past it the workflow takes the plan as rejected (expired). */
  readonly expiresAt: string;
  /** Where the plan files are: `s3://<report bucket>/<run prefix>`. */
  readonly planLocation: string;
  /** planSummary() of the plan. */
  readonly summary: string;
  readonly notOptedIn: readonly NotOptedIn[];
  readonly tag: OptInTag;
  /** Step Functions' task token of the waiting state (SendTaskSuccess/Failure), removed once decided. */
  readonly taskToken?: string;
  /** ISO 8601, once decided. */
  readonly decidedAt?: string;
  /** Who decided (as the approver's CLI stated it) and why; the error of a failed request. */
  readonly decision?: { readonly by?: string; readonly reason?: string };
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/;

export const approvalRecordSchema = z.object({
  schemaVersion: z.string(),
  kind: z.literal('sg-audit-approval'),
  runId: z.string().regex(RUN_ID),
  planId: z.string().min(1),
  account: z.object({ id: z.string().optional(), region: z.string().optional() }),
  status: z.enum(APPROVAL_STATUSES),
  requestedAt: z.string(),
  expiresAt: z.string(),
  planLocation: z.string(),
  summary: z.string(),
  notOptedIn: z.array(
    z.object({ sgId: z.string(), sgName: z.string(), adds: z.number(), revokes: z.number() }),
  ),
  tag: z.object({ key: z.string(), value: z.string() }),
  taskToken: z.string().min(1).optional(),
  decidedAt: z.string().optional(),
  decision: z.object({ by: z.string().optional(), reason: z.string().optional() }).optional(),
});

/** The error name a rejection is sent with (SendTaskFailure): the workflow's Catch matches it. */
export const REJECTED_ERROR = 'SgAudit.Rejected';

/** What `sg-audit approve` sends as the waiting task's output (SendTaskSuccess). */
export interface ApprovalDecision {
  readonly approved: true;
  /** The plan shown to the approver: the apply step refuses another one. */
  readonly planId: string;
  /** The approver's identity (STS GetCallerIdentity ARN), as the CLI stated it; CloudTrail has the call. */
  readonly by?: string;
  /** ISO 8601. */
  readonly at: string;
}

export const approvalDecisionSchema = z.object({
  approved: z.literal(true),
  planId: z.string().min(1),
  by: z.string().max(2048).optional(),
  at: z.string(),
});

/**
 * The approval record's key in the work bucket.
 *
 * @throws Error when the run id is not one (a key must never be built from a path).
 * @example approvalKey('20251117T000512Z-7f3a9c') // 'approvals/20251117T000512Z-7f3a9c.json'
 */
export function approvalKey(runId: string): string {
  if (!RUN_ID.test(runId)) throw new Error(`not a run id: '${runId}' (A-Z a-z 0-9 . _ = -, at most 128)`);
  return `approvals/${runId}.json`;
}

/** Whether a run id is one (what the CLI checks before building a key). */
export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

/**
 * The plan of the SGs that carry the opt-in tag, and the SGs the full plan would change that do
 * not (listed in the alert and plan.md, never planned). NACLs are not planned: the deployed apply
 * function may change security groups only.
 *
 * @example planOptedIn(report, { tag: { key: 'sg-audit:remediate', value: 'true' }, include: ['narrow', 'remove'], createdAt: new Date(), toolVersion: '0.1.0' }).plan.summary.toApply
 */
export function planOptedIn(
  report: AuditReport,
  options: {
    readonly tag: OptInTag;
    readonly include: readonly PlannableVerdict[];
    readonly createdAt: Date;
    readonly toolVersion: string;
  },
): { plan: RemediationPlan; notOptedIn: NotOptedIn[] } {
  const common = { include: options.include, createdAt: options.createdAt, toolVersion: options.toolVersion };
  const optedIn = (tags: Readonly<Record<string, string>> | undefined) =>
    tags?.[options.tag.key] === options.tag.value;
  const tagged = report.securityGroups.filter((sg) => optedIn(sg.tags));
  const plan = buildPlan({ ...report, securityGroups: tagged }, common);
  const others = buildPlan(
    { ...report, securityGroups: report.securityGroups.filter((sg) => !optedIn(sg.tags)) },
    common,
  );
  const notOptedIn = others.securityGroups
    .filter((sg) => sg.action === 'apply' || sg.action === 'iac')
    .map((sg) => ({ sgId: sg.sgId, sgName: sg.sgName, adds: sg.add.length, revokes: sg.revoke.length }));
  return { plan, notOptedIn };
}

/**
 * plan.md's section on the SGs left out for want of the tag.
 *
 * @example notOptedInMarkdown([{ sgId: 'sg-1', sgName: 'web', adds: 1, revokes: 2 }], tag)
 */
export function notOptedInMarkdown(notOptedIn: readonly NotOptedIn[], tag: OptInTag): string {
  if (notOptedIn.length === 0) return '';
  const lines = [
    '',
    '## Not opted in',
    '',
    `These security groups have proven changes but do not carry the tag \`${tag.key}=${tag.value}\`: the deployed remediation does not plan or change them (its IAM policy allows changes to tagged SGs only). Tag an SG to opt it in, or use \`sg-audit plan\` / \`sg-audit apply\` yourself.`,
    '',
    '| security group | name | would add | would revoke |',
    '| --- | --- | --- | --- |',
    ...notOptedIn.map(
      (sg) => `| \`${sg.sgId}\` | ${sg.sgName.replace(/[|\r\n]/g, ' ')} | ${sg.adds} | ${sg.revokes} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The exact commands an approver runs (their own credentials; the work bucket holds the token).
 *
 * @example approvalCommands('run-1', 'work-bucket', 'ap-northeast-2').approve
 * // 'sg-audit approve --run run-1 --work-bucket work-bucket --region ap-northeast-2'
 */
export function approvalCommands(
  runId: string,
  workBucket: string,
  region?: string,
): { approve: string; reject: string } {
  const where = `--work-bucket ${workBucket}${region ? ` --region ${region}` : ''}`;
  return {
    approve: `sg-audit approve --run ${runId} ${where}`,
    reject: `sg-audit reject --run ${runId} ${where} --reason "…"`,
  };
}

/** The list of SGs left out for want of the tag, beside plan.json (the approval request reads it). */
export const NOT_OPTED_IN_FILE = 'not-opted-in.json';

/**
 * The files the deployed plan step writes beside the run's report: sg-audit plan's (plan.json,
 * plan.md, apply.sh, rollback.sh, iac/ for SGs that code manages), plan.md with the SGs not opted
 * in, and not-opted-in.json.
 *
 * @example deployedPlanFiles(plan, notOptedIn, tag).map((f) => f.name) // ['plan.json', 'apply.sh', …, 'not-opted-in.json']
 */
export function deployedPlanFiles(
  plan: RemediationPlan,
  notOptedIn: readonly NotOptedIn[],
  tag: OptInTag,
): PlanFile[] {
  const files = renderPlanFiles(plan).map((file) =>
    file.name === 'plan.md' ? { ...file, body: `${file.body}${notOptedInMarkdown(notOptedIn, tag)}` } : file,
  );
  return [...files, { name: NOT_OPTED_IN_FILE, body: `${JSON.stringify(notOptedIn, null, 2)}\n` }];
}

/**
 * A run's pending approval: the plan's summary, when it expires, the waiting task's token.
 *
 * @example approvalRecordOf({ runId, plan, planLocation, notOptedIn, tag, taskToken, now, timeoutSeconds: 259200 }).expiresAt
 */
export function approvalRecordOf(input: {
  readonly runId: string;
  readonly plan: RemediationPlan;
  readonly planLocation: string;
  readonly notOptedIn: readonly NotOptedIn[];
  readonly tag: OptInTag;
  readonly taskToken: string;
  readonly now: Date;
  readonly timeoutSeconds: number;
  /** The region the workflow runs in, when the report names none (the commands need it). */
  readonly region?: string;
}): ApprovalRecord {
  return {
    schemaVersion: APPROVAL_SCHEMA_VERSION,
    kind: 'sg-audit-approval',
    runId: input.runId,
    planId: input.plan.planId,
    account: { ...(input.region ? { region: input.region } : {}), ...input.plan.report.account },
    status: 'pending',
    requestedAt: input.now.toISOString(),
    expiresAt: new Date(input.now.getTime() + input.timeoutSeconds * 1000).toISOString(),
    planLocation: input.planLocation,
    summary: planSummary(input.plan),
    notOptedIn: input.notOptedIn,
    tag: input.tag,
    taskToken: input.taskToken,
  };
}

/**
 * The approval alert of a pending record: its summary, expiry and the exact commands.
 *
 * @example approvalAlertOf(record, 'work-bucket').commands.approve
 */
export function approvalAlertOf(
  record: ApprovalRecord,
  workBucket: string,
): Extract<RemediationAlert, { kind: 'remediation-approval' }> {
  return {
    kind: 'remediation-approval',
    runId: record.runId,
    account: record.account,
    summary: record.summary,
    planLocation: record.planLocation,
    expiresAt: record.expiresAt,
    commands: approvalCommands(record.runId, workBucket, record.account.region),
    tag: record.tag,
    notOptedIn: record.notOptedIn.map((sg) => ({ sgId: sg.sgId, sgName: sg.sgName })),
  };
}

/**
 * The record once decided: its status, when and by whom, the token dropped (it is spent).
 *
 * @example decidedRecord(record, 'rejected', new Date(), { reason: 'change freeze' }).taskToken // undefined
 */
export function decidedRecord(
  record: ApprovalRecord,
  status: Exclude<ApprovalStatus, 'pending'>,
  now: Date,
  decision: { readonly by?: string; readonly reason?: string } = {},
): ApprovalRecord {
  const { taskToken: _spent, ...rest } = record;
  const hasDecision = decision.by !== undefined || decision.reason !== undefined;
  return { ...rest, status, decidedAt: now.toISOString(), ...(hasDecision ? { decision } : {}) };
}

/** What a rejection sends as its cause (SendTaskFailure): the reason and the rejecter, as JSON. */
export interface RejectionCause {
  readonly reason?: string;
  readonly by?: string;
}

/**
 * The reason and rejecter of a rejection's cause: sg-audit reject's JSON, or any text as the reason.
 *
 * @example rejectionOf('{"reason":"change freeze","by":"arn:aws:iam::1:user/a"}') // { reason: 'change freeze', by: 'arn:…' }
 */
export function rejectionOf(cause: string | undefined): RejectionCause {
  if (cause === undefined || cause.trim() === '') return {};
  try {
    const value = JSON.parse(cause) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const { reason, by } = value as Record<string, unknown>;
      return {
        ...(typeof reason === 'string' ? { reason } : {}),
        ...(typeof by === 'string' ? { by } : {}),
      };
    }
  } catch {
    // Not sg-audit's JSON: the text is the reason.
  }
  return { reason: cause };
}
