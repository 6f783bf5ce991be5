/**
 * The cdk-nag AwsSolutions findings the app accepts, each on the one policy it concerns and by its
 * exact finding id (never a whole rule), with its reason; listed with the same reasons in the
 * README ("Acknowledged cdk-nag findings").
 */
import { Fn, Validations } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import type { AuditFunction } from './audit-function';
import type { MemberRoleStack } from './member-role-stack';
import type { Remediation } from './remediation';
import { APPROVAL_OBJECTS, RUN_OBJECTS } from './report-bucket';
import type { SgAuditStack } from './sg-audit-stack';

const XRAY = 'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) take no resource-level permissions';
const RUN_KEYS =
  'Run artefacts are keyed by run id (runs/<runId>/…), unknown until run time: runs/* is the narrowest prefix';
const REPORT_KEYS = `Reports are keyed by account, region and run id under the report prefix, unknown until run time`;

/** How cdk-nag spells a resource: Refs as <Name>, GetAtts as <Name.Attr>, joined. */
function spell(value: unknown): string {
  if (typeof value === 'string') return value;
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return `<${o.Ref}>`;
  if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if (Array.isArray(o['Fn::Join'])) {
    const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(spell).join(separator);
  }
  return JSON.stringify(value);
}

/** Acknowledges one IAM5 finding (`Resource::…` or `Action::…`) on one policy. */
function ack(policy: IConstruct, finding: string, reason: string): void {
  Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
}

/** The default policy of a function's role. */
function policyOf(fn: AuditFunction): IConstruct {
  return fn.role.node.findChild('DefaultPolicy');
}

/** Acknowledges the app's accepted findings on the stack's policies. */
export function acknowledgeNagFindings(stack: SgAuditStack): void {
  const resource = (arn: string): string => `Resource::${spell(stack.resolve(arn))}`;
  const { reports, auditedAccount, athena } = stack;
  const workRuns = resource(reports.workBucket.arnForObjects(RUN_OBJECTS));
  const reportObjects = resource(reports.bucket.arnForObjects(`${reports.reportPrefix}/*`));

  // An organization's discover and query read the targets through their member role (acknowledged below).
  const member = stack.organization !== undefined;
  const discover = policyOf(stack.discover);
  ack(
    discover,
    'Resource::*',
    member
      ? XRAY
      : `${XRAY}; the EC2 Describe*/GetManagedPrefixListEntries actions (read-only, listed one by one) take none either${
          stack.changeHistory
            ? "; nor does cloudtrail:LookupEvents (read-only: the account's 90-day management event history, of which discover keeps the security-group changes)"
            : ''
        }`,
  );
  if (!member) {
    ack(
      discover,
      resource(auditedAccount.rdsInstancesArn),
      'rds:DescribeDBInstances (read-only) names the DB instances whose ENIs are audited; which instances exist is discovered at run time',
    );
  }
  ack(discover, workRuns, RUN_KEYS);

  const query = policyOf(stack.query);
  ack(
    query,
    'Resource::*',
    member
      ? XRAY
      : `${XRAY}; logs:GetQueryResults/StopQuery act on a query id and take no resource-level permissions; cloudwatch:GetMetricData (the flow-log groups' IncomingLogEvents, read-only) supports no resource-level permissions`,
  );
  if (!member) {
    ack(
      query,
      resource(auditedAccount.flowLogGroupsArn),
      'logs:StartQuery only, on the flow-log groups discovered at run time (narrowed by the flowLogGroupPrefix setting when set)',
    );
  }
  ack(query, workRuns, RUN_KEYS);
  if (athena) {
    ack(
      query,
      resource(athena.tablesArn),
      "The query step creates one table per flow log discovered at run time (vpc_flow_logs_<flow log id>), in the app's database only",
    );
    for (const arn of athena.flowLogObjectArns) {
      ack(
        query,
        resource(arn),
        's3:GetObject on the configured flow-log folder: Athena reads its objects, named by delivery time',
      );
    }
    ack(
      query,
      resource(athena.resultObjectsArn),
      "Athena writes each query's results under a name it chooses (the query id), in the results prefix only",
    );
  }

  const analyze = policyOf(stack.analyze);
  ack(analyze, 'Resource::*', XRAY);
  ack(analyze, workRuns, RUN_KEYS);
  ack(analyze, reportObjects, REPORT_KEYS);

  const notify = policyOf(stack.notify);
  ack(notify, 'Resource::*', XRAY);
  ack(notify, reportObjects, REPORT_KEYS);
  ack(
    notify,
    'Action::kms:GenerateDataKey*',
    'Publishing to the KMS-encrypted topic (topic.grantPublish), on the app key only',
  );

  // The schedule's dead-letter queue IS a dead-letter queue: EventBridge Scheduler's, which
  // cdk-nag cannot see (it recognises only queues named in another queue's redrive policy).
  Validations.of(stack.schedule.deadLetterQueue.node.defaultChild as IConstruct).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      "This queue is the EventBridge Scheduler target's dead-letter queue (DeadLetterConfig), alarmed on its depth; a DLQ of a DLQ would hold nothing",
  });

  // The workflow's role (its grants come from the Step Functions L2s); a target run invokes no notify.
  const invoked = stack.organization
    ? [stack.discover, stack.query, stack.analyze]
    : [stack.discover, stack.query, stack.analyze, stack.notify];
  acknowledgeStateMachine(stack, stack.workflow.stateMachine, invoked, {
    itemReader:
      "The Distributed Map's ItemReader reads the run's queries.json from the work bucket (key known at run time)",
    resultWriter: "its ResultWriter writes the child executions' outcomes under runs/<runId>/query-results/",
  });
  // The rule announcing runs that ended without the workflow's own alert (lib/monitoring.ts).
  const unannounced = stack.monitoring.unannouncedEnds.node
    .findChild('EventsRole')
    .node.findChild('DefaultPolicy');
  ack(
    unannounced,
    'Action::kms:GenerateDataKey*',
    "EventBridge publishing to the KMS-encrypted alert topic (topic.grantPublish to the rule's role), on the app key only",
  );

  if (stack.organization)
    acknowledgeOrganization(stack, stack.organization, { workRuns, reportObjects, resource });
  if (stack.remediation) acknowledgeRemediation(stack, stack.remediation, resource);
}

/**
 * The deployed remediation's findings: its functions' run files (named files under any run's
 * folder), the approval records, the tagged security groups, and the workflow invoking them.
 */
function acknowledgeRemediation(
  stack: SgAuditStack,
  remediation: Remediation,
  resource: (arn: string) => string,
): void {
  const remediate = policyOf(remediation.remediate);
  const apply = policyOf(remediation.apply);
  const runFiles =
    "Named files of a run's report folder (<prefix>/<account>/<region>/<date>/<runId>/<file>), whose path is known at run time: reports themselves are not granted";
  for (const arn of remediation.grantedObjects.remediate) ack(remediate, resource(arn), runFiles);
  for (const arn of remediation.grantedObjects.apply) ack(apply, resource(arn), runFiles);
  ack(remediate, 'Resource::*', XRAY);
  ack(
    remediate,
    resource(stack.reports.workBucket.arnForObjects(APPROVAL_OBJECTS)),
    'Approval records are keyed by run id (approvals/<runId>.json), unknown until run time',
  );
  ack(
    remediate,
    'Action::kms:GenerateDataKey*',
    'Publishing to the KMS-encrypted topic (topic.grantPublish), on the app key only',
  );
  ack(
    apply,
    'Resource::*',
    `${XRAY}; ec2:DescribeSecurityGroups/DescribeSecurityGroupRules (read-only) take no resource-level permissions`,
  );
  ack(
    apply,
    resource(remediation.securityGroupsArn),
    "Authorize/Revoke on this account's and region's security groups only when the SG carries the opt-in tag (Condition aws:ResourceTag): which SGs opt in is decided by their owners' tags",
  );
  const role = stack.workflow.stateMachine.role.node.findChild('DefaultPolicy');
  for (const fn of [remediation.remediate, remediation.apply]) {
    ack(
      role,
      resource(`${fn.function.functionArn}:*`),
      'lambda:InvokeFunction on the function and its versions/aliases (the LambdaInvoke task grant)',
    );
  }
}

/** The findings of a state machine's role and its Distributed Map's child-execution policy. */
function acknowledgeStateMachine(
  stack: SgAuditStack,
  machine: sfn.StateMachine,
  invoked: readonly AuditFunction[],
  reasons: { readonly itemReader: string; readonly resultWriter: string },
): void {
  const resource = (arn: string): string => `Resource::${spell(stack.resolve(arn))}`;
  const role = machine.role.node.findChild('DefaultPolicy');
  ack(
    role,
    'Resource::*',
    `${XRAY}; the CloudWatch Logs delivery actions of execution logging (logs:CreateLogDelivery, …) take none either`,
  );
  for (const fn of invoked) {
    ack(
      role,
      resource(`${fn.function.functionArn}:*`),
      'lambda:InvokeFunction on the function and its versions/aliases (the LambdaInvoke task grant)',
    );
  }
  const work = stack.reports.workBucket;
  ack(role, resource(work.arnForObjects('*')), reasons.itemReader);
  ack(
    role,
    resource(`arn:${stack.partition}:s3:::${work.bucketName}/*`),
    `${reasons.itemReader}; ${reasons.resultWriter} (the ResultWriter's own grant names the bucket's objects)`,
  );
  for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*']) {
    ack(role, `Action::${action}`, `${reasons.itemReader} (bucket.grantRead on the work bucket)`);
  }
  const mapPolicy = machine.node.findChild('DistributedMapPolicy');
  const executions = `arn:${stack.partition}:states:${stack.region}:${stack.account}:execution:${Fn.select(6, Fn.split(':', machine.stateMachineArn))}`;
  for (const arn of [`${executions}:*`, `${executions}/*:*`]) {
    ack(
      mapPolicy,
      resource(arn),
      "The Distributed Map's child executions of this state machine only, named at run time",
    );
  }
}

/** The findings of an organization deployment: member roles, the targets and roll-up functions, its workflow. */
function acknowledgeOrganization(
  stack: SgAuditStack,
  organization: NonNullable<SgAuditStack['organization']>,
  keys: {
    readonly workRuns: string;
    readonly reportObjects: string;
    readonly resource: (arn: string) => string;
  },
): void {
  const { access, targets, rollup, workflow } = organization;
  for (const arn of access.memberRoleArns.filter((a) => a.includes('::*:'))) {
    for (const fn of [stack.discover, stack.query]) {
      ack(
        policyOf(fn),
        keys.resource(arn),
        "sts:AssumeRole on the member role of every account of the organization (accounts 'all': listed at run time), of this organization only (aws:ResourceOrgID)",
      );
    }
  }
  ack(
    policyOf(targets),
    'Resource::*',
    `${XRAY}; organizations:ListAccounts takes no resource-level permissions`,
  );
  ack(policyOf(targets), keys.workRuns, RUN_KEYS);
  ack(policyOf(rollup), 'Resource::*', XRAY);
  ack(policyOf(rollup), keys.workRuns, RUN_KEYS);
  ack(policyOf(rollup), keys.reportObjects, `${REPORT_KEYS}; the organization reports under <prefix>/org/`);
  acknowledgeStateMachine(stack, workflow.stateMachine, [targets, rollup, stack.notify], {
    itemReader:
      "The Distributed Map's ItemReader reads the run's targets.json from the work bucket (key known at run time)",
    resultWriter: "its ResultWriter writes the targets' outcomes under runs/<runId>/target-results/",
  });
  const target = stack.workflow.stateMachine;
  ack(
    workflow.stateMachine.role.node.findChild('DefaultPolicy'),
    keys.resource(
      `arn:${stack.partition}:states:${stack.region}:${stack.account}:execution:${Fn.select(6, Fn.split(':', target.stateMachineArn))}*`,
    ),
    'states:DescribeExecution/StopExecution on the target runs it starts and waits for (startExecution.sync), of the target-run state machine only, named at run time',
  );
}

/** The member role's accepted findings: reads that take no resource-level permissions, and resources discovered at run time. */
export function acknowledgeMemberRoleNagFindings(stack: MemberRoleStack): void {
  const policy = stack.role.node.findChild('DefaultPolicy');
  const resource = (arn: string): string => `Resource::${spell(stack.resolve(arn))}`;
  const partition = stack.partition;
  const account = stack.account;
  ack(
    policy,
    'Resource::*',
    'EC2 Describe*/GetManagedPrefixListEntries, logs:GetQueryResults/StopQuery, cloudwatch:GetMetricData and cloudtrail:LookupEvents take no resource-level permissions (all read-only)',
  );
  ack(
    policy,
    resource(`arn:${partition}:rds:*:${account}:db:*`),
    'rds:DescribeDBInstances (read-only) names the DB instances of this account whose ENIs are audited, in any region the organization run audits',
  );
  ack(
    policy,
    resource(stack.flowLogGroupsArn),
    'logs:StartQuery only, on the flow-log groups of this account discovered at run time (narrowed by flowLogGroupPrefix when set)',
  );
  ack(
    policy,
    resource(`arn:${partition}:s3:::*`),
    "s3:ListBucket on this account's own buckets only (s3:ResourceAccount), under AWSLogs/ prefixes only (s3:prefix): flow-log buckets are discovered at run time",
  );
  ack(
    policy,
    resource(`arn:${partition}:s3:::*/AWSLogs/*`),
    "s3:GetObject on flow-log objects (…/AWSLogs/…) of this account's own buckets only (s3:ResourceAccount)",
  );
}
