/**
 * The deployable app, composed: a customer-managed key, the report/work buckets, the alert topic,
 * what the audit reads of the account, the Security Hub export, the four functions of the workflow
 * (each granted exactly what it uses by the construct owning the resource, which binds the
 * environment variables naming it in the same method), the workflow, its schedule and its alarms.
 * Every log group (functions, workflow) is encrypted with the same key. The accepted cdk-nag
 * findings are in nag-acknowledgements.ts.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { AlertTopic } from './alert-topic';
import { AuditFunction } from './audit-function';
import { AuditWorkflow } from './audit-workflow';
import { AuditedAccount } from './audited-account';
import type { AppConfig } from './config';
import { FlowLogAthenaTable } from './flow-log-athena-table';
import { Monitoring } from './monitoring';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { ReportBucket } from './report-bucket';
import { AuditSchedule } from './schedule';
import { SecurityHubExport } from './security-hub-export';

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
      ...(config.slackSecretKmsKeyArn ? { slackSecretKmsKeyArn: config.slackSecretKmsKeyArn } : {}),
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
        flowLogKeyArns: config.flowLogKmsKeyArns,
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
      },
    });
    this.auditedAccount.grantInventoryRead(this.discover.function);
    this.athena?.bindPlanner(this.discover.function);
    this.reports.grantRunArtefacts(this.discover.function, 'write');

    this.query = new AuditFunction(this, 'Query', {
      ...common,
      name: 'query',
      memorySize: 1024,
      // Each invocation starts or checks one item's queries, never waits for them (the workflow
      // polls); a check may read up to 100 result pages or back off on StartQuery's quota.
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
      alerts: this.alerts,
      scheduleDeadLetterQueue: this.schedule.deadLetterQueue,
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
    acknowledgeNagFindings(this);
  }
}
