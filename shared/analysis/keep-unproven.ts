/**
 * Partial evidence, honest advice: a rule whose use is not proven either way — its traffic unknown
 * for lack of delivery proof, outside a --ports filter, or used but on ENIs whose coverage is only
 * partial — keeps its whole reach in the recommended rule set, as written and saying why. Only
 * proven disuse ('unused', with every day of every ENI proven) may shrink what a rule admits.
 */
import type { Recommendation, RuleUsage } from '../model/analysis';
import type { Inventory, RuleEntry } from '../model/inventory';
import { peerFamily, peerText } from '../rules/peer';
import { recommendationText } from './recommend';

/**
 * Whether a rule's reach must be kept as written: its verdict asks for review, and its SG is
 * attached (an SG on no ENI carries nothing today; the unused-SG finding speaks for it).
 */
export function mustKeepAsWritten(usage: RuleUsage | undefined): boolean {
  return usage !== undefined && usage.verdict === 'review' && usage.coverage !== 'no-enis';
}

function keptText(rule: RuleEntry, usage: RuleUsage): string {
  const ports =
    rule.fromPort !== undefined && rule.toPort !== undefined
      ? { from: rule.fromPort, to: rule.toPort }
      : undefined;
  const isIcmp = rule.protocolNumber === 1 || rule.protocolNumber === 58;
  const icmp =
    isIcmp && ports !== undefined && ports.from !== -1 ? { type: ports.from, code: ports.to } : undefined;
  const allowed = recommendationText(
    rule.direction,
    rule.protocolNumber,
    isIcmp ? undefined : ports,
    icmp,
    peerText(rule.peer),
  ).replace(/^- allow /, '');
  return `- keep ${allowed} as written (${usage.verdictReason})`;
}

/**
 * The recommended set with every unproven rule kept as written: observed entries drawn only from
 * kept rules are dropped (the kept rule admits them), the kept rules are added (basis 'unproven').
 *
 * @example keepUnprovenReach(inventory, usage, recommendations).filter((r) => r.basis === 'unproven')
 */
export function keepUnprovenReach(
  inventory: Inventory,
  usage: ReadonlyMap<string, RuleUsage>,
  recommendations: readonly Recommendation[],
  sgIds: ReadonlySet<string>,
): Recommendation[] {
  const kept = new Map<string, Recommendation>();
  for (const sg of inventory.securityGroups) {
    if (!sgIds.has(sg.id)) continue;
    for (const rule of sg.rules) {
      const ruleUsage = usage.get(rule.id);
      if (!mustKeepAsWritten(ruleUsage) || ruleUsage === undefined) continue;
      kept.set(rule.id, {
        sgId: sg.id,
        direction: rule.direction,
        family: peerFamily(rule.peer) ?? 'ipv4',
        protocol: rule.protocol,
        ...(rule.fromPort !== undefined ? { fromPort: rule.fromPort } : {}),
        ...(rule.toPort !== undefined ? { toPort: rule.toPort } : {}),
        peer: peerText(rule.peer),
        connections: ruleUsage.connections,
        distinctPeers: ruleUsage.distinctPeers,
        basis: 'unproven',
        text: keptText(rule, ruleUsage),
        sourceRuleIds: [rule.id],
      });
    }
  }
  if (kept.size === 0) return [...recommendations];
  const observed = recommendations.filter((r) => !r.sourceRuleIds.every((id) => kept.has(id)));
  return [...observed, ...kept.values()].sort(
    (a, b) =>
      a.sgId.localeCompare(b.sgId) ||
      (a.direction === b.direction ? 0 : a.direction === 'ingress' ? -1 : 1) ||
      (a.basis === 'unproven' ? 1 : 0) - (b.basis === 'unproven' ? 1 : 0),
  );
}
