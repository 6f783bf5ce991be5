/**
 * Step 2 (one Map item): runs one flow source's queries over the window for the ENIs its flow
 * logs record, and stores the aggregates in the work bucket. A failure throws the adapter's typed
 * error (FlowLogQueryFailedError, AthenaQueryTimeoutError …): the Map's Catch records it and
 * the other sources carry on; analyze reports the failed source.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client } from '@aws-sdk/client-s3';
import { enisRecordedBy, flowLogsOfItem, flowSourceOf } from '../../adapters/aws/query-item-source';
import { emptyFlowResult, S3WorkStore } from '../../adapters/aws/s3-work-store';
import { createLoggers, loadConfig, parseEvent } from '../config';
import { type QueryResult, queryEventSchema } from './contract';

const config = loadConfig('query');
const { logger, adapterLogger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const logs = new CloudWatchLogsClient({ retryMode: 'adaptive' });
const athena = new AthenaClient({ retryMode: 'adaptive' });
const store = new S3WorkStore({
  s3,
  bucket: config.workBucket,
  ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}),
});

export const handler = async (rawEvent: unknown): Promise<QueryResult> => {
  const { runId, inventoryKey, window, query } = parseEvent(queryEventSchema, rawEvent);
  logger.appendKeys({ runId, sourceId: query.sourceId });
  const { inventory } = await store.getInventory(inventoryKey);
  const flowLogs = flowLogsOfItem(inventory, query);
  const eniIds = enisRecordedBy(inventory, flowLogs);
  const ports = config.ports.length > 0 ? { ports: config.ports } : {};
  // No ENI to ask about: an empty ENI list would mean "every ENI" to the source.
  const result =
    eniIds.length === 0
      ? emptyFlowResult(
          query.kind === 'insights' ? 'logs-insights' : 'athena',
          flowLogs.map((f) => f.id),
        )
      : await flowSourceOf(query, inventory, flowLogs, {
          logs,
          athena,
          s3,
          logger: adapterLogger,
          ...(config.athena ? { athenaSettings: config.athena } : {}),
        }).aggregate({ window, eniIds, ...ports });
  const aggregatesKey = await store.putAggregates(runId, query.sourceId, result);
  const summary: QueryResult = {
    runId,
    sourceId: query.sourceId,
    aggregatesKey,
    eniCount: eniIds.length,
    rows: result.aggregates.length,
    records: result.stats.records,
    bytesScanned: result.stats.bytesScanned,
    queries: result.stats.queries,
  };
  logger.info('flow source aggregated', { ...summary, warnings: result.stats.warnings });
  return summary;
};
