/**
 * The flow source of one query item, built from the stored inventory: the Logs Insights source
 * over the item's log groups, or the Athena source over the item's flow-log table; and the ENIs
 * it is asked about (those its flow logs record, carrying a security group — what runAudit asks).
 * The workflow polls it as a job (flow-query-job.ts), whatever its engine: `polledSourceOf`; and
 * `stopQueryJob` stops a job's queries from the job alone (no inventory needed).
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { S3Client } from '@aws-sdk/client-s3';
import { flowLogTableSpec } from '../../shared/flow/athena-ddl';
import { type FlowSourceItem, logGroupOf } from '../../shared/flow/source-plan';
import type { FlowAggregateSource } from '../../shared/model/flow';
import type { FlowLogConfig, Inventory } from '../../shared/model/inventory';
import { AthenaFlowSource, type AthenaQueryJob, type AthenaSettings } from './athena/flow-source';
import { type AthenaFlowSourceLogger, stopAthenaQueries } from './athena/query-runner';
import type { PartialAggregateStore, PolledFlowSource } from './flow-query-job';
import { InsightsFlowSource, type InsightsQueryJob, stopInsightsQueries } from './insights-flow-source';
import type { LogGroupIncomingEvents } from './log-group-metrics';

/** The job of either engine, as the workflow's state carries it. */
export type FlowQueryJob = InsightsQueryJob | AthenaQueryJob;

/** How the workflow's query step runs an item's job. */
export interface PolledSourceOptions {
  /** Rows of windows finished before the others (the work bucket, in the workflow). */
  readonly partials: PartialAggregateStore;
  /** Each query's own time limit, milliseconds (Logs Insights' and Athena's own limits apply too). */
  readonly queryTimeoutMs: number;
}

/** The item names a flow log or log group the stored inventory does not hold, or Athena is off. */
export class QueryItemError extends Error {
  override readonly name = 'QueryItemError';
}

export interface FlowSourceClients {
  readonly logs: CloudWatchLogsClient;
  readonly athena: AthenaClient;
  readonly s3: S3Client;
  readonly athenaSettings?: AthenaSettings;
  readonly logger?: AthenaFlowSourceLogger;
  /** The log groups' IncomingLogEvents (delivery counters of Logs Insights items). @default none */
  readonly metrics?: LogGroupIncomingEvents;
}

/** The inventory's flow logs an item reads. */
export function flowLogsOfItem(inventory: Inventory, item: FlowSourceItem): FlowLogConfig[] {
  const flowLogs =
    item.kind === 'athena'
      ? inventory.flowLogs.filter((f) => f.id === item.flowLogId)
      : inventory.flowLogs.filter(
          (f) => f.destinationType === 'cloud-watch-logs' && item.logGroups.includes(f.logGroupName ?? ''),
        );
  if (flowLogs.length === 0) {
    throw new QueryItemError(`${item.sourceId}: the stored inventory has no flow log this item reads`);
  }
  return flowLogs;
}

/**
 * ENIs with a security group that one of the flow logs records (flow logs attach to a VPC, a
 * subnet or an ENI).
 *
 * @example enisRecordedBy(inventory, [vpcFlowLog]) // every ENI of that VPC carrying an SG
 */
export function enisRecordedBy(inventory: Inventory, flowLogs: readonly FlowLogConfig[]): string[] {
  const resources = new Set(flowLogs.map((f) => f.resourceId));
  return inventory.networkInterfaces
    .filter((eni) => eni.sgIds.length > 0)
    .filter((eni) => resources.has(eni.id) || resources.has(eni.subnetId) || resources.has(eni.vpcId))
    .map((eni) => eni.id);
}

/** The adapter that runs an item's queries. */
export function flowSourceOf(
  item: FlowSourceItem,
  inventory: Inventory,
  flowLogs: readonly FlowLogConfig[],
  clients: FlowSourceClients,
): FlowAggregateSource {
  return sourceOf(item, inventory, flowLogs, clients);
}

/**
 * The item's adapter as a polled job; a job of another engine than the item's is refused.
 *
 * @example const poll = await polledSourceOf(item, inventory, flowLogs, clients, options).start(query, { jobId });
 */
export function polledSourceOf(
  item: FlowSourceItem,
  inventory: Inventory,
  flowLogs: readonly FlowLogConfig[],
  clients: FlowSourceClients,
  options: PolledSourceOptions,
): PolledFlowSource<FlowQueryJob> {
  const source = sourceOf(item, inventory, flowLogs, clients, options);
  return source instanceof InsightsFlowSource
    ? ofEngine(source, 'logs-insights', item.sourceId)
    : ofEngine(source, 'athena', item.sourceId);
}

/** A source taking any job, refusing one of another engine (state from elsewhere). */
function ofEngine<J extends FlowQueryJob>(
  source: PolledFlowSource<J>,
  engine: J['engine'],
  sourceId: string,
): PolledFlowSource<FlowQueryJob> {
  const own = (job: FlowQueryJob): J => {
    if (job.engine !== engine) {
      throw new QueryItemError(`${sourceId}: a ${job.engine} job cannot continue on the ${engine} source`);
    }
    return job as J;
  };
  return {
    start: (query, options) => source.start(query, options),
    check: (query, job) => source.check(query, own(job)),
    stop: (job) => source.stop(own(job)),
  };
}

/**
 * Stops a job's running queries (best effort), from the job alone.
 *
 * @example await stopQueryJob(poll.job, clients);
 */
export async function stopQueryJob(job: FlowQueryJob, clients: FlowSourceClients): Promise<void> {
  if (job.engine === 'logs-insights') {
    await stopInsightsQueries(
      clients.logs,
      job.running.map((r) => r.queryId),
      clients.logger,
    );
  } else {
    await stopAthenaQueries(
      clients.athena,
      job.running.map((r) => r.queryExecutionId),
      clients.logger,
    );
  }
}

function sourceOf(
  item: FlowSourceItem,
  inventory: Inventory,
  flowLogs: readonly FlowLogConfig[],
  clients: FlowSourceClients,
  polled?: PolledSourceOptions,
): InsightsFlowSource | AthenaFlowSource {
  const logger = clients.logger ? { logger: clients.logger } : {};
  const timeout = polled ? { queryTimeoutMs: polled.queryTimeoutMs } : {};
  if (item.kind === 'insights') {
    return new InsightsFlowSource({
      logs: clients.logs,
      logGroups: item.logGroups.map((name) => ({
        name,
        fields: item.fields,
        flowLogIds: flowLogs.filter((f) => logGroupOf(f) === name).map((f) => f.id),
      })),
      flowLogIds: flowLogs.map((f) => f.id),
      ...(clients.metrics ? { metrics: clients.metrics } : {}),
      ...(polled ? { partials: polled.partials } : {}),
      ...timeout,
      ...logger,
    });
  }
  const settings = clients.athenaSettings;
  if (settings === undefined)
    throw new QueryItemError(`${item.sourceId}: Athena is not configured (ATHENA_DATABASE)`);
  const [flowLog] = flowLogs;
  if (flowLog === undefined || !inventory.accountId || !inventory.region) {
    throw new QueryItemError(
      `${item.sourceId}: the account id and region of the flow log's S3 layout are unknown`,
    );
  }
  return new AthenaFlowSource({
    athena: clients.athena,
    s3: clients.s3,
    database: settings.database,
    ...(settings.workGroup ? { workGroup: settings.workGroup } : {}),
    ...(settings.outputLocation ? { outputLocation: settings.outputLocation } : {}),
    ensureTables: true,
    tables: [flowLogTableSpec(flowLog, inventory.accountId, inventory.region)],
    ...timeout,
    ...logger,
  });
}
