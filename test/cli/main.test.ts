import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK } from '../../cli/main';
import {
  FINDINGS_COLUMNS,
  RECOMMENDATIONS_COLUMNS,
  RESOURCES_COLUMNS,
  RULES_COLUMNS,
} from '../../shared/render/csv';
import { runCli } from '../support/cli-run';

const HAND_EXPORT = path.join(__dirname, '../fixtures/hand-export');

function run(args: string[]) {
  return runCli(args, { now: () => new Date('2026-11-21T00:00:00Z') });
}

describe('sg-audit audit (offline)', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(path.join(tmpdir(), 'sg-audit-cli-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('writes every output with the contract CSV headers for a hand-written export', async () => {
    // Act
    const result = await run(['audit', '--input', HAND_EXPORT, '--out', out]);
    // Assess
    expect(result.stderr).not.toMatch(/^error:/m);
    expect(result.code).toBe(EXIT_OK);
    for (const name of [
      'report.json',
      'findings.csv',
      'rules.csv',
      'recommendations.csv',
      'resources.csv',
      'report.xlsx',
      'summary.md',
      'report.html',
    ]) {
      expect(existsSync(path.join(out, name))).toBe(true);
    }
    const header = (name: string) => readFileSync(path.join(out, name), 'utf8').split(/\r?\n/)[0];
    expect(header('findings.csv')).toBe(FINDINGS_COLUMNS.join(','));
    expect(header('rules.csv')).toBe(RULES_COLUMNS.join(','));
    expect(header('recommendations.csv')).toBe(RECOMMENDATIONS_COLUMNS.join(','));
    expect(header('resources.csv')).toBe(RESOURCES_COLUMNS.join(','));
    expect(result.stdout).toMatch(/critical/i);
  });

  it('writes only the requested formats', async () => {
    // Act
    const result = await run([
      'audit',
      '--input',
      HAND_EXPORT,
      '--out',
      out,
      '--format',
      'json,md',
      '--quiet',
    ]);
    // Assess
    expect(result.code).toBe(EXIT_OK);
    expect(existsSync(path.join(out, 'report.json'))).toBe(true);
    expect(existsSync(path.join(out, 'summary.md'))).toBe(true);
    expect(existsSync(path.join(out, 'findings.csv'))).toBe(false);
    expect(result.stderr).toBe('');
  });

  it('exits 3 when findings at or above --fail-on exist, and 0 when none do', async () => {
    // Act
    const failing = await run(['audit', '--input', HAND_EXPORT, '--out', out, '--fail-on', 'info', '-q']);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    // Assess
    expect(report.findings.length).toBeGreaterThan(0);
    expect(failing.code).toBe(EXIT_FINDINGS);
    expect(failing.stderr).toMatch(/at or above 'info'/);
  });

  it('reports a missing export file with its name and exits 1', async () => {
    // Prepare
    const input = mkdtempSync(path.join(tmpdir(), 'sg-audit-in-'));
    cpSync(HAND_EXPORT, input, { recursive: true });
    rmSync(path.join(input, 'network-interfaces.json'));
    // Act
    const result = await run(['audit', '--input', input, '--out', out]);
    rmSync(input, { recursive: true, force: true });
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/error: .*network-interfaces\.json: missing required file/);
  });

  it('reports malformed JSON with file and line', async () => {
    // Prepare
    const input = mkdtempSync(path.join(tmpdir(), 'sg-audit-in-'));
    cpSync(HAND_EXPORT, input, { recursive: true });
    writeFileSync(path.join(input, 'security-groups.json'), '{\n "SecurityGroups": [\n  {,}\n ]\n}\n');
    // Act
    const result = await run(['audit', '--input', input, '--out', out]);
    rmSync(input, { recursive: true, force: true });
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/security-groups\.json: line 3: malformed JSON/);
  });

  it('reports flow-log files of an unknown format with the file name', async () => {
    // Prepare: the only flow-log object has no header line of known field names.
    const input = mkdtempSync(path.join(tmpdir(), 'sg-audit-in-'));
    cpSync(HAND_EXPORT, input, { recursive: true });
    rmSync(path.join(input, 'flowlogs'), { recursive: true });
    mkdirSync(path.join(input, 'flowlogs'));
    writeFileSync(path.join(input, 'flowlogs', 'export.log'), 'when who what\n2025-06-02 alice ssh\n');
    // Act
    const result = await run(['audit', '--input', input, '--out', out]);
    rmSync(input, { recursive: true, force: true });
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/FlowLogFormatError: .*export\.log/);
  });

  it('reports an empty window with the span of the records found', async () => {
    // Act
    const result = await run([
      'audit',
      '--input',
      HAND_EXPORT,
      '--out',
      out,
      '--end',
      '2001-01-01T00:00:00Z',
    ]);
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(
      /EmptyWindowError: the window .* holds no flow-log records \(records span /,
    );
  });

  it('ends the default window at the newest plausible record and names future-dated ones by file and line', async () => {
    // Prepare: beside the hand export's objects, one delivered at 10:15Z whose second line ends in
    // 2100, and one delivered after the run's time (io.now, 2026-11-21T00:00Z) with a record after it.
    const input = mkdtempSync(path.join(tmpdir(), 'sg-audit-in-'));
    cpSync(HAND_EXPORT, input, { recursive: true });
    const object = (day: string, time: string) =>
      `AWSLogs/111122223333/vpcflowlogs/ap-northeast-2/${day}/111122223333_vpcflowlogs_ap-northeast-2_fl-0a1b2c3d4e5f67890_${time}_0badc10c.log.gz`;
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    const record = (start: number, end: number) =>
      `2 111122223333 eni-0f1e2d3c4b5a69781 175.223.14.7 10.20.0.15 52111 443 6 1 60 ${start} ${end} ACCEPT OK`;
    const file = object('2025/06/02', '20250602T1015Z');
    const late = object('2026/11/21', '20261121T0030Z');
    mkdirSync(path.dirname(path.join(input, 'flowlogs', late)), { recursive: true });
    writeFileSync(
      path.join(input, 'flowlogs', file),
      gzipSync(`${header}\n${record(1748858900, 4102444800)}\n`),
    );
    writeFileSync(
      path.join(input, 'flowlogs', late),
      gzipSync(`${header}\n${record(1795219500, 1795219800)}\n`),
    );
    // Act
    const result = await run(['audit', '--input', input, '--out', out, '--format', 'json']);
    const plain = await run([
      'audit',
      '--input',
      HAND_EXPORT,
      '--out',
      path.join(out, 'plain'),
      '--format',
      'json',
    ]);
    rmSync(input, { recursive: true, force: true });
    // Assess
    expect(result.stderr).not.toMatch(/^error:/m);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    const before = JSON.parse(readFileSync(path.join(out, 'plain', 'report.json'), 'utf8'));
    expect(plain.code).toBe(result.code);
    expect(report.window).toEqual(before.window);
    expect(report.window.end).toBe('2025-06-02T10:07:31.000Z');
    const malformed = report.warnings.find((w: { code: string }) => w.code === 'malformed-records');
    expect(malformed.samples).toContainEqual({
      file,
      line: 2,
      reason: "end 2100-01-01T00:00:00Z is after the object's delivery 2025-06-02T10:15Z (+1 h)",
    });
    expect(malformed.samples).toContainEqual({
      file: late,
      line: 2,
      reason: "end 2026-11-21T00:10:00Z is after the run's time 2026-11-21T00:00:00Z",
    });
    expect(report.summary.malformedRecords).toBe(before.summary.malformedRecords + 2);
  });

  it('rejects an invalid --ports list naming the item', async () => {
    // Act
    const result = await run(['audit', '--input', HAND_EXPORT, '--out', out, '--ports', '22,70000']);
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/70000/);
  });

  it('rejects an unknown output format', async () => {
    // Act
    const result = await run(['audit', '--input', HAND_EXPORT, '--out', out, '--format', 'json,pdf']);
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/pdf/);
  });

  it('names the field of an invalid --config settings file', async () => {
    // Prepare
    const settings = path.join(out, 'settings.json');
    writeFileSync(settings, JSON.stringify({ summariseMinIps: 'three' }));
    // Act
    const result = await run(['audit', '--input', HAND_EXPORT, '--out', out, '--config', settings]);
    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/settings\.json: summariseMinIps/);
  });
});
