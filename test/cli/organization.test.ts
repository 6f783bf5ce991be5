/**
 * The offline organization run: a folder of `<account>/<region>/` export directories (the hand
 * export, copied per target, and one broken export) audited into `OUT/<account>/<region>/` and
 * the organization report in `OUT/org/`.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { main } from '../../cli/main';
import type { OrgReport } from '../../shared/org/model';

const HAND_EXPORT = path.join(__dirname, '../fixtures/hand-export');
const PROD = '111111111111';
const DEV = '222222222222';

let root: string;
let input: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'sg-audit-org-cli-'));
  input = path.join(root, 'exports');
  for (const [account, region] of [
    [PROD, 'eu-west-1'],
    [PROD, 'us-east-1'],
    [DEV, 'eu-west-1'],
  ]) {
    cpSync(HAND_EXPORT, path.join(input, account ?? '', region ?? ''), { recursive: true });
  }
  // dev/us-east-1: an export whose security groups cannot be read.
  mkdirSync(path.join(input, DEV, 'us-east-1'), { recursive: true });
  writeFileSync(path.join(input, DEV, 'us-east-1', 'security-groups.json'), '{ not json');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    ['audit', '--input', input, '--days', '0.01', '--format', 'csv,json,html', '-q', ...args],
    {
      version: 'test',
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      now: () => new Date('2025-06-03T00:00:00Z'),
    },
  );
  return { code, stdout, stderr };
}

function csvRecords(file: string): Record<string, string>[] {
  return parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
}

describe('sg-audit audit over a folder of <account>/<region>/ exports', () => {
  it("writes each target's reports and the organization report, the broken export a gap", async () => {
    // Prepare
    const out = path.join(root, 'week-1');

    // Act
    const { code, stdout, stderr } = await run(['--out', out]);

    // Assess: the run succeeds; each audited target has its own reports.
    expect(code).toBe(0);
    for (const target of [`${PROD}/eu-west-1`, `${PROD}/us-east-1`, `${DEV}/eu-west-1`]) {
      for (const name of ['report.json', 'findings.csv', 'report.html']) {
        expect(existsSync(path.join(out, target, name))).toBe(true);
      }
    }
    expect(existsSync(path.join(out, DEV, 'us-east-1', 'report.json'))).toBe(false);
    expect(stderr).toMatch(
      new RegExp(`${DEV}/us-east-1: not audited \\(a gap of the organization report\\): ExportFormatError`),
    );

    // Assess: the organization report.
    const org = JSON.parse(readFileSync(path.join(out, 'org', 'org-report.json'), 'utf8')) as OrgReport;
    expect(org.totals).toMatchObject({ targets: 4, audited: 3, gaps: 1, accounts: 2, regions: 2 });
    expect(org.targets.find((t) => t.status === 'gap')).toMatchObject({
      accountId: DEV,
      region: 'us-east-1',
      gap: { kind: 'failed', error: { name: 'ExportFormatError' } },
    });
    const targets = csvRecords(path.join(out, 'org', 'targets.csv'));
    expect(targets.map((t) => `${t.account_id}/${t.region}:${t.status}`)).toEqual([
      `${PROD}/eu-west-1:audited`,
      `${PROD}/us-east-1:audited`,
      `${DEV}/eu-west-1:audited`,
      `${DEV}/us-east-1:gap`,
    ]);
    expect(targets[0]?.report).toBe(`${PROD}/eu-west-1/report.html`);

    // Assess: the org findings.csv is every target's findings.csv with account_id and region.
    const perTarget = csvRecords(path.join(out, PROD, 'eu-west-1', 'findings.csv'));
    const orgFindings = csvRecords(path.join(out, 'org', 'findings.csv'));
    expect(orgFindings).toHaveLength(3 * perTarget.length);
    expect(orgFindings.filter((f) => f.account_id === PROD && f.region === 'us-east-1')).toEqual(
      perTarget.map((f) => ({ ...f, account_id: PROD, region: 'us-east-1' })),
    );

    // Assess: the overview links each target's report, relative to OUT/org/.
    const page = readFileSync(path.join(out, 'org', 'report.html'), 'utf8');
    expect(page).toContain(`href="../${PROD}/eu-west-1/report.html"`);
    expect(stdout).toContain('Organization: 4 targets, 3 audited, 1 gap');
  });

  it('compares with the previous organization run folder (--previous): week over week per target and for the organization', async () => {
    // Prepare: last week without the broken export; this week dev/eu-west-1 is no longer exported.
    const lastWeek = path.join(root, 'last-week');
    await run(['--out', lastWeek, '--regions', 'eu-west-1']);
    const out = path.join(root, 'week-2');

    // Act
    const { code } = await run(['--out', out, '--previous', lastWeek, '--accounts', PROD]);

    // Assess
    expect(code).toBe(0);
    const org = JSON.parse(readFileSync(path.join(out, 'org', 'org-report.json'), 'utf8')) as OrgReport;
    expect(org.changes).toMatchObject({
      firstRun: false,
      newTargets: [{ accountId: PROD, region: 'us-east-1' }],
      removedTargets: [{ accountId: DEV, region: 'eu-west-1' }],
      newGaps: [],
      newFindings: 0,
    });
    const compared = org.targets.find((t) => t.accountId === PROD && t.region === 'eu-west-1');
    expect(compared).toMatchObject({
      status: 'audited',
      audit: { changes: { firstRun: false, newFindings: 0 } },
    });
    expect(existsSync(path.join(out, PROD, 'eu-west-1', 'changes.csv'))).toBe(true);
  });

  it('fails the build on findings at or above --fail-on in any target', async () => {
    const { code, stderr } = await run(['--out', path.join(root, 'gate'), '--fail-on', 'critical']);
    expect(code).toBe(3);
    expect(stderr).toMatch(/finding\(s\) at or above 'critical' across the organization/);
  });

  it('refuses single-account scoping in an organization run', async () => {
    const { code, stderr } = await run(['--out', path.join(root, 'bad'), '--vpc', 'vpc-0a1b2c3d4e5f60718']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/--vpc applies to a single-account audit, not to an organization run/);
  });
});
