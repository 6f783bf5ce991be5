/**
 * Delivery evidence through the offline audit, on a written export: a VPC-level and an ENI-level
 * flow log that both record an ENI count its connections once, and a flow log whose objects are
 * missing from the export calls no rule unused.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditReport } from '../../shared/report/model';
import { gzipLines, line, objectName, T0, write } from '../adapters/local/duckdb/flow-log-objects';
import { runCli } from '../support/cli-run';

const HAND_EXPORT = path.join(__dirname, '../fixtures/hand-export');
const VPC_LOG = 'fl-0a1b2c3d4e5f67890';
const ENI_LOG = 'fl-0e0e0e0e0e0e0e0e0';
/** The ALB's ENI and address in the hand export. */
const ALB_ENI = 'eni-0f1e2d3c4b5a69781';
const ALB_IP = '10.20.0.15';

let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'sg-audit-evidence-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The hand export without its flow-log objects, with an ENI-level flow log on the ALB beside the VPC's. */
function exportWithTwoLogs(name: string): string {
  const dir = path.join(root, name);
  cpSync(HAND_EXPORT, dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}flowlogs`) });
  const flowLogs = JSON.parse(readFileSync(path.join(dir, 'flow-logs.json'), 'utf8')) as {
    FlowLogs: Record<string, unknown>[];
  };
  // Both logs created before the window (the export's own log dates from 2025, the window from 2024).
  const vpcLog = { ...flowLogs.FlowLogs[0], CreationTime: '2024-01-01T00:00:00Z' };
  flowLogs.FlowLogs = [vpcLog, { ...vpcLog, FlowLogId: ENI_LOG, ResourceId: ALB_ENI }];
  writeFileSync(path.join(dir, 'flow-logs.json'), JSON.stringify(flowLogs));
  return dir;
}

async function audit(input: string, out: string): Promise<AuditReport> {
  const result = await runCli(
    [
      'audit',
      '--input',
      input,
      '--out',
      out,
      '--format',
      'json',
      '--end',
      new Date((T0 + 3600) * 1000).toISOString(),
      '--days',
      '0.05',
      '-q',
    ],
    { now: () => new Date((T0 + 86_400) * 1000) },
  );
  expect(result.stderr).toBe('');
  return JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as AuditReport;
}

describe('delivery evidence of an offline audit', () => {
  it('counts a connection once when a VPC-level and an ENI-level flow log both recorded it', async () => {
    // Prepare: the same two HTTPS connections to the ALB, delivered by both flow logs.
    const input = exportWithTwoLogs('both');
    const records = [
      line(ALB_ENI, '198.51.100.7', ALB_IP, 50_000, 443, T0 + 60),
      line(ALB_ENI, ALB_IP, '198.51.100.7', 443, 50_000, T0 + 60),
      line(ALB_ENI, '198.51.100.8', ALB_IP, 50_001, 443, T0 + 120),
      line(ALB_ENI, ALB_IP, '198.51.100.8', 443, 50_001, T0 + 120),
    ];
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    for (const log of [VPC_LOG, ENI_LOG]) {
      write(path.join(input, 'flowlogs'), objectName(T0 + 600, log), gzipLines([header, ...records]));
    }

    // Act
    const report = await audit(input, path.join(root, 'both-out'));

    // Assess
    const alb = report.securityGroups.find((sg) => sg.name === 'shop-alb-sg');
    const https = alb?.rules.find(
      (r) => r.direction === 'ingress' && r.fromPort === 443 && r.peer === '0.0.0.0/0',
    );
    expect(https?.usage).toMatchObject({ status: 'used', connections: 2, distinctPeers: 2 });
    expect(report.summary.flowRecords).toBe(8);
    expect(report.warnings.find((w) => w.code === 'flow-logs-overlap')?.message).toMatch(
      new RegExp(`${ALB_ENI}: ${ENI_LOG} read, ${VPC_LOG} left out, 4 records`),
    );
  });

  it('calls no rule unused when a flow log’s objects are missing from the export, and says so first', async () => {
    // Prepare: only the ENI-level log delivered; the VPC's log, covering every other ENI, delivered nothing.
    const input = exportWithTwoLogs('missing');
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    write(
      path.join(input, 'flowlogs'),
      objectName(T0 + 600, ENI_LOG),
      gzipLines([header, line(ALB_ENI, '198.51.100.7', ALB_IP, 50_000, 443, T0 + 60)]),
    );

    // Act
    const report = await audit(input, path.join(root, 'missing-out'));

    // Assess
    const statuses = report.securityGroups.flatMap((sg) =>
      sg.name === 'shop-alb-sg' ? [] : sg.rules.map((r) => r.usage.status),
    );
    expect(statuses).not.toContain('unused');
    expect(report.summary.rulesByVerdict.remove).toBe(0);
    expect(report.warnings[0]).toMatchObject({ code: 'flow-log-silent' });
    expect(report.warnings[0]?.message).toContain(VPC_LOG);
    expect(report.delivery?.flowLogs.map((f) => [f.flowLogId, f.status])).toEqual([
      [VPC_LOG, 'silent'],
      [ENI_LOG, 'complete'],
    ]);
  });
});
