/** The discover step's state contract: what starts a run, and the query list it hands the Map state. */
import { z } from 'zod';
import type { FlowSourceItem } from '../../shared/flow/source-plan';
import type { TimeWindow } from '../../shared/model/flow';
import type { OrgTarget } from '../../shared/org/model';
import { targetSchema } from '../state';

export const discoverEventSchema = z.object({
  /** The Step Functions execution name, usually; generated when absent. */
  runId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ = -')
    .optional(),
  /** VPCs to audit; the VPC_IDS setting (or every VPC) when absent. */
  vpcIds: z.array(z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-…)')).optional(),
  /** The window's end: ISO 8601 (EventBridge Scheduler's scheduled time) or epoch seconds; now when absent. */
  end: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]).optional(),
  /** An organization run's target: discovered through its member role (MEMBER_ROLE_NAME). */
  target: targetSchema.optional(),
});
export type DiscoverEvent = z.infer<typeof discoverEventSchema>;

export interface DiscoverResult {
  readonly runId: string;
  readonly inventoryKey: string;
  /** The query list as plain JSON, for a Distributed Map's ItemReader. */
  readonly queriesKey: string;
  readonly window: TimeWindow;
  /** The query list inline; empty (queriesInline false) when it would not fit the state budget. */
  readonly queries: readonly FlowSourceItem[];
  readonly queriesInline: boolean;
  readonly queryCount: number;
  readonly eniCount: number;
  readonly securityGroupCount: number;
  /** Flow logs no source reads (their ENIs' rules are reported 'unknown'). */
  readonly unqueriedFlowLogs: number;
  readonly warningCount: number;
  /** The organization run's target this run audits, passed on to the query and analyze steps. */
  readonly target?: OrgTarget;
}

/**
 * The run id: the event's, or `<UTC timestamp>-<6 hex>` (sorts by time, unique enough per account).
 *
 * @example runIdOf({}, new Date('2025-11-17T00:05:12Z'), () => '7f3a9c') // '20251117T000512Z-7f3a9c'
 */
export function runIdOf(event: DiscoverEvent, now: Date, suffix: () => string): string {
  return event.runId ?? `${now.toISOString().replace(/[-:]|\.\d+/g, '')}-${suffix()}`;
}

/**
 * The analysed window: `lookbackDays` days ending at the event's `end` (or now), epoch seconds.
 *
 * @example windowOf({ end: 1_700_000_000 }, 7, new Date()) // { start: 1_699_395_200, end: 1_700_000_000 }
 */
export function windowOf(event: DiscoverEvent, lookbackDays: number, now: Date): TimeWindow {
  const endMs =
    event.end === undefined
      ? now.getTime()
      : typeof event.end === 'number'
        ? event.end * 1000
        : Date.parse(event.end);
  const end = Math.floor(endMs / 1000);
  return { start: end - lookbackDays * 86_400, end };
}
