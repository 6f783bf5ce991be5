/**
 * cfn-lint on an organization deployment's templates: the central stack (organization workflow,
 * target runs, member access) and the SgAuditMemberRole stack meant for StackSets, cdk-nag on.
 */
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MemberRoleStack } from '../../lib/member-role-stack';
import { buildApp } from '../lib/app-fixture';
import { expectCfnLintClean } from '../support/cfn-lint';

const { app, stack } = buildApp({
  alertEmails: 'secops@example.com',
  account: '999999999999',
  athena: JSON.stringify({ flowLogLocations: ['s3://log-archive-flow-logs/AWSLogs/'] }),
  organization: JSON.stringify({
    accounts: 'all',
    regions: ['eu-west-1', 'us-east-1'],
    externalId: 'sg-audit-ext-1',
    organizationId: 'o-abcdef1234',
  }),
});
const member = new MemberRoleStack(app, 'SgAuditMemberRole', {
  centralAccountId: '999999999999',
  centralStackName: stack.stackName,
  organizationId: 'o-abcdef1234',
  externalId: 'sg-audit-ext-1',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
const assembly = app.synth();

describe('cfn-lint, organization deployment', () => {
  it.each([stack.stackName, member.stackName])('finds no error in the %s template', (name) => {
    expectCfnLintClean(path.join(assembly.directory, assembly.getStackByName(name).templateFile));
  });
});
