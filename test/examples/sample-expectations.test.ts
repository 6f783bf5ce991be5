/**
 * The bundled sample account's EXPECTED.json against what the offline audit of it reports: every
 * rule's status and verdict, every ENI's coverage, the delivery gap named where the Parquet flow
 * log delivered nothing, and who opened the rules (cloudtrail-events.json) — in every output.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
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

interface ExpectedChange {
  readonly sgId: string;
  readonly sgName: string;
  readonly direction: string;
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly peer: string;
  readonly kind: string;
  readonly principalArn: string;
  readonly channel: string;
  readonly eventTime: string;
}

interface Expected {
  readonly securityGroups: readonly { id: string; name: string; rules: readonly ExpectedRule[] }[];
  readonly networkInterfaces: readonly { id: string; key: string; coverage: string }[];
  readonly flowLogs: readonly { id: string; deliveryGap?: { from: string; to: string } }[];
  readonly ruleChanges: { readonly start: string; readonly attributed: readonly ExpectedChange[] };
}

let out: string;
let report: AuditReport;
let stdout = '';
const expected = JSON.parse(readFileSync(path.join(SAMPLE, 'EXPECTED.json'), 'utf8')) as Expected;

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'sg-audit-sample-expected-'));
  const code = await main(['audit', '--input', SAMPLE, '--out', out, '-q'], {
    version: 'test',
    stdout: {
      write: (text: string) => {
        stdout += text;
        return true;
      },
    },
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

describe("who opened the rules, from the sample account's cloudtrail-events.json", () => {
  const sameRule = (c: ExpectedChange) => (r: AuditReport['securityGroups'][number]['rules'][number]) =>
    r.direction === c.direction &&
    r.protocol === c.protocol &&
    r.fromPort === c.fromPort &&
    r.toPort === c.toPort &&
    r.peer === c.peer;

  it('credits every rule EXPECTED.json lists to its event, and calls the rest older than the history', () => {
    // Act
    const wrong = expected.ruleChanges.attributed.flatMap((c) => {
      const rule = report.securityGroups.find((sg) => sg.id === c.sgId)?.rules.find(sameRule(c));
      const got = rule?.change;
      return got?.kind === c.kind &&
        got.principalArn === c.principalArn &&
        got.channel === c.channel &&
        got.eventTime === c.eventTime
        ? []
        : [`${c.sgName} ${c.direction} ${c.protocol} ${c.fromPort ?? ''} ${c.peer}: ${got?.text}`];
    });
    const attributed = new Set(
      expected.ruleChanges.attributed.map((c) => {
        const rule = report.securityGroups.find((sg) => sg.id === c.sgId)?.rules.find(sameRule(c));
        return rule?.id;
      }),
    );
    const others = report.securityGroups.flatMap((sg) => sg.rules).filter((r) => !attributed.has(r.id));

    // Assess
    expect(wrong).toEqual([]);
    expect(others.length).toBeGreaterThan(0);
    expect(new Set(others.map((r) => r.change?.text))).toEqual(
      new Set([
        `before ${expected.ruleChanges.start.slice(0, 10)} (outside CloudTrail's 90-day event history)`,
      ]),
    );
    expect(report.changeHistory).toMatchObject({
      source: 'cloudtrail-export',
      complete: true,
      attributedRules: expected.ruleChanges.attributed.length,
      unknownRules: 0,
    });
  });

  it('shows who opened the world-open SSH, and its fix, in every output', async () => {
    // Prepare
    const who =
      'opened by assumed-role/Admin/jiwoo.park via console on 2026-10-21 06:42 UTC from 203.0.113.45';
    const arn = 'arn:aws:sts::123456789012:assumed-role/Admin/jiwoo.park';
    const file = (name: string) => readFileSync(path.join(out, name), 'utf8');
    const ssh = report.findings.find((f) => f.check === 'sensitive-port-world' && f.fromPort === 22);

    // Act
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(readFileSync(path.join(out, 'report.xlsx')) as unknown as ExcelJS.Buffer);
    const cells = workbook.worksheets.flatMap((sheet) =>
      sheet.getSheetValues().flatMap((row) => (Array.isArray(row) ? row.map((v) => String(v ?? '')) : [])),
    );

    // Assess
    expect(ssh?.change?.text).toBe(who);
    expect(ssh?.fix?.action).toBe('replace');
    expect(file('findings.csv')).toContain(`${arn},2026-10-21T06:42:10Z,console`);
    expect(file('rules.csv')).toContain(`${arn},2026-10-21T06:42:10Z,console`);
    expect(file('report.html')).toContain(who);
    expect(file('summary.md')).toContain(who);
    expect(file('findings.ocsf.json')).toContain(arn);
    expect(stdout).toContain(who);
    expect(cells).toContain(who);
    expect(cells).toContain(arn);
  });

  it('lists the used world-open SSH first, before the SG nothing carries', () => {
    // Act
    const critical = report.findings.filter((f) => f.severity === 'critical');

    // Assess
    expect(critical[0]).toMatchObject({ sgName: 'prod-bastion-sg', fromPort: 22, ruleStatus: 'used' });
    expect(critical.at(-1)?.sgName).toBe('temp-migration-sg');
  });

  it("recommends the S3 prefix list for the ingest workers' uploads, not single addresses", () => {
    // Act
    const ingest = report.securityGroups.find((sg) => sg.name === 'prod-ingest-sg');

    // Assess
    expect(ingest?.recommendations.filter((r) => r.direction === 'egress').map((r) => r.text)).toEqual([
      '- allow tcp port 443 to pl-78a54011 (com.amazonaws.ap-northeast-2.s3)',
    ]);
  });
});
