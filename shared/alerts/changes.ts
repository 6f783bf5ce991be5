/**
 * What in a reviewed report is worth an alert: findings that are new or worse since the previous
 * run and that nobody accepted. The report's `changes.worsened` (diffReports) also counts findings
 * an active suppression covers — an accepted risk that appears must not page anyone — so the
 * workflow decides from this instead. analyze returns these counts; notify decides with them.
 */

import { SEVERITIES, type Severity } from '../model/analysis';
import { changeOverview } from '../render/changes';
import type { AuditReport } from '../report/model';
import { isActivelySuppressed } from '../suppressions/suppressions';

/** Counts of the changes that matter for alerting (suppressed findings left out). */
export interface AlertableChanges {
  /** No previous report: everything is new. */
  readonly firstRun: boolean;
  /** Something below is non-zero. */
  readonly worsened: boolean;
  /** New findings that no active suppression covers. */
  readonly newFindings: number;
  /** Findings whose severity rose since the previous run, not actively suppressed (nor resurfaced). */
  readonly worseFindings: number;
  /** Findings whose acceptance ended since the previous run (expired or deleted): they count again. */
  readonly resurfacedFindings: number;
  /** Findings of the previous report that are gone, but for those accepted (actively suppressed) then. */
  readonly resolvedFindings: number;
}

/**
 * The alerting view of `report.changes`, or undefined when the report was not compared with a
 * previous one (no `changes` section).
 *
 * @example alertableChanges(report)?.worsened // false when only suppressed findings are new
 */
export function alertableChanges(report: AuditReport): AlertableChanges | undefined {
  // The same view the e-mail, Slack message and HTML changes section show, so the alert's reason
  // and its body count alike (a finding is counted once: resurfaced wins over worse).
  const overview = changeOverview(report, { actionableOnly: true });
  if (overview === undefined) return undefined;
  const { counts } = overview;
  return {
    firstRun: overview.firstRun,
    worsened: counts.new + counts.worse + counts.resurfaced > 0,
    newFindings: counts.new,
    worseFindings: counts.worse,
    resurfacedFindings: counts.resurfaced,
    resolvedFindings: counts.resolved,
  };
}

/**
 * Findings by severity that count for alerts: those no active suppression covers.
 *
 * @example actionableBySeverity(report).critical // 1
 */
export function actionableBySeverity(report: AuditReport): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const finding of report.findings) {
    if (!isActivelySuppressed(finding)) counts[finding.severity] += 1;
  }
  return counts;
}

/** Why a report alert goes out, or why not. */
export type AlertDecision =
  | { readonly send: true; readonly digest: false; readonly reason: string }
  | { readonly send: true; readonly digest: true; readonly reason: string }
  | { readonly send: false; readonly reason: string };

/** When alerts go out (ALERT_ON, NO_CHANGE_DIGEST). */
export interface AlertPolicy {
  readonly alertOn: 'changes' | 'always';
  readonly noChangeDigest: boolean;
}

/** What a compared run says for its alert: why it alerts, or (nothing new or worse) why it is quiet. */
export type RunAlertCause = { readonly alert: string } | { readonly quiet: string };

/**
 * The decision every alert follows: `always` → every run; `changes` → the run's cause to alert
 * when it has one; otherwise the "no change" digest when enabled, else nothing. `causeOf` is only
 * asked under `changes`.
 *
 * @example decideByPolicy({ alertOn: 'changes', noChangeDigest: true }, () => ({ quiet: 'nothing new' })) // { send: true, digest: true, … }
 */
export function decideByPolicy(policy: AlertPolicy, causeOf: () => RunAlertCause): AlertDecision {
  if (policy.alertOn === 'always') return { send: true, digest: false, reason: 'ALERT_ON is always' };
  const cause = causeOf();
  if ('alert' in cause) return { send: true, digest: false, reason: cause.alert };
  return policy.noChangeDigest
    ? { send: true, digest: true, reason: `${cause.quiet}: no-change digest` }
    : { send: false, reason: cause.quiet };
}

/**
 * Whether a finished run alerts: `always` → every run; `changes` → a report without a comparison,
 * a first run, or new/worse/resurfaced findings that are not accepted risks; otherwise the
 * "no change" digest when enabled, else nothing.
 *
 * @example decideAlert(report, { alertOn: 'changes', noChangeDigest: false }) // { send: false, reason: 'nothing new or worse …' }
 */
export function decideAlert(report: AuditReport, policy: AlertPolicy): AlertDecision {
  return decideByPolicy(policy, () => {
    const changes = alertableChanges(report);
    if (changes === undefined) return { alert: 'the report was not compared with a previous one' };
    if (changes.firstRun) return { alert: 'first run: no previous report' };
    if (changes.worsened) {
      const parts = [
        `${changes.newFindings} new`,
        `${changes.worseFindings} worse`,
        `${changes.resurfacedFindings} with an expired suppression`,
      ];
      return { alert: `findings ${parts.join(', ')}` };
    }
    return {
      quiet: `nothing new or worse since run ${report.changes?.previousRunId ?? '?'} (suppressed findings excluded)`,
    };
  });
}
