import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LOGS_KEY_ACTIONS } from '../../lib/log-group';
import {
  SECURITY_HUB_ACTIONS,
  SECURITY_HUB_FROZEN_FIELDS,
  SECURITY_HUB_WORKFLOW_STATUSES,
} from '../../lib/security-hub-export';
import { buildApp, REPRESENTATIVE_CONTEXT } from './app-fixture';

// One synthesis (four esbuild bundles) shared by every test of the file.
const { stack } = buildApp();
const template = Template.fromStack(stack);

/** Another configuration's template; bundling skipped (the assets do not change with it). */
function variant(context: Readonly<Record<string, unknown>>): Template {
  const built = buildApp({ ...REPRESENTATIVE_CONTEXT, ...context, 'aws:cdk:bundling-stacks': [] });
  return Template.fromStack(built.stack);
}

/** Asserts a template has the step's function with these environment variables (and other properties). */
function expectStepEnvironment(
  built: Template,
  step: 'discover' | 'query' | 'analyze' | 'notify',
  variables: unknown,
  properties: Readonly<Record<string, unknown>> = {},
): void {
  built.hasResourceProperties('AWS::Lambda::Function', {
    Description: `sg-audit ${step} step`,
    ...properties,
    Environment: { Variables: variables },
  });
}

const KEY_ARN = { 'Fn::GetAtt': ['DataKey17AFBB84', 'Arn'] };
const REPORT_BUCKET = 'ReportsBucket95FE29A2';
const WORK_BUCKET = 'ReportsWorkBucketF9A8DE2E';
const ALERT_TOPIC = 'AlertsTopicCF7C81C9';
const objects = (bucket: string, pattern: string) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${pattern}`]],
});
/** `arn:<partition>:<service>:<region>:<account>:<resource>`, the resource's later parts (e.g. a Ref) joined on. */
const accountArn = (service: string, resource: string, ...resourceParts: unknown[]) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      `:${service}:`,
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:${resource}`,
      ...resourceParts,
    ],
  ],
});

/** The statements of a function's role policy, by the function's construct id. */
function statementsOf(policyLogicalIdPrefix: string): unknown[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const entry = Object.entries(policies).find(([id]) =>
    id.startsWith(`${policyLogicalIdPrefix}RoleDefaultPolicy`),
  );
  if (!entry) throw new Error(`no policy ${policyLogicalIdPrefix}`);
  return (entry[1] as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
    .Statement;
}

/** A log group's ARN, as formatArn renders it. */
const logGroupArn = (name: string) => accountArn('logs', `log-group:${name}`);

const logStatement = (fn: string) => ({
  Sid: 'OwnLogGroup',
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${fn}LogGroup`)), 'Arn'] },
});
/** BatchImportFindings on the account's default product, for findings of this account only. */
const securityHubStatement = {
  Sid: 'SecurityHubImport',
  Effect: 'Allow',
  Action: SECURITY_HUB_ACTIONS[0],
  Resource: accountArn('securityhub', 'product/', { Ref: 'AWS::AccountId' }, '/default'),
  Condition: { StringEquals: { 'securityhub:TargetAccount': { Ref: 'AWS::AccountId' } } },
};
const HUB_ARN = accountArn('securityhub', 'hub/default');
/** BatchUpdateFindings on the hub, denied for any status but NEW/SUPPRESSED and for any field but workflow and note. */
const securityHubWorkflowStatements = [
  {
    Sid: 'SecurityHubWorkflow',
    Effect: 'Allow',
    Action: 'securityhub:BatchUpdateFindings',
    Resource: HUB_ARN,
  },
  {
    Sid: 'SecurityHubWorkflowStatuses',
    Effect: 'Deny',
    Action: 'securityhub:BatchUpdateFindings',
    Resource: HUB_ARN,
    Condition: {
      StringNotEquals: { 'securityhub:ASFFSyntaxPath/Workflow.Status': [...SECURITY_HUB_WORKFLOW_STATUSES] },
    },
  },
  ...SECURITY_HUB_FROZEN_FIELDS.map((field) => ({
    Sid: `SecurityHubKeep${field.replace(/[^A-Za-z]/g, '')}`,
    Effect: 'Deny',
    Action: 'securityhub:BatchUpdateFindings',
    Resource: HUB_ARN,
    Condition: { Null: { [`securityhub:ASFFSyntaxPath/${field}`]: 'false' } },
  })),
];
const xrayStatement = {
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  Effect: 'Allow',
  Resource: '*',
};

describe('SgAuditStack', () => {
  describe('stateful resources', () => {
    it('keeps the logical ids of the report bucket, work bucket, key and alert topic', () => {
      // Prepare / Act: the shared template. Assess: a refactor that renames these replaces data.
      expect(Object.keys(template.findResources('AWS::S3::Bucket'))).toEqual(
        expect.arrayContaining([REPORT_BUCKET, WORK_BUCKET, 'ReportsAccessLogsE462890F']),
      );
      expect(Object.keys(template.findResources('AWS::SNS::Topic'))).toEqual([ALERT_TOPIC]);
      expect(Object.keys(template.findResources('AWS::KMS::Key'))).toEqual(['DataKey17AFBB84']);
    });

    it('retains the buckets and the key on stack deletion', () => {
      for (const id of [REPORT_BUCKET, WORK_BUCKET, 'DataKey17AFBB84']) {
        expect(template.toJSON().Resources[id]).toMatchObject({
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
        });
      }
    });
  });

  describe('report bucket', () => {
    it('blocks public access, encrypts with the app key, versions, expires and logs', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY_ARN },
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              Id: 'expire-reports',
              Prefix: 'reports/',
              ExpirationInDays: 365,
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              Status: 'Enabled',
            }),
            {
              Id: 'keep-suppressions-history',
              Prefix: 'config/suppressions.yaml',
              NoncurrentVersionExpiration: { NoncurrentDays: 365 },
              Status: 'Enabled',
            },
            {
              Id: 'keep-egress-allowlist-history',
              Prefix: 'config/egress-allowlist.yaml',
              NoncurrentVersionExpiration: { NoncurrentDays: 365 },
              Status: 'Enabled',
            },
          ],
        },
        LoggingConfiguration: {
          DestinationBucketName: { Ref: 'ReportsAccessLogsE462890F' },
          LogFilePrefix: 'report-bucket/',
        },
      });
    });

    it('expires run artefacts of the work bucket after 14 days', () => {
      expect(template.toJSON().Resources[WORK_BUCKET].Properties.LifecycleConfiguration.Rules).toEqual([
        expect.objectContaining({ ExpirationInDays: 14, Status: 'Enabled' }),
      ]);
    });

    it('denies every request without TLS on each bucket', () => {
      for (const bucket of [REPORT_BUCKET, WORK_BUCKET, 'ReportsAccessLogsE462890F']) {
        template.hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: { Ref: bucket },
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Action: 's3:*',
                Effect: 'Deny',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                Principal: { AWS: '*' },
              }),
            ]),
          },
        });
      }
    });
  });

  describe('alert topic', () => {
    it('is encrypted with the app key and publishes over TLS only', () => {
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: KEY_ARN });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: ALERT_TOPIC }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sns:Publish',
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('lets CloudWatch publish for exactly the alarms of the app (the TLS Deny alone would stop them)', () => {
      // Prepare
      const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).sort();
      const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));

      // Act
      const statements: { Effect: string; Condition?: { ArnEquals?: Record<string, unknown[]> } }[] =
        policy?.Properties.PolicyDocument.Statement ?? [];
      const allows = statements.filter((s) => s.Effect === 'Allow');

      // Assess: one Allow, the service principal, the topic, every alarm by ARN, this account.
      expect(allows).toEqual([
        {
          Sid: 'CloudWatchAlarmsPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: { Ref: ALERT_TOPIC },
          Condition: {
            ArnEquals: {
              'aws:SourceArn': expect.arrayContaining(alarms.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))),
            },
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          },
        },
      ]);
      const sourceArns = allows[0]?.Condition?.ArnEquals?.['aws:SourceArn'];
      expect(sourceArns).toHaveLength(alarms.length);
    });

    it('subscribes each configured email', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 2);
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'secops@example.com',
      });
    });

    it('lets CloudWatch alarms use the key', () => {
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Principal: { Service: 'cloudwatch.amazonaws.com' },
            }),
          ]),
        },
      });
    });
  });

  describe('functions', () => {
    it('run Node.js 24 on ARM64 with active tracing', () => {
      template.resourceCountIs('AWS::Lambda::Function', 4);
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          Handler: 'index.handler',
        });
      }
    });

    describe('bundles', () => {
      // The function's bundled code, as `cdk synth` staged it (the shared synthesis's assets).
      const assembly = (stack.node.root as App).synth();
      const bundles = Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, fn]) => ({
        id,
        // The asset's S3 key is `<asset hash>.zip`; the assembly stages it as `asset.<asset hash>/`.
        directory: path.join(
          assembly.directory,
          `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
        ),
      }));
      /** Loads a bundle where no node_modules is reachable; the non-builtin modules it asked for. */
      const externalRequests = (bundle: string): { requested: string[]; error: string } => {
        const alone = mkdtempSync(path.join(tmpdir(), 'sg-audit-bundle-'));
        try {
          copyFileSync(bundle, path.join(alone, 'index.js'));
          const probe = [
            "const Module = require('node:module');",
            'const requested = [];',
            'const resolve = Module._resolveFilename;',
            'Module._resolveFilename = function (request, ...rest) {',
            "  if (!Module.isBuiltin(request) && !request.startsWith('/')) requested.push(request);",
            '  return resolve.call(this, request, ...rest);',
            '};',
            "let error = '';",
            'try { require(process.argv[1]); } catch (e) { error = String(e && e.message); }',
            'process.stdout.write(JSON.stringify({ requested, error }));',
          ].join('\n');
          const run = spawnSync(process.execPath, ['-e', probe, path.join(alone, 'index.js')], {
            cwd: alone,
            encoding: 'utf8',
            env: {
              PATH: process.env.PATH,
              AWS_REGION: 'ap-northeast-2',
              WORK_BUCKET: 'work-bucket',
              REPORT_BUCKET: 'report-bucket',
              ALERT_TOPIC_ARN: 'arn:aws:sns:ap-northeast-2:123456789012:alerts',
            },
          });
          return JSON.parse(run.stdout) as { requested: string[]; error: string };
        } finally {
          rmSync(alone, { recursive: true, force: true });
        }
      };

      it.each(bundles)(
        '$id carries its own AWS SDK: loaded alone, it requires no package',
        ({ directory }) => {
          // Prepare / Act
          const { requested, error } = externalRequests(path.join(directory, 'index.js'));

          // Assess: the runtime's SDK (or any package) is never looked up.
          expect(error).toBe('');
          expect(requested).toEqual([]);
        },
      );

      it.each(bundles)(
        '$id is built from the SDK ES modules (tree-shaken), never its CJS builds',
        ({ directory }) => {
          // Prepare
          const map = JSON.parse(readFileSync(path.join(directory, 'index.js.map'), 'utf8')) as {
            sources: string[];
          };

          // Act
          const sdk = map.sources.filter((source) => /node_modules\/@(aws-sdk|smithy)\//.test(source));

          // Assess
          expect(sdk.some((source) => /@aws-sdk\/client-[^/]+\/dist-es\//.test(source))).toBe(true);
          expect(sdk.filter((source) => /\/dist-cjs\//.test(source))).toEqual([]);
        },
      );
    });

    it('log to their own log group, kept 90 days', () => {
      const groups = template.findResources('AWS::Logs::LogGroup');
      const functionGroups = Object.entries(groups).filter(([id]) =>
        /^(Discover|Query|Analyze|Notify)LogGroup/.test(id),
      );
      expect(functionGroups).toHaveLength(4);
      for (const [, group] of functionGroups) expect(group.Properties.RetentionInDays).toBe(90);
      template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^DiscoverLogGroup') } },
      });
    });

    it('give discover its settings and the work bucket', () => {
      expectStepEnvironment(template, 'discover', {
        LOOKBACK_DAYS: '7',
        VPC_IDS: 'vpc-0123456789abcdef0,vpc-0fedcba9876543210',
        // The query role's scope, bound with the grants that narrow it: discover plans within it.
        FLOW_LOG_GROUP_PREFIX: '/vpc/flow-logs/',
        ATHENA_DATABASE: 'sg_audit',
        FLOW_LOG_LOCATIONS: 's3://org-flow-logs/vpc/AWSLogs/',
        // Bound with the LookupEvents grant: discover reads who opened each rule.
        CHANGE_HISTORY: 'true',
        WORK_BUCKET: { Ref: WORK_BUCKET },
        KMS_KEY_ID: KEY_ARN,
        LOG_LEVEL: 'INFO',
        POWERTOOLS_SERVICE_NAME: 'sg-audit',
        NODE_OPTIONS: '--enable-source-maps',
      });
    });

    it('tell discover no scope where the query role is not narrowed', () => {
      // Prepare / Act
      const unscoped = variant({ flowLogGroupPrefix: '', athena: '', flowLogKmsKeyArns: '' });

      // Assess
      const [discover] = Object.values(unscoped.findResources('AWS::Lambda::Function')).filter(
        (fn) => fn.Properties.Description === 'sg-audit discover step',
      );
      expect(discover?.Properties.Environment.Variables).not.toHaveProperty('FLOW_LOG_GROUP_PREFIX');
      expect(discover?.Properties.Environment.Variables).not.toHaveProperty('FLOW_LOG_LOCATIONS');
      expect(discover?.Properties.Environment.Variables).not.toHaveProperty('ATHENA_DATABASE');
    });

    it('give query the work bucket, Athena and the port filter', () => {
      expectStepEnvironment(
        template,
        'query',
        Match.objectLike({
          WORK_BUCKET: { Ref: WORK_BUCKET },
          KMS_KEY_ID: KEY_ARN,
          ATHENA_DATABASE: 'sg_audit',
          ATHENA_WORKGROUP: 'sg-audit',
          PORTS: '22,443,3389',
        }),
        { Timeout: 900 },
      );
    });

    it('give analyze both buckets, the report prefix, the suppressions key and the export flag', () => {
      expectStepEnvironment(
        template,
        'analyze',
        Match.objectLike({
          WORK_BUCKET: { Ref: WORK_BUCKET },
          REPORT_BUCKET: { Ref: REPORT_BUCKET },
          REPORT_PREFIX: 'reports',
          KMS_KEY_ID: KEY_ARN,
          SUPPRESSIONS_KEY: 'config/suppressions.yaml',
          SECURITY_HUB_EXPORT: 'true',
        }),
      );
    });

    it('give notify the report bucket, the topic and the Slack secret name', () => {
      expectStepEnvironment(
        template,
        'notify',
        Match.objectLike({
          REPORT_BUCKET: { Ref: REPORT_BUCKET },
          ALERT_TOPIC_ARN: { Ref: ALERT_TOPIC },
          SLACK_SECRET_ID: 'sg-audit/slack-webhook',
          ALERT_ON: 'changes',
          NO_CHANGE_DIGEST: 'true',
        }),
      );
    });

    it('pass the configured alerting policy to notify', () => {
      // Prepare / Act
      const always = variant({ alertOn: 'always', noChangeDigest: 'false' });
      const quiet = variant({ noChangeDigest: 'false' });

      // Assess
      expectStepEnvironment(
        always,
        'notify',
        Match.objectLike({ ALERT_ON: 'always', NO_CHANGE_DIGEST: 'false' }),
      );
      expectStepEnvironment(
        quiet,
        'notify',
        Match.objectLike({ ALERT_ON: 'changes', NO_CHANGE_DIGEST: 'false' }),
      );
    });
  });

  describe('IAM', () => {
    it('grants discover the EC2/RDS reads and CloudTrail LookupEvents it calls, and run-artefact writes only', () => {
      expect(statementsOf('Discover')).toEqual([
        logStatement('Discover'),
        xrayStatement,
        {
          Sid: 'Ec2Inventory',
          Effect: 'Allow',
          // The calls of adapters/aws/ec2-inventory.ts (INVENTORY_ACTIONS), one by one.
          Action: [
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
          ],
          Resource: '*',
        },
        {
          Sid: 'RdsInstanceNames',
          Effect: 'Allow',
          Action: 'rds:DescribeDBInstances',
          Resource: accountArn('rds', 'db:*'),
        },
        // Read-only; LookupEvents supports no resource-level permissions.
        { Sid: 'ChangeHistory', Effect: 'Allow', Action: 'cloudtrail:LookupEvents', Resource: '*' },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: objects(WORK_BUCKET, 'runs/*') },
        { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: KEY_ARN },
      ]);
    });

    it('grants no LookupEvents and tells discover not to read CloudTrail with changeHistory false', () => {
      // Prepare / Act
      const off = variant({ changeHistory: 'false' });

      // Assess
      expectStepEnvironment(off, 'discover', Match.objectLike({ CHANGE_HISTORY: 'false' }));
      const actions = Object.values(off.findResources('AWS::IAM::Policy')).flatMap((policy) =>
        (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap(
          (st) => st.Action,
        ),
      );
      expect(actions).not.toContain('cloudtrail:LookupEvents');
    });

    it('grants query Logs Insights on the prefixed groups, Athena, Glue and S3 scoped to the configuration', () => {
      expect(statementsOf('Query')).toEqual([
        logStatement('Query'),
        xrayStatement,
        {
          Sid: 'InsightsStartQuery',
          Effect: 'Allow',
          Action: 'logs:StartQuery',
          Resource: accountArn('logs', 'log-group:/vpc/flow-logs/*'),
        },
        {
          Sid: 'InsightsQueryResults',
          Effect: 'Allow',
          Action: ['logs:GetQueryResults', 'logs:StopQuery'],
          Resource: '*',
        },
        {
          Sid: 'FlowLogGroupMetrics',
          Effect: 'Allow',
          Action: 'cloudwatch:GetMetricData',
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:PutObject'],
          Resource: objects(WORK_BUCKET, 'runs/*'),
        },
        { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: KEY_ARN },
        {
          Sid: 'AthenaQueries',
          Effect: 'Allow',
          Action: [
            'athena:StartQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:StopQueryExecution',
            'athena:GetWorkGroup',
          ],
          Resource: accountArn('athena', 'workgroup/sg-audit'),
        },
        {
          Sid: 'GlueFlowLogTables',
          Effect: 'Allow',
          Action: [
            'glue:GetDatabase',
            'glue:CreateDatabase',
            'glue:GetTable',
            'glue:CreateTable',
            'glue:GetPartition',
            'glue:GetPartitions',
          ],
          Resource: [
            accountArn('glue', 'catalog'),
            accountArn('glue', 'database/sg_audit'),
            accountArn('glue', 'table/sg_audit/vpc_flow_logs_*'),
          ],
        },
        {
          Sid: 'FlowLogBucketsList',
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:GetBucketLocation'],
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::org-flow-logs']] },
        },
        {
          Sid: 'FlowLogObjectsRead',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::org-flow-logs/vpc/AWSLogs/*']],
          },
        },
        {
          Sid: 'FlowLogObjectsKey',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: REPRESENTATIVE_CONTEXT.flowLogKmsKeyArns,
          Condition: {
            StringEquals: {
              'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
            },
          },
        },
        {
          Sid: 'AthenaResultsBucket',
          Effect: 'Allow',
          // Athena writes large results in multipart uploads (Athena's guide for a result location).
          Action: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
          Resource: { 'Fn::GetAtt': [WORK_BUCKET, 'Arn'] },
        },
        {
          Sid: 'AthenaResultsObjects',
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          Resource: objects(WORK_BUCKET, 'athena-results/*'),
        },
        {
          Sid: 'AthenaResultsKey',
          Effect: 'Allow',
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: KEY_ARN,
        },
      ]);
    });

    it('grants no customer-managed key decrypt when no flow-log or Slack secret key is configured', () => {
      // Prepare / Act
      const plain = variant({ flowLogKmsKeyArns: '', slackSecretKmsKeyArn: '' });

      // Assess
      const policies = JSON.stringify(plain.findResources('AWS::IAM::Policy'));
      expect(policies).not.toContain('FlowLogObjectsKey');
      expect(policies).not.toContain('SlackSecretKey');
      expect(policies).not.toContain('kms:ViaService');
    });

    it('grants analyze run-artefact reads, report reads/writes, the suppressions and allow-list objects and the export', () => {
      // Reports (latest.json and the previous report.json included) under reports/*; the
      // suppressions file and the egress allow-list by their exact keys; the key's Decrypt and the bucket's listing once.
      expect(statementsOf('Analyze')).toEqual([
        logStatement('Analyze'),
        xrayStatement,
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects(WORK_BUCKET, 'runs/*') },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN },
        {
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:PutObject'],
          Resource: objects(REPORT_BUCKET, 'reports/*'),
        },
        { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: KEY_ARN },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [REPORT_BUCKET, 'Arn'] } },
        {
          Sid: 'SuppressionsRead',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: objects(REPORT_BUCKET, 'config/suppressions.yaml'),
        },
        {
          Sid: 'EgressAllowListRead',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: objects(REPORT_BUCKET, 'config/egress-allowlist.yaml'),
        },
        securityHubStatement,
        ...securityHubWorkflowStatements,
      ]);
    });

    it('grants analyze no Security Hub action, and says so, unless exporting', () => {
      // Prepare / Act
      const quiet = variant({ securityHubExport: 'false' });

      // Assess
      expect(JSON.stringify(quiet.findResources('AWS::IAM::Policy'))).not.toContain('securityhub:');
      expectStepEnvironment(quiet, 'analyze', Match.objectLike({ SECURITY_HUB_EXPORT: 'false' }));
    });

    it('grants Security Hub to analyze only', () => {
      for (const fn of ['Discover', 'Query', 'Notify']) {
        expect(JSON.stringify(statementsOf(fn))).not.toContain('securityhub:');
      }
    });

    it('names a custom suppressions key exactly in the grant, the variable and the output', () => {
      // Prepare / Act
      const custom = variant({ suppressionsKey: 'audit/accepted-risks.json', reportPrefix: 'sg/reports' });

      // Assess
      custom.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'SuppressionsRead',
              Action: 's3:GetObject',
              Resource: objects(REPORT_BUCKET, 'audit/accepted-risks.json'),
            }),
          ]),
        },
      });
      expectStepEnvironment(
        custom,
        'analyze',
        Match.objectLike({
          SUPPRESSIONS_KEY: 'audit/accepted-risks.json',
          REPORT_PREFIX: 'sg/reports',
        }),
      );
      custom.hasOutput('SuppressionsLocation', {
        Value: { 'Fn::Join': ['', ['s3://', { Ref: REPORT_BUCKET }, '/audit/accepted-risks.json']] },
      });
    });

    it('names a custom egress allow-list key exactly in the grant, the variable, the lifecycle rule and the output', () => {
      // Prepare / Act
      const custom = variant({ egressAllowlistKey: 'security/egress.json' });

      // Assess
      custom.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Sid: 'EgressAllowListRead',
              Action: 's3:GetObject',
              Resource: objects(REPORT_BUCKET, 'security/egress.json'),
            }),
          ]),
        },
      });
      expectStepEnvironment(
        custom,
        'analyze',
        Match.objectLike({ EGRESS_ALLOWLIST_KEY: 'security/egress.json' }),
      );
      custom.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Id: 'keep-egress-allowlist-history', Prefix: 'security/egress.json' }),
          ]),
        },
      });
      custom.hasOutput('EgressAllowListLocation', {
        Value: { 'Fn::Join': ['', ['s3://', { Ref: REPORT_BUCKET }, '/security/egress.json']] },
      });
    });

    it('grants notify report reads, publishing on the topic and the Slack secret', () => {
      expect(statementsOf('Notify')).toEqual([
        logStatement('Notify'),
        xrayStatement,
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objects(REPORT_BUCKET, 'reports/*') },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [REPORT_BUCKET, 'Arn'] } },
        { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: ALERT_TOPIC } },
        { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: KEY_ARN },
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: accountArn('secretsmanager', 'secret:sg-audit/slack-webhook-??????'),
        },
        {
          Sid: 'SlackSecretKey',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: REPRESENTATIVE_CONTEXT.slackSecretKmsKeyArn,
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
              },
            },
          },
        },
      ]);
    });
  });

  describe('Athena', () => {
    it('creates the Glue database and an enforced, encrypted, capped workgroup', () => {
      template.hasResourceProperties('AWS::Glue::Database', {
        DatabaseInput: Match.objectLike({ Name: 'sg_audit' }),
      });
      template.hasResourceProperties('AWS::Athena::WorkGroup', {
        Name: 'sg-audit',
        WorkGroupConfiguration: {
          EnforceWorkGroupConfiguration: true,
          BytesScannedCutoffPerQuery: 1024 ** 4,
          ResultConfiguration: {
            EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: KEY_ARN },
            OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: WORK_BUCKET }, '/athena-results/']] },
          },
        },
      });
    });
  });

  describe('schedule', () => {
    it('starts the state machine every Monday 00:00 UTC with the scheduled time as the window end', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 0 ? * MON *)',
        ScheduleExpressionTimezone: 'Etc/UTC',
        State: 'ENABLED',
        Target: Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^WorkflowStateMachine') },
          Input: JSON.stringify({ end: '<aws.scheduler.scheduled-time>' }),
          RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchedulerRole'), 'Arn'] },
        }),
      });
    });

    it('lets the scheduler role start this state machine only (and dead-letter a failed start)', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^SchedulerRole') }],
        PolicyDocument: {
          Statement: [
            {
              Action: 'states:StartExecution',
              Effect: 'Allow',
              Resource: { Ref: Match.stringLikeRegexp('^WorkflowStateMachine') },
            },
            {
              Action: 'sqs:SendMessage',
              Effect: 'Allow',
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleDeadLetterQueue'), 'Arn'] },
            },
          ],
        },
      });
    });

    it('retries a failed start for 6 hours, then sends it to an encrypted, TLS-only dead-letter queue', () => {
      // Prepare
      const [queueId] = Object.keys(template.findResources('AWS::SQS::Queue'));

      // Assess
      template.resourceCountIs('AWS::SQS::Queue', 1);
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Target: Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 6 * 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        }),
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 86_400,
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: [
            Match.objectLike({
              Action: 'sqs:*',
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ],
        },
      });
    });

    it('alarms to the alert topic as soon as a start is dead-lettered (no run at all that week)', () => {
      // Prepare
      const [queueId] = Object.keys(template.findResources('AWS::SQS::Queue'));

      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: ALERT_TOPIC }],
      });
    });
  });

  describe('log groups', () => {
    const NAMES = {
      DiscoverLogGroup: '/aws/lambda/SgAudit-discover',
      QueryLogGroup: '/aws/lambda/SgAudit-query',
      AnalyzeLogGroup: '/aws/lambda/SgAudit-analyze',
      NotifyLogGroup: '/aws/lambda/SgAudit-notify',
      WorkflowExecutionLogs: '/aws/vendedlogs/states/SgAuditWorkflowA74F372A',
    } as const;

    it("are named, and encrypted with the app key, each function's and the workflow's", () => {
      // Prepare
      const groups = Object.entries(template.findResources('AWS::Logs::LogGroup'));

      // Act
      const byPrefix = Object.entries(NAMES).map(([prefix, name]) => ({
        prefix,
        name,
        group: groups.find(([id]) => id.startsWith(prefix))?.[1].Properties,
      }));

      // Assess: no other log group in the stack, none left on the service-owned key.
      expect(groups).toHaveLength(5);
      for (const { name, group } of byPrefix) {
        expect(group).toMatchObject({ LogGroupName: name, KmsKeyId: KEY_ARN });
      }
    });

    it("are deleted with the stack, the workflow's included: a redeploy after a stack delete reuses the names", () => {
      // Prepare
      const groups = Object.entries(template.findResources('AWS::Logs::LogGroup'));

      // Act
      const policies = groups.map(([id, group]) => [id, group.DeletionPolicy, group.UpdateReplacePolicy]);

      // Assess
      expect(policies).toHaveLength(5);
      for (const [id, deletion, replace] of policies)
        expect([id, deletion, replace]).toEqual([id, 'Delete', 'Delete']);
    });

    it('let CloudWatch Logs use the key for exactly these log groups, by encryption context', () => {
      // Prepare
      const keyPolicy = template.toJSON().Resources.DataKey17AFBB84.Properties.KeyPolicy as {
        Statement: { Principal?: { Service?: unknown } }[];
      };

      // Act
      const logsStatements = keyPolicy.Statement.filter((s) =>
        JSON.stringify(s.Principal?.Service ?? '').includes('logs.'),
      );

      // Assess
      expect(logsStatements).toEqual(
        Object.values(NAMES).map((name) => ({
          Effect: 'Allow',
          Principal: {
            Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
          Action: [...LOGS_KEY_ACTIONS],
          Resource: '*',
          Condition: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArn(name) } },
        })),
      );
    });
  });

  describe('outputs', () => {
    it('names where to upload the suppressions file and the egress allow-list and where reports land', () => {
      template.hasOutput('SuppressionsLocation', {
        Value: { 'Fn::Join': ['', ['s3://', { Ref: REPORT_BUCKET }, '/config/suppressions.yaml']] },
      });
      template.hasOutput('EgressAllowListLocation', {
        Value: { 'Fn::Join': ['', ['s3://', { Ref: REPORT_BUCKET }, '/config/egress-allowlist.yaml']] },
      });
      template.hasOutput('ReportLocation', {
        Value: { 'Fn::Join': ['', ['s3://', { Ref: REPORT_BUCKET }, '/reports/']] },
      });
    });
  });

  describe('state machine', () => {
    it('logs ALL with execution data and traces', () => {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      });
    });
  });

  describe('monitoring', () => {
    it("alarms on failed and timed-out executions and on each function's errors, to the alert topic", () => {
      // Six, and the schedule's dead-letter alarm (schedule).
      template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/States',
          MetricName: metric,
          Statistic: 'Sum',
          Threshold: 1,
          AlarmActions: [{ Ref: ALERT_TOPIC }],
        });
      }
      const errorAlarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
        (a) => a.Properties.MetricName === 'Errors',
      );
      expect(errorAlarms).toHaveLength(4);
      for (const alarm of errorAlarms) {
        expect(alarm.Properties).toMatchObject({
          Namespace: 'AWS/Lambda',
          AlarmActions: [{ Ref: ALERT_TOPIC }],
        });
      }
    });
  });
});
