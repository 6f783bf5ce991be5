/**
 * The change a plan makes to each rule of a report — what happens to the rule, the entries that
 * replace it, and the AWS CLI commands, or why it stays — for the fix of every finding
 * (shared/remediation/fix.ts reads {@link plannedChangesOfReport} once per report), so a report's
 * fix and `sg-audit plan` never disagree: code-managed SGs get no direct command, the last rule
 * that admits observed traffic and public services stay. Not to be confused with
 * shared/model/rule-change.ts (who changed a rule, from CloudTrail).
 */
import type { AuditReport } from '../report/model';
import { sgCommand, stepGroups } from './aws-cli';
import type { IacOwner, PlannableVerdict, RemediationPlan, SgStep } from './model';
import { buildPlan } from './plan';
import { type RuleSpec, specText } from './rule-spec';

export interface PlannedRuleChange {
  readonly ruleId: string;
  readonly sgId: string;
  /**
   * revoke: the rule goes (unused); narrow: it goes once `adds` are in place; keep: it stays
   * (unproven, a public service, or a safety rule stopped its change — `reason` says which).
   */
  readonly change: 'revoke' | 'narrow' | 'keep';
  readonly adds: readonly RuleSpec[];
  readonly reason: string;
  /** The commands for this rule alone (adds, then the revoke); empty when it stays or code manages the SG. */
  readonly commands: readonly string[];
  /** Set when code manages the SG: change the code, not the SG. */
  readonly owner?: IacOwner;
  /** Set when the plan cannot change the SG directly (e.g. the rule quota): why. */
  readonly blocked?: string;
  /** One line for a report cell: "narrow: add tcp 22 from 203.0.113.0/24, …; then revoke". */
  readonly summary: string;
}

/**
 * Each planned or kept rule of a plan by rule id.
 *
 * @example plannedChanges(plan).get('sg-1/ingress/tcp/22-22/0.0.0.0/0')?.summary
 */
export function plannedChanges(plan: RemediationPlan): Map<string, PlannedRuleChange> {
  const changes = new Map<string, PlannedRuleChange>();
  for (const sg of plan.securityGroups) {
    const direct = sg.action === 'apply';
    const blocked = sg.action === 'blocked' ? ` (blocked: ${sg.blockedReason})` : '';
    for (const revoke of sg.revoke) {
      const adds = sg.add.filter((a) => a.replaces.includes(revoke.ruleId)).map((a) => a.rule);
      const steps: SgStep[] = [
        ...adds.map((rule): SgStep => ({ action: 'authorize', rule })),
        { action: 'revoke', rule: revoke.rule, ruleId: revoke.ruleId },
      ];
      const change = revoke.verdict === 'remove' ? 'revoke' : 'narrow';
      const owner = sg.owner ? `; managed by ${sg.owner.tool}: change the code` : '';
      const summary =
        change === 'revoke'
          ? `revoke ${specText(revoke.rule)}${owner}${blocked}`
          : `narrow: add ${adds.map(specText).join(', ') || 'nothing (already admitted)'}; then revoke ${specText(revoke.rule)}${owner}${blocked}`;
      changes.set(revoke.ruleId, {
        ruleId: revoke.ruleId,
        sgId: sg.sgId,
        change,
        adds,
        reason: revoke.reason,
        commands: direct ? stepGroups(steps).map((group) => sgCommand(sg.sgId, group)) : [],
        ...(sg.owner ? { owner: sg.owner } : {}),
        ...(sg.action === 'blocked' && sg.blockedReason ? { blocked: sg.blockedReason } : {}),
        summary,
      });
    }
    for (const kept of sg.kept) {
      changes.set(kept.ruleId, {
        ruleId: kept.ruleId,
        sgId: sg.sgId,
        change: 'keep',
        adds: [],
        reason: kept.reason,
        commands: [],
        summary: `keep: ${kept.reason}`,
      });
    }
  }
  return changes;
}

/**
 * The rule changes of a report's plan (SGs only; verdicts 'narrow' and 'remove' by default).
 *
 * @example plannedChangesOfReport(report).get(finding.ruleId ?? '')?.commands
 */
export function plannedChangesOfReport(
  report: AuditReport,
  options: { readonly include?: readonly PlannableVerdict[] } = {},
): Map<string, PlannedRuleChange> {
  return plannedChanges(
    buildPlan(report, {
      ...(options.include ? { include: options.include } : {}),
      createdAt: new Date(report.generatedAt),
      toolVersion: report.tool.version,
    }),
  );
}
