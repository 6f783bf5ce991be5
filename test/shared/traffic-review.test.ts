/**
 * The traffic views through runAudit on plain data: the same aggregates as the rule usage, the
 * report's rejected and egress sections, their findings and warnings, and the verdict of a rule
 * whose admitted traffic the NACL refused.
 */
import { runAudit } from '../../shared/audit';
import { DEFAULT_CONFIG } from '../../shared/config';
import type { FlowAggregate, FlowAggregateSource, FlowQuery } from '../../shared/model/flow';
import type { AuditReport } from '../../shared/report/model';
import { auditReportSchema } from '../../shared/report/schema';
import { parseEgressAllowList } from '../../shared/suppressions/egress-allowlist';
import { deliveredEveryDay } from '../../testkit/delivery';
import { WINDOW } from '../../testkit/inventory-builder';
import { TRAFFIC_ACCOUNT } from '../support/traffic-account';

const GENERATED = new Date('2026-11-20T00:00:00Z');

/** A flow source on plain data, every ENI's delivery proven every day, that counts its queries. */
class FixedFlowSource implements FlowAggregateSource {
  queries = 0;
  constructor(private readonly rows: readonly FlowAggregate[]) {}
  async aggregate(query: FlowQuery) {
    this.queries++;
    return {
      aggregates: this.rows.filter((r) => query.eniIds.includes(r.eniId)),
      stats: {
        engine: 'fixed',
        sources: ['fl-1'],
        files: 1,
        records: this.rows.reduce((n, r) => n + r.records, 0),
        nodataRecords: 0,
        skipdataRecords: 0,
        malformedRecords: 0,
        malformedSamples: [],
        queries: 1,
        bytesScanned: 0,
        enisWithRecords: [],
        warnings: [],
        deliveries: TRAFFIC_ACCOUNT.networkInterfaces.flatMap((eni) =>
          deliveredEveryDay('fl-1', eni.id, WINDOW),
        ),
        flowLogIds: ['fl-1'],
      },
    };
  }
}

/** One folded-by-the-engine row: a request with its SYN, decided by flags. */
function row(
  fields: Partial<FlowAggregate> & Pick<FlowAggregate, 'eniId' | 'clientAddr' | 'serverAddr'>,
): FlowAggregate {
  return {
    action: 'ACCEPT',
    protocol: 6,
    serverPort: 443,
    clientPort: null,
    evidence: 'flags',
    records: 2,
    requestRecords: 1,
    synRecords: 1,
    packets: 10,
    bytes: 1000,
    firstSeen: WINDOW.start + 3600,
    lastSeen: WINDOW.start + 3660,
    distinctClientPorts: 1,
    ...fields,
  };
}

const ROWS: readonly FlowAggregate[] = [
  // The app server uses the database, and uploads to an address nobody expects.
  row({ eniId: 'eni-db', clientAddr: '10.0.1.10', serverAddr: '10.0.2.10', serverPort: 5432 }),
  row({ eniId: 'eni-app1', clientAddr: '10.0.1.10', serverAddr: '10.0.2.10', serverPort: 5432 }),
  row({ eniId: 'eni-app1', clientAddr: '10.0.1.10', serverAddr: '45.139.122.9', bytes: 90_000 }),
  row({ eniId: 'eni-app1', clientAddr: '10.0.1.10', serverAddr: '211.115.106.10' }),
  // 10.9.0.5 retries its SYNs: sg-db admits it, the data subnet's NACL does not.
  row({
    eniId: 'eni-db',
    action: 'REJECT',
    clientAddr: '10.9.0.5',
    serverAddr: '10.0.2.10',
    serverPort: 5432,
    records: 6,
    requestRecords: 6,
    synRecords: 6,
    distinctClientPorts: 3,
  }),
  // An internet scan on the web server.
  row({
    eniId: 'eni-web',
    action: 'REJECT',
    clientAddr: '198.51.100.7',
    serverAddr: '10.0.1.20',
    serverPort: 22,
    evidence: 'well-known',
    records: 1,
    requestRecords: 1,
    synRecords: 0,
  }),
];

const ALLOW_LIST = parseEgressAllowList(
  `version: 1
destinations:
  - id: partner
    owner: integrations
    reason: partner API
    expires: 2030-12-31
    match: { cidr: 211.115.106.0/24, ports: 443 }
`,
  'egress-allowlist.yaml',
);

async function audit(withAllowList: boolean): Promise<{ report: AuditReport; source: FixedFlowSource }> {
  const source = new FixedFlowSource(ROWS);
  const report = await runAudit({
    inventory: TRAFFIC_ACCOUNT,
    flowSource: source,
    window: WINDOW,
    scope: { vpcIds: [], sgIds: [] },
    config: DEFAULT_CONFIG,
    mode: 'offline',
    runId: 'r1',
    generatedAt: GENERATED,
    toolVersion: 'test',
    ...(withAllowList ? { egressAllowList: ALLOW_LIST } : {}),
  });
  return { report, source };
}

describe('runAudit traffic views', () => {
  it('reads refused and egress traffic from the one aggregation the rule usage reads', async () => {
    // Act
    const { report, source } = await audit(true);

    // Assess
    expect(source.queries).toBe(1);
    expect(report.rejected?.byClass).toEqual({ 'missing-rule': 0, nacl: 3, probe: 1 });
    expect(report.egress?.destinations.map((d) => [d.destination, d.expected])).toEqual([
      ['45.139.122.0/24', 'no'],
      ['211.115.106.0/24', 'yes'],
    ]);
    expect(auditReportSchema.safeParse(report).success).toBe(true);
  });

  it('keeps an unused rule whose admitted traffic the NACL refused for review, naming the NACL entry', async () => {
    // Act
    const { report } = await audit(false);
    const rule = report.securityGroups
      .find((sg) => sg.id === 'sg-db')
      ?.rules.find((r) => r.id === 'sg-db/ingress/tcp/5432-5432/10.9.0.0/16');

    // Assess
    expect(rule?.usage).toMatchObject({ status: 'unused', verdict: 'review' });
    expect(rule?.usage.verdictReason).toContain('acl-data inbound rule 32767 (*)');
    expect(report.findings.find((f) => f.check === 'rejected-by-nacl')).toMatchObject({
      ruleId: 'sg-db/ingress/tcp/5432-5432/10.9.0.0/16',
      severity: 'low',
    });
  });

  it('finds unexpected egress only against an allow-list, and blocked probing either way', async () => {
    // Act
    const without = (await audit(false)).report;
    const withList = (await audit(true)).report;
    const checks = (r: AuditReport) => r.findings.map((f) => `${f.check}:${f.severity}:${f.sgId}`).sort();

    // Assess
    expect(checks(without).filter((c) => c.startsWith('unexpected-egress'))).toEqual([]);
    expect(checks(withList)).toEqual(
      expect.arrayContaining(['unexpected-egress:medium:sg-app', 'rejected-probe:info:sg-web']),
    );
    expect(without.egress?.destinations.every((d) => d.expected === 'unreviewed')).toBe(true);
  });
});
