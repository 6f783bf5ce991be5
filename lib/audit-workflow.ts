/**
 * The weekly audit's Step Functions workflow: discover → query each flow source (bounded Map) →
 * split the per-source outcomes → analyze (render and store the reports) → notify. Failures of
 * discover, the Map or analyze alert with their cause (NotifyFailure) and fail the run; a failed
 * flow source is recorded per item and reported by analyze, not fatal to the others.
 *
 * Long work is polled by the state machine, never waited for in a Lambda (a Logs Insights query
 * may run 60 minutes, a Lambda 15): per item StartQuery → (QueryRunning?) → WaitForQuery →
 * CheckQuery → QueryRunning? …, each task one short invocation of the query function, the job
 * (query ids and counters) in state. The item's budget (per engine) bounds its job: the check that
 * finds it spent stops the queries and records the item as failed with the source's timeout error.
 * Athena is polled the same way rather than through `athena:startQueryExecution.sync`: the source
 * also creates its tables first (DDL, polled the same way) and reads the result CSV after, and the
 * CLI runs the very same job code in-process.
 *
 * Scale (see the README's "Scale"; state ≤ 256 KiB, history ≤ 25,000 events):
 * - State carries S3 keys, the inline query list and bounded outcomes: the inventory, aggregates,
 *   partial rows and whole errors stay in the work bucket. A failed item keeps ≤ 500 characters of
 *   its error and the key of the whole one.
 * - The inline Map replaces the query list with the outcomes (ResultPath $.queries): the list is
 *   not carried past the Map. It is taken only when its worst-case history fits (inlineItemLimit);
 *   otherwise the Distributed Map runs each item as a child execution with its own history, and
 *   its ResultWriter puts the outcomes in the work bucket: analyze reads them (queryResultsKey).
 * - One poll turn costs 9 events (Wait 2, Task 5, Choice 2).
 * - The run timeout is derived from the sizing (runTimeoutOf); a run that times out, is aborted or
 *   fails past the Catch alerts through lib/monitoring.ts.
 */
import { Duration, Names } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { AWS_THROTTLING_ERRORS } from '../adapters/aws/flow-query-job';
import { createAppLogGroup } from './log-group';
import { type RemediationSteps, remediationChain, remediationTimeOf } from './remediation';

/** How long one query item's job may run, by engine, before its queries are stopped. */
export interface QueryBudget {
  /** @default Duration.minutes(60) — Logs Insights' own query timeout */
  readonly insights?: Duration;
  /** @default Duration.minutes(30) — Athena's DML timeout */
  readonly athena?: Duration;
}

export interface AuditWorkflowProps {
  /** Discovers the inventory and plans the flow queries (lambdas/discover). */
  readonly discoverFunction: lambda.IFunction;
  /** Starts, checks and records one flow source's queries (lambdas/query). */
  readonly queryFunction: lambda.IFunction;
  /** Audits, renders and stores the reports (lambdas/analyze). */
  readonly analyzeFunction: lambda.IFunction;
  /** Publishes the run's summary or failure alert (lambdas/notify). */
  readonly notifyFunction: lambda.IFunction;
  /**
   * The work bucket: discover writes queries.json there (read by the Distributed Map's ItemReader
   * when the list is not inline) and the Distributed Map's ResultWriter writes the outcomes.
   */
  readonly workBucket: s3.IBucket;
  /**
   * Query items polled at once. Each runs its own bounded set of Logs Insights / Athena queries:
   * keep the product under Logs Insights' 100 concurrent queries per account and Athena's DML
   * concurrency quota (20-25 by default).
   *
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Each query item's time budget, by engine: past it the item's queries are stopped
   * (StopQuery/StopQueryExecution) and the item fails with the source's timeout error.
   *
   * @default { insights: 60 minutes, athena: 30 minutes }
   */
  readonly queryBudget?: QueryBudget;
  /**
   * The wait between two checks of a query item (each check is 9 history events).
   *
   * @default Duration.seconds(30)
   */
  readonly queryPollInterval?: Duration;
  /**
   * Query items a run is sized for: the derived run timeout covers this many items at the worst.
   *
   * @default 200 (10,000 ENIs in per-ENI log groups, 50 log groups per query)
   */
  readonly maxQueryItems?: number;
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
   * The whole run's time limit.
   *
   * @default - runTimeoutOf() the sizing above and the functions' timeouts
   */
  readonly timeout?: Duration;
  /**
   * Runs of one (account, region) target of an organization run (OrgAuditWorkflow starts them):
   * the execution input carries `target` (and the run id and window end), discover and the query
   * steps are given it (they reach the target through its member role), the run ends with
   * analyze's result (no alert: the organization run alerts once), and a caught failure fails the
   * run with its own error and `failed in <step>: <cause>` as cause (the organization run records
   * the target as a gap). The single-account workflow is unchanged when absent.
   *
   * @default false
   */
  readonly targetRuns?: boolean;
  /**
   * The deployed, approval-gated remediation (lib/remediation.ts): after notify (whose result then
   * goes to `$.notified`), plan the opted-in SGs, wait for a decision at most the approval wait,
   * apply an approved plan, alert the outcome. The run's timeout grows by the wait. Not with
   * `targetRuns`. The definition is unchanged when absent.
   *
   * @default - no remediation
   */
  readonly remediation?: RemediationSteps;
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
 * S3 SlowDown). The adapters retry these themselves first; this is the backstop. A retried query
 * start does not run the query twice (Athena dedupes it by its token) and a retried check only
 * polls again.
 */
export const THROTTLING_ERRORS = ['Lambda.TooManyRequestsException', ...AWS_THROTTLING_ERRORS] as const;

const DEFAULT_MAX_CONCURRENCY = 10;
const DEFAULT_MAX_QUERY_ITEMS = 200;
const DEFAULT_BUDGET = { insights: Duration.minutes(60), athena: Duration.minutes(30) };
const DEFAULT_POLL_INTERVAL = Duration.seconds(30);
/** A function whose timeout the construct cannot read is assumed to run Lambda's longest. */
const LAMBDA_MAX_TIMEOUT = Duration.minutes(15);

/** Standard workflows: events in one execution's history. */
export const HISTORY_EVENT_LIMIT = 25_000;
/** One poll turn: Wait (entered, exited), the check task (entered, scheduled, started, succeeded, exited), the Choice (entered, exited). */
export const EVENTS_PER_POLL = 9;
/**
 * One item's events besides its poll turns: the iteration (2), StartQuery (5), the first Choice
 * (2), QueryDone (2); the failure path (RecordQueryFailure 5, the unrecorded Pass 2); and an
 * allowance of 10 task retries (3 events each).
 */
export const ITEM_EVENTS_BESIDES_POLLS = 2 + 5 + 2 + 2 + 7 + 30;
/** The run's own events outside the Map (≈ 40) and their retries, with room. */
export const RUN_EVENTS_RESERVE = 500;

/** The sizing a run's limits derive from. */
export interface WorkflowSizing {
  readonly maxQueryItems: number;
  readonly maxConcurrency: number;
  /** The longest budget of an item (the engines' largest). */
  readonly queryBudget: Duration;
  readonly pollInterval: Duration;
  /** The functions' own timeouts. */
  readonly stepTimeouts: {
    readonly discover: Duration;
    readonly query: Duration;
    readonly analyze: Duration;
    readonly notify: Duration;
  };
}

/**
 * The checks an item may take: one per interval over its budget, and the one that finds it spent.
 *
 * @example maxPollsOf(Duration.minutes(60), Duration.seconds(30)) // 121
 */
export function maxPollsOf(budget: Duration, pollInterval: Duration): number {
  return Math.ceil(budget.toSeconds() / pollInterval.toSeconds()) + 1;
}

/**
 * An item's history events at the worst (its budget spent in poll turns).
 *
 * @example queryItemEvents(121) // 48 + 121 × 9 = 1,137
 */
export function queryItemEvents(polls: number): number {
  return ITEM_EVENTS_BESIDES_POLLS + polls * EVENTS_PER_POLL;
}

/**
 * The most items the inline Map may take: their worst-case histories, with the run's own, fit the
 * 25,000 events of one execution (the Distributed Map's children each have their own).
 *
 * @example inlineItemLimit(Duration.minutes(60), Duration.seconds(30)) // ⌊24,500 / 1,137⌋ = 21
 */
export function inlineItemLimit(budget: Duration, pollInterval: Duration): number {
  return Math.floor(
    (HISTORY_EVENT_LIMIT - RUN_EVENTS_RESERVE) / queryItemEvents(maxPollsOf(budget, pollInterval)),
  );
}

/**
 * The run's time limit at the worst: discover, then ⌈items / concurrency⌉ waves of items each
 * spending its budget, one more poll interval and three query-function invocations at their
 * timeout (the start, the check that finds the budget spent, the failure record), then analyze
 * and notify (and a failure alert), with 15 minutes of margin; at most Step Functions' year.
 *
 * @example runTimeoutOf({ maxQueryItems: 200, maxConcurrency: 4, queryBudget: Duration.minutes(60), … }).toHours() // ≈ 88
 */
export function runTimeoutOf(sizing: WorkflowSizing): Duration {
  const { stepTimeouts: t } = sizing;
  const waves = Math.ceil(sizing.maxQueryItems / sizing.maxConcurrency);
  const perItem = sizing.queryBudget.toSeconds() + sizing.pollInterval.toSeconds() + 3 * t.query.toSeconds();
  const seconds =
    t.discover.toSeconds() +
    waves * perItem +
    t.analyze.toSeconds() +
    2 * t.notify.toSeconds() +
    Duration.minutes(15).toSeconds();
  return Duration.seconds(Math.min(seconds, Duration.days(365).toSeconds()));
}

/** A function's own timeout, or Lambda's longest when the construct cannot read it. */
function timeoutOf(fn: lambda.IFunction): Duration {
  return (fn instanceof lambda.Function ? fn.timeout : undefined) ?? LAMBDA_MAX_TIMEOUT;
}

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
  /** The run's time limit (given, or derived by runTimeoutOf). */
  public readonly runTimeout: Duration;
  /** The most query items the inline Map takes; more go through the Distributed Map. */
  public readonly inlineItemLimit: number;

  constructor(scope: Construct, id: string, props: AuditWorkflowProps) {
    super(scope, id);
    // ResultWriterV2 (bucket, prefix from state) renders only under this flag; set for this
    // construct alone, whatever the app's cdk.json holds.
    this.node.setContext(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    const maxConcurrency = props.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    const budget = {
      insights: props.queryBudget?.insights ?? DEFAULT_BUDGET.insights,
      athena: props.queryBudget?.athena ?? DEFAULT_BUDGET.athena,
    };
    const longestBudget =
      budget.insights.toSeconds() >= budget.athena.toSeconds() ? budget.insights : budget.athena;
    const pollInterval = props.queryPollInterval ?? DEFAULT_POLL_INTERVAL;
    if (pollInterval.toSeconds() < 1 || pollInterval.toSeconds() > longestBudget.toSeconds()) {
      throw new Error(
        'AuditWorkflow: queryPollInterval must be at least 1 second and at most the query budget',
      );
    }
    // A Distributed Map child polls one item: its history must hold the item's worst case.
    const itemEvents = queryItemEvents(maxPollsOf(longestBudget, pollInterval));
    if (itemEvents > HISTORY_EVENT_LIMIT - RUN_EVENTS_RESERVE) {
      throw new Error(
        `AuditWorkflow: an item may take ${itemEvents} history events (budget / poll interval): over the ${HISTORY_EVENT_LIMIT} of one execution; poll less often`,
      );
    }
    this.inlineItemLimit = inlineItemLimit(longestBudget, pollInterval);
    const remediation = props.remediation;
    if (remediation && props.targetRuns) {
      throw new Error('AuditWorkflow: remediation applies to a single-account workflow, not to target runs');
    }
    const auditTimeout =
      props.timeout ??
      runTimeoutOf({
        maxQueryItems: props.maxQueryItems ?? DEFAULT_MAX_QUERY_ITEMS,
        maxConcurrency,
        queryBudget: longestBudget,
        pollInterval,
        stepTimeouts: {
          discover: timeoutOf(props.discoverFunction),
          query: timeoutOf(props.queryFunction),
          analyze: timeoutOf(props.analyzeFunction),
          notify: timeoutOf(props.notifyFunction),
        },
      });
    // The approval wait (and the remediation's steps) come on top of the audit's own worst case.
    this.runTimeout =
      remediation && props.timeout === undefined
        ? Duration.seconds(
            Math.min(
              auditTimeout.toSeconds() +
                remediationTimeOf(
                  remediation,
                  timeoutOf(remediation.applyFunction),
                  timeoutOf(remediation.remediateFunction),
                ).toSeconds(),
              Duration.days(365).toSeconds(),
            ),
          )
        : auditTimeout;

    // Failure path: every caught failure becomes { runId, step, error } for notify, then fails the
    // run; a target run fails with the step's own error instead (its organization run reports it).
    const failedAt = failureEvents(
      this,
      props.targetRuns
        ? this.targetRunFailure()
        : notifyAndFail(
            this,
            props.notifyFunction,
            'A step of the audit failed; the alert carries its cause',
          ),
    );
    // A target run's steps are given its target (discover returns it).
    const target: Record<string, string> = props.targetRuns ? { 'target.$': '$.target' } : {};
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
        // Where the Distributed Map's ResultWriter puts the outcomes: under the run.
        'queryResultsPrefix.$': "States.Format('runs/{}/query-results', $.runId)",
        ...target,
      },
    }).addCatch(failedAt('Discover', '$$.Execution.Name'), caught);

    const itemSelector = {
      'runId.$': '$.runId',
      'inventoryKey.$': '$.inventoryKey',
      'window.$': '$.window',
      'query.$': '$$.Map.Item.Value',
      // Present from the start, so the failure record can always name the item's poll.
      poll: { status: 'starting' },
      ...target,
    };
    const item = { queryFunction: props.queryFunction, budget, pollInterval, target };
    // Inline Map: the list travels in state (discover keeps it ≤ 128 KiB); the outcomes replace it.
    const queryInline = new sfn.Map(this, 'QueryEachSource', {
      comment: 'One polled query job per flow source; a failed source is recorded, not fatal',
      itemsPath: '$.queries',
      itemSelector,
      maxConcurrency,
      resultPath: '$.queries',
    }).itemProcessor(this.queryItem('', item));
    // Distributed Map: the list is read from queries.json; each item runs as a child execution
    // (STANDARD: an item is polled for up to its budget, over EXPRESS's 5 minutes) and the
    // outcomes are written to the work bucket, not to state.
    const queryFromS3 = workBucketMap(this, 'QueryEachSourceFromS3', {
      workBucket: props.workBucket,
      comment: 'The same query jobs over queries.json, for lists too large or too long for one history',
      listKeyPath: '$.queriesKey',
      resultsPrefixPath: '$.queryResultsPrefix',
      resultPath: '$.queryResults',
      maxConcurrency,
      itemSelector,
    }).itemProcessor(this.queryItem('FromS3', item));
    for (const map of [queryInline, queryFromS3]) map.addCatch(failedAt(map.id, '$.runId'), caught);

    const analyze = this.invoke('Analyze', props.analyzeFunction).addCatch(
      failedAt('Analyze', '$.runId'),
      caught,
    );
    // A target run ends with analyze's result: its organization run alerts once for all targets.
    if (!props.targetRuns && !remediation) analyze.next(this.invoke('Notify', props.notifyFunction));
    // With remediation, the audit's alert goes out first; the approval may wait for days.
    if (remediation) {
      analyze.next(this.invoke('Notify', props.notifyFunction, { resultPath: '$.notified' })).next(
        remediationChain(this, remediation, {
          lambdaTask,
          retryable: [...LAMBDA_TRANSIENT_ERRORS, ...THROTTLING_ERRORS],
        }),
      );
    }

    // Splitting the inline outcomes into analyze's aggregateKeys and failedSources. A JSONPath
    // filter is [] on AWS when nothing matches, but aws-local-stepfunctions (the e2e runner, no
    // JSONata) rejects an empty match: the Choices pick a Pass whose filters are known to match.
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
    queryInline
      .next(
        new sfn.Pass(this, 'CollectQueryOutcomes', {
          comment: 'Keeps the keys and the outcomes only',
          parameters: { 'runId.$': '$.runId', 'inventoryKey.$': '$.inventoryKey', 'results.$': '$.queries' },
        }),
      )
      .next(
        new sfn.Choice(this, 'AnyQueryResults')
          .when(sfn.Condition.isPresent('$.results[0]'), outcomes)
          .otherwise(analyzeInput('NoQueryResults', [], [])),
      );
    // After the Distributed Map, analyze reads the outcomes from the ResultWriter's manifest.
    queryFromS3.next(
      new sfn.Pass(this, 'QueryResultsFromS3', {
        parameters: {
          'runId.$': '$.runId',
          'inventoryKey.$': '$.inventoryKey',
          'queryResultsKey.$': '$.queryResults.ResultWriterDetails.Key',
        },
      }).next(analyze),
    );

    const definition = discover.next(
      new sfn.Choice(this, 'QueriesInline')
        .when(
          sfn.Condition.and(
            sfn.Condition.booleanEquals('$.queriesInline', true),
            sfn.Condition.numberLessThanEquals('$.queryCount', this.inlineItemLimit),
          ),
          queryInline,
        )
        .otherwise(queryFromS3),
    );

    ({ logGroup: this.logGroup, stateMachine: this.stateMachine } = workflowStateMachine(this, {
      comment: props.targetRuns
        ? 'sg-audit: one target of an organization run: discover → query each flow source (polled) → analyze'
        : remediation
          ? 'sg-audit: discover → query each flow source (polled) → analyze → notify → plan → approval → apply'
          : 'sg-audit: discover → query each flow source (polled) → analyze → notify',
      definition,
      timeout: this.runTimeout,
      workBucket: props.workBucket,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.logEncryptionKey ? { logEncryptionKey: props.logEncryptionKey } : {}),
    }));
  }

  /**
   * One flow source, polled: StartQuery, then WaitForQuery → CheckQuery while the poll says
   * running; QueryDone keeps the outcome ({ sourceId, status: 'ok', aggregatesKey } or the
   * recorded failure). A task the retries could not save is caught and recorded by the query
   * function (RecordQueryFailure: stops the job's queries, stores the whole error, keeps a bounded
   * one); should that fail too, QueryFailureUnrecorded keeps the error's name only.
   */
  private queryItem(
    suffix: string,
    {
      queryFunction,
      budget,
      pollInterval,
      target,
    }: {
      queryFunction: lambda.IFunction;
      budget: Required<QueryBudget>;
      pollInterval: Duration;
      target: Record<string, string>;
    },
  ): sfn.IChainable {
    const item = {
      'runId.$': '$.runId',
      'inventoryKey.$': '$.inventoryKey',
      'window.$': '$.window',
      'query.$': '$.query',
      ...target,
    };
    const unrecorded = new sfn.Pass(this, `QueryFailureUnrecorded${suffix}`, {
      comment: 'The error name only: the query function could not record the failure',
      parameters: {
        'sourceId.$': '$.query.sourceId',
        status: 'failed',
        error: {
          'Error.$': '$.error.Error',
          'Cause.$': "States.Format('not recorded ({}): see the execution history', $.recordError.Error)",
        },
      },
    });
    const record = this.invoke(`RecordQueryFailure${suffix}`, queryFunction, {
      payload: {
        action: 'record-failure',
        'runId.$': '$.runId',
        'query.$': '$.query',
        'poll.$': '$.poll',
        'error.$': '$.error',
        ...target,
      },
    }).addCatch(unrecorded, { errors: [sfn.Errors.ALL], resultPath: '$.recordError' });
    const recorded = { errors: [sfn.Errors.ALL], resultPath: '$.error' };

    const start = this.invoke(`StartQuery${suffix}`, queryFunction, {
      payload: {
        action: 'start',
        ...item,
        budgetSeconds: { insights: budget.insights.toSeconds(), athena: budget.athena.toSeconds() },
      },
      resultPath: '$.poll',
    }).addCatch(record, recorded);
    const check = this.invoke(`CheckQuery${suffix}`, queryFunction, {
      payload: { action: 'check', ...item, 'poll.$': '$.poll' },
      resultPath: '$.poll',
    }).addCatch(record, recorded);
    const running = new sfn.Choice(this, `QueryRunning${suffix}`)
      .when(
        sfn.Condition.stringEquals('$.poll.status', 'running'),
        new sfn.Wait(this, `WaitForQuery${suffix}`, { time: sfn.WaitTime.duration(pollInterval) }).next(
          check,
        ),
      )
      .otherwise(new sfn.Pass(this, `QueryDone${suffix}`, { outputPath: '$.poll.outcome' }));
    check.next(running);
    return start.next(running);
  }

  /**
   * How a target run fails: with the failed step's own error name (a MemberRoleError, an
   * AccessDenied …) and `failed in <step>: <the step's cause>` as cause — what the organization
   * run's Catch gets back (shared/org/targets.ts gapOfFailedRun reads it).
   */
  private targetRunFailure(): sfn.IChainable {
    return new sfn.Pass(this, 'TargetRunFailure', {
      comment: 'The failed step and its error, as the failed target run reports them',
      parameters: {
        'error.$': '$.error.Error',
        'cause.$': "States.Format('failed in {}: {}', $.step, $.error.Cause)",
      },
    }).next(
      new sfn.Fail(this, 'TargetRunFailed', {
        comment: 'The organization run records this target as a gap',
        errorPath: '$.error',
        causePath: '$.cause',
      }),
    );
  }

  /** A Lambda task of this workflow (lambdaTask). */
  private invoke(id: string, fn: lambda.IFunction, options: LambdaTaskOptions = {}): tasks.LambdaInvoke {
    return lambdaTask(this, id, fn, options);
  }
}

/** What a workflow's Lambda task may set beside its function. */
export interface LambdaTaskOptions {
  readonly resultSelector?: Record<string, unknown>;
  readonly payload?: Record<string, unknown>;
  readonly resultPath?: string;
}

/**
 * A Lambda task whose state is the function's response (payloadResponseOnly: the Resource is
 * the function ARN, no Payload wrapper), retried with backoff and jitter on Lambda's transient
 * errors and on throttling. The organization workflow's tasks are made the same way.
 *
 * @example lambdaTask(this, 'Discover', discoverFunction, { resultSelector: { 'runId.$': '$.runId' } })
 */
export function lambdaTask(
  scope: Construct,
  id: string,
  fn: lambda.IFunction,
  options: LambdaTaskOptions = {},
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    ...(options.payload ? { payload: sfn.TaskInput.fromObject(options.payload) } : {}),
    ...(options.resultSelector ? { resultSelector: options.resultSelector } : {}),
    ...(options.resultPath ? { resultPath: options.resultPath } : {}),
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

/** What a Distributed Map over a work-bucket list reads, writes and runs (see {@link workBucketMap}). */
export interface WorkBucketMapProps {
  readonly workBucket: s3.IBucket;
  readonly comment: string;
  /** JSONPath of the list's key in the work bucket. */
  readonly listKeyPath: string;
  /** JSONPath of the key prefix the children's outcomes are written under. */
  readonly resultsPrefixPath: string;
  /** Where the ResultWriter's details go in state. */
  readonly resultPath: string;
  readonly maxConcurrency: number;
  readonly itemSelector?: Record<string, unknown>;
}

/**
 * A Distributed Map over a JSON list a previous step wrote to the work bucket: each item a child
 * execution, STANDARD (an item may run past EXPRESS's 5 minutes), their outcomes written back to
 * the work bucket, not to state. The audit's query fan-out and the organization's target fan-out
 * are made this way.
 *
 * @example workBucketMap(this, 'AuditEachTarget', { workBucket, comment, listKeyPath: '$.targetsKey', … })
 */
export function workBucketMap(scope: Construct, id: string, props: WorkBucketMapProps): sfn.DistributedMap {
  return new sfn.DistributedMap(scope, id, {
    comment: props.comment,
    itemReader: new sfn.S3JsonItemReader({
      bucket: props.workBucket,
      key: sfn.JsonPath.stringAt(props.listKeyPath),
    }),
    ...(props.itemSelector ? { itemSelector: props.itemSelector } : {}),
    maxConcurrency: props.maxConcurrency,
    resultWriterV2: new sfn.ResultWriterV2({
      bucket: props.workBucket,
      prefix: sfn.JsonPath.stringAt(props.resultsPrefixPath),
    }),
    resultPath: props.resultPath,
    mapExecutionType: sfn.StateMachineType.STANDARD,
  });
}

/**
 * A workflow's failure alert: notify with the failure event, then fail the run with the
 * workflow's own AuditFailed (lib/monitoring.ts leaves such runs to this alert).
 *
 * @example notifyAndFail(this, notifyFunction, 'A step of the audit failed; the alert carries its cause')
 */
export function notifyAndFail(
  scope: Construct,
  notifyFunction: lambda.IFunction,
  cause: string,
): sfn.IChainable {
  return lambdaTask(scope, 'NotifyFailure', notifyFunction).next(
    new sfn.Fail(scope, 'AuditFailed', { error: 'AuditFailed', cause }),
  );
}

/**
 * The states a workflow's Catches go to: `<step>Failed`, the failure event `{ runId, step, error }`,
 * then `onFailure`.
 *
 * @example const failedAt = failureEvents(this, notifyAndFail(this, notifyFunction, cause)); task.addCatch(failedAt('Discover', '$$.Execution.Name'), caught);
 */
export function failureEvents(
  scope: Construct,
  onFailure: sfn.IChainable,
): (step: string, runIdPath: string) => sfn.Pass {
  return (step, runIdPath) => {
    const pass = new sfn.Pass(scope, `${step}Failed`, {
      comment: `The notify function's failure event for ${step}`,
      parameters: {
        'runId.$': runIdPath,
        step,
        'error.$': '$.error',
      },
    });
    pass.next(onFailure);
    return pass;
  };
}

/**
 * A workflow's state machine (standard, traced, its run timeout) and its execution log group
 * (every event, with data; the vended-logs prefix keeps CloudWatch Logs' resource policy within
 * its size limit). The work bucket is readable by the state machine: the Distributed Maps'
 * ItemReader GetObject (and the bucket key's Decrypt); the ResultWriter's PutObject comes with the
 * Map state, its data key here.
 */
export function workflowStateMachine(
  scope: Construct,
  props: {
    readonly comment: string;
    readonly definition: sfn.IChainable;
    readonly timeout: Duration;
    readonly workBucket: s3.IBucket;
    readonly logRetention?: logs.RetentionDays;
    readonly logEncryptionKey?: kms.IKey;
  },
): { logGroup: logs.LogGroup; stateMachine: sfn.StateMachine } {
  const logGroup = createAppLogGroup(scope, 'ExecutionLogs', {
    logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(scope, { maxLength: 200 })}`,
    retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    ...(props.logEncryptionKey ? { encryptionKey: props.logEncryptionKey } : {}),
  });
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    comment: props.comment,
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    stateMachineType: sfn.StateMachineType.STANDARD,
    timeout: props.timeout,
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
  });
  props.workBucket.grantRead(stateMachine);
  props.workBucket.encryptionKey?.grant(stateMachine, 'kms:GenerateDataKey');
  return { logGroup, stateMachine };
}
