/**
 * The query step's state contract. Each query item (one log-group set of one format, or one
 * Athena table) is polled by the state machine: `start`, then `check` after each wait until the
 * poll is done or failed; `record-failure` when the workflow caught a step that could not answer.
 * Small JSON only — ENI ids and rows stay in the work bucket; a running poll carries the job's
 * query ids and counters (bounded), a failed one a bounded error.
 */
import { z } from 'zod';
import type {
  AthenaQueryJob,
  DonePoll,
  FailedPoll,
  InsightsQueryJob,
  QueryBudget,
  QueryOutcome,
  QueryPoll,
  RunningPoll,
} from '../../adapters/aws/query-item-steps';
import { stepErrorSchema, targetSchema } from '../state';

export type { DonePoll, FailedPoll, QueryOutcome, QueryPoll, RunningPoll };

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

const count = z.number().int().nonnegative();
const queryId = z.string().min(1).max(256);
/** A job's lists are bounded by the concurrency and split depth; this bounds what state may hold. */
const MAX_JOB_ENTRIES = 500;

const insightsWindowSchema = z.object({ unit: count, start: count, end: count, depth: count });
export const insightsJobSchema: z.ZodType<InsightsQueryJob> = z.object({
  engine: z.literal('logs-insights'),
  jobId: z.string().min(1).max(300),
  pending: z.array(insightsWindowSchema).max(MAX_JOB_ENTRIES),
  running: z.array(insightsWindowSchema.extend({ queryId, startedAt: count, polls: count })).max(100),
  parts: count,
  queries: count,
  bytesScanned: count,
  recordsMatched: count,
  splits: count,
  scanned: z.array(count).max(MAX_JOB_ENTRIES).optional(),
  deadline: count.optional(),
});

export const athenaJobSchema: z.ZodType<AthenaQueryJob> = z.object({
  engine: z.literal('athena'),
  jobId: z.string().min(1).max(300),
  ddl: z.array(count).max(MAX_JOB_ENTRIES),
  pendingTables: z.array(count).max(MAX_JOB_ENTRIES),
  running: z
    .array(
      z.object({
        queryExecutionId: queryId,
        step: z.enum(['ddl', 'aggregate']),
        index: count,
        startedAt: count,
        polls: count,
      }),
    )
    .max(100),
  finished: z
    .array(
      z.object({
        index: count,
        queryExecutionId: queryId,
        dataScannedInBytes: count,
        resultLocation: z.string().min(1).optional(),
        startedAt: count.optional(),
      }),
    )
    .max(MAX_JOB_ENTRIES),
  queries: count,
  bytesScanned: count,
  deferredStarts: count,
  deadline: count.optional(),
});

export const runningPollSchema: z.ZodType<RunningPoll> = z.object({
  status: z.literal('running'),
  deadline: count,
  polls: count,
  eniCount: count,
  job: z.union([insightsJobSchema, athenaJobSchema]),
});

const seconds = z
  .number()
  .int()
  .positive()
  .max(365 * 86_400);
export const queryBudgetSchema: z.ZodType<QueryBudget> = z.object({ insights: seconds, athena: seconds });

const itemFields = {
  runId: id,
  inventoryKey: z.string().min(1),
  window: timeWindowSchema,
  query: queryItemSchema,
  /** An organization run's target: its Logs Insights queries run through its member role. */
  target: targetSchema.optional(),
};

export const startQueryEventSchema = z.object({
  action: z.literal('start'),
  ...itemFields,
  /** How long the item's job may run, by engine, before its queries are stopped. */
  budgetSeconds: queryBudgetSchema,
});

export const checkQueryEventSchema = z.object({
  action: z.literal('check'),
  ...itemFields,
  poll: runningPollSchema,
});

/** The item's state when the workflow caught a step: its poll as it was, and the Catch's error. */
export const recordFailureEventSchema = z.object({
  action: z.literal('record-failure'),
  runId: id,
  query: z.object({ sourceId: id }),
  poll: z.union([runningPollSchema, z.object({ status: z.string() })]),
  error: stepErrorSchema,
  target: targetSchema.optional(),
});

export const queryStepEventSchema = z.discriminatedUnion('action', [
  startQueryEventSchema,
  checkQueryEventSchema,
  recordFailureEventSchema,
]);
export type QueryStepEvent = z.infer<typeof queryStepEventSchema>;
