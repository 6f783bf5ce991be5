import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT_ERROR, EXIT_OK } from '../../cli/main';
import { renderJson } from '../../shared/render/json';
import { remediationReport } from '../fixtures/remediation-fixture';
import { runCli } from '../support/cli-run';

function run(args: string[]) {
  return runCli(args, { now: () => new Date('2026-11-18T00:00:00Z') });
}

describe('sg-audit plan', () => {
  let dir: string;
  let report: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-plan-cli-'));
    report = path.join(dir, 'report.json');
    writeFileSync(report, renderJson(await remediationReport()));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the plan files from a report and summarises them', async () => {
    // Prepare
    const out = path.join(dir, 'plan');
    // Act
    const result = await run(['plan', '--report', report, '--out', out, '--nacl', '--quiet']);
    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_OK);
    for (const name of [
      'plan.json',
      'apply.sh',
      'rollback.sh',
      'plan.md',
      'iac/cloudformation.yaml',
      'iac/terraform.tf',
    ]) {
      expect(existsSync(path.join(out, name))).toBe(true);
    }
    expect(statSync(path.join(out, 'apply.sh')).mode & 0o111).not.toBe(0);
    const plan = JSON.parse(readFileSync(path.join(out, 'plan.json'), 'utf8'));
    expect([plan.kind, plan.createdAt, plan.nacls.length]).toEqual([
      'sg-audit-plan',
      '2026-11-18T00:00:00.000Z',
      1,
    ]);
    expect(result.stdout).toContain('apply   sg-bastion');
    expect(result.stdout).toContain('iac     sg-app');
    expect(result.stdout).toContain(`then: sg-audit apply --plan ${path.join(out, 'plan.json')}`);
  });

  it('refuses to plan unproven verdicts and names the file that is not a report', async () => {
    // Prepare
    const notReport = path.join(dir, 'other.json');
    writeFileSync(notReport, '{"hello": 1}');
    // Act
    const review = await run(['plan', '--report', report, '--include', 'narrow,review', '--out', dir]);
    const other = await run(['plan', '--report', notReport, '--out', dir]);
    // Assess
    expect(review.code).toBe(EXIT_ERROR);
    expect(review.stderr).toMatch(
      /--include 'narrow,review': only proven verdicts can be planned \(narrow, remove\)/,
    );
    expect(other.code).toBe(EXIT_ERROR);
    expect(other.stderr).toMatch(/other\.json.*not an sg-audit report/);
  });

  it('plans only the SGs named, and warns about one the report lacks', async () => {
    // Act
    const result = await run([
      'plan',
      '--report',
      report,
      '--out',
      dir,
      '--sg',
      'sg-bastion,sg-nope',
      '--quiet',
    ]);
    // Assess
    expect(result.code).toBe(EXIT_OK);
    expect(result.stderr).toBe('warning: sg-nope is not in the report; nothing of it is planned\n');
    const plan = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8'));
    expect(plan.securityGroups.map((sg: { sgId: string }) => sg.sgId)).toEqual(['sg-bastion']);
  });
});

describe('sg-audit apply and rollback (no AWS needed to refuse)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-apply-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a file that is not a plan or an applied record, naming it', async () => {
    // Prepare
    const file = path.join(dir, 'plan.json');
    writeFileSync(file, '{"kind": "something-else"}');
    // Act
    const apply = await run(['apply', '--plan', file, '--yes']);
    const rollback = await run(['rollback', '--applied', file, '--yes']);
    // Assess
    expect([apply.code, rollback.code]).toEqual([EXIT_ERROR, EXIT_ERROR]);
    expect(apply.stderr).toMatch(/plan\.json.*not an sg-audit plan/);
    expect(rollback.stderr).toMatch(/plan\.json.*not an sg-audit applied record/);
  });
});
