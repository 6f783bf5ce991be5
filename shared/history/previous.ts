/**
 * The previous report of an account and region, for the week-over-week diff: the run latest.json
 * points at. Read before the new run is written (writing moves the pointer). When the pointer
 * already names this run — a retried analyze whose first attempt stored its report — the
 * comparison is made with the run that one was compared with, so a retry does not swallow the
 * alert. A previous report that cannot be read is a report warning, not a failed run: a corrupt
 * object would otherwise fail every later run, as a failed run never moves the pointer.
 */

import type { AuditReport, ReportWarning } from '../report/model';

/** What the store says of an account's latest run (S3: its latest.json). */
export interface LatestRun {
  readonly runId: string;
  /** Key of the run's report.json, when it rendered one. */
  readonly reportKey?: string;
}

/** The read side of a report store the history needs (S3ReportSink). */
export interface ReportHistory {
  readLatest(account: { readonly id?: string; readonly region?: string }): Promise<LatestRun | undefined>;
  readReport(key: string): Promise<AuditReport>;
  runPrefix(report: AuditReport): string;
}

export interface PreviousReport {
  /** Absent on a first run (or when the previous one could not be read: see warnings). */
  readonly previous?: AuditReport;
  readonly warnings: readonly ReportWarning[];
}

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The report to compare `current` with, found through the account's latest.json.
 *
 * @example const { previous, warnings } = await previousReport(sink, report);
 */
export async function previousReport(history: ReportHistory, current: AuditReport): Promise<PreviousReport> {
  try {
    const latest = await history.readLatest(current.account);
    if (latest === undefined) return { warnings: [] };
    if (latest.reportKey === undefined) {
      return {
        warnings: [
          {
            code: 'previous-report-unreadable',
            message: `the previous run ${latest.runId} stored no report.json: compared as a first run`,
          },
        ],
      };
    }
    const stored = await history.readReport(latest.reportKey);
    if (stored.runId !== current.runId) return { previous: stored, warnings: [] };
    // A retry of this run: compare with what its first attempt was compared with.
    const { previousRunId, previousGeneratedAt } = stored.changes ?? {};
    if (previousRunId === undefined || previousGeneratedAt === undefined) return { warnings: [] };
    const key = `${history.runPrefix({ ...stored, runId: previousRunId, generatedAt: previousGeneratedAt })}report.json`;
    return { previous: await history.readReport(key), warnings: [] };
  } catch (error) {
    return {
      warnings: [
        {
          code: 'previous-report-unreadable',
          message: `the previous report could not be read (${message(error)}): compared as a first run`,
        },
      ],
    };
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

function scopeText(values: readonly string[]): string {
  return values.length === 0 ? 'all' : values.join(', ');
}

/**
 * A warning when the previous report audited another scope (VPCs, SGs, ports): it is still
 * compared, but findings outside the common scope show as new or resolved.
 *
 * @example scopeWarning(lastWeek, thisWeek)?.message // 'the previous report (run r-1) audited VPCs vpc-1 …'
 */
export function scopeWarning(previous: AuditReport, current: AuditReport): ReportWarning | undefined {
  const parts: string[] = [];
  const fields = [
    ['VPCs', 'vpcIds'],
    ['SGs', 'sgIds'],
    ['ports', 'ports'],
  ] as const;
  for (const [label, field] of fields) {
    const before = previous.scope[field];
    const after = current.scope[field];
    if (!sameSet(before, after)) parts.push(`${label} ${scopeText(before)} (now ${scopeText(after)})`);
  }
  if (parts.length === 0) return undefined;
  return {
    code: 'previous-scope-differs',
    message: `the previous report (run ${previous.runId}) audited ${parts.join('; ')}: compared anyway, so findings outside the common scope show as new or resolved`,
  };
}
