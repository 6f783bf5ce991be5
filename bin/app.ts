/**
 * The CDK app: the ONLY place that reads CDK context (and CDK_DEFAULT_* from the environment),
 * into a validated AppConfig. `npx cdk synth` works offline: without an account/region the stack
 * is environment-agnostic, and bundling is local esbuild.
 */
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AppConfigError, CONTEXT_KEYS, parseAppConfig } from '../lib/config';
import { MemberRoleStack } from '../lib/member-role-stack';
import { SgAuditStack } from '../lib/sg-audit-stack';

const app = new App();
const context: Record<string, unknown> = {};
for (const key of CONTEXT_KEYS) {
  const value: unknown = app.node.tryGetContext(key);
  if (value !== undefined) context[key] = value;
}

let config: ReturnType<typeof parseAppConfig>;
try {
  config = parseAppConfig(context, {
    CDK_DEFAULT_ACCOUNT: process.env.CDK_DEFAULT_ACCOUNT,
    CDK_DEFAULT_REGION: process.env.CDK_DEFAULT_REGION,
  });
} catch (error) {
  if (error instanceof AppConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

new SgAuditStack(app, config.stackName, {
  config,
  projectRoot: fileURLToPath(new URL('..', import.meta.url)),
  description: 'sg-audit: weekly security-group audit (reports in S3, alerts by SNS/Slack)',
  ...(config.account && config.region ? { env: { account: config.account, region: config.region } } : {}),
});
// An organization deployment's member role: its own template (cdk synth SgAuditMemberRole), for a
// service-managed StackSet over the organization's OUs (config validation requires the account).
if (config.organization && config.account) {
  new MemberRoleStack(app, 'SgAuditMemberRole', {
    centralAccountId: config.account,
    centralStackName: config.stackName,
    organizationId: config.organization.organizationId,
    externalId: config.organization.externalId,
    roleName: config.organization.roleName,
    ...(config.flowLogGroupPrefix ? { flowLogGroupPrefix: config.flowLogGroupPrefix } : {}),
  });
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
