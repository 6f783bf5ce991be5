/**
 * The deployed, approval-gated remediation (context `remediation`, off by default): its two
 * functions with their grants, and the workflow steps after the audit's alert.
 *
 * - remediate (lambdas/remediate): plans the SGs that carry the opt-in tag, writes the plan files
 *   beside the report, stores the approval record with the waiting task's token in the work
 *   bucket, alerts the approvers and, at the end, how it ended. Reads report.json; writes only the
 *   plan files; no EC2 access.
 * - apply (lambdas/apply): the approved plan on EC2. Describe* on '*' (EC2 has no resource-level
 *   permissions for them); Authorize/Revoke on this account's and region's security groups only
 *   when the SG carries the opt-in tag (aws:ResourceTag): an untagged SG is refused by IAM, at its
 *   DryRun, before anything changes. Reads plan.json; writes only applied-<time>.json.
 *
 * The steps: PlanRemediation → AwaitApproval? → WaitForApproval (.waitForTaskToken, bounded by the
 * approval wait) → ApplyPlan → RemediationOutcome. A rejection, the wait's expiry and a failed
 * step go to RemediationOutcome too, which alerts and ends the run successfully: the audit itself
 * succeeded.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { REMEDIATION_READ_ACTIONS, REMEDIATION_SG_WRITE_ACTIONS } from '../adapters/aws/ec2-remediation';
import { REJECTED_ERROR } from '../shared/remediation/approval';
import type { AlertTopic } from './alert-topic';
import { AuditFunction } from './audit-function';
import type { lambdaTask } from './audit-workflow';
import type { RemediationConfig } from './config';
import type { ReportBucket } from './report-bucket';

/** What the remediation steps of the workflow need. */
export interface RemediationSteps {
  /** Plans, requests the approval and alerts the outcome (lambdas/remediate). */
  readonly remediateFunction: lambda.IFunction;
  /** Applies the approved plan (lambdas/apply). */
  readonly applyFunction: lambda.IFunction;
  /** How long the run waits for the decision: the waiting task's TimeoutSeconds. */
  readonly approvalTimeout: Duration;
}

export interface RemediationProps {
  readonly config: RemediationConfig;
  readonly reports: ReportBucket;
  readonly alerts: AlertTopic;
  /** The repository root (lambdas/ bundled with esbuild). */
  readonly projectRoot: string;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** Encrypts the functions' log groups. @default - CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: kms.IKey;
  /** @default 'INFO' */
  readonly logLevel?: string;
}

/** The plan files the remediate function writes beside a run's report (shared/remediation/render.ts, approval.ts). */
export const PLAN_FILES = [
  'plan.json',
  'plan.md',
  'apply.sh',
  'rollback.sh',
  'not-opted-in.json',
  'iac/*',
] as const;

/** The remediation's functions and grants; `steps` is what AuditWorkflow chains after notify. */
export class Remediation extends Construct {
  public readonly remediate: AuditFunction;
  public readonly apply: AuditFunction;
  public readonly steps: RemediationSteps;
  /** The report-bucket object ARNs each function was granted (for the nag acknowledgements). */
  public readonly grantedObjects: { readonly remediate: string[]; readonly apply: string[] };
  /** The security groups the apply function may change (with the tag condition). */
  public readonly securityGroupsArn: string;

  constructor(scope: Construct, id: string, props: RemediationProps) {
    super(scope, id);
    const { config, reports } = props;
    const approvalTimeout = Duration.hours(config.approvalTimeoutHours);
    const common = {
      projectRoot: props.projectRoot,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.logEncryptionKey ? { logEncryptionKey: props.logEncryptionKey } : {}),
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
    };

    this.remediate = new AuditFunction(this, 'Remediate', {
      ...common,
      name: 'remediate',
      // Plans over the whole report.json (as analyze holds it).
      memorySize: 1769,
      timeout: Duration.minutes(5),
      description: 'sg-audit remediation: plan, approval request, outcome alert',
      environment: {
        REMEDIATION_TAG_KEY: config.tagKey,
        REMEDIATION_TAG_VALUE: config.tagValue,
        REMEDIATION_INCLUDE: config.include.join(','),
        APPROVAL_TIMEOUT_SECONDS: String(approvalTimeout.toSeconds()),
      },
    });
    const remediate = this.remediate.function;
    const remediateReads = reports.grantRunFiles(
      remediate,
      ['report.json', 'not-opted-in.json', 'plan.json', 'applied-*.json'],
      'read',
    );
    const remediateWrites = reports.grantRunFiles(remediate, PLAN_FILES, 'write');
    reports.grantApprovals(remediate, 'readWrite');
    props.alerts.grantPublish(remediate);

    this.apply = new AuditFunction(this, 'Apply', {
      ...common,
      name: 'apply',
      memorySize: 512,
      // A plan of many SGs: DryRun, then each step and a describe per SG.
      timeout: Duration.minutes(15),
      description: 'sg-audit remediation: apply the approved plan to opted-in security groups',
    });
    const apply = this.apply.function;
    const applyReads = reports.grantRunFiles(apply, ['plan.json'], 'read');
    const applyWrites = reports.grantRunFiles(apply, ['applied-*.json'], 'write');
    const stack = Stack.of(this);
    this.securityGroupsArn = `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:security-group/*`;
    apply.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DescribeSecurityGroups',
        actions: REMEDIATION_READ_ACTIONS.filter((a) => a !== 'ec2:DescribeNetworkAcls'),
        resources: ['*'],
      }),
    );
    apply.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ChangeOptedInSecurityGroups',
        actions: [...REMEDIATION_SG_WRITE_ACTIONS],
        resources: [this.securityGroupsArn],
        conditions: { StringEquals: { [`aws:ResourceTag/${config.tagKey}`]: config.tagValue } },
      }),
    );
    this.grantedObjects = {
      remediate: [...remediateReads, ...remediateWrites],
      apply: [...applyReads, ...applyWrites],
    };
    this.steps = { remediateFunction: remediate, applyFunction: apply, approvalTimeout };
  }
}

/**
 * The run time the remediation steps add at the worst: the approval wait, the apply function's
 * timeout, three remediate invocations (plan, request, outcome) at theirs.
 *
 * @example remediationTimeOf(steps, Duration.minutes(15), Duration.minutes(5)).toHours() // 72.5 for a 72-hour wait
 */
export function remediationTimeOf(
  steps: RemediationSteps,
  applyTimeout: Duration,
  remediateTimeout: Duration,
): Duration {
  return Duration.seconds(
    steps.approvalTimeout.toSeconds() + applyTimeout.toSeconds() + 3 * remediateTimeout.toSeconds(),
  );
}

/** How the workflow makes its Lambda tasks (given by AuditWorkflow: no import cycle). */
export interface WorkflowTasks {
  readonly lambdaTask: typeof lambdaTask;
  /** Lambda's transient errors and throttling: retried on the waiting task as on the others. */
  readonly retryable: readonly string[];
}

/**
 * The workflow's remediation states after notify (see the module comment). The state holds
 * analyze's result (runId, reportJsonKey, reportPrefix); `$.plan`, `$.approval`, `$.applied` and
 * `$.decision` ({ status, planKey, appliedKey, error, approval }, what the path has) are added on
 * the way; RemediationOutcome takes `$.decision`.
 */
export function remediationChain(
  scope: Construct,
  steps: RemediationSteps,
  workflow: WorkflowTasks,
): sfn.IChainable {
  const outcome = workflow
    .lambdaTask(scope, 'RemediationOutcome', steps.remediateFunction, {
      payload: { action: 'outcome', 'runId.$': '$.runId', 'decision.$': '$.decision' },
      resultPath: '$.outcome',
    })
    .next(new sfn.Succeed(scope, 'RemediationDone', { comment: 'The audit and its remediation ended' }));
  const decided = (id: string, comment: string, decision: Record<string, unknown>) =>
    new sfn.Pass(scope, id, { comment, parameters: decision, resultPath: '$.decision' }).next(outcome);
  const error = { 'error.$': '$.decision.error' };
  const planKey = { 'planKey.$': '$.plan.planKey' };
  const caught = { resultPath: '$.decision.error' };

  const plan = workflow.lambdaTask(scope, 'PlanRemediation', steps.remediateFunction, {
    payload: {
      action: 'plan',
      'runId.$': '$.runId',
      'reportJsonKey.$': '$.reportJsonKey',
      'reportPrefix.$': '$.reportPrefix',
    },
    resultPath: '$.plan',
  });
  plan.addCatch(
    decided('PlanFailed', 'The plan step failed: nothing was asked or changed', {
      status: 'failed',
      ...error,
    }),
    { errors: [sfn.Errors.ALL], ...caught },
  );

  const wait = new tasks.LambdaInvoke(scope, 'WaitForApproval', {
    comment:
      'Stores the task token and alerts the approvers, then waits for sg-audit approve (SendTaskSuccess) or reject (SendTaskFailure), at most the approval wait',
    lambdaFunction: steps.remediateFunction,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      action: 'request-approval',
      'runId.$': '$.runId',
      'planKey.$': '$.plan.planKey',
      taskToken: sfn.JsonPath.taskToken,
    }),
    taskTimeout: sfn.Timeout.duration(steps.approvalTimeout),
    retryOnServiceExceptions: false,
    resultPath: '$.approval',
  });
  // Never States.Timeout: a retried wait would start the approval over.
  wait.addRetry({
    errors: [...workflow.retryable],
    interval: Duration.seconds(2),
    maxAttempts: 5,
    backoffRate: 2,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  });
  wait.addCatch(
    decided('PlanRejected', 'Rejected with sg-audit reject: nothing is changed', {
      status: 'rejected',
      ...planKey,
      ...error,
    }),
    { errors: [REJECTED_ERROR], ...caught },
  );
  wait.addCatch(
    decided('PlanExpired', 'Nobody decided within the approval wait: taken as a rejection', {
      status: 'expired',
      ...planKey,
      ...error,
    }),
    { errors: [sfn.Errors.TIMEOUT], ...caught },
  );
  wait.addCatch(
    decided('ApprovalFailed', 'The approval could not be requested: nothing is changed', {
      status: 'failed',
      ...planKey,
      ...error,
    }),
    { errors: [sfn.Errors.ALL], ...caught },
  );

  const apply = workflow.lambdaTask(scope, 'ApplyPlan', steps.applyFunction, {
    payload: { 'runId.$': '$.runId', 'planKey.$': '$.plan.planKey', 'approval.$': '$.approval' },
    resultPath: '$.applied',
  });
  apply.addCatch(
    decided('ApplyFailed', 'The apply step failed before it could record anything', {
      status: 'failed',
      ...planKey,
      ...error,
      'approval.$': '$.approval',
    }),
    { errors: [sfn.Errors.ALL], ...caught },
  );
  wait.next(apply).next(
    decided('PlanApplied', 'The applied record says what was done (a stop included)', {
      status: 'applied',
      ...planKey,
      'appliedKey.$': '$.applied.appliedKey',
      'approval.$': '$.approval',
    }),
  );

  return plan.next(
    new sfn.Choice(scope, 'AwaitApproval', {
      comment: 'Only a plan that changes an opted-in SG is put to a human',
    })
      .when(sfn.Condition.booleanEquals('$.plan.awaitApproval', true), wait)
      .otherwise(
        new sfn.Succeed(scope, 'NothingToApprove', { comment: 'No opted-in SG has a proven change' }),
      ),
  );
}
