/** Pieces of the workflow's state contract that more than one function's contract uses. */
import { z } from 'zod';
import type { QueryOutcome } from '../adapters/aws/query-item-steps';
import type { StepError } from '../shared/model/run';
import type { OrgTarget } from '../shared/org/model';

/** What a Step Functions Catch puts at its ResultPath: the error name and its cause (text or JSON). */
export const stepErrorSchema: z.ZodType<StepError> = z.object({
  Error: z.string().min(1),
  Cause: z.string().optional(),
});

/**
 * What each query item adds to the Map's results (lambdas/query), which analyze splits into the
 * stored aggregates' keys and the failed sources.
 */
export const queryOutcomeSchema: z.ZodType<QueryOutcome> = z.discriminatedUnion('status', [
  z.object({ sourceId: z.string().min(1), status: z.literal('ok'), aggregatesKey: z.string().min(1) }),
  z.object({
    sourceId: z.string().min(1),
    status: z.literal('failed'),
    error: stepErrorSchema,
    errorKey: z.string().min(1).optional(),
  }),
]);

/** One (account, region) of an organization run, audited through its member role. */
export const targetSchema: z.ZodType<OrgTarget> = z.object({
  accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be a region name like eu-west-1'),
  accountName: z.string().max(200).optional(),
});
