/**
 * Week over week: applies the accepted risks (suppressions) to a fresh report and diffs it
 * against the previous one. Every runner calls this after runAudit, so the CLI and the
 * workflow mark, compare and alert the same way.
 */
import type { Finding } from '../model/analysis';
import { renderCsv } from '../render/csv';
import type { AuditReport, ReportChanges, ReportWarning } from '../report/model';
import { applySuppressions, isActivelySuppressed, type SuppressionSet } from '../suppressions/suppressions';
import { CHANGES_COLUMNS, changesRows, diffReports, type ReportDiff } from './diff';

export interface ReviewOptions {
  /** The previous report of the same account and scope; absent on a first run. */
  readonly previous?: AuditReport;
  /** Compare with the previous report at all (false: no `changes` section). */
  readonly compare: boolean;
  readonly suppressions?: SuppressionSet;
  readonly now: Date;
}

export interface ReviewedReport {
  readonly report: AuditReport;
  /** Set when compared: the full diff (changes.csv is built from it). */
  readonly diff?: ReportDiff;
}

/** The report's `changes` section: the diff, with new/changed findings by id. */
export function toReportChanges(diff: ReportDiff): ReportChanges {
  return {
    firstRun: diff.firstRun,
    ...(diff.previousRunId !== undefined ? { previousRunId: diff.previousRunId } : {}),
    ...(diff.previousGeneratedAt !== undefined ? { previousGeneratedAt: diff.previousGeneratedAt } : {}),
    worsened: diff.worsened,
    newFindingIds: diff.newFindings.map((f) => f.id),
    resolvedFindings: diff.resolvedFindings,
    changedFindings: diff.changedFindings.map((c) => ({
      id: c.after.id,
      previousSeverity: c.before.severity,
      changes: c.changes,
    })),
    unchangedFindings: diff.unchangedFindings,
    ruleVerdictChanges: diff.ruleVerdictChanges,
    newSecurityGroups: diff.newSecurityGroups,
    removedSecurityGroups: diff.removedSecurityGroups,
    renamedSecurityGroups: diff.renamedSecurityGroups,
    newEnis: diff.newEnis,
    removedEnis: diff.removedEnis,
  };
}

/**
 * Marks suppressed findings and adds the `changes` section.
 *
 * @example const { report } = reviewReport(fresh, { previous: lastWeek, compare: true, suppressions, now: new Date() });
 */
export function reviewReport(report: AuditReport, options: ReviewOptions): ReviewedReport {
  let reviewed = report;
  if (options.suppressions) {
    const tags = new Map(report.securityGroups.map((sg) => [sg.id, sg.tags ?? {}]));
    const outcome = applySuppressions(report.findings, options.suppressions, {
      now: options.now,
      sgTags: (sgId) => tags.get(sgId),
    });
    const warnings: ReportWarning[] = [
      ...outcome.expired.map((e) => ({
        code: 'suppression-expired',
        message: `suppression ${e.id} (owner ${e.owner}) expired on ${e.expires}: ${e.findingIds.length} finding(s) it covered are reported again`,
        file: options.suppressions?.file,
      })),
      ...outcome.unused.map((id) => ({
        code: 'suppression-unused',
        message: `suppression ${id} matched no finding`,
        file: options.suppressions?.file,
      })),
    ];
    reviewed = { ...reviewed, findings: outcome.findings, warnings: [...reviewed.warnings, ...warnings] };
  }
  if (!options.compare) return { report: reviewed };
  reviewed = { ...reviewed, findings: withFirstReported(reviewed, options.previous) };
  const diff = diffReports(options.previous, reviewed);
  return { report: { ...reviewed, changes: toReportChanges(diff) }, diff };
}

/**
 * Each finding with the time it was first reported: carried from the previous report when that
 * report has the finding (its own first-reported time, or its generatedAt when it predates the
 * field), else this report's generatedAt — so a finding that stays keeps one date week after
 * week, and one that went away and came back starts again.
 *
 * @example withFirstReported(thisWeek, lastWeek)[0]?.firstReportedAt // '2026-11-02T06:00:00.000Z'
 */
function withFirstReported(report: AuditReport, previous: AuditReport | undefined): Finding[] {
  const before = new Map(
    (previous?.findings ?? []).map((f) => [f.id, f.firstReportedAt ?? previous?.generatedAt]),
  );
  return report.findings.map((f) => ({ ...f, firstReportedAt: before.get(f.id) ?? report.generatedAt }));
}

/** changes.csv: one row per new, changed, resolved finding, verdict change, SG or ENI added/removed. */
export function renderChangesCsv(diff: ReportDiff, current: AuditReport, previous?: AuditReport): string {
  return renderCsv({
    fileName: 'changes.csv',
    sheetName: 'Changes',
    columns: CHANGES_COLUMNS,
    rows: changesRows(diff, current, previous),
  });
}

/** Findings that count for --fail-on and alerts: not actively suppressed. */
export function actionableFindings(report: AuditReport): Finding[] {
  return report.findings.filter((f) => !isActivelySuppressed(f));
}

/**
 * Findings that count again since the previous run because the acceptance covering them then
 * has ended — expired, or its entry deleted from the suppressions file (the diff's 'acceptance'
 * change on a finding no active suppression covers now). Empty without a comparison.
 *
 * @example resurfacedFindings(report).map((f) => f.id) // ['sensitive-port-world:sg-…/ingress/tcp/22-22/0.0.0.0/0']
 */
export function resurfacedFindings(report: AuditReport): Finding[] {
  const changes = report.changes;
  if (changes === undefined || changes.firstRun) return [];
  const ids = new Set(
    changes.changedFindings.filter((c) => c.changes.includes('acceptance')).map((c) => c.id),
  );
  return report.findings.filter((f) => ids.has(f.id) && !isActivelySuppressed(f));
}
