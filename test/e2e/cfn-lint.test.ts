/**
 * cfn-lint (the CloudFormation linter, from PyPI) on the synthesized template, cdk-nag on as
 * `cdk synth` runs it. An external program, so it runs in the end-to-end suite, whose
 * prerequisites check names how to install it.
 */
import * as path from 'node:path';
import { buildApp, REPRESENTATIVE_CONTEXT } from '../lib/app-fixture';
import { expectCfnLintClean } from '../support/cfn-lint';

const { app, stack } = buildApp(REPRESENTATIVE_CONTEXT, { nag: true });
const assembly = app.synth();
const templatePath = path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile);

describe('cfn-lint', () => {
  it('finds no error in the synthesized template', () => {
    expectCfnLintClean(templatePath);
  });
});
