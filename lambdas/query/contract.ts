/**
 * The query step's state contract: one item of the discover step's query list (one log-group set
 * of one format, or one Athena table), plus the run's keys. Small JSON only — ENI ids and rows
 * stay in the work bucket.
 */
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be an id of A-Z a-z 0-9 . _ = -');

export const timeWindowSchema = z
  .object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() })
  .refine((w) => w.start <= w.end, 'start must not be after end');

/** Log groups of ONE flow-log format, queried together (Logs Insights takes ≤ 50 per query). */
export const insightsQueryItemSchema = z.object({
  sourceId: id,
  kind: z.literal('insights'),
  /** The flow-log fields of the format shared by every log group of the item. */
  fields: z.array(z.string().min(1)).min(1),
  logGroups: z.array(z.string().min(1).max(512)).min(1).max(50),
});

/** One S3-delivered flow log, read through its Athena table. */
export const athenaQueryItemSchema = z.object({
  sourceId: id,
  kind: z.literal('athena'),
  flowLogId: z.string().regex(/^fl-[0-9a-z]+$/, 'must be a flow log id (fl-…)'),
  table: z.string().min(1),
});

export const queryItemSchema = z.discriminatedUnion('kind', [insightsQueryItemSchema, athenaQueryItemSchema]);
export type QueryItem = z.infer<typeof queryItemSchema>;

export const queryEventSchema = z.object({
  runId: id,
  inventoryKey: z.string().min(1),
  window: timeWindowSchema,
  query: queryItemSchema,
});
export type QueryEvent = z.infer<typeof queryEventSchema>;

export interface QueryResult {
  readonly runId: string;
  readonly sourceId: string;
  readonly aggregatesKey: string;
  /** ENIs of the item's flow logs that were asked for. */
  readonly eniCount: number;
  readonly rows: number;
  readonly records: number;
  readonly bytesScanned: number;
  readonly queries: number;
}
