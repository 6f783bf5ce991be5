/**
 * The scale section (issue 18): the offline audit at 1×, 10×, 100× and 300× of the sample account
 * with every flow log in the custom v5 format with tcp-flags, as gzip text (client ports from each
 * client's ephemeral range, flags per aggregation interval: many distinct connections), beside
 * DuckDB alone grouping the same files by service port (the reference), each in its own process.
 * Each size is also audited under a small memory limit, which makes DuckDB spill, and the two
 * reports compared (sha256 without run id and times).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fastest, generatedOnce, type Measurement, measureInChild, nodeArgs, seconds } from '../child';

/** The small memory limit each size is audited under too (DuckDB's half is its 128 MiB working memory: no room to grow). */
export const SMALL_MEMORY_LIMIT = '256MiB';

function ensureScaleAccount(root: string, scale: number): string {
  const dir = path.join(root, 'bench', 'out', `scale-account-${scale}x`);
  return generatedOnce(dir, `the ${scale}× v5 account`, () =>
    execFileSync(
      process.execPath,
      nodeArgs(root, 'examples/generate-sample.ts', [
        '--out',
        dir,
        '--scale',
        String(scale),
        '--formats',
        'v5-text',
      ]),
      { stdio: ['ignore', 'ignore', 'inherit'], cwd: root },
    ),
  );
}
const mib = (m: Measurement) => `${m.maxRssMb.toFixed(0)} MiB`;

export function scaleSection(root: string, scales: readonly number[], repeat: number): string {
  const rows: string[] = [];
  const bySize = new Map<number, { audit: Measurement; reference: Measurement }>();
  for (const scale of scales) {
    const dir = ensureScaleAccount(root, scale);
    const references: Measurement[] = [];
    const typed: Measurement[] = [];
    const audits: Measurement[] = [];
    for (let i = 0; i < repeat; i += 1) {
      references.push(measureInChild(root, 'duckdb-reference', dir));
      typed.push(measureInChild(root, 'duckdb-service-ports', dir));
      audits.push(measureInChild(root, 'audit', dir));
    }
    const given = fastest(typed);
    const small = measureInChild(root, 'audit', dir, ['--memory-limit', SMALL_MEMORY_LIMIT]);
    const reference = fastest(references);
    const audit = fastest(audits);
    bySize.set(scale, { audit, reference });
    const same = small.reportSha === audit.reportSha ? 'identical' : 'DIFFERENT';
    rows.push(
      `| ${scale}× | ${audit.files} | ${audit.records.toLocaleString('en-US')} | ${seconds(audit.wallMs)} | ${seconds(audit.cpuMs)} | ${Math.round(audit.records / (audit.wallMs / 1000)).toLocaleString('en-US')} | ${mib(audit)} | ${seconds(reference.wallMs)} | ${seconds(reference.cpuMs)} | ${mib(reference)} | ${(audit.wallMs / reference.wallMs).toFixed(2)}× | ${(audit.cpuMs / reference.cpuMs).toFixed(2)}× | ${seconds(small.wallMs)}, ${mib(small)}, ${same} | ${seconds(given.wallMs)} / ${seconds(given.cpuMs)} | ${(audit.wallMs / given.wallMs).toFixed(2)}× / ${(audit.cpuMs / given.cpuMs).toFixed(2)}× |`,
    );
    process.stderr.write(
      `scale ${scale}×: audit ${audit.wallMs} ms (${audit.maxRssMb.toFixed(0)} MiB), reference ${reference.wallMs} ms, ${SMALL_MEMORY_LIMIT}: ${small.wallMs} ms ${same}\n`,
    );
  }
  return `## Scale: memory bounded by a setting, time beside DuckDB alone (issue 18)

The sample account's traffic at each scale (\`examples/generate-sample.ts --scale N --formats v5-text\`):
every flow log in the custom v5 format with tcp-flags, as gzip text; client ports from each
client's ephemeral range, tcp-flags per aggregation interval, so connections are many and distinct
(about one 5-tuple per three records), while the peers stay the sample's. *Audit* is
\`sg-audit audit --input …\` with every output and the defaults \`--memory-limit 1GiB --threads 1\`
(DuckDB works in a fixed 128 MiB, its memory_limit, and spills beyond it, growing only for an
aggregation that cannot finish in it; its aggregate rows stay in DuckDB and are streamed to the
fold, which keeps one entry per connection key). *Reference* is DuckDB alone
reading the same gzip files once with \`read_csv(…, union_by_name=true)\` (numeric columns typed,
'-' as NULL, unreadable lines skipped), keeping ACCEPT/OK records and grouping them by
(interface-id, srcaddr, dstaddr, protocol, least(srcport, dstport)) with count(*), sum(bytes) and
bool_or(srcport < dstport). Each figure is the best of ${repeat} run(s), each in its own process
(${os.cpus().length} cores shared with other work: wall times are noisy, CPU times, user + system of
every thread, less so). The last column audits the same files under \`--memory-limit ${SMALL_MEMORY_LIMIT}\`
(DuckDB capped at its 128 MiB working memory, with no room to grow: whether that memory is enough at every size) and compares report.json (sha256 without run
id and times) with the default run's. The last two columns are not the target: the reference's
grouping over readers given each header's columns (one read_csv per header, as the audit reads),
which spares the per-file schema detection union_by_name does — what the reference costs when
reading is as cheap as the audit's.

| scale | files | flow records | audit wall | audit CPU | records/s | audit peak RSS | reference wall | reference CPU | reference peak RSS | audit ÷ reference (wall) | audit ÷ reference (CPU) | under ${SMALL_MEMORY_LIMIT}: wall, peak RSS, report | same grouping, columns given: wall / CPU | audit ÷ it: wall / CPU |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

${verdicts(bySize)}
`;
}

/** The targets, stated from the figures. */
function verdicts(bySize: ReadonlyMap<number, { audit: Measurement; reference: Measurement }>): string {
  const lines: string[] = [];
  const at = (scale: number) => bySize.get(scale);
  const ten = at(10);
  const top = at(300);
  if (ten && top) {
    const growth = top.audit.maxRssMb / ten.audit.maxRssMb;
    lines.push(
      `- Peak RSS at 300× is ${growth.toFixed(2)}× that at 10× (target ≤ 1.10×, under the 1 GiB setting): ${growth <= 1.1 && top.audit.maxRssMb <= 1024 ? 'pass' : 'FAIL'}; under 1 GiB: ${top.audit.maxRssMb <= 1024 ? 'yes' : 'NO'}.`,
    );
  }
  for (const scale of [100, 300]) {
    const m = at(scale);
    if (!m) continue;
    const ratio = m.audit.wallMs / m.reference.wallMs;
    lines.push(
      `- ${scale}×: audit ÷ reference ${ratio.toFixed(2)}× wall, ${(m.audit.cpuMs / m.reference.cpuMs).toFixed(2)}× CPU (target ≤ 1.6×): ${ratio <= 1.6 ? 'pass' : 'FAIL'}.`,
    );
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const first = at(sizes[1] ?? 0);
  const last = at(sizes[sizes.length - 1] ?? 0);
  if (first && last && first !== last) {
    const k =
      Math.log(last.audit.cpuMs / first.audit.cpuMs) / Math.log(last.audit.records / first.audit.records);
    lines.push(
      `- Growth of the audit's CPU time with records from ${sizes[1]}× to ${sizes[sizes.length - 1]}×: exponent ${k.toFixed(2)} (1.0 = linear).`,
    );
  }
  return lines.join('\n');
}
