/**
 * cfn-lint on an organization deployment's templates: the central stack (organization workflow,
 * target runs, member access) and the SgAuditMemberRole stack meant for StackSets, cdk-nag on.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MemberRoleStack } from '../../lib/member-role-stack';
import { buildApp } from '../lib/app-fixture';

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
    // Act
    const templatePath = path.join(assembly.directory, assembly.getStackByName(name).templateFile);
    const run = spawnSync(process.env.CFN_LINT_PATH || 'cfn-lint', ['--format', 'parseable', templatePath], {
      encoding: 'utf8',
      timeout: 180_000,
    });

    // Assess: exit 0 clean, 4 warnings only; 2 (errors) or 6 (both) fail.
    expect(run.error).toBeUndefined();
    const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
    const errors = lines.filter((l) => /:E\d{4}:/.test(l));
    if (lines.length > 0) console.info(`cfn-lint warnings:\n${lines.join('\n')}`);
    expect(errors).toEqual([]);
    expect([0, 4, 8]).toContain(run.status);
  });
});
