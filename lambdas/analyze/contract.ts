/**
 * The analyze step's state contract: the stored inventory, the sources' aggregates, the failures —
 * in state (the inline Map's outcomes, split by the workflow), or, after the Distributed Map, the
 * key of its ResultWriter manifest in the work bucket (`queryResultsKey`), each child's output
 * one query outcome.
 */
import { z } from 'zod';
import type { AlertableChanges } from '../../shared/alerts/changes';
import type { Severity } from '../../shared/model/analysis';
import { InvalidEventError } from '../config';
import { queryOutcomeSchema, stepErrorSchema } from '../state';

const failedSourceSchema = z.object({
  sourceId: z.string().min(1),
  error: z.union([stepErrorSchema, z.string()]),
});
export type FailedSource = z.infer<typeof failedSourceSchema>;

export const analyzeEventSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be an id of A-Z a-z 0-9 . _ = -'),
  inventoryKey: z.string().min(1),
  aggregateKeys: z.array(z.string().min(1)).default([]),
  /** Sources whose query step failed: the recorded (bounded) error, or a message. */
  failedSources: z.array(failedSourceSchema).default([]),
  /** The Distributed Map's ResultWriter manifest (runs/<runId>/query-results/…/manifest.json). */
  queryResultsKey: z.string().min(1).optional(),
});
export type AnalyzeEvent = z.infer<typeof analyzeEventSchema>;

/**
 * The stored aggregates' keys and the failed sources among the query items' outcomes (the
 * Distributed Map's child outputs).
 *
 * @throws InvalidEventError naming the first output that is not a query outcome.
 * @example queryOutcomes([{ sourceId: 'insights-1', status: 'ok', aggregatesKey: 'runs/r/aggregates/insights-1.json.gz' }])
 * // { aggregateKeys: ['runs/r/aggregates/insights-1.json.gz'], failedSources: [] }
 */
export function queryOutcomes(outputs: readonly unknown[]): {
  aggregateKeys: string[];
  failedSources: FailedSource[];
} {
  const aggregateKeys: string[] = [];
  const failedSources: FailedSource[] = [];
  for (const [index, output] of outputs.entries()) {
    const parsed = queryOutcomeSchema.safeParse(output);
    if (!parsed.success) {
      throw new InvalidEventError(`query result ${index} is not a query outcome: ${parsed.error.message}`, [
        `queryResults[${index}]`,
      ]);
    }
    const outcome = parsed.data;
    if (outcome.status === 'ok') aggregateKeys.push(outcome.aggregatesKey);
    else failedSources.push({ sourceId: outcome.sourceId, error: outcome.error });
  }
  return { aggregateKeys, failedSources };
}

export interface AnalyzeResult {
  readonly runId: string;
  /** The run's report prefix in the report bucket (ends in '/'). */
  readonly reportPrefix: string;
  readonly reportJsonKey: string;
  readonly htmlUrl?: string;
  readonly htmlUrlExpiresAt?: string;
  readonly findingsBySeverity: Readonly<Record<Severity, number>>;
  readonly securityGroups: number;
  readonly networkInterfaces: number;
  readonly warningCount: number;
  readonly failedSources: number;
  readonly bytesScanned: number;
  /** What changed since the previous run, for alerting (actively suppressed findings left out). */
  readonly changes: AlertableChanges;
  /** findingsBySeverity without the findings an active suppression covers. */
  readonly actionableFindingsBySeverity: Readonly<Record<Severity, number>>;
  /** Present when SECURITY_HUB_EXPORT is on; an export failure is counted here, not a failed run. */
  readonly securityHub?: {
    readonly imported: number;
    readonly archived: number;
    /** Accepted risks whose workflow was set (SUPPRESSED, or NEW again once expired). */
    readonly workflowUpdates: number;
    /** Findings Security Hub refused. */
    readonly failed: number;
    /** Set when the export as a whole failed (the report is stored regardless). */
    readonly error?: string;
  };
}
