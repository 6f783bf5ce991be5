/**
 * Step 2 (one Map item, polled): `start` plans the item's queries for the ENIs its flow logs
 * record and starts them; `check` polls them once (the state machine waits between checks: a
 * query may outlive this function) and, when the last one ends, stores the aggregates in the work
 * bucket. A source's failure is answered as a `failed` poll with a bounded error (the whole one is
 * stored under the run); `record-failure` does the same for a step the workflow's Catch took
 * (stopping the job's queries first). Analyze reports the failed source; the others carry on.
 * An organization run's target (the event's `target`) runs its Logs Insights queries in its own
 * account and region through the member role (MEMBER_ROLE_NAME); Athena queries stay in this
 * account, over the log-archive bucket where the flow logs are delivered.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { createAwsClients } from '../../adapters/aws/clients';
import { throttlingCause } from '../../adapters/aws/flow-query-job';
import { LogGroupMetrics } from '../../adapters/aws/log-group-metrics';
import { TargetClientsCache } from '../../adapters/aws/member-role';
import { QueryItemSteps } from '../../adapters/aws/query-item-steps';
import { S3WorkStore } from '../../adapters/aws/s3-work-store';
import type { OrgTarget } from '../../shared/org/model';
import { createLoggers, InvalidEventError, kmsKeyOf, loadConfig, parseEvent } from '../config';
import { type QueryOutcome, type QueryPoll, queryStepEventSchema } from './contract';

const config = loadConfig('query');
const { logger, adapterLogger } = createLoggers(config);
const s3 = new S3Client({ retryMode: 'adaptive' });
const store = new S3WorkStore({ s3, bucket: config.workBucket, ...kmsKeyOf(config) });
/** Athena and S3 are this account's (Athena here reads the log-archive bucket). */
const central = {
  athena: new AthenaClient({ retryMode: 'adaptive' }),
  s3,
  logger: adapterLogger,
  ...(config.athena ? { athenaSettings: config.athena } : {}),
};
const steps = new QueryItemSteps({
  store,
  clients: {
    logs: new CloudWatchLogsClient({ retryMode: 'adaptive' }),
    metrics: new LogGroupMetrics({ cloudwatch: new CloudWatchClient({ retryMode: 'adaptive' }) }),
    ...central,
  },
  ports: config.ports,
});
/** Targets whose clients and steps a warm function keeps. */
const TARGETS_KEPT = 4;
const targets = config.memberRole
  ? new TargetClientsCache(
      {
        factory: createAwsClients,
        sts: new STSClient({ retryMode: 'adaptive' }),
        role: { ...config.memberRole, sessionName: 'sg-audit-query' },
      },
      TARGETS_KEPT,
    )
  : undefined;
const targetSteps = new Map<string, { logs: CloudWatchLogsClient; steps: QueryItemSteps }>();

/** The steps of an item: a target's Logs Insights queries run in its account and region. */
function stepsOf(target: OrgTarget | undefined): QueryItemSteps {
  if (target === undefined) return steps;
  if (targets === undefined) {
    throw new InvalidEventError('a target run needs the member role (MEMBER_ROLE_NAME is not set)', [
      'target',
    ]);
  }
  const { logs, cloudwatch } = targets.of(target);
  const key = `${target.accountId}/${target.region}`;
  let held = targetSteps.get(key);
  // The cache may have replaced the target's clients: the steps follow them.
  if (held === undefined || held.logs !== logs) {
    // The flow-log groups and their delivery counters are the target's.
    const metrics = new LogGroupMetrics({ cloudwatch });
    held = {
      logs,
      steps: new QueryItemSteps({ store, clients: { logs, metrics, ...central }, ports: config.ports }),
    };
    targetSteps.delete(key);
    targetSteps.set(key, held);
    // As many as the clients kept: each holds its run's inventory.
    for (const oldKey of targetSteps.keys()) {
      if (targetSteps.size <= TARGETS_KEPT) break;
      targetSteps.delete(oldKey);
    }
  }
  return held.steps;
}

export const handler = async (rawEvent: unknown): Promise<QueryPoll | QueryOutcome> => {
  const event = parseEvent(queryStepEventSchema, rawEvent);
  logger.appendKeys({ runId: event.runId, sourceId: event.query.sourceId, action: event.action });
  const steps = stepsOf(event.target);
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
