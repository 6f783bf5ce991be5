/**
 * The flow source of one query item, built from the stored inventory: the Logs Insights source
 * over the item's log groups, or the Athena source over the item's flow-log table; and the ENIs
 * it is asked about (those its flow logs record, carrying a security group — what runAudit asks).
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { S3Client } from '@aws-sdk/client-s3';
import { flowLogTableSpec } from '../../shared/flow/athena-ddl';
import type { FlowSourceItem } from '../../shared/flow/source-plan';
import type { FlowAggregateSource } from '../../shared/model/flow';
import type { FlowLogConfig, Inventory } from '../../shared/model/inventory';
import { AthenaFlowSource, type AthenaSettings } from './athena/flow-source';
import type { AthenaFlowSourceLogger } from './athena/query-runner';
import { InsightsFlowSource } from './insights-flow-source';

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
  const logger = clients.logger ? { logger: clients.logger } : {};
  if (item.kind === 'insights') {
    return new InsightsFlowSource({
      logs: clients.logs,
      logGroups: item.logGroups.map((name) => ({ name, fields: item.fields })),
      flowLogIds: flowLogs.map((f) => f.id),
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
    ...logger,
  });
}
