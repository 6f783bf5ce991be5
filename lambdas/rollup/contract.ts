/**
 * The roll-up step's state contract: the organization run's id and the key of the Distributed
 * Map's ResultWriter manifest; each child's output one target's outcome — audited (its audit
 * run's output: analyze's result) or a gap (the error its Catch recorded).
 */
import { z } from 'zod';
import type { OrgTarget } from '../../shared/org/model';
import { InvalidEventError } from '../config';
import { stepErrorSchema, targetSchema } from '../state';

export const rollupEventSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be an id of A-Z a-z 0-9 . _ = -'),
  /** The targets' Distributed Map ResultWriter manifest (runs/<runId>/target-results/…/manifest.json). */
  targetResultsKey: z.string().min(1),
});
export type RollupEvent = z.infer<typeof rollupEventSchema>;

const targetOutcomeSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('audited'),
    target: targetSchema,
    /** The target's audit run output (analyze's result): where its report is. */
    result: z.object({ runId: z.string(), reportJsonKey: z.string().min(1) }),
  }),
  z.object({ status: z.literal('gap'), target: targetSchema, error: stepErrorSchema }),
]);
export type TargetOutcome = z.infer<typeof targetOutcomeSchema>;

/**
 * The targets' outcomes among the Distributed Map's child outputs.
 *
 * @throws InvalidEventError naming the first output that is not a target outcome.
 * @example targetOutcomes([{ status: 'gap', target, error: { Error: 'States.TaskFailed', Cause: '…' } }])
 */
export function targetOutcomes(outputs: readonly unknown[]): TargetOutcome[] {
  return outputs.map((output, index) => {
    const parsed = targetOutcomeSchema.safeParse(output);
    if (!parsed.success) {
      throw new InvalidEventError(`target result ${index} is not a target outcome: ${parsed.error.message}`, [
        `targetResults[${index}]`,
      ]);
    }
    return parsed.data;
  });
}

export interface RollupResult {
  readonly runId: string;
  /** org-report.json in the report bucket: notify reads it. */
  readonly orgReportKey: string;
  readonly htmlUrl?: string;
  readonly htmlUrlExpiresAt?: string;
  readonly targets: number;
  readonly audited: number;
  readonly gaps: number;
  /** Gaps by target, for the execution history (bounded). */
  readonly gapTargets: readonly OrgTarget[];
}
