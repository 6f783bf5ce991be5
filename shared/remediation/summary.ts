/**
 * The short text of a change plan: one line of totals, then one line per SG and NACL with
 * something to say. The CLI prints it (plan, apply), the deployed approval alert and
 * `sg-audit approve|reject` show it.
 */
import type { RemediationPlan } from './model';

/**
 * The console summary of a plan.
 *
 * @example planSummary(plan) // 'plan sha256:0a1b2c3d4e5f…  1 SG(s) to change (2 adds, 2 revokes in all), …\n  apply   sg-0123 …'
 */
export function planSummary(plan: RemediationPlan): string {
  const lines = [
    `plan ${plan.planId.slice(0, 19)}…  ${plan.summary.toApply} SG(s) to change (${plan.summary.adds} adds, ${plan.summary.revokes} revokes in all), ` +
      `${plan.summary.iac} managed by code, ${plan.summary.blocked} blocked, ${plan.summary.nacls} NACL(s)`,
  ];
  for (const sg of plan.securityGroups) {
    if (sg.action === 'none') continue;
    const what =
      sg.action === 'blocked'
        ? `blocked: ${sg.blockedReason}`
        : `${sg.add.length} add(s), ${sg.revoke.length} revoke(s)${sg.owner ? ` — managed by ${sg.owner.tool}${sg.owner.name ? ` (${sg.owner.name})` : ''}: see iac/` : ''}`;
    lines.push(`  ${sg.action.padEnd(7)} ${sg.sgId.padEnd(22)} ${sg.sgName.slice(0, 24).padEnd(24)} ${what}`);
  }
  for (const acl of plan.nacls) {
    const what = acl.action === 'apply' ? `${acl.steps.length} step(s)` : (acl.blockedReason ?? '');
    lines.push(`  ${acl.action.padEnd(7)} ${acl.naclId.padEnd(22)} ${'(network ACL)'.padEnd(24)} ${what}`);
  }
  return `${lines.join('\n')}\n`;
}
