/**
 * The targets step's state contract: what starts an organization run (the schedule's input), and
 * the list of targets it writes for the Distributed Map — each item the input of one target's
 * audit run (the audit state machine's execution input: its run id, the shared window end, the
 * target).
 */
import type { z } from 'zod';
import type { OrgTarget } from '../../shared/org/model';
import { discoverEventSchema } from '../discover/contract';

export const targetsEventSchema = discoverEventSchema.pick({ runId: true, end: true });
export type TargetsEvent = z.infer<typeof targetsEventSchema>;

/** One item of targets.json: the execution input of the target's audit run. */
export interface TargetRunInput {
  readonly runId: string;
  /** Epoch seconds: every target audits the same window. */
  readonly end: number;
  readonly target: OrgTarget;
}

export interface TargetsResult {
  readonly runId: string;
  /** targets.json in the work bucket (the Distributed Map's ItemReader reads it). */
  readonly targetsKey: string;
  readonly targetCount: number;
  /** Where the Distributed Map's ResultWriter puts the targets' outcomes. */
  readonly targetResultsPrefix: string;
  /** How the accounts were found: 'organization' (ListAccounts) or 'configured'. */
  readonly accountsFrom: 'organization' | 'configured';
  readonly accounts: number;
  readonly regions: number;
}
