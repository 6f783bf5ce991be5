/**
 * Core scaling, one size per process (so peak RSS is this size's alone):
 *   measure-core.ts N          the synthetic account of N SGs: runAudit over a plain in-memory
 *                              flow source, then every renderer
 *   measure-core.ts nacl N     recommendNacls alone on N matched connections (testkit/nacl-input.ts)
 * Prints one JSON line of timings, sizes and peak RSS.
 */

import { recommendNacls } from '../shared/analysis/nacl';
import { runAudit } from '../shared/audit';
import { DEFAULT_CONFIG } from '../shared/config';
import type { TimeWindow } from '../shared/model/flow';
import { OUTPUT_FORMATS, renderReport } from '../shared/render';
import { naclInput } from '../testkit/nacl-input';
import { inMemoryFlowSource, syntheticAccount } from './synthetic-account';

if (process.argv[2] === 'nacl') {
  const connections = Number(process.argv[3]);
  if (!Number.isSafeInteger(connections) || connections < 1) throw new Error('usage: measure-core.ts nacl N');
  const input = naclInput(connections, 42);
  const started = performance.now();
  const rules = recommendNacls(input.inventory, input.matched, input.context, DEFAULT_CONFIG);
  const naclMs = performance.now() - started;
  const nacl = {
    connections,
    peers: input.peers,
    rules: rules.length,
    naclMs: Math.round(naclMs),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(nacl)}\n`);
  process.exit(0);
}

const n = Number(process.argv[2]);
if (!Number.isSafeInteger(n) || n < 1) throw new Error('usage: measure-core.ts N | measure-core.ts nacl N');

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
const window: TimeWindow = { start: T0, end: T0 + 7 * 86400 - 1 };

const generateStarted = performance.now();
const account = syntheticAccount({ securityGroups: n, window });
const generateMs = performance.now() - generateStarted;

/** The rows of the ENIs asked for, as a flow engine would return them: no engine cost. */
const flowSource = inMemoryFlowSource(account);

const phases: Record<string, number> = {};
let last = performance.now();
const analysisStarted = last;
const report = await runAudit({
  inventory: account.inventory,
  flowSource,
  window,
  scope: { vpcIds: [], sgIds: [] },
  config: DEFAULT_CONFIG,
  mode: 'offline',
  runId: `bench-core-${n}`,
  generatedAt: new Date(T0 * 1000 + 7 * 86400 * 1000),
  toolVersion: 'bench',
  progress: (message) => {
    const now = performance.now();
    phases[message.split(':')[0] ?? message] = Math.round(now - last);
    last = now;
  },
});
const analysisMs = performance.now() - analysisStarted;
phases.report = Math.round(performance.now() - last);

const renderMs: Record<string, number> = {};
let bytes = 0;
for (const format of OUTPUT_FORMATS) {
  const started = performance.now();
  const files = await renderReport(report, [format]);
  renderMs[format] = Math.round(performance.now() - started);
  for (const file of files)
    bytes += typeof file.body === 'string' ? Buffer.byteLength(file.body) : file.body.length;
}

const result = {
  securityGroups: n,
  ruleEntries: report.summary.ruleEntries,
  networkInterfaces: account.inventory.networkInterfaces.length,
  aggregateRows: account.aggregates.length,
  findings: report.findings.length,
  generateMs: Math.round(generateMs),
  analysisMs: Math.round(analysisMs),
  phases,
  renderMs,
  renderTotalMs: Object.values(renderMs).reduce((a, b) => a + b, 0),
  outputBytes: bytes,
  rulesByStatus: report.summary.rulesByStatus,
  maxRssMb: process.resourceUsage().maxRSS / 1024,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
