/**
 * Changes applied to a rule set on paper: what apply expects to read back after its steps, what
 * a rollback must do to return to the state before, and what the property tests check.
 */
import type { IpFamily } from '../model/inventory';
import type { SgStep } from './model';
import { type GroupMembers, specWithin } from './rule-space';
import { type RuleSpec, specKey } from './rule-spec';
import { type Schedule, type ScheduledRevoke, scheduleChanges } from './schedule';

/** A step that cannot be made on the rule set it meets: adding a rule present, revoking one absent. */
export class StepConflictError extends Error {
  override readonly name = 'StepConflictError';
}

/**
 * The rule set after the steps, in order (descriptions as the steps carry them).
 *
 * @throws StepConflictError when a step adds a rule already present or revokes an absent one.
 * @example applySteps(rules, plan.steps).length
 */
export function applySteps(rules: readonly RuleSpec[], steps: readonly SgStep[]): RuleSpec[] {
  const result = [...rules];
  for (const step of steps) {
    const key = specKey(step.rule);
    const index = result.findIndex((r) => specKey(r) === key);
    if (step.action === 'authorize') {
      if (index >= 0) throw new StepConflictError(`${key} is already present`);
      const { securityGroupRuleId: _id, ...rule } = step.rule;
      result.push(rule);
    } else {
      if (index < 0) throw new StepConflictError(`${key} is not present`);
      result.splice(index, 1);
    }
  }
  return result;
}

/**
 * The steps from the rules now back to the rules before: the missing rules re-added first, with
 * their descriptions, then what was added revoked — each as soon as a re-added rule contains it
 * when the quota presses.
 *
 * @example restoreSteps(after, before, { limit: 60 }).steps
 */
export function restoreSteps(
  now: readonly RuleSpec[],
  before: readonly RuleSpec[],
  options: {
    readonly limit: number;
    readonly members?: GroupMembers;
    readonly weight?: (rule: RuleSpec, family: IpFamily) => number;
  },
): Schedule {
  const nowKeys = new Set(now.map(specKey));
  const beforeKeys = new Set(before.map(specKey));
  const adds = before
    .filter((r) => !nowKeys.has(specKey(r)))
    .map(({ securityGroupRuleId: _id, ...rule }) => rule);
  const members = options.members ?? new Map();
  const revokes: ScheduledRevoke[] = now
    .filter((r) => !beforeKeys.has(specKey(r)))
    .map((rule) => {
      const container = adds.find((a) => specWithin(rule, [a], members));
      return { rule, requires: container === undefined ? adds.map(specKey) : [specKey(container)] };
    });
  return scheduleChanges({
    current: now,
    adds,
    revokes,
    limit: options.limit,
    ...(options.weight ? { weight: options.weight } : {}),
  });
}
