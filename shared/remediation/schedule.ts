/**
 * The order of an SG's changes: every add before every revoke (no window without access), with
 * the rule quota checked after each step. When an add would pass the quota, a revoke that is
 * already safe — one that cuts no observed traffic, or whose replacements are all in place — is
 * moved before it; when none is, the SG is blocked rather than opened to a gap.
 */
import { DIRECTIONS, type Direction, IP_FAMILIES, type IpFamily } from '../model/inventory';
import type { QuotaLine, SgStep } from './model';
import { peerCidrFamily, peerKind, type RuleSpec, specKey } from './rule-spec';

export interface ScheduledRevoke {
  readonly rule: RuleSpec;
  readonly ruleId?: string;
  /** Keys of the rules that must be present before this one goes (its replacements). */
  readonly requires: readonly string[];
}

export interface ScheduleInput {
  /** The rules present before the first step. */
  readonly current: readonly RuleSpec[];
  readonly adds: readonly RuleSpec[];
  readonly revokes: readonly ScheduledRevoke[];
  /** Rule entries per direction and family. */
  readonly limit: number;
  /** Quota weight of a rule in a family; @default {@link ruleWeight} */
  readonly weight?: (rule: RuleSpec, family: IpFamily) => number;
  /** Entries counted before the first step, when known better than the sum of weights (prefix lists). */
  readonly before?: ReadonlyMap<string, number>;
}

export interface Schedule {
  readonly steps: SgStep[];
  readonly quota: QuotaLine[];
  /** Set when no order keeps both the quota and access: the SG must not be changed as planned. */
  readonly blocked?: string;
}

/**
 * Quota weight of a rule entry: a CIDR counts once in its family, an SG reference once in each,
 * a prefix list once (its MaxEntries is not in a report; callers that know it pass a weight).
 *
 * @example ruleWeight({ direction: 'ingress', protocol: 'tcp', peer: 'sg-1' }, 'ipv6') // 1
 */
export function ruleWeight(rule: RuleSpec, family: IpFamily): number {
  switch (peerKind(rule.peer)) {
    case 'cidr':
      return peerCidrFamily(rule.peer) === family ? 1 : 0;
    case 'sg':
      return 1;
    case 'prefix-list':
      return family === 'ipv4' ? 1 : 0;
  }
}

export function quotaKey(direction: Direction, family: IpFamily): string {
  return `${direction}/${family}`;
}

/**
 * Orders the adds and revokes of one SG (see the module comment).
 *
 * @example scheduleChanges({ current, adds, revokes, limit: 60 }).steps.map((s) => s.action) // ['authorize', 'authorize', 'revoke']
 */
export function scheduleChanges(input: ScheduleInput): Schedule {
  const weight = input.weight ?? ruleWeight;
  const counts = new Map<string, number>();
  for (const direction of DIRECTIONS) {
    for (const family of IP_FAMILIES) {
      const key = quotaKey(direction, family);
      const summed = input.current
        .filter((r) => r.direction === direction)
        .reduce((sum, r) => sum + weight(r, family), 0);
      counts.set(key, input.before?.get(key) ?? summed);
    }
  }
  const initial = new Map(counts);
  const history = new Map<string, number[]>([...counts.keys()].map((k) => [k, []]));
  const present = new Set(input.current.map(specKey));
  const steps: SgStep[] = [];
  const record = (step: SgStep, sign: 1 | -1) => {
    for (const family of IP_FAMILIES) {
      const key = quotaKey(step.rule.direction, family);
      counts.set(key, (counts.get(key) ?? 0) + sign * weight(step.rule, family));
    }
    for (const [key, list] of history) list.push(counts.get(key) ?? 0);
    steps.push(step);
  };
  const overflow = (rule: RuleSpec): IpFamily[] =>
    IP_FAMILIES.filter(
      (family) =>
        weight(rule, family) > 0 &&
        (counts.get(quotaKey(rule.direction, family)) ?? 0) + weight(rule, family) > input.limit,
    );
  const ready = (revoke: ScheduledRevoke) => revoke.requires.every((key) => present.has(key));

  const pendingAdds = [...input.adds];
  const pendingRevokes = [...input.revokes];
  let blocked: string | undefined;
  const revokeAt = (index: number) => {
    const [revoke] = pendingRevokes.splice(index, 1);
    if (revoke === undefined) return;
    present.delete(specKey(revoke.rule));
    record({ action: 'revoke', rule: revoke.rule, ...(revoke.ruleId ? { ruleId: revoke.ruleId } : {}) }, -1);
  };
  while (pendingAdds.length > 0 && blocked === undefined) {
    const fitting = pendingAdds.findIndex((rule) => overflow(rule).length === 0);
    if (fitting >= 0) {
      const [rule] = pendingAdds.splice(fitting, 1);
      if (rule === undefined) break;
      present.add(specKey(rule));
      record({ action: 'authorize', rule }, 1);
      continue;
    }
    const next = pendingAdds[0] as RuleSpec;
    const full = overflow(next);
    // Revokes that cut nothing observed come first (no requirements), then those already replaced.
    const candidates = pendingRevokes
      .map((revoke, index) => ({ revoke, index }))
      .filter(
        ({ revoke }) =>
          revoke.rule.direction === next.direction &&
          ready(revoke) &&
          full.some((family) => weight(revoke.rule, family) > 0),
      )
      .sort((a, b) => a.revoke.requires.length - b.revoke.requires.length || a.index - b.index);
    const chosen = candidates[0];
    if (chosen === undefined) {
      const family = full[0] as IpFamily;
      blocked =
        `quota: ${next.direction} ${family} holds ${counts.get(quotaKey(next.direction, family))} of ${input.limit} entries ` +
        `and no rule can be revoked before its replacements are in place; adding the ${pendingAdds.length} remaining ` +
        `entries first would pass the limit (raise the quota, or apply the plan in parts)`;
      break;
    }
    revokeAt(chosen.index);
  }
  while (blocked === undefined && pendingRevokes.length > 0) {
    const index = pendingRevokes.findIndex(ready);
    if (index < 0) {
      blocked = `a revoke's replacements could not all be added (${pendingRevokes[0]?.ruleId ?? ''})`;
      break;
    }
    revokeAt(index);
  }

  const quota: QuotaLine[] = [];
  for (const direction of DIRECTIONS) {
    for (const family of IP_FAMILIES) {
      const key = quotaKey(direction, family);
      const before = initial.get(key) ?? 0;
      const afterStep = history.get(key) ?? [];
      if (before === 0 && afterStep.every((n) => n === 0)) continue;
      quota.push({
        direction,
        family,
        limit: input.limit,
        before,
        afterStep,
        peak: Math.max(before, ...afterStep),
        after: afterStep[afterStep.length - 1] ?? before,
      });
    }
  }
  return { steps, quota, ...(blocked === undefined ? {} : { blocked }) };
}
