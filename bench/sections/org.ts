/** Part 6 of the benchmark: the organization roll-up over generated targets (bench/measure-org.ts, own process). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

interface OrgMeasurement {
  targets: number;
  accounts: number;
  regions: number;
  mix: Record<'small' | 'medium' | 'large' | 'gap', number>;
  reportBytesBySize: Record<'small' | 'medium' | 'large', number>;
  reportBytesRead: number;
  findingsRows: number;
  readMs: number;
  addMs: number;
  finishMs: number;
  renderMs: number;
  outputBytes: Record<string, number>;
  gapsReported: number;
  maxRssMb: number;
}

const MiB = 2 ** 20;
const mib = (bytes: number) =>
  bytes < MiB ? `${Math.round(bytes / 1024).toLocaleString('en-US')} KiB` : `${(bytes / MiB).toFixed(1)} MiB`;

function measureOrg(root: string, targets: number): OrgMeasurement {
  const result = spawnSync(
    process.execPath,
    [
      '--max-old-space-size=4096',
      '--import',
      'tsx',
      path.join(root, 'bench', 'measure-org.ts'),
      String(targets),
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (result.status !== 0)
    throw new Error(`bench/measure-org.ts ${targets} failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as OrgMeasurement;
}

/**
 * The section: the roll-up of `targets` generated targets, and what it scales to at 500 accounts
 * × 17 regions (8,500 targets; linear in the reports read and the findings rows kept).
 */
export function orgSection(root: string, targets: number): string {
  const m = measureOrg(root, targets);
  const rollupMs = m.readMs + m.addMs + m.finishMs + m.renderMs;
  const scale = 8500 / m.targets;
  const out = m.outputBytes;
  return `## Organization roll-up (${m.targets.toLocaleString('en-US')} generated targets)

\`bench/measure-org.ts ${m.targets}\`, one process: ${m.accounts} accounts × ${m.regions} regions, each target's
report.json as the analyze step stores it — ${m.mix.small} nearly empty regions (2 SGs, ${mib(m.reportBytesBySize.small)}),
${m.mix.medium} with a workload (20 SGs, ${mib(m.reportBytesBySize.medium)}), ${m.mix.large} large (200 SGs, ${mib(m.reportBytesBySize.large)}) and
${m.mix.gap} gaps — read back (JSON.parse) and added to the roll-up one at a time, as the roll-up step
does; then compared with the previous organization report and rendered (S3 reads excluded).

| step | time |
| --- | --- |
| read ${mib(m.reportBytesRead)} of target reports (JSON.parse) | ${m.readMs} ms |
| add ${m.targets - m.mix.gap} audited targets and ${m.mix.gap} gaps (summaries, ${m.findingsRows.toLocaleString('en-US')} findings rows with account_id and region, worst and new findings) | ${m.addMs} ms |
| finish (totals, week over week against the previous organization report) | ${m.finishMs} ms |
| render org-report.json, targets.csv, findings.csv, report.html, summary.md | ${m.renderMs} ms |
| **total** | **${rollupMs} ms**, peak RSS ${m.maxRssMb.toFixed(0)} MiB |

Outputs: org-report.json ${mib(out['org-report.json'] ?? 0)}, targets.csv ${mib(out['targets.csv'] ?? 0)}, findings.csv ${mib(out['findings.csv'] ?? 0)}, report.html ${mib(out['report.html'] ?? 0)}, summary.md ${mib(out['summary.md'] ?? 0)}.

At 500 accounts × 17 regions (8,500 targets, the same mix: ×${scale.toFixed(0)}): ≈ ${mib(m.reportBytesRead * scale)} of reports
read, ≈ ${((rollupMs * scale) / 1000).toFixed(0)} s of roll-up work and ≈ ${(m.findingsRows * scale).toLocaleString('en-US', { maximumFractionDigits: 0 })} findings rows (findings.csv ≈ ${mib((out['findings.csv'] ?? 0) * scale)}),
before the S3 reads (8 at a time in the roll-up function): well inside its 15 minutes and 3 GB.
`;
}
