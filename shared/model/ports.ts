/**
 * The ports the core declares and the runners implement: where the inventory comes from, where
 * reports go, and who is alerted. (Flow aggregates: FlowAggregateSource in ./flow.)
 * Adapters live outside the core: adapters/local (offline), adapters/aws (AWS SDK).
 */
import type { OrgReport } from '../org/model';
import type { AuditReport } from '../report/model';
import type { Inventory } from './inventory';

export interface InventoryScope {
  /** VPCs to discover; empty = every VPC of the region. */
  readonly vpcIds: readonly string[];
}

export interface InventoryResult {
  readonly inventory: Inventory;
  /** Degradations that did not stop discovery (e.g. rds:DescribeDBInstances denied). */
  readonly warnings: readonly string[];
  /** API calls made, by "service:Operation" — the discovery-cost accounting. */
  readonly apiCalls: Readonly<Record<string, number>>;
  /** Resource names learnt during discovery (instance Name tags, DB identifiers …) by resource id. */
  readonly names?: ReadonlyMap<string, string>;
}

export interface InventorySource {
  load(scope: InventoryScope): Promise<InventoryResult>;
}

/** One rendered output (renderers produce them; sinks store them). */
export interface ReportFile {
  readonly name: string;
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

export interface StoredReport {
  /** Where the run's files are (a directory, or s3://bucket/prefix/). */
  readonly location: string;
  /** Keys or paths written. */
  readonly keys: readonly string[];
  /** A link to the HTML report that the alert can carry (presigned URL for S3), if any. */
  readonly htmlUrl?: string;
  /** When `htmlUrl` stops working (ISO 8601), for links that expire (presigned URLs). */
  readonly htmlUrlExpiresAt?: string;
}

export interface ReportSink {
  write(report: AuditReport, files: readonly ReportFile[]): Promise<StoredReport>;
}

export type AuditAlert =
  | {
      readonly kind: 'report';
      readonly report: AuditReport;
      readonly stored: StoredReport;
      /**
       * Send the short weekly "no change" digest (no new or worse findings since <date>, totals,
       * resolved count, link). Ignored when something is new or worse: that alert is sent instead.
       */
      readonly digest?: boolean;
    }
  | {
      readonly kind: 'failure';
      readonly runId: string;
      /** The failed step or state, if known. */
      readonly step?: string;
      readonly error: { readonly name: string; readonly message: string };
      readonly account?: { readonly id?: string; readonly region?: string };
    };

/** One alert for a whole organization run (shared/alerts/org.ts composes it). */
export interface OrgAlert {
  readonly kind: 'organization';
  readonly report: OrgReport;
  readonly stored: StoredReport;
  /** Send the short "no change" digest (nothing new or worse across the organization). */
  readonly digest?: boolean;
}

/** How a deployed remediation ended (shared/alerts/remediation.ts words each). */
export type RemediationOutcome =
  /** Every opted-in SG applied and verified (or already as planned). */
  | 'applied'
  /** Done, but some SGs were refused because their rules drifted since the plan. */
  | 'partly-refused'
  /** A failure stopped the apply: the record says at which SG and step. */
  | 'stopped'
  | 'rejected'
  /** Nobody decided within the approval wait: taken as a rejection. */
  | 'expired'
  /** A remediation step failed (the approval request, the apply function): nothing more was done. */
  | 'failed';

/**
 * The deployed remediation's alerts: a plan awaiting a decision (with its summary and the exact
 * approve/reject commands), then how it ended.
 */
export type RemediationAlert =
  | {
      readonly kind: 'remediation-approval';
      readonly runId: string;
      readonly account: { readonly id?: string; readonly region?: string };
      /** planSummary() of the plan. */
      readonly summary: string;
      readonly planLocation: string;
      /** ISO 8601: past it the plan expires (a rejection). */
      readonly expiresAt: string;
      readonly commands: { readonly approve: string; readonly reject: string };
      readonly tag: { readonly key: string; readonly value: string };
      /** SGs with proven changes that do not carry the opt-in tag (not planned). */
      readonly notOptedIn: readonly { readonly sgId: string; readonly sgName: string }[];
    }
  | {
      readonly kind: 'remediation-outcome';
      readonly runId: string;
      readonly account: { readonly id?: string; readonly region?: string };
      readonly outcome: RemediationOutcome;
      /** Per SG: its status and what happened (the applied record's). */
      readonly securityGroups: readonly {
        readonly sgId: string;
        readonly status: string;
        readonly message: string;
      }[];
      /** Where a stopped apply stopped: `sg-…, step 2 of 4: <error>`. */
      readonly stoppedAt?: string;
      /** The applied-<time>.json (before/after), when one was written. */
      readonly recordLocation?: string;
      /** The rejection's reason, the failure's error. */
      readonly reason?: string;
      /** The approver, as their CLI stated it. */
      readonly decidedBy?: string;
    };

/** Any alert a channel publishes: a run's report or failure, an organization run's, a remediation's. */
export type AnyAlert = AuditAlert | OrgAlert | RemediationAlert;

export interface AlertPublisher<A extends AnyAlert = AuditAlert> {
  publish(alert: A): Promise<void>;
}
