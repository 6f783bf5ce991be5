/** The notify step's state contract: a finished run's report, or the error a Catch recorded. */
import { z } from 'zod';

const runId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$/, 'must be an id of A-Z a-z 0-9 . _ = -');

/** What a Step Functions Catch puts at its ResultPath: the error name and its cause (text or JSON). */
export const stepErrorSchema = z.object({ Error: z.string().min(1), Cause: z.string().optional() });
export type StepError = z.infer<typeof stepErrorSchema>;

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
    error: stepErrorSchema,
    /** The state that failed, when the workflow records it. */
    step: z.string().max(80).optional(),
  }),
]);
export type NotifyEvent = z.infer<typeof notifyEventSchema>;

export interface NotifyResult {
  readonly runId: string;
  /** 'skipped': a report with nothing new or worse and no digest asked for (ALERT_ON=changes). */
  readonly kind: 'report' | 'failure' | 'skipped';
  /** Why a report alert was sent or skipped. */
  readonly reason?: string;
  /** The report alert was the "no change" digest. */
  readonly digest?: boolean;
  /** Channels that took the alert ('sns', 'slack'). */
  readonly published: readonly string[];
  /** Channels that failed while another one delivered (not retried: that would repeat the others). */
  readonly failed: readonly { readonly channel: string; readonly error: string }[];
}

const MESSAGE_MAX = 1000;

/**
 * The error name and message of a Catch result. A Lambda's Cause is JSON
 * (`{"errorType","errorMessage","trace"}`): its message is used, the stack trace is not.
 *
 * @example errorOfStep({ Error: 'FlowLogQueryTimeoutError', Cause: '{"errorMessage":"query q-1 ran over 900 s"}' })
 * // { name: 'FlowLogQueryTimeoutError', message: 'query q-1 ran over 900 s' }
 */
export function errorOfStep(error: StepError): { name: string; message: string } {
  let message = error.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // A States.* error's Cause is plain text.
  }
  message = message.trim() || 'no cause given';
  return {
    name: error.Error,
    message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX - 1)}…` : message,
  };
}
