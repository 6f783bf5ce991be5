/**
 * An organization run's Step Functions workflow: list the targets → audit each target with a
 * Distributed Map over targets.json (bounded concurrency), each child starting one run of the
 * target-mode audit state machine (AuditWorkflow `targetRuns`: discover → query → analyze with the
 * member role's credentials) and waiting for it (startExecution.sync:2) → roll the targets up into
 * the organization report → one alert. A target whose run fails (role missing, region not
 * enabled, AccessDenied, a timeout) is caught in its child and written as a gap: never a failed
 * organization run. Failures of the run's own steps alert with their cause (NotifyFailure) and
 * fail the run, as the single-account workflow does.
 *
 * Scale (README "Organization scale"): state holds keys and counts; the targets' list is read
 * from S3 by the ItemReader and their outcomes written to S3 by the ResultWriter, each target's
 * run has its own history (its query items poll there), and the organization run's history holds
 * ~40 events whatever the number of targets.
 */
import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import {
  failureEvents,
  lambdaTask,
  notifyAndFail,
  workBucketMap,
  workflowStateMachine,
} from './audit-workflow';

export interface OrgAuditWorkflowProps {
  /** Lists the targets and writes targets.json (lambdas/targets). */
  readonly targetsFunction: lambda.IFunction;
  /** Rolls the targets up into the organization report (lambdas/rollup). */
  readonly rollupFunction: lambda.IFunction;
  /** Publishes the organization alert or the run's failure (lambdas/notify). */
  readonly notifyFunction: lambda.IFunction;
  /** The target-mode audit state machine (AuditWorkflow with `targetRuns`). */
  readonly targetStateMachine: sfn.IStateMachine;
  /** Its time limit: one target's run at the worst. */
  readonly targetRunTimeout: Duration;
  /** Holds targets.json (ItemReader) and the targets' outcomes (ResultWriter). */
  readonly workBucket: s3.IBucket;
  /**
   * Targets audited at once: each runs its own queries in its own account and region (Logs
   * Insights quotas are per account and region); the central account's Lambda concurrency and
   * Athena DML quota are shared.
   *
   * @default 20
   */
  readonly maxConcurrency?: number;
  /**
   * Targets a run is sized for (its time limit).
   *
   * @default 1000
   */
  readonly maxTargets?: number;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Encrypts the execution log group. @default - CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: kms.IKey;
  /** The whole run's time limit. @default - orgRunTimeoutOf() the sizing and the functions' timeouts */
  readonly timeout?: Duration;
}

/** The sizing an organization run's time limit derives from. */
export interface OrgWorkflowSizing {
  readonly maxTargets: number;
  readonly maxConcurrency: number;
  readonly targetRunTimeout: Duration;
  readonly stepTimeouts: { readonly targets: Duration; readonly rollup: Duration; readonly notify: Duration };
}

/**
 * The organization run's time limit at the worst: listing the targets, ⌈targets / concurrency⌉
 * waves of target runs each at its own limit (plus a minute to start and collect it), the roll-up
 * and two alerts, 15 minutes of margin; at most Step Functions' year.
 *
 * @example orgRunTimeoutOf({ maxTargets: 8500, maxConcurrency: 100, targetRunTimeout: Duration.hours(2), … }).toHours() // ≈ 173
 */
export function orgRunTimeoutOf(sizing: OrgWorkflowSizing): Duration {
  const waves = Math.ceil(sizing.maxTargets / sizing.maxConcurrency);
  const t = sizing.stepTimeouts;
  const seconds =
    t.targets.toSeconds() +
    waves * (sizing.targetRunTimeout.toSeconds() + 60) +
    t.rollup.toSeconds() +
    2 * t.notify.toSeconds() +
    Duration.minutes(15).toSeconds();
  return Duration.seconds(Math.min(seconds, Duration.days(365).toSeconds()));
}

/** Errors of StartExecution worth another try (the nested run was not started). */
const START_EXECUTION_RETRIED = [
  'StepFunctions.ExecutionLimitExceededException',
  'StepFunctions.SdkClientException',
  'StepFunctions.AWSStepFunctionsException',
];

function timeoutOf(fn: lambda.IFunction): Duration {
  return (fn instanceof lambda.Function ? fn.timeout : undefined) ?? Duration.minutes(15);
}

/**
 * The organization run's state machine and its execution log group.
 *
 * @example
 * const org = new OrgAuditWorkflow(this, 'OrgWorkflow', { targetsFunction, rollupFunction, notifyFunction, targetStateMachine, targetRunTimeout, workBucket });
 */
export class OrgAuditWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  public readonly runTimeout: Duration;

  constructor(scope: Construct, id: string, props: OrgAuditWorkflowProps) {
    super(scope, id);
    this.node.setContext(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    const maxConcurrency = props.maxConcurrency ?? 20;
    this.runTimeout =
      props.timeout ??
      orgRunTimeoutOf({
        maxTargets: props.maxTargets ?? 1000,
        maxConcurrency,
        targetRunTimeout: props.targetRunTimeout,
        stepTimeouts: {
          targets: timeoutOf(props.targetsFunction),
          rollup: timeoutOf(props.rollupFunction),
          notify: timeoutOf(props.notifyFunction),
        },
      });

    const failedAt = failureEvents(
      this,
      notifyAndFail(
        this,
        props.notifyFunction,
        'A step of the organization run failed; the alert carries its cause',
      ),
    );
    const caught = { errors: [sfn.Errors.ALL], resultPath: '$.error' };

    const listTargets = lambdaTask(this, 'ListTargets', props.targetsFunction, {
      resultSelector: {
        'runId.$': '$.runId',
        'targetsKey.$': '$.targetsKey',
        'targetCount.$': '$.targetCount',
        'targetResultsPrefix.$': '$.targetResultsPrefix',
      },
    }).addCatch(failedAt('ListTargets', '$$.Execution.Name'), caught);

    // One child per target: its audit run, waited for; its failure is the target's gap.
    const auditTarget = new tasks.StepFunctionsStartExecution(this, 'AuditTarget', {
      comment: "The target's own audit run (discover → query → analyze through its member role)",
      stateMachine: props.targetStateMachine,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      name: sfn.JsonPath.stringAt('$.runId'),
      input: sfn.TaskInput.fromObject({
        'runId.$': '$.runId',
        'end.$': '$.end',
        'target.$': '$.target',
      }),
      associateWithParent: true,
      resultSelector: { 'output.$': '$.Output' },
      resultPath: '$.run',
    });
    auditTarget.addRetry({
      errors: START_EXECUTION_RETRIED,
      interval: Duration.seconds(5),
      maxAttempts: 5,
      backoffRate: 2,
      maxDelay: Duration.seconds(120),
      jitterStrategy: sfn.JitterType.FULL,
    });
    auditTarget.addCatch(
      new sfn.Pass(this, 'TargetGap', {
        comment: "The target's run failed: a gap of the organization report, not a failed run",
        parameters: { status: 'gap', 'target.$': '$.target', 'error.$': '$.error' },
      }),
      caught,
    );
    auditTarget.next(
      new sfn.Pass(this, 'TargetAudited', {
        parameters: { status: 'audited', 'target.$': '$.target', 'result.$': '$.run.output' },
      }),
    );
    // A child waits for its target's run, which may last hours: STANDARD, not EXPRESS's 5 minutes.
    const auditEachTarget = workBucketMap(this, 'AuditEachTarget', {
      workBucket: props.workBucket,
      comment: "Each target's audit run, a few at a time; a failed target is recorded, not fatal",
      listKeyPath: '$.targetsKey',
      resultsPrefixPath: '$.targetResultsPrefix',
      resultPath: '$.targetResults',
      maxConcurrency,
    }).itemProcessor(auditTarget);
    auditEachTarget.addCatch(failedAt('AuditEachTarget', '$.runId'), caught);

    const rollUp = lambdaTask(this, 'RollUp', props.rollupFunction, {
      payload: {
        'runId.$': '$.runId',
        'targetResultsKey.$': '$.targetResults.ResultWriterDetails.Key',
      },
    }).addCatch(failedAt('RollUp', '$.runId'), caught);
    // The roll-up's result ({ runId, orgReportKey, htmlUrl … }) is notify's organization event.
    rollUp.next(lambdaTask(this, 'NotifyOrganization', props.notifyFunction));

    ({ logGroup: this.logGroup, stateMachine: this.stateMachine } = workflowStateMachine(this, {
      comment: 'sg-audit organization run: list targets → audit each target (its own run) → roll up → notify',
      definition: listTargets.next(auditEachTarget).next(rollUp),
      timeout: this.runTimeout,
      workBucket: props.workBucket,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.logEncryptionKey ? { logEncryptionKey: props.logEncryptionKey } : {}),
    }));
  }
}
