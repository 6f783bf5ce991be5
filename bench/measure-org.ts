/**
 * The organization roll-up at scale, in its own process (peak RSS is this run's alone):
 *   measure-org.ts N     N generated targets (accounts × 17 regions): most regions of an account
 *                        nearly empty (2 SGs), some with a workload (20 SGs), a few large
 *                        (200 SGs), 2 % gaps. Each target's report.json is serialised once as the
 *                        analyze step stores it, then read back (JSON.parse) and added to the
 *                        roll-up one at a time, as the roll-up step does; then the organization
 *                        report is finished (compared with a previous one) and rendered.
 * Prints one JSON line of timings, sizes and peak RSS.
 */
import { runAudit } from '../shared/audit';
import { DEFAULT_CONFIG } from '../shared/config';
import type { TimeWindow } from '../shared/model/flow';
import type { OrgTarget } from '../shared/org/model';
import { OrgRollup } from '../shared/org/rollup';
import { targetGap } from '../shared/org/targets';
import { renderOrgReport } from '../shared/render/org';
import type { AuditReport } from '../shared/report/model';
import { inMemoryFlowSource, syntheticAccount } from './synthetic-account';

const n = Number(process.argv[2]);
if (!Number.isSafeInteger(n) || n < 1) throw new Error('usage: measure-org.ts N');

const REGIONS = [
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
] as const;
const T0 = 1_767_225_600;
const window: TimeWindow = { start: T0, end: T0 + 7 * 86400 - 1 };

/** One audited report of a synthetic account of `sgs` SGs, serialised as analyze stores it. */
async function reportText(sgs: number): Promise<string> {
  const account = syntheticAccount({ securityGroups: sgs, window });
  const flowSource = inMemoryFlowSource(account);
  const report = await runAudit({
    inventory: account.inventory,
    flowSource,
    window,
    scope: { vpcIds: [], sgIds: [] },
    config: DEFAULT_CONFIG,
    mode: 'live',
    runId: `bench-org-${sgs}`,
    generatedAt: new Date((T0 + 7 * 86400) * 1000),
    toolVersion: 'bench',
  });
  return JSON.stringify(report);
}

const generateStarted = performance.now();
const sizes = { small: 2, medium: 20, large: 200 } as const;
const texts = {
  small: await reportText(sizes.small),
  medium: await reportText(sizes.medium),
  large: await reportText(sizes.large),
};
const generateMs = performance.now() - generateStarted;

/** Target i: its account and region, and what it holds (deterministic mix). */
function targetOf(i: number): { target: OrgTarget; kind: 'small' | 'medium' | 'large' | 'gap' } {
  const target = {
    accountId: String(100_000_000_000 + Math.floor(i / REGIONS.length)),
    region: REGIONS[i % REGIONS.length] as string,
  };
  const bucket = (i * 7919) % 100;
  const kind = bucket < 2 ? 'gap' : bucket < 7 ? 'large' : bucket < 32 ? 'medium' : 'small';
  return { target, kind };
}

function rollUp(runId: string, previous?: ReturnType<OrgRollup['finish']>['report']) {
  const rollup = new OrgRollup({
    runId,
    generatedAt: new Date(),
    tool: { name: 'sg-audit', version: 'bench' },
  });
  let readMs = 0;
  let addMs = 0;
  let reportBytes = 0;
  const counts = { small: 0, medium: 0, large: 0, gap: 0 };
  for (let i = 0; i < n; i += 1) {
    const { target, kind } = targetOf(i);
    counts[kind] += 1;
    if (kind === 'gap') {
      rollup.addGap(
        target,
        targetGap({ name: 'MemberRoleError', message: 'cannot assume the member role' }, 'Discover'),
      );
      continue;
    }
    const text = texts[kind];
    reportBytes += Buffer.byteLength(text);
    const read = performance.now();
    const report = JSON.parse(text) as AuditReport;
    const added = performance.now();
    rollup.addAudit(
      target,
      { ...report, account: { id: target.accountId, region: target.region } },
      `${target.accountId}/${target.region}/report.html`,
    );
    readMs += added - read;
    addMs += performance.now() - added;
  }
  const finishStarted = performance.now();
  const result = rollup.finish(previous);
  const finishMs = performance.now() - finishStarted;
  return { result, readMs, addMs, finishMs, reportBytes, counts };
}

const lastWeek = rollUp('bench-org-1').result.report;
const rolled = rollUp('bench-org-2', lastWeek);
const renderStarted = performance.now();
const files = renderOrgReport(rolled.result.report, rolled.result.tables, { reportRoot: '../../../../../' });
const renderMs = performance.now() - renderStarted;
const bytes = Object.fromEntries(
  files.map((f) => [f.name, typeof f.body === 'string' ? Buffer.byteLength(f.body) : f.body.length]),
);

process.stdout.write(
  `${JSON.stringify({
    targets: n,
    accounts: new Set(Array.from({ length: n }, (_, i) => targetOf(i).target.accountId)).size,
    regions: REGIONS.length,
    mix: rolled.counts,
    reportBytesBySize: Object.fromEntries(Object.entries(texts).map(([k, t]) => [k, Buffer.byteLength(t)])),
    reportBytesRead: rolled.reportBytes,
    findingsRows: rolled.result.tables[0]?.rows.length ?? 0,
    generateMs: Math.round(generateMs),
    readMs: Math.round(rolled.readMs),
    addMs: Math.round(rolled.addMs),
    finishMs: Math.round(rolled.finishMs),
    renderMs: Math.round(renderMs),
    outputBytes: bytes,
    gapsReported: rolled.result.report.totals.gaps,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
