/**
 * The deployable app, composed: a customer-managed key, the report/work buckets, the alert topic,
 * what the audit reads of the account, the Security Hub export, the four functions of the workflow
 * (each granted exactly what it uses by the construct owning the resource, which binds the
 * environment variables naming it in the same method), the workflow, its schedule and its alarms.
 * Every log group (functions, workflow) is encrypted with the same key.
 */
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct, IConstruct } from 'constructs';
import { AlertTopic } from './alert-topic';
import { AuditFunction } from './audit-function';
import { AuditWorkflow } from './audit-workflow';
import { AuditedAccount } from './audited-account';
import type { AppConfig } from './config';
import { FlowLogAthenaTable } from './flow-log-athena-table';
import { Monitoring } from './monitoring';
import { ReportBucket, RUN_OBJECTS } from './report-bucket';
import { AuditSchedule } from './schedule';
import { SecurityHubExport } from './security-hub-export';

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

export interface SgAuditStackProps extends StackProps {
  /** The validated deployment configuration. */
  readonly config: AppConfig;
  /** The repository root: package-lock.json and lambdas/ (bundled with esbuild). */
  readonly projectRoot: string;
}

/** sg-audit: the weekly security-group audit. */
export class SgAuditStack extends Stack {
  public readonly key: kms.Key;
  public readonly reports: ReportBucket;
  public readonly alerts: AlertTopic;
  public readonly auditedAccount: AuditedAccount;
  public readonly securityHub: SecurityHubExport;
  public readonly athena?: FlowLogAthenaTable;
  public readonly discover: AuditFunction;
  public readonly query: AuditFunction;
  public readonly analyze: AuditFunction;
  public readonly notify: AuditFunction;
  public readonly workflow: AuditWorkflow;
  public readonly schedule: AuditSchedule;
  public readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: SgAuditStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.key = new kms.Key(this, 'DataKey', {
      description: 'sg-audit: reports, run artefacts, Athena results and alerts',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.reports = new ReportBucket(this, 'Reports', {
      encryptionKey: this.key,
      reportPrefix: config.reportPrefix,
      reportRetentionDays: config.reportRetentionDays,
      suppressionsKey: config.suppressionsKey,
      workRetentionDays: config.workRetentionDays,
    });
    this.alerts = new AlertTopic(this, 'Alerts', {
      encryptionKey: this.key,
      emails: config.alertEmails,
      ...(config.slackSecretName ? { slackSecretName: config.slackSecretName } : {}),
    });
    this.auditedAccount = new AuditedAccount(this, 'AuditedAccount', {
      ...(config.flowLogGroupPrefix ? { flowLogGroupPrefix: config.flowLogGroupPrefix } : {}),
    });
    this.securityHub = new SecurityHubExport(this, 'SecurityHubExport', {
      enabled: config.securityHubExport,
    });
    if (config.athena) {
      this.athena = new FlowLogAthenaTable(this, 'FlowLogAthena', {
        database: config.athena.database,
        workGroup: config.athena.workGroup,
        flowLogLocations: config.athena.flowLogLocations,
        workBucket: this.reports.workBucket,
        encryptionKey: this.key,
        ...(config.athena.outputLocation ? { outputLocation: config.athena.outputLocation } : {}),
      });
    }

    const common = {
      projectRoot: props.projectRoot,
      logRetention: config.logRetentionDays,
      logEncryptionKey: this.key,
      logLevel: config.logLevel,
    };
    this.discover = new AuditFunction(this, 'Discover', {
      ...common,
      name: 'discover',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      environment: {
        LOOKBACK_DAYS: String(config.lookbackDays),
        ...(config.vpcIds.length > 0 ? { VPC_IDS: config.vpcIds.join(',') } : {}),
        // Only tells the planner that S3-delivered flow logs are read through Athena.
        ...(config.athena ? { ATHENA_DATABASE: config.athena.database } : {}),
      },
    });
    this.auditedAccount.grantInventoryRead(this.discover.function);
    this.reports.grantRunArtefacts(this.discover.function, 'write');

    this.query = new AuditFunction(this, 'Query', {
      ...common,
      name: 'query',
      memorySize: 1024,
      // Insights and Athena queries over a week of flow logs can run for minutes.
      timeout: Duration.minutes(15),
      environment: config.ports ? { PORTS: config.ports } : {},
    });
    this.auditedAccount.grantFlowLogQuery(this.query.function);
    this.reports.grantRunArtefacts(this.query.function, 'readWrite');
    this.athena?.grantQuery(this.query.function);

    this.analyze = new AuditFunction(this, 'Analyze', {
      ...common,
      name: 'analyze',
      memorySize: 3008,
      timeout: Duration.minutes(10),
      environment: { REPORT_PREFIX: config.reportPrefix, ...(config.ports ? { PORTS: config.ports } : {}) },
    });
    this.reports.grantRunArtefacts(this.analyze.function, 'read');
    // Read as well as write: the previous run (latest.json, report.json) for the diff, and the
    // HTML report's presigned GET link is signed with this role.
    this.reports.grantReports(this.analyze.function, 'readWrite');
    this.reports.grantSuppressionsRead(this.analyze.function);
    this.securityHub.grantExport(this.analyze.function);

    this.notify = new AuditFunction(this, 'Notify', {
      ...common,
      name: 'notify',
      memorySize: 256,
      timeout: Duration.minutes(1),
      environment: {
        REPORT_PREFIX: config.reportPrefix,
        ALERT_ON: config.alertOn,
        NO_CHANGE_DIGEST: String(config.noChangeDigest),
      },
    });
    this.reports.grantReports(this.notify.function, 'read');
    this.alerts.grantPublish(this.notify.function);

    this.workflow = new AuditWorkflow(this, 'Workflow', {
      discoverFunction: this.discover.function,
      queryFunction: this.query.function,
      analyzeFunction: this.analyze.function,
      notifyFunction: this.notify.function,
      workBucket: this.reports.workBucket,
      maxConcurrency: config.maxConcurrency,
      logRetention: config.logRetentionDays,
      logEncryptionKey: this.key,
    });
    this.schedule = new AuditSchedule(this, 'Schedule', {
      stateMachine: this.workflow.stateMachine,
      expression: config.schedule,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stateMachine: this.workflow.stateMachine,
      alertTopic: this.alerts.topic,
      functions: {
        Discover: this.discover.function,
        Query: this.query.function,
        Analyze: this.analyze.function,
        Notify: this.notify.function,
      },
    });
    new CfnOutput(this, 'SuppressionsLocation', {
      description:
        'Upload the suppressions file (accepted risks, YAML or JSON; docs/suppressions.example.yaml) here',
      value: `s3://${this.reports.bucket.bucketName}/${config.suppressionsKey}`,
    });
    new CfnOutput(this, 'ReportLocation', {
      description: 'Reports: <account>/<region>/latest.json and <account>/<region>/<yyyy>/<mm>/<dd>/<runId>/',
      value: `s3://${this.reports.bucket.bucketName}/${config.reportPrefix}/`,
    });
    this.acknowledgeNagFindings();
  }

  /**
   * The cdk-nag AwsSolutions findings this app accepts, each on the one policy it concerns and
   * by its exact finding id (never a whole rule); listed with the same reasons in the README.
   */
  private acknowledgeNagFindings(): void {
    const resource = (arn: string): string => `Resource::${spell(this.resolve(arn))}`;
    const { reports, auditedAccount, athena } = this;
    const workRuns = resource(reports.workBucket.arnForObjects(RUN_OBJECTS));
    const reportObjects = resource(reports.bucket.arnForObjects(`${reports.reportPrefix}/*`));

    const discover = policyOf(this.discover);
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

    const query = policyOf(this.query);
    ack(
      query,
      'Resource::*',
      `${XRAY}; logs:GetQueryResults/StopQuery act on a query id and take no resource-level permissions`,
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

    const analyze = policyOf(this.analyze);
    ack(analyze, 'Resource::*', XRAY);
    ack(analyze, workRuns, RUN_KEYS);
    ack(analyze, reportObjects, REPORT_KEYS);

    const notify = policyOf(this.notify);
    ack(notify, 'Resource::*', XRAY);
    ack(notify, reportObjects, REPORT_KEYS);
    ack(
      notify,
      'Action::kms:GenerateDataKey*',
      'Publishing to the KMS-encrypted topic (topic.grantPublish), on the app key only',
    );

    // The workflow's role (its grants come from the Step Functions L2s).
    const machine = this.workflow.stateMachine;
    const workflow = machine.role.node.findChild('DefaultPolicy');
    ack(
      workflow,
      'Resource::*',
      `${XRAY}; the CloudWatch Logs delivery actions of execution logging (logs:CreateLogDelivery, …) take none either`,
    );
    for (const fn of [this.discover, this.query, this.analyze, this.notify]) {
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
    ack(workflow, resource(`arn:${this.partition}:s3:::${work.bucketName}/*`), itemReader);
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*']) {
      ack(workflow, `Action::${action}`, `${itemReader} (bucket.grantRead on the work bucket)`);
    }
    const mapPolicy = machine.node.findChild('DistributedMapPolicy');
    const executions = `arn:${this.partition}:states:${this.region}:${this.account}:execution:${Fn.select(6, Fn.split(':', machine.stateMachineArn))}`;
    for (const arn of [`${executions}:*`, `${executions}/*:*`]) {
      ack(
        mapPolicy,
        resource(arn),
        "The Distributed Map's child executions of this state machine only, named at run time",
      );
    }
  }
}
