/**
 * The notify step's state contract: a finished run's report, an organization run's report, or
 * the error a Catch recorded.
 */
import { z } from 'zod';
import { stepErrorSchema } from '../state';

const runId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be an id of A-Z a-z 0-9 . _ = -');

export const notifyEventSchema = z.union([
  z.object({
    runId,
    reportJsonKey: z.string().min(1),
    /** The analyze step's presigned link, passed through. */
    htmlUrl: z.url().optional(),
    htmlUrlExpiresAt: z.string().optional(),
  }),
  z.object({
    runId,
    /** An organization run's org-report.json (the roll-up step's result): one alert for every target. */
    orgReportKey: z.string().min(1),
    htmlUrl: z.url().optional(),
    htmlUrlExpiresAt: z.string().optional(),
  }),
  z.object({
    runId,
    error: stepErrorSchema,
    /** The state that failed, when the workflow records it. */
    step: z.string().max(80).optional(),
  }),
]);
export type NotifyEvent = z.infer<typeof notifyEventSchema>;

export interface NotifyResult {
  readonly runId: string;
  /** 'skipped': a report with nothing new or worse and no digest asked for (ALERT_ON=changes). */
  readonly kind: 'report' | 'organization' | 'failure' | 'skipped';
  /** Why a report alert was sent or skipped. */
  readonly reason?: string;
  /** The report alert was the "no change" digest. */
  readonly digest?: boolean;
  /** Channels that took the alert ('sns', 'slack'). */
  readonly published: readonly string[];
  /** Channels that failed while another one delivered (not retried: that would repeat the others). */
  readonly failed: readonly { readonly channel: string; readonly error: string }[];
}
