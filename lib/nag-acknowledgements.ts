/**
 * The cdk-nag AwsSolutions findings the app accepts, each on the one policy it concerns and by its
 * exact finding id (never a whole rule), with its reason; listed with the same reasons in the
 * README ("Acknowledged cdk-nag findings").
 */
import { Fn, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { AuditFunction } from './audit-function';
import { RUN_OBJECTS } from './report-bucket';
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

  const discover = policyOf(stack.discover);
  ack(
    discover,
    'Resource::*',
    `${XRAY}; the EC2 Describe*/GetManagedPrefixListEntries actions (read-only, listed one by one) take none either`,
  );
  ack(
    discover,
    resource(auditedAccount.rdsInstancesArn),
    'rds:DescribeDBInstances (read-only) names the DB instances whose ENIs are audited; which instances exist is discovered at run time',
  );
  ack(discover, workRuns, RUN_KEYS);

  const query = policyOf(stack.query);
  ack(
    query,
    'Resource::*',
    `${XRAY}; logs:GetQueryResults/StopQuery act on a query id and take no resource-level permissions; cloudwatch:GetMetricData (the flow-log groups' IncomingLogEvents, read-only) supports no resource-level permissions`,
  );
  ack(
    query,
    resource(auditedAccount.flowLogGroupsArn),
    'logs:StartQuery only, on the flow-log groups discovered at run time (narrowed by the flowLogGroupPrefix setting when set)',
  );
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

  // The workflow's role (its grants come from the Step Functions L2s).
  const machine = stack.workflow.stateMachine;
  const workflow = machine.role.node.findChild('DefaultPolicy');
  ack(
    workflow,
    'Resource::*',
    `${XRAY}; the CloudWatch Logs delivery actions of execution logging (logs:CreateLogDelivery, …) take none either`,
  );
  for (const fn of [stack.discover, stack.query, stack.analyze, stack.notify]) {
    ack(
      workflow,
      resource(`${fn.function.functionArn}:*`),
      'lambda:InvokeFunction on the function and its versions/aliases (the LambdaInvoke task grant)',
    );
  }
  const work = reports.workBucket;
  const itemReader =
    "The Distributed Map's ItemReader reads the run's queries.json from the work bucket (key known at run time)";
  ack(workflow, resource(work.arnForObjects('*')), itemReader);
  ack(
    workflow,
    resource(`arn:${stack.partition}:s3:::${work.bucketName}/*`),
    `${itemReader}; its ResultWriter writes the child executions' outcomes under runs/<runId>/query-results/ (the ResultWriter's own grant names the bucket's objects)`,
  );
  for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*']) {
    ack(workflow, `Action::${action}`, `${itemReader} (bucket.grantRead on the work bucket)`);
  }
  // The rule announcing runs that ended without the workflow's own alert (lib/monitoring.ts).
  const unannounced = stack.monitoring.unannouncedEnds.node
    .findChild('EventsRole')
    .node.findChild('DefaultPolicy');
  ack(
    unannounced,
    'Action::kms:GenerateDataKey*',
    "EventBridge publishing to the KMS-encrypted alert topic (topic.grantPublish to the rule's role), on the app key only",
  );

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
