/** Builds the app as bin/app.ts does (cdk.json's feature flags, a representative configuration). */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseAppConfig } from '../../lib/config';
import { SgAuditStack } from '../../lib/sg-audit-stack';
import { testApp } from '../support/test-app';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The context flags of cdk.json: tests must synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * Context as `cdk deploy -c …` would pass it, every optional grant on (what cdk-nag must see):
 * Athena for S3 flow logs (on a customer-managed key), Slack (its secret on a customer-managed
 * key), two emails, the Security Hub export, the no-change digest.
 */
export const REPRESENTATIVE_CONTEXT = {
  vpcIds: 'vpc-0123456789abcdef0,vpc-0fedcba9876543210',
  alertEmails: 'secops@example.com,netops@example.com',
  slackSecretName: 'sg-audit/slack-webhook',
  slackSecretKmsKeyArn: 'arn:aws:kms:ap-northeast-2:111122223333:key/0c1d2e3f-1111-2222-3333-444455556666',
  flowLogGroupPrefix: '/vpc/flow-logs/',
  athena: JSON.stringify({ flowLogLocations: ['s3://org-flow-logs/vpc/AWSLogs/'] }),
  flowLogKmsKeyArns: 'arn:aws:kms:ap-northeast-2:999988887777:key/mrk-0123456789abcdef0123456789abcdef',
  ports: '22,443,3389',
  securityHubExport: 'true',
  noChangeDigest: 'true',
} as const;

/** A new app holding the stack (and the cdk-nag checks when `nag`). */
export function buildApp(
  context: Readonly<Record<string, unknown>> = REPRESENTATIVE_CONTEXT,
  options: { nag?: boolean; appProps?: AppProps } = {},
): { app: App; stack: SgAuditStack } {
  const app = testApp({ ...options.appProps, context: { ...cdkJsonContext(), ...context } });
  const config = parseAppConfig(context);
  const stack = new SgAuditStack(app, config.stackName, { config, projectRoot: PROJECT_ROOT });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

/**
 * The cdk-nag findings of a synthesized assembly's validation report, as `<severity> <rule>`
 * (empty when every finding is acknowledged).
 *
 * @example expect(nagFindings(app.synth().directory).findings).toEqual([]);
 */
export function nagFindings(assemblyDirectory: string): { findings: string[] } {
  const report = JSON.parse(readFileSync(path.join(assemblyDirectory, 'validation-report.json'), 'utf8')) as {
    pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
  };
  return {
    findings: report.pluginReports
      .flatMap((p) => p.violations)
      .filter((v) => v.ruleName.startsWith('AwsSolutions-'))
      .map((v) => `${v.severity} ${v.ruleName}`),
  };
}
