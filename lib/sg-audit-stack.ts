/**
 * The deployable app: a customer-managed key, the report/work buckets, the alert topic, the four
 * functions of the workflow (each granted exactly what it uses, with the environment variable of
 * a resource bound in the same method as its grant), the workflow, its schedule and its alarms.
 * Every log group (functions, workflow) is encrypted with the same key.
 */
import {
  ArnFormat,
  CfnOutput,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct, IConstruct } from 'constructs';
import { AlertTopic } from './alert-topic';
import { AuditFunction } from './audit-function';
import { AuditWorkflow } from './audit-workflow';
import type { AppConfig } from './config';
import { FlowLogAthenaTable } from './flow-log-athena-table';
import { Monitoring } from './monitoring';
import { ReportBucket } from './report-bucket';
import { AuditSchedule } from './schedule';

/** The EC2 read actions the discover function calls (adapters/aws/ec2-inventory.ts). */
export const DISCOVER_EC2_ACTIONS = [
  'ec2:DescribeVpcs',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeSecurityGroupRules',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeFlowLogs',
  'ec2:DescribeNetworkAcls',
  'ec2:DescribeManagedPrefixLists',
  'ec2:GetManagedPrefixListEntries',
  'ec2:DescribeInstances',
] as const;

/** The Logs Insights actions of the query function (adapters/aws/insights-flow-source.ts). */
export const INSIGHTS_ACTIONS = ['logs:StartQuery', 'logs:GetQueryResults', 'logs:StopQuery'] as const;

/** Work-bucket keys of a run (adapters/aws/s3-work-store.ts workKeys). */
const RUN_OBJECTS = 'runs/*';

/** The one Security Hub action of the export (adapters/aws/securityhub-exporter.ts). */
export const SECURITY_HUB_ACTIONS = ['securityhub:BatchImportFindings'] as const;
/** The workflow statuses the export sets on accepted risks (SUPPRESSED, NEW once expired). */
export const SECURITY_HUB_WORKFLOW_STATUSES = ['NEW', 'SUPPRESSED'] as const;
/** BatchUpdateFindings fields the export never changes: requests touching them are denied. */
export const SECURITY_HUB_FROZEN_FIELDS = [
  'Severity.Label',
  'Severity.Normalized',
  'Criticality',
  'Confidence',
  'Types',
  'VerificationState',
  'RelatedFindings',
  'UserDefinedFields',
] as const;

type ObjectAction = 's3:GetObject' | 's3:PutObject';

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
  public readonly athena?: FlowLogAthenaTable;
  public readonly discover: AuditFunction;
  public readonly query: AuditFunction;
  public readonly analyze: AuditFunction;
  public readonly notify: AuditFunction;
  public readonly workflow: AuditWorkflow;
  public readonly schedule: AuditSchedule;
  public readonly monitoring: Monitoring;
  private readonly config: AppConfig;
  /** `action resource` pairs of KMS/ListBucket already granted, per function: one statement each. */
  private readonly granted = new Map<lambda.Function, Set<string>>();

  constructor(scope: Construct, id: string, props: SgAuditStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;

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
    this.alerts = new AlertTopic(this, 'Alerts', { encryptionKey: this.key, emails: config.alertEmails });
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
    this.query = new AuditFunction(this, 'Query', {
      ...common,
      name: 'query',
      memorySize: 1024,
      // Insights and Athena queries over a week of flow logs can run for minutes.
      timeout: Duration.minutes(15),
      environment: config.ports ? { PORTS: config.ports } : {},
    });
    this.analyze = new AuditFunction(this, 'Analyze', {
      ...common,
      name: 'analyze',
      memorySize: 3008,
      timeout: Duration.minutes(10),
      environment: { REPORT_PREFIX: config.reportPrefix, ...(config.ports ? { PORTS: config.ports } : {}) },
    });
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

    this.grantDiscover(this.discover.function);
    this.grantQuery(this.query.function);
    this.grantAnalyze(this.analyze.function);
    this.grantNotify(this.notify.function);

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
    const policyOf = (fn: AuditFunction): IConstruct => fn.role.node.findChild('DefaultPolicy');
    // How cdk-nag spells a resource: Refs as <Name>, GetAtts as <Name.Attr>, joined.
    const spell = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const o = value as Record<string, unknown>;
      if (typeof o.Ref === 'string') return `<${o.Ref}>`;
      if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
      if (Array.isArray(o['Fn::Join'])) {
        const [separator, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map(spell).join(separator);
      }
      return JSON.stringify(value);
    };
    const resource = (arn: string): string => `Resource::${spell(this.resolve(arn))}`;
    const ack = (scope: IConstruct, finding: string, reason: string): void =>
      Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    const workRuns = resource(this.reports.workBucket.arnForObjects(RUN_OBJECTS));
    const reportObjects = resource(this.reports.bucket.arnForObjects(`${this.config.reportPrefix}/*`));
    const xray =
      'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) take no resource-level permissions';
    const runKeys =
      'Run artefacts are keyed by run id (runs/<runId>/…), unknown until run time: runs/* is the narrowest prefix';
    const reportKeys = `Reports are keyed by account, region and run id under the report prefix, unknown until run time`;

    const discover = policyOf(this.discover);
    ack(
      discover,
      'Resource::*',
      `${xray}; the EC2 Describe*/GetManagedPrefixListEntries actions (read-only, listed one by one) take none either`,
    );
    ack(
      discover,
      resource(this.rdsInstancesArn()),
      'rds:DescribeDBInstances (read-only) names the DB instances whose ENIs are audited; which instances exist is discovered at run time',
    );
    ack(discover, workRuns, runKeys);

    const query = policyOf(this.query);
    ack(
      query,
      'Resource::*',
      `${xray}; logs:GetQueryResults/StopQuery act on a query id and take no resource-level permissions`,
    );
    ack(
      query,
      resource(this.flowLogGroupsArn()),
      'logs:StartQuery only, on the flow-log groups discovered at run time (narrowed by the flowLogGroupPrefix setting when set)',
    );
    ack(query, workRuns, runKeys);
    if (this.athena) {
      ack(
        query,
        resource(this.athena.tablesArn),
        "The query step creates one table per flow log discovered at run time (vpc_flow_logs_<flow log id>), in the app's database only",
      );
      for (const arn of this.athena.flowLogObjectArns) {
        ack(
          query,
          resource(arn),
          's3:GetObject on the configured flow-log folder: Athena reads its objects, named by delivery time',
        );
      }
      ack(
        query,
        resource(this.athena.resultObjectsArn),
        "Athena writes each query's results under a name it chooses (the query id), in the results prefix only",
      );
    }

    const analyze = policyOf(this.analyze);
    ack(analyze, 'Resource::*', xray);
    ack(analyze, workRuns, runKeys);
    ack(analyze, reportObjects, reportKeys);

    const notify = policyOf(this.notify);
    ack(notify, 'Resource::*', xray);
    ack(notify, reportObjects, reportKeys);
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
      `${xray}; the CloudWatch Logs delivery actions of execution logging (logs:CreateLogDelivery, …) take none either`,
    );
    for (const fn of [this.discover, this.query, this.analyze, this.notify]) {
      ack(
        workflow,
        resource(`${fn.function.functionArn}:*`),
        'lambda:InvokeFunction on the function and its versions/aliases (the LambdaInvoke task grant)',
      );
    }
    const work = this.reports.workBucket;
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

  /**
   * Actions on one resource, leaving out those this method already granted the function on it:
   * grants that share a need (the app key's Decrypt, the bucket's ListBucket) add one statement.
   */
  private allowOnce(fn: lambda.Function, actions: readonly string[], resource: string): void {
    const seen = this.granted.get(fn) ?? new Set<string>();
    this.granted.set(fn, seen);
    const missing = actions.filter((action) => !seen.has(`${action} ${resource}`));
    if (missing.length === 0) return;
    for (const action of missing) seen.add(`${action} ${resource}`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: missing, resources: [resource] }));
  }

  /** Object actions on a key pattern of one of the app's buckets, with the key use they need. */
  private grantObjects(
    fn: lambda.Function,
    bucket: s3.IBucket,
    pattern: string,
    actions: readonly ObjectAction[],
    options: { sid?: string } = {},
  ): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        ...(options.sid ? { sid: options.sid } : {}),
        actions: [...actions],
        resources: [bucket.arnForObjects(pattern)],
      }),
    );
    // SSE-KMS with a bucket key: a write needs a data key, a read needs decrypt.
    const keyActions = [
      ...(actions.includes('s3:PutObject') ? ['kms:GenerateDataKey'] : []),
      ...(actions.includes('s3:GetObject') ? ['kms:Decrypt'] : []),
    ];
    this.allowOnce(fn, keyActions, this.key.keyArn);
  }

  /** The run artefacts of the work bucket, and the variables naming the bucket and key. */
  private bindWorkBucket(fn: lambda.Function, actions: readonly ObjectAction[]): void {
    this.grantObjects(fn, this.reports.workBucket, RUN_OBJECTS, actions);
    fn.addEnvironment('WORK_BUCKET', this.reports.workBucket.bucketName);
    fn.addEnvironment('KMS_KEY_ID', this.key.keyArn);
  }

  /**
   * The report objects, and the variables naming the bucket (and the key writers use). Reads
   * cover the week-over-week inputs too: `<prefix>/<account>/<region>/latest.json` and the
   * previous run's report.json it points at (adapters/aws/s3-report-sink.ts).
   */
  private bindReports(fn: lambda.Function, actions: readonly ObjectAction[]): void {
    const reports = this.reports.bucket;
    this.grantObjects(fn, reports, `${this.config.reportPrefix}/*`, actions);
    this.allowListing(fn);
    fn.addEnvironment('REPORT_BUCKET', reports.bucketName);
    if (actions.includes('s3:PutObject')) fn.addEnvironment('KMS_KEY_ID', this.key.keyArn);
  }

  /**
   * A missing object is NoSuchKey (not AccessDenied) only with ListBucket: the readers take an
   * absent latest.json (first run) or suppressions file as "none". Key names only, this bucket only.
   */
  private allowListing(fn: lambda.Function): void {
    this.allowOnce(fn, ['s3:ListBucket'], this.reports.bucket.bucketArn);
  }

  /**
   * The suppressions file: GetObject on exactly its key (outside the report prefix, so analyze,
   * which writes reports, cannot rewrite the accepted risks), and the variable naming it.
   */
  private bindSuppressions(fn: lambda.Function): void {
    this.grantObjects(fn, this.reports.bucket, this.config.suppressionsKey, ['s3:GetObject'], {
      sid: 'SuppressionsRead',
    });
    this.allowListing(fn);
    fn.addEnvironment('REPORT_BUCKET', this.reports.bucket.bucketName);
    fn.addEnvironment('SUPPRESSIONS_KEY', this.config.suppressionsKey);
  }

  /**
   * Security Hub export: BatchImportFindings on the account's default product only (the one
   * resource type the action takes), for findings of this account (securityhub:TargetAccount, the
   * findings' AwsAccountId). Re-imports with RecordState ARCHIVED archive resolved findings.
   */
  private bindSecurityHub(fn: lambda.Function): void {
    fn.addEnvironment('SECURITY_HUB_EXPORT', String(this.config.securityHubExport));
    if (!this.config.securityHubExport) return;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubImport',
        actions: [...SECURITY_HUB_ACTIONS],
        resources: [this.securityHubProductArn()],
        conditions: { StringEquals: { 'securityhub:TargetAccount': this.account } },
      }),
    );
    // Accepted risks: Security Hub honours an imported Workflow only when it creates the finding,
    // so the export sets it with BatchUpdateFindings (resource type: the account's hub). Deny
    // statements keep that call to what the export does: the two workflow statuses and a note.
    const hub = this.formatArn({ service: 'securityhub', resource: 'hub', resourceName: 'default' });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubWorkflow',
        actions: ['securityhub:BatchUpdateFindings'],
        resources: [hub],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SecurityHubWorkflowStatuses',
        effect: iam.Effect.DENY,
        actions: ['securityhub:BatchUpdateFindings'],
        resources: [hub],
        conditions: {
          StringNotEquals: {
            'securityhub:ASFFSyntaxPath/Workflow.Status': [...SECURITY_HUB_WORKFLOW_STATUSES],
          },
        },
      }),
    );
    // One statement per field: keys of one Null block are ANDed, and any one field must deny.
    for (const field of SECURITY_HUB_FROZEN_FIELDS) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: `SecurityHubKeep${field.replace(/[^A-Za-z]/g, '')}`,
          effect: iam.Effect.DENY,
          actions: ['securityhub:BatchUpdateFindings'],
          resources: [hub],
          conditions: { Null: { [`securityhub:ASFFSyntaxPath/${field}`]: 'false' } },
        }),
      );
    }
  }

  /** `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`. */
  private securityHubProductArn(): string {
    return this.formatArn({
      service: 'securityhub',
      resource: 'product',
      resourceName: `${this.account}/default`,
    });
  }

  private rdsInstancesArn(): string {
    return this.formatArn({
      service: 'rds',
      resource: 'db',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** The flow-log groups StartQuery may name: every group, or those under the configured prefix. */
  private flowLogGroupsArn(): string {
    return this.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${this.config.flowLogGroupPrefix ?? ''}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private grantDiscover(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'Ec2Inventory',
        actions: [...DISCOVER_EC2_ACTIONS],
        // EC2 Describe* actions support no resource-level permissions.
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RdsInstanceNames',
        actions: ['rds:DescribeDBInstances'],
        resources: [
          this.formatArn({
            service: 'rds',
            resource: 'db',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.bindWorkBucket(fn, ['s3:PutObject']);
  }

  private grantQuery(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InsightsStartQuery',
        actions: ['logs:StartQuery'],
        resources: [this.flowLogGroupsArn()],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'InsightsQueryResults',
        actions: ['logs:GetQueryResults', 'logs:StopQuery'],
        // A query id is not a resource: these actions take no resource-level permissions.
        resources: ['*'],
      }),
    );
    this.bindWorkBucket(fn, ['s3:GetObject', 's3:PutObject']);
    this.athena?.grantQuery(fn);
  }

  private grantAnalyze(fn: lambda.Function): void {
    this.bindWorkBucket(fn, ['s3:GetObject']);
    // Read as well as write: the previous run (latest.json, report.json) for the diff, and the
    // HTML report's presigned GET link is signed with this role.
    this.bindReports(fn, ['s3:GetObject', 's3:PutObject']);
    this.bindSuppressions(fn);
    this.bindSecurityHub(fn);
  }

  private grantNotify(fn: lambda.Function): void {
    this.bindReports(fn, ['s3:GetObject']);
    this.alerts.topic.grantPublish(fn);
    fn.addEnvironment('ALERT_TOPIC_ARN', this.alerts.topic.topicArn);
    if (this.config.slackSecretName) {
      const secret = secretsmanager.Secret.fromSecretNameV2(this, 'SlackSecret', this.config.slackSecretName);
      secret.grantRead(fn);
      fn.addEnvironment('SLACK_SECRET_ID', this.config.slackSecretName);
    }
  }
}
