/**
 * The remediate step's state contract (the deployed, approval-gated remediation): `plan` after
 * analyze, `request-approval` from the waiting task (with its task token), `outcome` at the end of
 * every path (applied, rejected, expired, failed).
 */
import { z } from 'zod';
import type { RemediationOutcome } from '../../shared/model/ports';
import { approvalDecisionSchema } from '../../shared/remediation/approval';
import { stepErrorSchema } from '../state';

const runId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be an id of A-Z a-z 0-9 . _ = -');
/** A key in the report bucket under the report prefix, never a path out of it. */
const reportKey = z
  .string()
  .min(1)
  .refine(
    (k) => !k.startsWith('/') && !k.split('/').includes('..'),
    'must be an object key without .. or a leading /',
  );

export const remediateEventSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('plan'),
    runId,
    /** analyze's report.json and the run's prefix (ends in '/'). */
    reportJsonKey: reportKey,
    reportPrefix: reportKey.refine((k) => k.endsWith('/'), 'must end in /'),
  }),
  z.object({
    action: z.literal('request-approval'),
    runId,
    planKey: reportKey,
    /** Step Functions' token of the waiting task ($$.Task.Token). */
    taskToken: z.string().min(1).max(4096),
  }),
  z.object({
    action: z.literal('outcome'),
    runId,
    /** How the remediation ended, with what the path has (absent or null otherwise). */
    decision: z.object({
      /** applied: the apply step's record says what was done; the others changed nothing. */
      status: z.enum(['applied', 'rejected', 'expired', 'failed']),
      planKey: reportKey.nullish(),
      appliedKey: reportKey.nullish(),
      /** What the Catch recorded: the rejection (SgAudit.Rejected), the timeout, the failure. */
      error: stepErrorSchema.nullish(),
      /** The approval the apply step acted on. */
      approval: approvalDecisionSchema.nullish(),
    }),
  }),
]);
export type RemediateEvent = z.infer<typeof remediateEventSchema>;

/** The plan step's result: whether to wait for a decision, and where the plan is. */
export interface PlanResult {
  readonly runId: string;
  /** True when the plan changes at least one opted-in SG: the workflow then waits for a decision. */
  readonly awaitApproval: boolean;
  /** plan.json in the report bucket; absent when nothing was planned or listed. */
  readonly planKey?: string;
  readonly planId?: string;
  readonly toApply: number;
  readonly adds: number;
  readonly revokes: number;
  /** SGs with proven changes that do not carry the opt-in tag. */
  readonly notOptedIn: number;
}

export interface OutcomeResult {
  readonly runId: string;
  readonly outcome: RemediationOutcome;
  readonly published: readonly string[];
  readonly failed: readonly { readonly channel: string; readonly error: string }[];
}
