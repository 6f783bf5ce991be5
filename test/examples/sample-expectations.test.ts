/**
 * The bundled sample account's EXPECTED.json against what the offline audit of it reports: every
 * rule's status and verdict, every ENI's coverage, the delivery gap named where the Parquet
 * flow log delivered nothing, who opened the rules (cloudtrail-events.json), and the traffic views
 * (rejected connections by class, unexpected egress) in every output, audited as `npm start`
 * does, with the sample's egress allow-list.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { main } from '../../cli/main';
import type { RejectedConnection } from '../../shared/model/rejected';
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

interface ExpectedRejected {
  readonly class: string;
  readonly eniIds: readonly string[];
  readonly direction: string;
  readonly protocol?: string;
  readonly port?: number;
  readonly peers?: readonly string[];
  readonly suggestionSgId?: string;
  readonly nacl?: { naclId: string; ruleNumber: number };
}

interface ExpectedEgress {
  readonly sgId: string;
  readonly destination: string;
  readonly protocol: string;
  readonly port: number;
  readonly expected: string;
  readonly allowListId?: string;
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
  readonly egressAllowList: string;
  readonly rejected: readonly ExpectedRejected[];
  readonly egress: readonly ExpectedEgress[];
  readonly ruleChanges: { readonly start: string; readonly attributed: readonly ExpectedChange[] };
}

let out: string;
let report: AuditReport;
let consoleSummary = '';
const expected = JSON.parse(readFileSync(path.join(SAMPLE, 'EXPECTED.json'), 'utf8')) as Expected;

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'sg-audit-sample-expected-'));
  const allowList = path.join(SAMPLE, expected.egressAllowList);
  const stdout = {
    write: (text: string) => {
      consoleSummary += text;
      return true;
    },
  };
  const code = await main(
    ['audit', '--input', SAMPLE, '--egress-allowlist', allowList, '--out', out, '--format', 'all', '-q'],
    { version: 'test', stdout, stderr: sink },
  );
  expect(code).toBe(0);
  report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as AuditReport;
});

/** The report's rejected rows an expectation names. */
function rowsOf(e: ExpectedRejected): RejectedConnection[] {
  return (report.rejected?.rows ?? []).filter(
    (r) =>
      r.class === e.class &&
      e.eniIds.includes(r.eniId) &&
      r.direction === e.direction &&
      (e.protocol === undefined || r.protocol === e.protocol) &&
      (e.port === undefined || r.port === e.port) &&
      (e.peers === undefined || e.peers.includes(r.peer)),
  );
}

function expectedOf(kind: string): ExpectedRejected {
  const found = expected.rejected.find((e) => e.class === kind);
  if (found === undefined) throw new Error(`EXPECTED.json names no ${kind} rejected connection`);
  return found;
}

function fileOf(name: string): string {
  return readFileSync(path.join(out, name), 'utf8');
}
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

describe('the sample account’s traffic views', () => {
  it('finds the blocked internal connection as a missing rule, with the rule to review on the refusing SG', () => {
    // Prepare
    const missing = expectedOf('missing-rule');

    // Act
    const rows = rowsOf(missing);
    const findings = report.findings.filter(
      (f) => f.check === 'rejected-missing-rule' && f.sgId === missing.suggestionSgId,
    );

    // Assess
    expect(new Set(rows.map((r) => r.peer))).toEqual(new Set(missing.peers));
    for (const row of rows) {
      expect(row.suggestion).toMatchObject({ sgId: missing.suggestionSgId, basis: 'served-to-others' });
      expect(row.suggestion?.text).toBe(`- allow tcp port ${missing.port} to ${row.peer}`);
      expect(row.connections).toBeGreaterThanOrEqual(3);
    }
    expect(findings.map((f) => f.peer).sort()).toEqual((missing.peers ?? []).map((p) => `${p}/32`).sort());
  });

  it('tells the NACL-blocked connection apart and names the NACL entry that refused it', () => {
    // Prepare
    const blocked = expectedOf('nacl');

    // Act
    const rows = rowsOf(blocked);

    // Assess
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.nacl).toMatchObject(blocked.nacl ?? {});
      expect(row.admittedBy?.length).toBeGreaterThan(0);
      expect(row.suggestion).toBeUndefined();
    }
    expect(report.findings.filter((f) => f.check === 'rejected-by-nacl').map((f) => f.ruleId)).toEqual(
      rows[0]?.admittedBy,
    );
  });

  it('counts the internet probes on every scanned ENI, lists top sources and ports, and suggests no rule', () => {
    // Prepare
    const probes = expectedOf('probe');

    // Act
    const rows = rowsOf(probes);
    const probed = new Set(rows.map((r) => r.eniId));

    // Assess
    expect([...probed].sort()).toEqual([...probes.eniIds].sort());
    expect(rows.every((r) => r.suggestion === undefined)).toBe(true);
    expect(rows.filter((r) => r.origin !== 'internet')).toEqual([]);
    expect(report.rejected?.topPorts.map((p) => `${p.protocol}/${p.port}`)).toContain('tcp/22');
    expect(report.rejected?.topSources.length).toBeGreaterThan(0);
  });

  it('shows the unexpected egress destination, and the allow-listed ones as expected', () => {
    // Act
    const found = expected.egress.map((e) =>
      report.egress?.destinations.find(
        (d) => d.sgId === e.sgId && d.destination === e.destination && d.port === e.port,
      ),
    );

    // Assess
    expect(found.map((d) => [d?.expected, d?.allowListId])).toEqual(
      expected.egress.map((e) => [e.expected, e.allowListId]),
    );
    const unexpected = expected.egress.filter((e) => e.expected === 'no');
    expect(
      report.findings
        .filter((f) => f.check === 'unexpected-egress')
        .map((f) => [f.sgId, f.peer, f.fromPort, f.severity]),
    ).toEqual(unexpected.map((e) => [e.sgId, e.destination, e.port, 'medium']));
  });

  it("reads the container's packet-level address as the monitoring ENI's own and groups its egress by the service the flow log names", () => {
    // Prepare: the shared app subnet's format carries pkt-srcaddr/pkt-dstaddr and pkt-*-aws-service;
    // the container's address is a secondary private IP of the monitoring ENI.
    const dynamodb = report.egress?.destinations.find((d) => d.destination === 'AWS DYNAMODB');

    // Assess: attributed to the ENI (no pass-through rows), grouped by the service, in every output.
    expect(report.warnings.map((w) => w.code)).not.toContain('pass-through-traffic');
    expect(dynamodb).toMatchObject({
      kind: 'aws-service',
      service: 'DYNAMODB',
      addresses: 2,
      expected: 'yes',
    });
    for (const name of ['egress.csv', 'summary.md', 'report.html']) {
      expect([name, fileOf(name).includes('AWS DYNAMODB')]).toEqual([name, true]);
    }
  });

  it('shows each of them in every output: report.json, the CSVs, report.xlsx, summary.md, report.html, OCSF and the console', async () => {
    // Prepare
    const [missing, blocked] = [expectedOf('missing-rule'), expectedOf('nacl')];
    const unexpected = expected.egress.find((e) => e.expected === 'no');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(path.join(out, 'report.xlsx'));
    const sheetText = (name: string) =>
      (workbook.getWorksheet(name)?.getSheetValues() ?? []).map((row) => JSON.stringify(row)).join('\n');
    const outputs: Record<string, string> = {
      'rejected.csv': fileOf('rejected.csv'),
      'Rejected sheet': sheetText('Rejected'),
      'summary.md': fileOf('summary.md'),
      'report.html': fileOf('report.html'),
    };

    // Act / Assess: the refused connections by class …
    for (const [name, text] of Object.entries(outputs)) {
      expect([
        name,
        text.includes(String(missing.peers?.[0])) && text.includes(String(missing.port)),
      ]).toEqual([name, true]);
      expect([name, text.includes('probe') || text.includes('probing')]).toEqual([name, true]);
    }
    for (const name of ['rejected.csv', 'Rejected sheet']) {
      for (const kind of ['missing-rule', 'nacl', 'probe'])
        expect([name, outputs[name]?.includes(kind)]).toEqual([name, true]);
    }
    for (const name of ['summary.md', 'report.html']) {
      expect([name, outputs[name]?.includes(String(blocked.nacl?.naclId))]).toEqual([name, true]);
    }
    // … and the unexpected destination.
    const egressOutputs = {
      'egress.csv': fileOf('egress.csv'),
      'Egress sheet': sheetText('Egress'),
      'summary.md': fileOf('summary.md'),
      'report.html': fileOf('report.html'),
      'findings.csv': fileOf('findings.csv'),
      'findings.ocsf.json': fileOf('findings.ocsf.json'),
    };
    for (const [name, text] of Object.entries(egressOutputs)) {
      expect([name, text.includes(String(unexpected?.destination))]).toEqual([name, true]);
    }
    expect(fileOf('egress.csv')).toContain(`${unexpected?.sgId},${unexpected?.destination},tcp,443,`);
    for (const check of [
      'rejected-missing-rule',
      'rejected-by-nacl',
      'rejected-probe',
      'unexpected-egress',
    ]) {
      expect([
        check,
        fileOf('findings.csv').includes(check),
        fileOf('findings.ocsf.json').includes(check),
      ]).toEqual([check, true, true]);
    }
    expect(consoleSummary).toMatch(/refused\s+missing [1-9]/);
    expect(consoleSummary).toMatch(/egress\s+groups \d+\s+unexpected 1/);
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
    expect(consoleSummary).toContain(who);
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
