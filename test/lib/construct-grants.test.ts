/**
 * The grant methods of the constructs on their own: the cases the stack's representative
 * configuration does not reach (no Slack, no log-group prefix, no suppressions key, export off).
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AlertTopic } from '../../lib/alert-topic';
import { AuditedAccount } from '../../lib/audited-account';
import { ReportBucket } from '../../lib/report-bucket';
import { SecurityHubExport } from '../../lib/security-hub-export';
import { testApp } from '../support/test-app';
import { cdkJsonContext } from './app-fixture';

const ENV = { account: '123456789012', region: 'ap-northeast-2' };

/** A stack (cdk.json's feature flags) with one key and one inline function. */
function fixture(): { stack: Stack; key: kms.Key; fn: lambda.Function } {
  const stack = new Stack(testApp({ context: cdkJsonContext() }), 'GrantTest', { env: ENV });
  const key = new kms.Key(stack, 'Key');
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  return { stack, key, fn };
}

/** The function's environment variables and its role policy's statements. */
function grantsOf(stack: Stack): { variables: Record<string, unknown>; statements: unknown[] } {
  const template = Template.fromStack(stack);
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
  const policies = Object.values(template.findResources('AWS::IAM::Policy'));
  return {
    variables: fn?.Properties.Environment?.Variables ?? {},
    statements: policies.flatMap((p) => p.Properties.PolicyDocument.Statement as unknown[]),
  };
}

describe('ReportBucket', () => {
  it('refuses to grant the suppressions file when no suppressions key is configured', () => {
    // Prepare
    const { stack, key, fn } = fixture();
    const reports = new ReportBucket(stack, 'Reports', { encryptionKey: key });

    // Act / Assess
    expect(() => reports.grantSuppressionsRead(fn)).toThrow(/suppressionsKey/);
  });

  it('refuses to grant the egress allow-list when no allow-list key is configured', () => {
    // Prepare
    const { stack, key, fn } = fixture();
    const reports = new ReportBucket(stack, 'Reports', { encryptionKey: key, suppressionsKey: 'risks.yaml' });

    // Act / Assess
    expect(() => reports.grantEgressAllowListRead(fn)).toThrow(/egressAllowlistKey/);
  });

  it('adds the key and listing statements a function needs once, however many grants share them', () => {
    // Prepare
    const { stack, key, fn } = fixture();
    const reports = new ReportBucket(stack, 'Reports', {
      encryptionKey: key,
      suppressionsKey: 'risks.yaml',
      egressAllowlistKey: 'egress.yaml',
    });

    // Act
    reports.grantReports(fn, 'read');
    reports.grantSuppressionsRead(fn);
    reports.grantEgressAllowListRead(fn);

    // Assess
    const { statements, variables } = grantsOf(stack);
    expect(statements.filter((s) => JSON.stringify(s).includes('kms:Decrypt'))).toHaveLength(1);
    expect(statements.filter((s) => JSON.stringify(s).includes('s3:ListBucket'))).toHaveLength(1);
    expect(variables).toMatchObject({
      REPORT_BUCKET: expect.anything(),
      SUPPRESSIONS_KEY: 'risks.yaml',
      EGRESS_ALLOWLIST_KEY: 'egress.yaml',
    });
    expect(variables).not.toHaveProperty('KMS_KEY_ID');
  });
});

describe('AlertTopic', () => {
  it('grants and names no Slack secret when none is configured', () => {
    // Prepare
    const { stack, key, fn } = fixture();
    const alerts = new AlertTopic(stack, 'Alerts', { encryptionKey: key });

    // Act
    alerts.grantPublish(fn);

    // Assess
    const { statements, variables } = grantsOf(stack);
    expect(Object.keys(variables)).toEqual(['ALERT_TOPIC_ARN']);
    expect(JSON.stringify(statements)).not.toContain('secretsmanager:');
    expect(JSON.stringify(statements)).toContain('sns:Publish');
  });
});

describe('AuditedAccount', () => {
  it('lets StartQuery name every log group when no prefix is configured', () => {
    // Prepare
    const { stack, fn } = fixture();

    // Act
    new AuditedAccount(stack, 'Account').grantFlowLogQuery(fn);

    // Assess
    expect(grantsOf(stack).statements).toContainEqual({
      Sid: 'InsightsStartQuery',
      Effect: 'Allow',
      Action: 'logs:StartQuery',
      Resource: 'arn:aws:logs:ap-northeast-2:123456789012:log-group:*',
    });
  });
});

describe('SecurityHubExport', () => {
  it('is off by default: the function is told so and granted nothing', () => {
    // Prepare
    const { stack, fn } = fixture();

    // Act
    new SecurityHubExport(stack, 'Export').grantExport(fn);

    // Assess
    const { statements, variables } = grantsOf(stack);
    expect(variables).toEqual({ SECURITY_HUB_EXPORT: 'false' });
    expect(JSON.stringify(statements)).not.toContain('securityhub:');
  });
});
