import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, cdkJsonContext, PROJECT_ROOT, REPRESENTATIVE_CONTEXT } from './app-fixture';

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
}

const outdir = mkdtempSync(path.join(tmpdir(), 'sg-audit-synth-'));
// Synthesis throws when cdk-nag reports an unacknowledged error: building the assembly is the first check.
const { app, stack } = buildApp(REPRESENTATIVE_CONTEXT, { nag: true, appProps: { outdir } });
const assembly = app.synth();

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cdk-nag AwsSolutions', () => {
  it('leaves no unacknowledged finding in the validation report', () => {
    // Prepare
    const report = JSON.parse(
      readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;

    // Act
    const findings = report.pluginReports
      .flatMap((plugin) => plugin.violations)
      .filter((v) => v.ruleName.startsWith('AwsSolutions-'))
      .map((v) => `${v.severity} ${v.ruleName}`);

    // Assess
    expect(findings).toEqual([]);
  });

  it('does run on the app: an unlogged bucket fails synthesis (control)', () => {
    // Prepare
    const control = new App({ outdir: path.join(outdir, 'control') });
    new s3.Bucket(new Stack(control, 'Control'), 'Unlogged');
    Validations.of(control).addPlugins(new AwsSolutionsChecks(control));

    // Act / Assess
    expect(() => control.synth()).toThrow(/AwsSolutions-S1/);
  });

  it('adds no AwsSolutions error or warning annotation', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });
});

describe('bin/app.ts', () => {
  it('synthesizes offline with no account, region or Docker, as `cdk synth` runs it', () => {
    // Prepare: what the CDK CLI passes to the app (cdk.json context + -c values), no CDK_DEFAULT_*.
    const appOut = path.join(outdir, 'cli');
    const env: NodeJS.ProcessEnv = {
      PATH: `${path.join(PROJECT_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? tmpdir(),
      CDK_OUTDIR: appOut,
      CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), alertEmails: 'secops@example.com' }),
    };

    // Act
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: PROJECT_ROOT,
      env,
      encoding: 'utf8',
      timeout: 240_000,
    });

    // Assess
    expect(run.stderr).not.toMatch(/ValidationFailed|AppConfigError/);
    expect(run.status).toBe(0);
    expect(existsSync(path.join(appOut, 'SgAudit.template.json'))).toBe(true);
    const template = JSON.parse(readFileSync(path.join(appOut, 'SgAudit.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(template.Resources).some((r) => r.Type === 'AWS::Athena::WorkGroup')).toBe(false);
  });

  it('exits with the context key named when the configuration is invalid', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        CDK_OUTDIR: path.join(outdir, 'invalid'),
        CDK_CONTEXT_JSON: JSON.stringify({ lookbackDays: 'a week' }),
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("context 'lookbackDays' must be a whole number");
  });
});
