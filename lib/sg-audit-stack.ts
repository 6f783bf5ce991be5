/**
 * The deployable app, composed: a customer-managed key, the report/work buckets, the alert topic,
 * what the audit reads of the account, the Security Hub export, the four functions of the workflow
 * (each granted exactly what it uses by the construct owning the resource, which binds the
 * environment variables naming it in the same method), the workflow, its schedule and its alarms.
 * Every log group (functions, workflow) is encrypted with the same key. The accepted cdk-nag
 * findings are in nag-acknowledgements.ts.
 *
 * With `organization`, the workflow audits one target (account, region) per run through the member
 * role (AuditWorkflow `targetRuns`), and an organization workflow — listed targets, a Distributed
 * Map of target runs, the roll-up, one alert — is what the schedule starts and the alarms watch.
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
import { MemberAccess } from './member-access';
import { Monitoring } from './monitoring';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { OrgAuditWorkflow } from './org-audit-workflow';
import { Remediation } from './remediation';
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
  /** Discover reads CloudTrail's SG change history (this account's, or each target's through the member role). */
  public readonly changeHistory: boolean;
  /** An organization deployment's member access, functions and workflow. */
  public readonly organization?: {
    readonly access: MemberAccess;
    readonly targets: AuditFunction;
    readonly rollup: AuditFunction;
    readonly workflow: OrgAuditWorkflow;
  };
  /** The deployed, approval-gated remediation's functions, when enabled. */
  public readonly remediation?: Remediation;

  constructor(scope: Construct, id: string, props: SgAuditStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.changeHistory = config.changeHistory;

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
      egressAllowlistKey: config.egressAllowlistKey,
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

    const org = config.organization;
    const memberAccess = org
      ? new MemberAccess(this, 'MemberAccess', {
          accounts: org.accounts,
          excludeAccounts: org.excludeAccounts,
          regions: org.regions,
          roleName: org.roleName,
          externalId: org.externalId,
          organizationId: org.organizationId,
          ...(config.flowLogGroupPrefix ? { flowLogGroupPrefix: config.flowLogGroupPrefix } : {}),
        })
      : undefined;

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
    // An organization's targets are read through their member role, not this account's (its
    // ChangeHistory statement lets discover read a target's CloudTrail event history).
    if (memberAccess) memberAccess.grantAssumeMemberRole(this.discover.function);
    else this.auditedAccount.grantInventoryRead(this.discover.function);
    if (!config.changeHistory) this.discover.function.addEnvironment('CHANGE_HISTORY', 'false');
    else if (memberAccess) this.discover.function.addEnvironment('CHANGE_HISTORY', 'true');
    else this.auditedAccount.grantChangeHistoryRead(this.discover.function);
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
    if (memberAccess) memberAccess.grantAssumeMemberRole(this.query.function);
    else this.auditedAccount.grantFlowLogQuery(this.query.function);
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
    this.reports.grantEgressAllowListRead(this.analyze.function);
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

    if (config.remediation) {
      this.remediation = new Remediation(this, 'Remediation', {
        config: config.remediation,
        reports: this.reports,
        alerts: this.alerts,
        projectRoot: props.projectRoot,
        logRetention: config.logRetentionDays,
        logEncryptionKey: this.key,
        logLevel: config.logLevel,
      });
    }
    this.workflow = new AuditWorkflow(this, 'Workflow', {
      discoverFunction: this.discover.function,
      queryFunction: this.query.function,
      analyzeFunction: this.analyze.function,
      notifyFunction: this.notify.function,
      workBucket: this.reports.workBucket,
      maxConcurrency: config.maxConcurrency,
      logRetention: config.logRetentionDays,
      logEncryptionKey: this.key,
      ...(org ? { targetRuns: true } : {}),
      ...(this.remediation ? { remediation: this.remediation.steps } : {}),
    });
    if (org && memberAccess) {
      const targets = new AuditFunction(this, 'Targets', {
        ...common,
        name: 'targets',
        memorySize: 512,
        timeout: Duration.minutes(5),
        environment: { LOOKBACK_DAYS: String(config.lookbackDays) },
      });
      memberAccess.grantTargets(targets.function);
      this.reports.grantRunArtefacts(targets.function, 'write');
      const rollup = new AuditFunction(this, 'Rollup', {
        ...common,
        name: 'rollup',
        // Reads every target's report.json (a few at a time) and holds the org's findings rows.
        memorySize: 3008,
        timeout: Duration.minutes(15),
        environment: { REPORT_PREFIX: config.reportPrefix },
      });
      this.reports.grantRunArtefacts(rollup.function, 'read');
      this.reports.grantReports(rollup.function, 'readWrite');
      const workflow = new OrgAuditWorkflow(this, 'OrgWorkflow', {
        targetsFunction: targets.function,
        rollupFunction: rollup.function,
        notifyFunction: this.notify.function,
        targetStateMachine: this.workflow.stateMachine,
        targetRunTimeout: this.workflow.runTimeout,
        workBucket: this.reports.workBucket,
        maxConcurrency: org.maxConcurrency,
        maxTargets: org.maxTargets,
        logRetention: config.logRetentionDays,
        logEncryptionKey: this.key,
      });
      this.organization = { access: memberAccess, targets, rollup, workflow };
    }
    // The run the schedule starts and the alarms watch: an organization's, else the account's.
    const started = this.organization?.workflow.stateMachine ?? this.workflow.stateMachine;
    this.schedule = new AuditSchedule(this, 'Schedule', {
      stateMachine: started,
      expression: config.schedule,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      stateMachine: started,
      alerts: this.alerts,
      scheduleDeadLetterQueue: this.schedule.deadLetterQueue,
      functions: {
        // An organization's discover fails a target whose member role is missing: a reported gap
        // of the organization run's alert, not an alarm every week.
        ...(this.organization ? {} : { Discover: this.discover.function }),
        Query: this.query.function,
        Analyze: this.analyze.function,
        Notify: this.notify.function,
        ...(this.organization
          ? { Targets: this.organization.targets.function, Rollup: this.organization.rollup.function }
          : {}),
        ...(this.remediation
          ? { Remediate: this.remediation.remediate.function, Apply: this.remediation.apply.function }
          : {}),
      },
    });
    new CfnOutput(this, 'SuppressionsLocation', {
      description:
        'Upload the suppressions file (accepted risks, YAML or JSON; docs/suppressions.example.yaml) here',
      value: `s3://${this.reports.bucket.bucketName}/${config.suppressionsKey}`,
    });
    new CfnOutput(this, 'EgressAllowListLocation', {
      description:
        'Upload the egress allow-list (expected external destinations, YAML or JSON) here; without it every destination is unreviewed',
      value: `s3://${this.reports.bucket.bucketName}/${config.egressAllowlistKey}`,
    });
    new CfnOutput(this, 'ReportLocation', {
      description: 'Reports: <account>/<region>/latest.json and <account>/<region>/<yyyy>/<mm>/<dd>/<runId>/',
      value: `s3://${this.reports.bucket.bucketName}/${config.reportPrefix}/`,
    });
    if (this.remediation) {
      new CfnOutput(this, 'ApprovalBucket', {
        description:
          'The work bucket holding the remediation approvals: sg-audit approve|reject --run <runId> --work-bucket <this>',
        value: this.reports.workBucket.bucketName,
      });
    }
    acknowledgeNagFindings(this);
  }
}
