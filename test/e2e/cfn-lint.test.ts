/**
 * cfn-lint (the CloudFormation linter, from PyPI) on the synthesized template, cdk-nag on as
 * `cdk synth` runs it: the representative deployment, and the same with the deployed remediation
 * enabled. An external program, so it runs in the end-to-end suite, whose prerequisites check
 * names how to install it.
 */
import * as path from 'node:path';
import { buildApp, REPRESENTATIVE_CONTEXT } from '../lib/app-fixture';
import { expectCfnLintClean } from '../support/cfn-lint';

function synthesizedTemplate(context: Readonly<Record<string, unknown>>): string {
  const { app, stack } = buildApp(context, { nag: true });
  const assembly = app.synth();
  return path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile);
}

describe('cfn-lint', () => {
  it('finds no error in the synthesized template', () => {
    expectCfnLintClean(synthesizedTemplate(REPRESENTATIVE_CONTEXT));
  });

  it('finds no error in the template with the approval-gated remediation enabled', () => {
    expectCfnLintClean(synthesizedTemplate({ ...REPRESENTATIVE_CONTEXT, remediation: 'true' }));
  });
});
