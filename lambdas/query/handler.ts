/**
 * Step 2 (one Map item, polled): `start` plans the item's queries for the ENIs its flow logs
 * record and starts them; `check` polls them once (the state machine waits between checks: a
 * query may outlive this function) and, when the last one ends, stores the aggregates in the work
 * bucket. A source's failure is answered as a `failed` poll with a bounded error (the whole one is
 * stored under the run); `record-failure` does the same for a step the workflow's Catch took
 * (stopping the job's queries first). Analyze reports the failed source; the others carry on.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client } from '@aws-sdk/client-s3';
import { throttlingCause } from '../../adapters/aws/flow-query-job';
import { LogGroupMetrics } from '../../adapters/aws/log-group-metrics';
import { QueryItemSteps } from '../../adapters/aws/query-item-steps';
import { S3WorkStore } from '../../adapters/aws/s3-work-store';
import { createLoggers, loadConfig, parseEvent } from '../config';
import { type QueryOutcome, type QueryPoll, queryStepEventSchema } from './contract';

const config = loadConfig('query');
const { logger, adapterLogger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const steps = new QueryItemSteps({
  store: new S3WorkStore({
    s3,
    bucket: config.workBucket,
    ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}),
  }),
  clients: {
    logs: new CloudWatchLogsClient({ retryMode: 'adaptive' }),
    athena: new AthenaClient({ retryMode: 'adaptive' }),
    s3,
    metrics: new LogGroupMetrics({ cloudwatch: new CloudWatchClient({ retryMode: 'adaptive' }) }),
    logger: adapterLogger,
    ...(config.athena ? { athenaSettings: config.athena } : {}),
  },
  ports: config.ports,
});

export const handler = async (rawEvent: unknown): Promise<QueryPoll | QueryOutcome> => {
  const event = parseEvent(queryStepEventSchema, rawEvent);
  logger.appendKeys({ runId: event.runId, sourceId: event.query.sourceId, action: event.action });
  if (event.action === 'record-failure') {
    const outcome = await steps.recordFailure(event);
    logger.error('flow source failed (caught by the workflow)', { ...outcome });
    return outcome;
  }
  let poll: QueryPoll;
  try {
    poll =
      event.action === 'start' ? await steps.start(event, event.budgetSeconds) : await steps.check(event);
  } catch (error) {
    // A throttled start ran nothing (a start sent again is deduplicated): thrown by its AWS name,
    // the workflow's Retry sends it again.
    const throttled = event.action === 'start' ? throttlingCause(error) : undefined;
    if (throttled) throw throttled;
    poll = await steps.failed(event, error);
  }
  if (poll.status === 'running') {
    logger.debug('flow source queries running', { polls: poll.polls, running: poll.job.running.length });
  } else if (poll.status === 'done') {
    logger.info('flow source aggregated', { ...poll, outcome: undefined });
  } else {
    logger.error('flow source failed', { ...poll.outcome });
  }
  return poll;
};
