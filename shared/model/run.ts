/**
 * What the steps of one deployed run hand each other, beside the inventory: the flow sources the
 * run planned, what discovery stored for the later steps, and a failed step's error as a Step
 * Functions Catch records it. Plain types: the work store (adapters/aws) stores them, the core
 * (trusted evidence, alerts) reads them.
 */
import type { TimeWindow } from './flow';
import type { Inventory } from './inventory';

/** A flow source of the run's query plan and the flow logs it reads. */
export interface PlannedSource {
  readonly sourceId: string;
  readonly kind: 'insights' | 'athena';
  readonly flowLogIds: readonly string[];
}

/** A flow log no source reads, and why. */
export interface UnreadFlowLog {
  readonly flowLogId: string;
  readonly reason: string;
}

/** What discovery hands the later steps: everything but the flow aggregates. */
export interface StoredInventory {
  readonly schemaVersion: number;
  readonly runId: string;
  readonly window: TimeWindow;
  readonly scope: { readonly vpcIds: readonly string[] };
  readonly inventory: Inventory;
  /** Discovery degradations (denied enrichment calls …), for the report's warnings. */
  readonly warnings: readonly string[];
  readonly apiCalls: Readonly<Record<string, number>>;
  /** Resource names learnt during discovery, as [resource id, name] pairs. */
  readonly names: readonly (readonly [string, string])[];
  readonly plan: {
    readonly sources: readonly PlannedSource[];
    /** Flow logs no source reads (no Athena configured, Firehose destination …), and why. */
    readonly unqueried: readonly UnreadFlowLog[];
  };
  /**
   * Where discovery stored the security-group change history (CloudTrail's event history, read
   * whole or not, with its warnings) for attribution; absent when the run does not read it.
   */
  readonly changeHistoryKey?: string;
}

/** What a Step Functions Catch puts at its ResultPath: the error name and its cause (text or JSON). */
export interface StepError {
  readonly Error: string;
  readonly Cause?: string | undefined;
}

const STEP_MESSAGE_MAX = 1000;

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
    message: message.length > STEP_MESSAGE_MAX ? `${message.slice(0, STEP_MESSAGE_MAX - 1)}…` : message,
  };
}
