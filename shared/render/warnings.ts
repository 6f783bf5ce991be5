/**
 * The report's warnings as every output states them: each once, one code per concern, and the
 * same count in the console, report.json, report.html, summary.md and the alerts. Malformed
 * flow-log lines are the samples of one `malformed-records` warning (reports before 1.3 carried
 * each as a `malformed-record` warning of its own, and the flow sources list them too).
 */
import type { AuditReport, ReportWarning } from '../report/model';

type Sample = NonNullable<ReportWarning['samples']>[number];

const MALFORMED = 'malformed-records';
/** The spelling older reports gave each malformed line. */
const MALFORMED_LINE = 'malformed-record';

/**
 * The warnings, each once, in report order; every malformed-line sample under the one
 * `malformed-records` warning.
 *
 * @example distinctWarnings(report).length // what 'warnings: N' says everywhere
 */
export function distinctWarnings(
  report: Pick<AuditReport, 'warnings'> & Partial<Pick<AuditReport, 'flowSources' | 'summary'>>,
): ReportWarning[] {
  const samples = new Map<string, Sample>();
  const addSample = (sample: Sample) => {
    const key = `${sample.file}:${sample.line}`;
    if (!samples.has(key)) samples.set(key, sample);
  };
  let malformed: ReportWarning | undefined;
  const out: (ReportWarning | typeof MALFORMED)[] = [];
  const seen = new Set<string>();
  for (const warning of report.warnings) {
    const isMalformed = warning.code === MALFORMED || warning.code === MALFORMED_LINE;
    if (isMalformed && warning.file !== undefined && warning.line !== undefined) {
      addSample({ file: warning.file, line: warning.line, reason: warning.message });
    } else if (isMalformed && malformed === undefined) {
      malformed = warning;
    }
    for (const sample of isMalformed ? (warning.samples ?? []) : []) addSample(sample);
    if (isMalformed) {
      if (!out.includes(MALFORMED)) out.push(MALFORMED);
      continue;
    }
    const key = `${warning.code}\u0000${warning.message}\u0000${warning.file ?? ''}\u0000${warning.line ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(warning);
  }
  for (const source of report.flowSources ?? [])
    for (const sample of source.malformedSamples) addSample(sample);
  const count = report.summary?.malformedRecords ?? 0;
  if ((count > 0 || samples.size > 0) && !out.includes(MALFORMED)) out.unshift(MALFORMED);
  return out.map((item) => {
    if (item !== MALFORMED) return item;
    const {
      file: _file,
      line: _line,
      samples: _samples,
      ...rest
    } = malformed ?? {
      code: MALFORMED,
      message: `${Math.max(count, samples.size)} flow-log line(s) could not be parsed and were not analysed`,
    };
    return { ...rest, code: MALFORMED, ...(samples.size > 0 ? { samples: [...samples.values()] } : {}) };
  });
}
