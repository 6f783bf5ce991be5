/**
 * What changed since the previous report, as every output presents it (HTML first screen,
 * summary.md, the console summary, the alerts): the report's `changes` section resolved against
 * its findings into lists, worst first. "Worse" is a changed finding whose severity was raised;
 * the other changed findings (severity lowered, evidence or reason changed) are "changed";
 * "resurfaced" findings were accepted risks whose acceptance ended since the previous run
 * (the suppression expired, or its entry was deleted from the file).
 */
import { resurfacedFindings as resurfaced } from '../history/review';
import type { Finding, Severity } from '../model/analysis';
import { severityRank } from '../model/analysis';
import type { AuditReport, ComparedRun, ReportChanges } from '../report/model';
import { isActivelySuppressed } from '../suppressions/suppressions';
import { compareFindings } from './format';

/** A finding present last time whose severity is now higher. */
export interface WorseFinding {
  readonly finding: Finding;
  readonly previousSeverity: Severity;
}

/** A finding present last time with another change (severity lowered, evidence or reason). */
export interface ChangedFindingView {
  readonly finding: Finding;
  readonly previousSeverity: Severity;
  readonly changes: readonly string[];
}

export interface ChangeCounts {
  readonly new: number;
  readonly worse: number;
  readonly resurfaced: number;
  readonly resolved: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly verdictChanges: number;
  readonly newSecurityGroups: number;
  readonly removedSecurityGroups: number;
  readonly renamedSecurityGroups: number;
  readonly newEnis: number;
  readonly removedEnis: number;
}

export interface ChangeOverview
  extends ComparedRun,
    Pick<ReportChanges, 'ruleVerdictChanges' | 'renamedSecurityGroups'> {
  /** Worst first. */
  readonly newFindings: readonly Finding[];
  /** Worst (current severity) first. */
  readonly worseFindings: readonly WorseFinding[];
  /** Findings whose acceptance ended since the previous run (they count again), worst first. */
  readonly resurfacedFindings: readonly Finding[];
  /** Worst first. */
  readonly changedFindings: readonly ChangedFindingView[];
  /** Worst first, as they were in the previous report. */
  readonly resolvedFindings: readonly Finding[];
  readonly counts: ChangeCounts;
}

export interface ChangeOverviewOptions {
  /**
   * Leave actively suppressed findings out of the new, worse, changed and resolved lists and
   * counts (alerts do; the HTML report lists them with their suppression). A resolved finding
   * counts as suppressed when its suppression was active at the previous run. @default false
   */
  readonly actionableOnly?: boolean;
}

/**
 * The report's changes resolved against its findings, or undefined when the report has no
 * `changes` section (run without comparison). Linear in the number of findings.
 *
 * @example changeOverview(report)?.counts.new // 2
 */
export function changeOverview(
  report: AuditReport,
  options: ChangeOverviewOptions = {},
): ChangeOverview | undefined {
  const changes = report.changes;
  if (changes === undefined) return undefined;
  const keep = (f: Finding) => !(options.actionableOnly === true && isActivelySuppressed(f));
  const byId = new Map<string, Finding>();
  for (const f of report.findings) if (!byId.has(f.id)) byId.set(f.id, f);

  const newFindings = changes.newFindingIds
    .map((id) => byId.get(id))
    .filter((f): f is Finding => f !== undefined && keep(f))
    .sort(compareFindings);
  const worseFindings: WorseFinding[] = [];
  const changedFindings: ChangedFindingView[] = [];
  const resurfacedFindings = resurfaced(report).filter(keep).sort(compareFindings);
  const resurfacedIds = new Set(resurfacedFindings.map((f) => f.id));
  for (const change of changes.changedFindings) {
    const finding = byId.get(change.id);
    if (finding === undefined || !keep(finding) || resurfacedIds.has(finding.id)) continue;
    if (severityRank(finding.severity) < severityRank(change.previousSeverity)) {
      worseFindings.push({ finding, previousSeverity: change.previousSeverity });
    } else {
      changedFindings.push({ finding, previousSeverity: change.previousSeverity, changes: change.changes });
    }
  }
  worseFindings.sort((a, b) => compareFindings(a.finding, b.finding));
  changedFindings.sort((a, b) => compareFindings(a.finding, b.finding));
  // A resolved finding carries its suppression as of the previous run: an accepted risk that is
  // gone is no news to the people the alert goes to.
  const resolvedFindings = changes.resolvedFindings.filter(keep).sort(compareFindings);

  return {
    firstRun: changes.firstRun,
    ...(changes.previousRunId !== undefined ? { previousRunId: changes.previousRunId } : {}),
    ...(changes.previousGeneratedAt !== undefined
      ? { previousGeneratedAt: changes.previousGeneratedAt }
      : {}),
    newFindings,
    worseFindings,
    resurfacedFindings,
    changedFindings,
    resolvedFindings,
    ruleVerdictChanges: changes.ruleVerdictChanges,
    renamedSecurityGroups: changes.renamedSecurityGroups,
    counts: {
      new: newFindings.length,
      worse: worseFindings.length,
      resurfaced: resurfacedFindings.length,
      resolved: resolvedFindings.length,
      changed: changedFindings.length,
      unchanged: changes.unchangedFindings,
      verdictChanges: changes.ruleVerdictChanges.length,
      newSecurityGroups: changes.newSecurityGroups.length,
      removedSecurityGroups: changes.removedSecurityGroups.length,
      renamedSecurityGroups: changes.renamedSecurityGroups.length,
      newEnis: changes.newEnis.length,
      removedEnis: changes.removedEnis.length,
    },
  };
}

/** A finding that leads a change report: new, worse, or back after its acceptance ended. */
export interface LeadingFinding {
  readonly change: 'new' | 'worse' | 'resurfaced';
  readonly finding: Finding;
  /** For worse findings: the severity before. */
  readonly previousSeverity?: Severity;
}

/**
 * The findings a change report leads with: new ones, then worse, then resurfaced, each worst first.
 *
 * @example leadingFindings(overview).map((l) => l.change) // ['new', 'worse']
 */
export function leadingFindings(overview: ChangeOverview): LeadingFinding[] {
  return [
    ...overview.newFindings.map((finding) => ({ change: 'new' as const, finding })),
    ...overview.worseFindings.map((w) => ({
      change: 'worse' as const,
      finding: w.finding,
      previousSeverity: w.previousSeverity,
    })),
    ...overview.resurfacedFindings.map((finding) => ({ change: 'resurfaced' as const, finding })),
  ];
}

/**
 * How a leading finding's change reads in a list: 'new', 'worse, was low', 'no longer accepted'.
 *
 * @example leadingChangeText({ change: 'worse', finding, previousSeverity: 'low' }) // 'worse, was low'
 */
export function leadingChangeText(lead: LeadingFinding): string {
  if (lead.change === 'worse') return `worse, was ${lead.previousSeverity ?? '?'}`;
  return lead.change === 'resurfaced' ? 'no longer accepted' : 'new';
}

export interface SuppressionCounts {
  /** Findings an active suppression covers (accepted risks: out of alerts and --fail-on). */
  readonly active: number;
  /** Findings whose only matching suppression has expired (they count again). */
  readonly expired: number;
}

/**
 * How many findings are suppressed, and how many carry an expired suppression.
 *
 * @example suppressionCounts(report.findings) // { active: 2, expired: 1 }
 */
export function suppressionCounts(findings: readonly Finding[]): SuppressionCounts {
  let active = 0;
  let expired = 0;
  for (const f of findings) {
    if (f.suppression?.status === 'active') active += 1;
    else if (f.suppression?.status === 'expired') expired += 1;
  }
  return { active, expired };
}

/**
 * "since 2025-11-17 00:05 UTC (run 2025-11-17T000512Z-7f3a9c)"-style words for the previous run:
 * its time when known, else its run id, else 'the previous run'.
 *
 * @example previousRunLabel(overview, readableTime) // '2025-11-17 00:05 UTC'
 */
export function previousRunLabel(
  overview: Pick<ChangeOverview, 'previousGeneratedAt' | 'previousRunId'>,
  formatTime: (iso: string) => string,
): string {
  if (overview.previousGeneratedAt !== undefined) return formatTime(overview.previousGeneratedAt);
  if (overview.previousRunId !== undefined) return `run ${overview.previousRunId}`;
  return 'the previous run';
}
