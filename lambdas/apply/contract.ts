/**
 * The apply step's state contract (the deployed remediation, once approved): the run's plan.json
 * and the approval the waiting task returned (sg-audit approve's SendTaskSuccess output).
 */
import { z } from 'zod';
import { approvalDecisionSchema } from '../../shared/remediation/approval';

export const applyEventSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be an id of A-Z a-z 0-9 . _ = -'),
  planKey: z
    .string()
    .regex(/^[^/].*\/plan\.json$/, 'must be the key of a plan.json')
    .refine((k) => !k.split('/').includes('..'), 'must not contain ..'),
  approval: approvalDecisionSchema,
});
export type ApplyEvent = z.infer<typeof applyEventSchema>;

export interface ApplyResult {
  readonly runId: string;
  /** applied-<time>.json beside the plan (before/after of every SG). */
  readonly appliedKey: string;
  /** complete: every SG reached; stopped: a failure stopped the run (the record says where). */
  readonly status: 'complete' | 'stopped';
  /** SGs refused because their rules drifted from the plan. */
  readonly drifted: number;
}

/** The approval names another plan than the run's plan.json (it was replaced since it was shown). */
export class PlanNotApprovedError extends Error {
  override readonly name = 'PlanNotApprovedError';
}
