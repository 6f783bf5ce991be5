/** Pieces of the workflow's state contract that more than one function's contract uses. */
import { z } from 'zod';
import type { StepError } from '../shared/model/run';

/** What a Step Functions Catch puts at its ResultPath: the error name and its cause (text or JSON). */
export const stepErrorSchema: z.ZodType<StepError> = z.object({
  Error: z.string().min(1),
  Cause: z.string().optional(),
});
