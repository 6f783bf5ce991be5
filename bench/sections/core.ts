/** Part 2 of the benchmark: core scaling, one child process per size (bench/measure-core.ts). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

interface CoreMeasurement {
  securityGroups: number;
  ruleEntries: number;
  networkInterfaces: number;
  aggregateRows: number;
  findings: number;
  generateMs: number;
  analysisMs: number;
  phases: Record<string, number>;
  renderMs: Record<string, number>;
  renderTotalMs: number;
  outputBytes: number;
  maxRssMb: number;
}

interface NaclMeasurement {
  connections: number;
  peers: number;
  rules: number;
  naclMs: number;
  maxRssMb: number;
}

const TARGET_MS = 30_000;
/** Matched connections for the recommendNacls measurement (peers are connections / 20). */
const NACL_CONNECTIONS: readonly number[] = [10_000, 100_000, 1_000_000];
const TARGET_RSS_MB = 2048;

function runMeasureCore<T>(root: string, args: readonly string[]): T {
  const result = spawnSync(
    process.execPath,
    ['--max-old-space-size=4096', '--import', 'tsx', path.join(root, 'bench', 'measure-core.ts'), ...args],
    { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (result.status !== 0)
    throw new Error(`bench/measure-core.ts ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as T;
}

/** The fastest of `repeat` runs by `cost` (this VM's timings vary by ±20 % from run to run). */
function bestOf<T>(repeat: number, run: () => T, cost: (m: T) => number): T {
  let best = run();
  for (let i = 1; i < repeat; i += 1) {
    const next = run();
    if (cost(next) < cost(best)) best = next;
  }
  return best;
}

function measureCore(root: string, n: number, repeat: number): CoreMeasurement {
  return bestOf(
    repeat,
    () => runMeasureCore<CoreMeasurement>(root, [String(n)]),
    (m) => m.analysisMs + m.renderTotalMs,
  );
}

/** recommendNacls alone at each size (one process each), with the growth exponent between sizes. */
function naclPart(root: string, repeat: number): string {
  const runs = NACL_CONNECTIONS.map((connections) => {
    process.stderr.write(`  core: recommendNacls, ${connections} connections …\n`);
    return bestOf(
      repeat,
      () => runMeasureCore<NaclMeasurement>(root, ['nacl', String(connections)]),
      (m) => m.naclMs,
    );
  });
  const n = (value: number) => value.toLocaleString('en-US');
  const rows = runs.map(
    (r) =>
      `| ${n(r.connections)} | ${n(r.peers)} | ${s(r.naclMs)} | ${((r.naclMs * 1000) / r.connections).toFixed(1)} µs | ${r.rules} | ${r.maxRssMb.toFixed(0)} MiB |`,
  );
  const growth: string[] = [];
  for (let i = 1; i < runs.length; i += 1) {
    const a = runs[i - 1] as NaclMeasurement;
    const b = runs[i] as NaclMeasurement;
    const exponent = Math.log(b.naclMs / a.naclMs) / Math.log(b.connections / a.connections);
    growth.push(
      `- ${n(a.connections)} → ${n(b.connections)} connections: ×${(b.naclMs / a.naclMs).toFixed(1)} (exponent ${exponent.toFixed(2)}).`,
    );
  }
  return `NACL recommendations (recommendNacls alone, \`measure-core.ts nacl N\`): N matched connections
across 4 NACLs of 25 ENIs each, N / 20 distinct peers (clustered and scattered public, private, 5 %
IPv6; 2 % of connections between ENIs), 10 service ports and random high ports, 90 % TCP
(testkit/nacl-input.ts, seed 42); each direction compacts to the 20-rule quota.

| connections | peers | recommendNacls | per connection | rules | peak RSS |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Growth (exponent k of time ∝ N^k; 1.0 = linear):
${growth.join('\n')}
`;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const perSg = (ms: number, n: number) => `${((ms * 1000) / n).toFixed(0)} µs`;

/** Runs each size in its own process and returns the results.md section. */
export function coreSection(root: string, sizes: readonly number[], repeat = 1): string {
  const runs = sizes.map((n) => {
    process.stderr.write(`  core: ${n} SGs …\n`);
    return measureCore(root, n, repeat);
  });
  const nacl = naclPart(root, repeat);
  const rows = runs.map((r) => {
    const total = r.analysisMs + r.renderTotalMs;
    const verdict =
      r.securityGroups >= 10_000 ? (total < TARGET_MS && r.maxRssMb < TARGET_RSS_MB ? 'pass' : 'FAIL') : '—';
    return `| ${r.securityGroups.toLocaleString('en-US')} | ${r.ruleEntries.toLocaleString('en-US')} | ${r.networkInterfaces.toLocaleString('en-US')} | ${r.aggregateRows.toLocaleString('en-US')} | ${s(r.analysisMs)} | ${perSg(r.analysisMs, r.securityGroups)} | ${s(r.renderTotalMs)} | ${perSg(r.renderTotalMs, r.securityGroups)} | ${s(total)} | ${r.maxRssMb.toFixed(0)} MiB | ${verdict} |`;
  });
  const phaseNames = [...new Set(runs.flatMap((r) => Object.keys(r.phases)))];
  const formats = [...new Set(runs.flatMap((r) => Object.keys(r.renderMs)))];
  const phaseRows = runs.map(
    (r) =>
      `| ${r.securityGroups.toLocaleString('en-US')} | ${phaseNames.map((p) => s(r.phases[p] ?? 0)).join(' | ')} | ${formats.map((f) => s(r.renderMs[f] ?? 0)).join(' | ')} | ${(r.outputBytes / 2 ** 20).toFixed(0)} MiB |`,
  );
  const growth: string[] = [];
  for (let i = 1; i < runs.length; i += 1) {
    const a = runs[i - 1] as CoreMeasurement;
    const b = runs[i] as CoreMeasurement;
    const exponent = (x: number, y: number) =>
      (Math.log(y / x) / Math.log(b.securityGroups / a.securityGroups)).toFixed(2);
    growth.push(
      `- ${a.securityGroups.toLocaleString('en-US')} → ${b.securityGroups.toLocaleString('en-US')} SGs: analysis ×${(b.analysisMs / a.analysisMs).toFixed(1)} (exponent ${exponent(a.analysisMs, b.analysisMs)}), rendering ×${(b.renderTotalMs / a.renderTotalMs).toFixed(1)} (exponent ${exponent(a.renderTotalMs, b.renderTotalMs)}); 1.0 = linear, 2.0 = quadratic.`,
    );
  }
  // Judged on the largest step, where a quadratic term shows most.
  const last = runs[runs.length - 1];
  const beforeLast = runs[runs.length - 2];
  const lastExponent =
    last && beforeLast
      ? Math.log(last.analysisMs / beforeLast.analysisMs) /
        Math.log(last.securityGroups / beforeLast.securityGroups)
      : 1;
  const linear = lastExponent < 1.2;
  return `## Core scaling (runAudit + every renderer, synthetic accounts)

Synthetic accounts (bench/synthetic-account.ts, deterministic): N SGs in lb → web → app → db
tiers with SG references, world-open and private CIDR rules, 3 managed prefix lists; 1.25 ENIs per
SG (ELB, EC2, Lambda, RDS); one VPC flow log per 1,000 SGs; 50 FlowAggregate rows per SG
(served, initiated, east-west undecided, rejected, DNS, ICMP) from a plain in-memory
FlowAggregateSource (no engine cost). *Analysis* is runAudit (rule index, coverage, fold, usage,
recommendations, NACLs, risk checks, report assembly); *render* is renderReport for every format.
Each size runs in its own process, the best (fastest) of ${repeat} run(s) kept, here and in the NACL
table below; peak RSS includes the generated input.

| SGs | rule entries | ENIs | aggregate rows | analysis | per SG | render (all formats) | per SG | analysis + render | peak RSS | target at 10,000 SGs: < 30 s, < 2 GiB |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Growth (time ratio between sizes, and the exponent k of time ∝ N^k):
${growth.join('\n')}

Verdict on linearity (analysis exponent of the largest step ${lastExponent.toFixed(2)}, target < 1.2): ${linear ? 'pass — ~linear' : 'FAIL — super-linear growth: the *report* phase grows quadratically (see the phase table)'}.

Phases (runAudit progress steps; *report* is the report assembly after the findings) and renderers:

| SGs | ${phaseNames.join(' | ')} | ${formats.join(' | ')} | output size |
| --- | ${phaseNames.map(() => '---').join(' | ')} | ${formats.map(() => '---').join(' | ')} | --- |
${phaseRows.join('\n')}

${nacl}`;
}
