/**
 * Week over week from the CLI: --previous adds what changed (report changes, changes.csv) and
 * --suppressions marks accepted risks, which no longer fail --fail-on.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from '../../cli/main';
import { CHANGES_COLUMNS } from '../../shared/history/diff';
import { runCli } from '../support/cli-run';

const HAND_EXPORT = path.join(__dirname, '../fixtures/hand-export');
const SSH_FINDING = 'sensitive-port-world:sg-0a11b22c33d44e552/ingress/tcp/22-22/0.0.0.0/0';

async function audit(out: string, ...extra: string[]) {
  const { code, stderr } = await runCli(
    ['audit', '--input', HAND_EXPORT, '--out', out, '--format', 'json,csv', '-q', ...extra],
    { now: () => new Date('2025-06-03T00:00:00Z') },
  );
  return { code, stderr };
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('sg-audit audit --previous / --suppressions', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-history-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports no change and writes an empty changes.csv when nothing changed since the previous run', async () => {
    // Prepare
    await audit(path.join(dir, 'week1'));
    // Act
    const second = await audit(path.join(dir, 'week2'), '--previous', path.join(dir, 'week1', 'report.json'));
    // Assess
    expect(second.code).toBe(EXIT_OK);
    const report = readJson(path.join(dir, 'week2', 'report.json'));
    expect(report.changes).toMatchObject({
      firstRun: false,
      worsened: false,
      newFindingIds: [],
      resolvedFindings: [],
    });
    expect(report.changes.unchangedFindings).toBe(report.findings.length);
    const csv = readFileSync(path.join(dir, 'week2', 'changes.csv'), 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(csv).toEqual([CHANGES_COLUMNS.join(',')]);
  });

  it('lists a finding of the previous run that is gone as resolved', async () => {
    // Prepare: last week's report had one more finding.
    await audit(path.join(dir, 'week1'));
    const previousFile = path.join(dir, 'week1', 'report.json');
    const previous = readJson(previousFile);
    const extra = {
      ...previous.findings[0],
      id: 'all-ports-open:sg-gone/ingress/tcp/0-65535/0.0.0.0/0',
      check: 'all-ports-open',
    };
    writeFileSync(previousFile, JSON.stringify({ ...previous, findings: [...previous.findings, extra] }));
    // Act
    await audit(path.join(dir, 'week2'), '--previous', previousFile);
    // Assess
    const report = readJson(path.join(dir, 'week2', 'report.json'));
    expect(report.changes.resolvedFindings.map((f: { id: string }) => f.id)).toEqual([extra.id]);
    const csv = readFileSync(path.join(dir, 'week2', 'changes.csv'), 'utf8');
    expect(csv).toMatch(/\r\nresolved,all-ports-open,/);
  });

  it('marks an accepted risk and leaves it out of --fail-on, while the report keeps it', async () => {
    // Prepare
    const suppressions = path.join(dir, 'suppressions.yaml');
    writeFileSync(
      suppressions,
      [
        'version: 1',
        'suppressions:',
        '  - id: bastion-ssh',
        '    owner: secops@example.com',
        '    reason: SSH from the internet is the jump host, reviewed quarterly',
        '    expires: 2025-12-31',
        '    match:',
        '      sgId: sg-0a11b22c33d44e552',
        '      check: sensitive-port-world',
        '      rule: { direction: ingress, protocol: tcp, ports: "22" }',
        '',
      ].join('\n'),
    );
    // Act
    const withoutSuppressions = await audit(path.join(dir, 'a'), '--fail-on', 'critical');
    const withSuppressions = await audit(
      path.join(dir, 'b'),
      '--fail-on',
      'critical',
      '--suppressions',
      suppressions,
    );
    // Assess
    expect(withoutSuppressions.code).toBe(EXIT_FINDINGS);
    expect(withSuppressions.code).toBe(EXIT_OK);
    const finding = readJson(path.join(dir, 'b', 'report.json')).findings.find(
      (f: { id: string }) => f.id === SSH_FINDING,
    );
    expect(finding.suppression).toMatchObject({ id: 'bastion-ssh', status: 'active', expires: '2025-12-31' });
  });

  it('brings an expired suppression back as a finding and says so in the warnings', async () => {
    // Prepare
    const suppressions = path.join(dir, 'suppressions.json');
    writeFileSync(
      suppressions,
      JSON.stringify({
        version: 1,
        suppressions: [
          {
            id: 'bastion-ssh',
            owner: 'secops@example.com',
            reason: 'temporary',
            expires: '2025-05-31',
            match: { sgId: 'sg-0a11b22c33d44e552', check: 'sensitive-port-world' },
          },
        ],
      }),
    );
    // Act
    const result = await audit(path.join(dir, 'c'), '--fail-on', 'critical', '--suppressions', suppressions);
    // Assess
    expect(result.code).toBe(EXIT_FINDINGS);
    const report = readJson(path.join(dir, 'c', 'report.json'));
    expect(report.findings.find((f: { id: string }) => f.id === SSH_FINDING).suppression.status).toBe(
      'expired',
    );
    expect(report.warnings.map((w: { code: string }) => w.code)).toContain('suppression-expired');
  });

  it('fails before auditing when the suppressions file has a malformed entry, naming it', async () => {
    // Prepare
    const suppressions = path.join(dir, 'bad.yaml');
    writeFileSync(
      suppressions,
      'version: 1\nsuppressions:\n  - id: partner\n    owner: net@example.com\n    reason: partner range\n    expires: someday\n    match: { vpcId: vpc-1 }\n',
    );
    // Act
    const result = await audit(path.join(dir, 'd'), '--suppressions', suppressions);
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/bad\.yaml: .*suppressions\[0\] \(partner\): expires/);
  });

  it('rejects a --previous file that is not an sg-audit report, naming the field', async () => {
    // Prepare
    const previous = path.join(dir, 'other.json');
    writeFileSync(previous, JSON.stringify({ hello: 'world' }));
    // Act
    const result = await audit(path.join(dir, 'e'), '--previous', previous);
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/other\.json: .*not an sg-audit report/);
  });
});
