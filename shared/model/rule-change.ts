/**
 * Who changed a rule: the CloudTrail event that last created or widened a rule entry (or created
 * its SG), as the core reads it, and the history it was read from. Plain data: the adapters
 * (LookupEvents live, cloudtrail-events.json offline) bring the events, shared/trail matches them.
 */

/** How a change was made, from the event's user agent and identity. */
export const CHANGE_CHANNELS = [
  'console',
  'aws-cli',
  'sdk',
  'cloudformation',
  'terraform',
  'aws-service',
  'other',
] as const;
export type ChangeChannel = (typeof CHANGE_CHANNELS)[number];

/**
 * - `created`: an Authorize* call added the entry;
 * - `widened`: ModifySecurityGroupRules set the entry to what it is now;
 * - `created-with-group`: CreateSecurityGroup (the default egress rule every new SG gets);
 * - `group-created`: the SG's creation (SG-level findings);
 * - `before-history`: no event in the history read, which reaches back to `historyStart`;
 * - `unknown`: the history cannot say (not read, incomplete, or silent where it should speak).
 */
export const RULE_CHANGE_KINDS = [
  'created',
  'widened',
  'created-with-group',
  'group-created',
  'before-history',
  'unknown',
] as const;
export type RuleChangeKind = (typeof RULE_CHANGE_KINDS)[number];

/** The last change that created or widened a rule entry (or created an SG), or why none is named. */
export interface RuleChange {
  readonly kind: RuleChangeKind;
  /** CloudTrail event name, e.g. AuthorizeSecurityGroupIngress. */
  readonly eventName?: string;
  readonly eventId?: string;
  /** ISO 8601 time of the event. */
  readonly eventTime?: string;
  /** userIdentity.arn (an IAM user, an assumed-role session, root …). */
  readonly principalArn?: string;
  /** userIdentity.sessionContext.sessionIssuer.arn: the role behind an assumed-role session. */
  readonly sessionIssuer?: string;
  /** userIdentity.invokedBy: the AWS service that made the call on the principal's behalf. */
  readonly invokedBy?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly channel?: ChangeChannel;
  /** The CloudFormation stack, when the SG carries its `aws:cloudformation:stack-name` tag. */
  readonly stackName?: string;
  /** ISO 8601 start of the history read (for `before-history`: the rule is older than this). */
  readonly historyStart?: string;
  /** Why `unknown`. */
  readonly reason?: string;
  /** The whole change in one line: "opened by user/alice via console on 2026-11-03 09:12 UTC from 203.0.113.10". */
  readonly text: string;
}

/**
 * A CloudTrail event as LookupEvents returns it (and `aws cloudtrail lookup-events` prints it):
 * the summary fields and the full record as a JSON string in `CloudTrailEvent`.
 */
export interface CloudTrailLookupEvent {
  readonly EventId?: string;
  readonly EventName?: string;
  readonly EventTime?: string | number;
  readonly EventSource?: string;
  readonly Username?: string;
  readonly CloudTrailEvent?: string;
  readonly [key: string]: unknown;
}

/** The security-group event names read: every call that creates, widens or removes a rule. */
export const SG_CHANGE_EVENT_NAMES = [
  'AuthorizeSecurityGroupIngress',
  'AuthorizeSecurityGroupEgress',
  'ModifySecurityGroupRules',
  'CreateSecurityGroup',
  'RevokeSecurityGroupIngress',
  'RevokeSecurityGroupEgress',
] as const;

/** Where the events were read and how completely. */
export interface RuleChangeHistory {
  /** 'cloudtrail-lookup' (live LookupEvents), 'cloudtrail-export' (cloudtrail-events.json) … */
  readonly source: string;
  readonly events: readonly CloudTrailLookupEvent[];
  /**
   * Epoch seconds the history reaches back to and up to, when known. Without a start the history
   * cannot say that a rule is older than it (silence is never evidence).
   */
  readonly start?: number;
  readonly end?: number;
  /** Every event name was read over the whole period (no failure, no page left unread). */
  readonly complete: boolean;
  /** What went wrong or was assumed, for the report's warnings. */
  readonly warnings: readonly string[];
}

/** Reads the SG change history of an account and region (the live CLI passes LookupEvents). */
export interface RuleChangeSource {
  read(period: { readonly start: number; readonly end: number }): Promise<RuleChangeHistory>;
}

/** What the report says about the history that attribution read. */
export interface ChangeHistorySummary {
  readonly source: string;
  /** ISO 8601 bounds, when known. */
  readonly start?: string;
  readonly end?: string;
  readonly complete: boolean;
  /** Security-group change events read (all SGs, failed calls included). */
  readonly events: number;
  /** Rule entries of the report attributed to an event. */
  readonly attributedRules: number;
  /** Rule entries older than the history. */
  readonly olderRules: number;
  /** Rule entries the history cannot attribute. */
  readonly unknownRules: number;
}
