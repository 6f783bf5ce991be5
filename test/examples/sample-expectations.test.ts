/**
 * The bundled sample account's EXPECTED.json against what the offline audit of it reports: every
 * rule's status and verdict, every ENI's coverage, and the delivery gap named where the Parquet
 * flow log delivered nothing.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../cli/main';
import type { AuditReport } from '../../shared/report/model';

const SAMPLE = path.join(__dirname, '../../examples/sample-account');
const sink = { write: () => true };

interface ExpectedRule {
  readonly direction: string;
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly peer: string;
  readonly status: string;
  readonly verdicts: readonly string[];
}

interface Expected {
  readonly securityGroups: readonly { id: string; name: string; rules: readonly ExpectedRule[] }[];
  readonly networkInterfaces: readonly { id: string; key: string; coverage: string }[];
  readonly flowLogs: readonly { id: string; deliveryGap?: { from: string; to: string } }[];
}

let out: string;
let report: AuditReport;
const expected = JSON.parse(readFileSync(path.join(SAMPLE, 'EXPECTED.json'), 'utf8')) as Expected;

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'sg-audit-sample-expected-'));
  const code = await main(['audit', '--input', SAMPLE, '--out', out, '--format', 'json', '-q'], {
    version: 'test',
    stdout: sink,
    stderr: sink,
  });
  expect(code).toBe(0);
  report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as AuditReport;
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the sample account audited offline', () => {
  it('gives every rule the status EXPECTED.json says and one of its acceptable verdicts', () => {
    // Act
    const wrong = expected.securityGroups.flatMap((sg) => {
      const audited = report.securityGroups.find((s) => s.id === sg.id);
      return sg.rules.flatMap((rule) => {
        const found = audited?.rules.filter(
          (r) =>
            r.direction === rule.direction &&
            r.protocol === rule.protocol &&
            r.fromPort === rule.fromPort &&
            r.toPort === rule.toPort &&
            r.peer === rule.peer,
        );
        const usage = found?.length === 1 ? found[0]?.usage : undefined;
        return usage !== undefined && usage.status === rule.status && rule.verdicts.includes(usage.verdict)
          ? []
          : [
              `${sg.name} ${rule.direction} ${rule.protocol} ${rule.fromPort ?? ''} ${rule.peer}: ${usage?.status}/${usage?.verdict}`,
            ];
      });
    });

    // Assess
    expect(wrong).toEqual([]);
  });

  it('gives every ENI the coverage EXPECTED.json says', () => {
    // Act
    const coverage = new Map(report.resources.map((r) => [r.eniId, r.coverage]));
    const wrong = expected.networkInterfaces.filter((eni) => coverage.get(eni.id) !== eni.coverage);

    // Assess
    expect(wrong.map((e) => `${e.key}: ${coverage.get(e.id)}`)).toEqual([]);
  });

  it('names the Parquet flow log’s delivery gap on the rule it leaves unknown, never unused', () => {
    // Prepare
    const gapped = expected.flowLogs.filter((f) => f.deliveryGap !== undefined);
    const analytics = report.securityGroups.find((sg) => sg.name === 'analytics-db-sg');

    // Act
    const unseen = analytics?.rules.find((r) => r.peer === '10.1.30.0/24')?.usage;

    // Assess
    expect(gapped).toHaveLength(1);
    const [log] = gapped;
    expect(unseen).toMatchObject({ status: 'unknown', verdict: 'review', connections: 0 });
    expect(unseen?.statusReason).toContain(
      `no records from ${log?.id} ${log?.deliveryGap?.from} – ${log?.deliveryGap?.to}`,
    );
    expect(report.delivery?.flowLogs.find((f) => f.flowLogId === log?.id)?.status).toBe('gaps');
    expect(report.warnings[0]).toMatchObject({ code: 'delivery-gap' });
  });
});
