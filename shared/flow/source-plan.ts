/**
 * Which engine reads which flow log: the one flow-source planner of every runner (the live CLI and
 * the deployed discover step). CloudWatch Logs groups are read by Logs Insights, one item per set
 * of ≤ 50 groups of one format (one query covers them all, whatever the ENI count); S3-delivered
 * flow logs by Athena, one item per flow log (its own table), or — for the CLI without Athena —
 * by downloading the window's objects. Flow logs nothing reads are listed with the reason, so
 * their silence is never taken for unused rules — among them, in the deployed app, those outside
 * what the query role may read (the scope): one log group StartQuery may not name would fail the
 * whole query of its item with AccessDenied.
 */

import type { FlowLogConfig } from '../model/inventory';
import type { PlannedSource, UnreadFlowLog } from '../model/run';
import { flowLogTableName, s3LocationOf } from './athena-ddl';

/** Log groups of ONE flow-log format, queried together. */
export interface InsightsSourceItem {
  readonly sourceId: string;
  readonly kind: 'insights';
  /** The flow-log fields of the format shared by every log group of the item. */
  readonly fields: string[];
  readonly logGroups: string[];
}

/** One S3-delivered flow log, read through its Athena table. */
export interface AthenaSourceItem {
  readonly sourceId: string;
  readonly kind: 'athena';
  readonly flowLogId: string;
  readonly table: string;
}

export type FlowSourceItem = InsightsSourceItem | AthenaSourceItem;

export interface FlowSourcePlan {
  /** What the query engines run: Insights items first, then one Athena item per S3 flow log. */
  readonly items: FlowSourceItem[];
  /** Each item's source and the flow logs it reads. */
  readonly sources: PlannedSource[];
  /** S3 flow logs whose window objects are downloaded and aggregated locally (`s3: 'download'`). */
  readonly downloads: FlowLogConfig[];
  /** Flow logs no source reads, and why. */
  readonly unqueried: UnreadFlowLog[];
  readonly warnings: string[];
}

/** What the flow-log readers may read; a flow log outside it is planned unread, not queried. */
export interface FlowSourceScope {
  /** Log-group name prefix Logs Insights may query. @default every log group */
  readonly logGroupPrefix?: string;
  /**
   * `s3://bucket/prefix/` folders Athena may read: an S3 flow log is read when the folder of its
   * account's and region's objects (`…/AWSLogs/<account>/vpcflowlogs/<region>/`) lies under one.
   * @default every folder
   */
  readonly s3Locations?: readonly string[];
  /** The account whose objects are read (the S3 layout names it); needed with `s3Locations`. */
  readonly accountId?: string;
  /** The region whose objects are read; needed with `s3Locations`. */
  readonly region?: string;
}

export interface FlowSourcePlanOptions {
  /**
   * How S3-delivered flow logs are read: in Athena, by downloading their objects (the CLI without
   * Athena), or not at all (the deployed app without an Athena database).
   */
  readonly s3: 'athena' | 'download' | 'none';
  /** @default 50 (Logs Insights' limit) */
  readonly maxLogGroupsPerQuery?: number;
  /** How the runner's user turns Athena on, named where S3 flow logs go unread (`ATHENA_DATABASE`). */
  readonly athenaSetting?: string;
  /** What the readers may read (the deployed query role's grants). @default everything */
  readonly scope?: FlowSourceScope;
}

/** Why a Transit Gateway (or other non-ENI) flow log is skipped. */
export const NOT_ENI_EVIDENCE =
  'records a Transit Gateway or another resource, not network interfaces: listed and skipped (not ENI evidence)';

/**
 * Whether a flow log records network interfaces (VPC, subnet or ENI level); Transit Gateway flow
 * logs, which describe-flow-logs returns too, do not.
 *
 * @example recordsEnis({ ...flowLog, resourceId: 'tgw-0a1b', scope: 'transit-gateway' }) // false
 */
export function recordsEnis(flowLog: FlowLogConfig): boolean {
  return flowLog.scope === 'vpc' || flowLog.scope === 'subnet' || flowLog.scope === 'eni';
}

const LOG_GROUP_ARN = /^arn:aws[a-z-]*:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$/;

/**
 * The log group a CloudWatch Logs flow log writes to (its name, or the name in its ARN).
 *
 * @example logGroupOf({ ...flowLog, destination: 'arn:aws:logs:ap-northeast-2:123456789012:log-group:/vpc/flow:*' }) // '/vpc/flow'
 */
export function logGroupOf(flowLog: FlowLogConfig): string | undefined {
  return flowLog.logGroupName ?? LOG_GROUP_ARN.exec(flowLog.destination ?? '')?.[1];
}

/**
 * Why a flow log lies outside what the readers may read, or undefined when it lies inside.
 *
 * @example outOfScopeReason({ ...flowLog, logGroupName: '/app/flow' }, { logGroupPrefix: '/vpc/' })
 * // "writes to log group /app/flow, outside the log-group prefix '/vpc/' the audit may query"
 */
export function outOfScopeReason(flowLog: FlowLogConfig, scope: FlowSourceScope): string | undefined {
  if (flowLog.destinationType === 'cloud-watch-logs' && scope.logGroupPrefix !== undefined) {
    const name = logGroupOf(flowLog);
    if (name !== undefined && !name.startsWith(scope.logGroupPrefix)) {
      return `writes to log group ${name}, outside the log-group prefix '${scope.logGroupPrefix}' the audit may query`;
    }
  }
  if (flowLog.destinationType === 's3' && scope.s3Locations !== undefined) {
    if (scope.accountId === undefined || scope.region === undefined) {
      return 'delivers to S3, and the account or region that places its objects is unknown';
    }
    let location: string;
    try {
      location = s3LocationOf(flowLog, scope.accountId, scope.region);
    } catch (error) {
      return `delivers to S3 at no readable location (${error instanceof Error ? error.message : String(error)})`;
    }
    if (!scope.s3Locations.some((folder) => location.startsWith(folder))) {
      return `delivers to ${location}, outside the flow-log locations the audit may read (${scope.s3Locations.join(', ')})`;
    }
  }
  return undefined;
}

/**
 * Plans the flow sources of a set of flow logs.
 *
 * @example planFlowSources(inventory.flowLogs, { s3: 'none' }).items // [{ sourceId: 'insights-1', kind: 'insights', … }]
 */
export function planFlowSources(
  flowLogs: readonly FlowLogConfig[],
  options: FlowSourcePlanOptions,
): FlowSourcePlan {
  const perQuery = options.maxLogGroupsPerQuery ?? 50;
  const plan: FlowSourcePlan = { items: [], sources: [], downloads: [], unqueried: [], warnings: [] };
  // Log group → the format of its first flow log and every flow log writing to it.
  const groups = new Map<string, { fields: readonly string[]; flowLogIds: string[] }>();
  for (const flowLog of [...flowLogs].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!recordsEnis(flowLog)) {
      plan.unqueried.push({ flowLogId: flowLog.id, reason: NOT_ENI_EVIDENCE });
      continue;
    }
    const outside = options.scope ? outOfScopeReason(flowLog, options.scope) : undefined;
    if (outside !== undefined) {
      plan.unqueried.push({ flowLogId: flowLog.id, reason: `${outside}, so it is not queried` });
      continue;
    }
    if (flowLog.destinationType === 'cloud-watch-logs') {
      const name = logGroupOf(flowLog);
      if (name === undefined) {
        plan.unqueried.push({ flowLogId: flowLog.id, reason: 'names no log group, so it is not queried' });
        continue;
      }
      const group = groups.get(name);
      if (group === undefined) {
        groups.set(name, { fields: flowLog.fields, flowLogIds: [flowLog.id] });
        continue;
      }
      group.flowLogIds.push(flowLog.id);
      if (group.fields.join(' ') !== flowLog.fields.join(' ')) {
        plan.warnings.push(
          `flow log ${flowLog.id} writes another format to log group ${name}; the group is read with the format of flow log ${group.flowLogIds[0]}`,
        );
      }
    } else if (flowLog.destinationType === 's3' && options.s3 === 'athena') {
      const sourceId = `athena-${flowLog.id}`;
      plan.items.push({
        sourceId,
        kind: 'athena',
        flowLogId: flowLog.id,
        table: flowLogTableName(flowLog.id),
      });
      plan.sources.push({ sourceId, kind: 'athena', flowLogIds: [flowLog.id] });
    } else if (flowLog.destinationType === 's3' && options.s3 === 'download') {
      plan.downloads.push(flowLog);
    } else {
      const reason =
        flowLog.destinationType === 's3'
          ? `delivers to S3 and no Athena database is configured${options.athenaSetting ? ` (${options.athenaSetting})` : ''}`
          : `delivers to ${flowLog.destinationType}, which no flow source reads`;
      plan.unqueried.push({ flowLogId: flowLog.id, reason });
    }
  }
  const byFormat = new Map<string, { fields: readonly string[]; names: string[] }>();
  for (const [name, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const format = group.fields.join(' ');
    const entry = byFormat.get(format) ?? { fields: group.fields, names: [] };
    entry.names.push(name);
    byFormat.set(format, entry);
  }
  let n = 0;
  const insights: FlowSourceItem[] = [];
  for (const { fields, names } of byFormat.values()) {
    for (let i = 0; i < names.length; i += perQuery) {
      n += 1;
      const logGroups = names.slice(i, i + perQuery);
      const sourceId = `insights-${n}`;
      insights.push({ sourceId, kind: 'insights', fields: [...fields], logGroups });
      plan.sources.push({
        sourceId,
        kind: 'insights',
        flowLogIds: logGroups.flatMap((g) => groups.get(g)?.flowLogIds ?? []),
      });
    }
  }
  plan.items.unshift(...insights);
  return plan;
}

/**
 * The report's words for a flow log nothing reads.
 *
 * @example unreadWarning({ flowLogId: 'fl-1', reason: 'delivers to kinesis-data-firehose, which no flow source reads' })
 */
export function unreadWarning(unread: UnreadFlowLog): string {
  if (unread.reason === NOT_ENI_EVIDENCE) return `flow log ${unread.flowLogId} ${unread.reason}`;
  return `flow log ${unread.flowLogId} ${unread.reason}; ENIs covered only by it have no traffic evidence`;
}
