/**
 * The AWS reads of `sg-audit doctor` beyond discovery: whether an S3-destination flow log
 * delivered lately (its own objects of today and yesterday, found under its day folders exactly as
 * the live audit lists them — adapters/aws/flow-log-transfer.ts — and dated by the delivery stamp
 * AWS puts in each object's name), and the Transit Gateway flow logs, which discovery leaves out
 * (they record no ENI) but which a reader of the flow-log list may take for coverage; the
 * quotas that bound the audit's concurrency, from Service Quotas; and whether the caller may read
 * CloudTrail's event history, which says who opened each rule.
 */
import { type CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { type EC2Client, paginateDescribeFlowLogs } from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  type ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import type { FlowLogConfig } from '../../shared/model/inventory';
import { SG_CHANGE_EVENT_NAMES } from '../../shared/model/rule-change';
import { deliveryStampOf, type FlowLogExportOptions, listFlowLogObjects } from './flow-log-transfer';

export { deliveryStampOf };

/** What a flow log delivered to S3 in the days listed. */
export interface S3Delivery {
  /** Its objects of the days listed (today and yesterday, UTC). */
  readonly objects: number;
  readonly bytes: number;
  /** Epoch seconds of the newest object's delivery stamp, when any object carries one. */
  readonly newestDelivery?: number;
}

/**
 * A flow log's S3 objects of the UTC day of `now` and the day before (ListObjectsV2 on its own day
 * folders, its own objects only), with the newest delivery stamp among them.
 *
 * @example await s3Delivery(s3, flowLog, '123456789012', 'ap-northeast-2', Date.now() / 1000)
 */
export async function s3Delivery(
  s3: S3Client,
  flowLog: FlowLogConfig,
  accountId: string,
  region: string,
  now: number,
  options: Pick<FlowLogExportOptions, 'concurrency'> = {},
): Promise<S3Delivery> {
  const objects = await listFlowLogObjects(
    s3,
    flowLog,
    accountId,
    region,
    { start: now - 86_400, end: now },
    { ...options, deliverySlackSeconds: 0 },
  );
  const stamps = objects.flatMap((o) => {
    const stamp = deliveryStampOf(o.key);
    return stamp === undefined ? [] : [stamp];
  });
  return {
    objects: objects.length,
    bytes: objects.reduce((sum, o) => sum + o.bytes, 0),
    ...(stamps.length > 0 ? { newestDelivery: Math.max(...stamps) } : {}),
  };
}

/** A Transit Gateway (or attachment) flow log: not ENI evidence. */
export interface TransitGatewayFlowLog {
  readonly id: string;
  readonly resourceId: string;
  readonly destinationType: string;
}

/**
 * The region's Transit Gateway flow logs (ResourceId `tgw-…` or `tgw-attach-…`), from one
 * DescribeFlowLogs listing.
 *
 * @example (await transitGatewayFlowLogs(ec2)).map((f) => f.id) // ['fl-0tgw']
 */
export async function transitGatewayFlowLogs(ec2: EC2Client): Promise<TransitGatewayFlowLog[]> {
  const found: TransitGatewayFlowLog[] = [];
  for await (const page of paginateDescribeFlowLogs({ client: ec2, pageSize: 1000 }, {})) {
    for (const flowLog of page.FlowLogs ?? []) {
      if (flowLog.FlowLogId && flowLog.ResourceId?.startsWith('tgw-')) {
        found.push({
          id: flowLog.FlowLogId,
          resourceId: flowLog.ResourceId,
          destinationType: flowLog.LogDestinationType ?? 'unknown',
        });
      }
    }
  }
  return found;
}

/** A quota the audit's concurrency depends on, as Service Quotas names it. */
export interface QuotaWanted {
  /** Service Quotas' service code ('logs', 'athena'). */
  readonly serviceCode: string;
  /** Matches the quota's name (`QuotaName`), e.g. /active dml/i. */
  readonly name: RegExp;
}

/** A quota's value as Service Quotas states it: applied to the account, or AWS's default. */
export interface QuotaRead {
  readonly value: number;
  readonly applied: boolean;
}

const MAX_QUOTA_PAGES = 20;

/**
 * A quota's value from Service Quotas: the account's applied value (ListServiceQuotas), else
 * AWS's default (ListAWSDefaultServiceQuotas); undefined when neither lists it.
 *
 * @throws what Service Quotas throws (AccessDenied, NoSuchResource …): the caller falls back.
 * @example await readServiceQuota(serviceQuotas, { serviceCode: 'athena', name: /active dml/i }) // { value: 150, applied: true }
 */
export async function readServiceQuota(
  client: ServiceQuotasClient,
  wanted: QuotaWanted,
): Promise<QuotaRead | undefined> {
  const find = async (applied: boolean): Promise<QuotaRead | undefined> => {
    let token: string | undefined;
    for (let page = 0; page < MAX_QUOTA_PAGES; page += 1) {
      const input = { ServiceCode: wanted.serviceCode, ...(token ? { NextToken: token } : {}) };
      const response = applied
        ? await client.send(new ListServiceQuotasCommand(input))
        : await client.send(new ListAWSDefaultServiceQuotasCommand(input));
      const quota = (response.Quotas ?? []).find((q) => wanted.name.test(q.QuotaName ?? ''));
      if (quota?.Value !== undefined) return { value: quota.Value, applied };
      token = response.NextToken;
      if (!token) return undefined;
    }
    return undefined;
  };
  return (await find(true)) ?? (await find(false));
}

/**
 * Whether the caller may read CloudTrail's event history: `readable` (LookupEvents answered),
 * `denied` (AccessDenied: the permission is missing), or `not-verified` (any other error —
 * throttling past the SDK's retries, the service unavailable, an emulator without LookupEvents).
 */
export type EventHistoryAccess =
  | { readonly status: 'readable'; readonly events: number }
  | { readonly status: 'denied' | 'not-verified'; readonly error: string };

const DENIED = /^(AccessDenied|AccessDeniedException|UnauthorizedOperation)$/;

/**
 * One LookupEvents call (one SG event name, at most one event) proving the caller may read the
 * event history the audit attributes rules from; it never throws.
 *
 * @example (await eventHistoryAccess(cloudtrail)).status // 'denied'
 */
export async function eventHistoryAccess(
  cloudtrail: Pick<CloudTrailClient, 'send'>,
): Promise<EventHistoryAccess> {
  try {
    const output = await cloudtrail.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: SG_CHANGE_EVENT_NAMES[0] }],
        MaxResults: 1,
      }),
    );
    return { status: 'readable', events: output.Events?.length ?? 0 };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    // One line (the SDK's deserialization errors span two), with the HTTP status of a server error.
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const http = status !== undefined && status >= 500 ? ` (HTTP ${status})` : '';
    return { status: DENIED.test(name) ? 'denied' : 'not-verified', error: `${name}: ${message}${http}` };
  }
}
