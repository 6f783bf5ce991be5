/** The analyze step's state contract: the stored inventory, the sources' aggregates, the failures. */
import { z } from 'zod';
import type { Severity } from '../../shared/model/analysis';
import { stepErrorSchema } from '../notify/contract';

export const analyzeEventSchema = z.object({
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be an id of A-Z a-z 0-9 . _ = -'),
  inventoryKey: z.string().min(1),
  aggregateKeys: z.array(z.string().min(1)).default([]),
  /** Sources whose query step failed: the Catch result, or a message. */
  failedSources: z
    .array(z.object({ sourceId: z.string().min(1), error: z.union([stepErrorSchema, z.string()]) }))
    .default([]),
});
export type AnalyzeEvent = z.infer<typeof analyzeEventSchema>;

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
}
