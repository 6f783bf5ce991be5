/**
 * The weekly audit's Step Functions workflow: discover → query each flow source (bounded Map) →
 * split the per-source outcomes → analyze (render and store the reports) → notify. Failures of
 * discover, the Map or analyze alert with their cause (NotifyFailure) and fail the run; a failed
 * flow source is caught per item and reported by analyze, not fatal to the others.
 *
 * Scale (1,000 SGs / 10,000 ENIs; state ≤ 256 KiB, history ≤ 25,000 events):
 * - State carries S3 keys and the query list only: the inventory and aggregates stay in the work
 *   bucket. A query item is one Logs Insights query over ≤ 50 log groups of one format (≤ ~6 KB
 *   with 50 long names) or one Athena table (~200 B). 10,000 ENIs with per-ENI log groups are
 *   ⌈10,000 / 50⌉ = 200 items ≈ 200 × 6 KB = 1.2 MB in the worst case: over discover's 128 KiB
 *   inline budget, so discover writes queries.json only and the Distributed Map reads it from S3
 *   (ItemReader); a VPC-level flow log per VPC is a handful of items, inline.
 * - Each item's result is reduced to { sourceId, status, aggregatesKey } or { sourceId, status,
 *   error } (≤ ~1 KB with a Lambda error's cause): 200 items ≈ 200 KB at worst (errors), typically
 *   200 × 120 B = 24 KB — under 256 KiB. Analyze's input holds the keys only (≈ 80 B each).
 * - History: an inline Map item costs ~8 events (iteration started/succeeded, task state
 *   entered/scheduled/started/succeeded/exited, +4 per retry): 200 items ≈ 1,600 events + ~40 for
 *   the rest, far under 25,000. Distributed Map children run as child executions with their own
 *   history: the parent records a few events for the whole Map.
 * - Concurrency: at most `maxConcurrency` (10) query functions run at once, each running a
 *   bounded number of Insights queries: under Logs Insights' 100 concurrent queries per account
 *   and Athena's DML concurrency quota.
 */
import { Duration, Names } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { createAppLogGroup } from './log-group';

export interface AuditWorkflowProps {
  /** Discovers the inventory and plans the flow queries (lambdas/discover). */
  readonly discoverFunction: lambda.IFunction;
  /** Runs one flow source's queries and stores its aggregates (lambdas/query). */
  readonly queryFunction: lambda.IFunction;
  /** Audits, renders and stores the reports (lambdas/analyze). */
  readonly analyzeFunction: lambda.IFunction;
  /** Publishes the run's summary or failure alert (lambdas/notify). */
  readonly notifyFunction: lambda.IFunction;
  /**
   * The work bucket discover writes queries.json to: read by the Distributed Map's ItemReader
   * when the query list is too large to pass inline.
   */
  readonly workBucket: s3.IBucket;
  /**
   * Query functions run at once. Each runs its own bounded set of Logs Insights / Athena queries:
   * keep the product under Logs Insights' 100 concurrent queries per account and Athena's DML
   * concurrency quota (20-25 by default).
   *
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Retention of the execution log group.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Encrypts the execution log group. A key of the app (kms.Key) gets the statement letting
   * CloudWatch Logs use it for this log group's ARN only; an imported key's policy must grant it.
   *
   * @default - encrypted by CloudWatch Logs with a service-owned key
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * The whole run's time limit. A query function may take its full 15 minutes per source.
   *
   * @default Duration.hours(6)
   */
  readonly timeout?: Duration;
}

/** Lambda's own transient failures (the Lambda service, not the function). */
export const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * Throttling, by error name: Lambda's concurrency limit, and the AWS throttling errors that can
 * escape a function after its SDK clients' adaptive retries (Athena/STS ThrottlingException and
 * TooManyRequestsException, Logs Insights LimitExceededException, EC2 RequestLimitExceeded,
 * S3 SlowDown). The adapters retry these themselves first; this is the backstop.
 */
export const THROTTLING_ERRORS = [
  'Lambda.TooManyRequestsException',
  'ThrottlingException',
  'TooManyRequestsException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'SlowDown',
] as const;

const DEFAULT_MAX_CONCURRENCY = 10;

/**
 * The audit's state machine and its execution log group.
 *
 * @example
 * const workflow = new AuditWorkflow(this, 'Workflow', { discoverFunction, queryFunction, analyzeFunction, notifyFunction, workBucket });
 * workflow.stateMachine.grantStartExecution(schedulerRole);
 */
export class AuditWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AuditWorkflowProps) {
    super(scope, id);
    const maxConcurrency = props.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;

    // Failure path: every caught failure becomes { runId, step, error } for notify, then fails the run.
    const auditFailed = new sfn.Fail(this, 'AuditFailed', {
      error: 'AuditFailed',
      cause: 'A step of the audit failed; the alert carries its cause',
    });
    const notifyFailure = this.invoke('NotifyFailure', props.notifyFunction).next(auditFailed);
    const failedAt = (step: string, runIdPath: string) =>
      new sfn.Pass(this, `${step}Failed`, {
        comment: `The notify function's failure event for ${step}`,
        parameters: {
          'runId.$': runIdPath,
          step,
          'error.$': '$.error',
        },
      }).next(notifyFailure);
    const caught = { errors: [sfn.Errors.ALL], resultPath: '$.error' };

    // The execution name is the run id until discover has returned one.
    const discover = this.invoke('Discover', props.discoverFunction, {
      resultSelector: {
        'runId.$': '$.runId',
        'inventoryKey.$': '$.inventoryKey',
        'queriesKey.$': '$.queriesKey',
        'window.$': '$.window',
        'queries.$': '$.queries',
        'queriesInline.$': '$.queriesInline',
        'queryCount.$': '$.queryCount',
      },
    }).addCatch(failedAt('Discover', '$$.Execution.Name'), caught);

    const itemSelector = {
      'runId.$': '$.runId',
      'inventoryKey.$': '$.inventoryKey',
      'window.$': '$.window',
      'query.$': '$$.Map.Item.Value',
    };
    // Inline Map: the list travels in state (discover keeps it ≤ 128 KiB).
    const queryInline = new sfn.Map(this, 'QueryEachSource', {
      comment: 'One query step per flow source; a failed source is recorded, not fatal',
      itemsPath: '$.queries',
      itemSelector,
      maxConcurrency,
      resultPath: '$.results',
    }).itemProcessor(this.queryItem('', props.queryFunction));
    // Distributed Map: the list is read from queries.json; each item runs as a child execution
    // (STANDARD: a query may take 15 minutes, over EXPRESS's 5).
    const queryFromS3 = new sfn.DistributedMap(this, 'QueryEachSourceFromS3', {
      comment: 'The same query steps over queries.json, for lists too large for state',
      itemReader: new sfn.S3JsonItemReader({
        bucket: props.workBucket,
        key: sfn.JsonPath.stringAt('$.queriesKey'),
      }),
      itemSelector,
      maxConcurrency,
      resultPath: '$.results',
      mapExecutionType: sfn.StateMachineType.STANDARD,
    }).itemProcessor(this.queryItem('FromS3', props.queryFunction));
    for (const map of [queryInline, queryFromS3]) map.addCatch(failedAt(map.id, '$.runId'), caught);

    const analyze = this.invoke('Analyze', props.analyzeFunction).addCatch(
      failedAt('Analyze', '$.runId'),
      caught,
    );
    analyze.next(this.invoke('Notify', props.notifyFunction));

    // Splitting the outcomes into analyze's aggregateKeys and failedSources. A JSONPath filter is
    // [] on AWS when nothing matches, but aws-local-stepfunctions (the e2e runner, no JSONata)
    // rejects an empty match: the Choices pick a Pass whose filters are known to match.
    const analyzeInput = (name: string, aggregateKeys: string | [], failedSources: string | []) =>
      new sfn.Pass(this, name, {
        parameters: {
          'runId.$': '$.runId',
          'inventoryKey.$': '$.inventoryKey',
          ...(typeof aggregateKeys === 'string' ? { 'aggregateKeys.$': aggregateKeys } : { aggregateKeys }),
          ...(typeof failedSources === 'string' ? { 'failedSources.$': failedSources } : { failedSources }),
        },
      }).next(analyze);
    const okKeys = "$.results[?(@.status == 'ok')].aggregatesKey";
    const failed = "$.results[?(@.status == 'failed')]";
    const outcomes = new sfn.Pass(this, 'ListQueryOutcomes', {
      parameters: { 'statuses.$': '$.results[*].status' },
      resultPath: '$.outcome',
    })
      .next(
        new sfn.Pass(this, 'CheckQueryOutcomes', {
          parameters: {
            'anyFailed.$': "States.ArrayContains($.outcome.statuses, 'failed')",
            'anySucceeded.$': "States.ArrayContains($.outcome.statuses, 'ok')",
          },
          resultPath: '$.outcome',
        }),
      )
      .next(
        new sfn.Choice(this, 'WhichQueryOutcomes')
          .when(
            sfn.Condition.and(
              sfn.Condition.booleanEquals('$.outcome.anyFailed', true),
              sfn.Condition.booleanEquals('$.outcome.anySucceeded', true),
            ),
            analyzeInput('SomeQueriesFailed', okKeys, failed),
          )
          .when(
            sfn.Condition.booleanEquals('$.outcome.anyFailed', true),
            analyzeInput('AllQueriesFailed', [], failed),
          )
          .otherwise(analyzeInput('AllQueriesSucceeded', okKeys, [])),
      );
    const split = new sfn.Choice(this, 'AnyQueryResults')
      .when(sfn.Condition.isPresent('$.results[0]'), outcomes)
      .otherwise(analyzeInput('NoQueryResults', [], []));
    queryInline.next(split);
    queryFromS3.next(split);

    const definition = discover.next(
      new sfn.Choice(this, 'QueriesInline')
        .when(sfn.Condition.booleanEquals('$.queriesInline', true), queryInline)
        .otherwise(queryFromS3),
    );

    this.logGroup = createAppLogGroup(this, 'ExecutionLogs', {
      // The vended-logs prefix keeps CloudWatch Logs' resource policy within its size limit.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200 })}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'sg-audit: discover → query each flow source → analyze → notify',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.timeout ?? Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // The ItemReader's GetObject (and the bucket key's Decrypt when it is KMS-encrypted).
    props.workBucket.grantRead(this.stateMachine);
  }

  /**
   * One flow source: the query function, retried on transient and throttling errors, reduced to
   * { sourceId, status: 'ok', aggregatesKey }, or, once the retries are spent, caught and recorded
   * as { sourceId, status: 'failed', error } so the other sources carry on.
   */
  private queryItem(suffix: string, queryFunction: lambda.IFunction): sfn.IChainable {
    const recordFailure = new sfn.Pass(this, `RecordQueryFailure${suffix}`, {
      parameters: { 'sourceId.$': '$.query.sourceId', status: 'failed', 'error.$': '$.error' },
    });
    return this.invoke(`Query${suffix}`, queryFunction, {
      resultSelector: { 'sourceId.$': '$.sourceId', status: 'ok', 'aggregatesKey.$': '$.aggregatesKey' },
    }).addCatch(recordFailure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  }

  /**
   * A Lambda task whose state is the function's response (payloadResponseOnly: the Resource is
   * the function ARN, no Payload wrapper), retried with backoff and jitter on Lambda's transient
   * errors and on throttling.
   */
  private invoke(
    id: string,
    fn: lambda.IFunction,
    options: { resultSelector?: Record<string, unknown> } = {},
  ): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      ...(options.resultSelector ? { resultSelector: options.resultSelector } : {}),
    });
    task.addRetry({
      errors: [...LAMBDA_TRANSIENT_ERRORS],
      interval: Duration.seconds(2),
      maxAttempts: 6,
      backoffRate: 2,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    task.addRetry({
      errors: [...THROTTLING_ERRORS],
      interval: Duration.seconds(5),
      maxAttempts: 5,
      backoffRate: 2,
      maxDelay: Duration.seconds(120),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }
}
