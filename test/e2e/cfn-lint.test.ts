/**
 * cfn-lint (the CloudFormation linter, from PyPI) on the synthesized template, cdk-nag on as
 * `cdk synth` runs it. An external program, so it runs in the end-to-end suite, whose
 * prerequisites check names how to install it.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { buildApp, REPRESENTATIVE_CONTEXT } from '../lib/app-fixture';

const { app, stack } = buildApp(REPRESENTATIVE_CONTEXT, { nag: true });
const assembly = app.synth();
const templatePath = path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile);

describe('cfn-lint', () => {
  it('finds no error in the synthesized template', () => {
    // Act
    const run = spawnSync(process.env.CFN_LINT_PATH || 'cfn-lint', ['--format', 'parseable', templatePath], {
      encoding: 'utf8',
      timeout: 180_000,
    });

    // Assess: exit 0 clean, 4 warnings only; 2 (errors) or 6 (both) fail. Warnings are printed.
    expect(run.error).toBeUndefined();
    const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
    const errors = lines.filter((l) => /:E\d{4}:/.test(l));
    if (lines.length > 0) console.info(`cfn-lint warnings:\n${lines.join('\n')}`);
    expect(errors).toEqual([]);
    expect([0, 4, 8]).toContain(run.status);
  });
});
