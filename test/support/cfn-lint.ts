/**
 * cfn-lint (the CloudFormation linter, from PyPI) on a synthesized template: no error; warnings are
 * printed. The end-to-end suite's prerequisites check names how to install it.
 *
 * @example expectCfnLintClean(path.join(assembly.directory, 'SgAudit.template.json'));
 */
import { spawnSync } from 'node:child_process';

export function expectCfnLintClean(templatePath: string): void {
  const run = spawnSync(process.env.CFN_LINT_PATH || 'cfn-lint', ['--format', 'parseable', templatePath], {
    encoding: 'utf8',
    timeout: 180_000,
  });

  // exit 0 clean, 4 warnings only; 2 (errors) or 6 (both) fail. Warnings are printed.
  expect(run.error).toBeUndefined();
  const lines = run.stdout.split('\n').filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /:E\d{4}:/.test(l));
  if (lines.length > 0) console.info(`cfn-lint warnings:\n${lines.join('\n')}`);
  expect(errors).toEqual([]);
  expect([0, 4, 8]).toContain(run.status);
}
