/**
 * AWS CLI commands for plan steps: what apply.sh and rollback.sh run and what a report's "fix"
 * shows. Consecutive steps of one kind and direction on one SG share one call (one API call is
 * atomic); revokes name rules by `sgr-` id when every rule of the call has one.
 */
import type { NaclEntrySpec, NaclStep, SgStep } from './model';
import { toIpPermission } from './rule-spec';

/** A text as one single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Consecutive steps of the same action and direction. */
export function stepGroups(steps: readonly SgStep[]): SgStep[][] {
  const groups: SgStep[][] = [];
  for (const step of steps) {
    const last = groups[groups.length - 1];
    const head = last?.[0];
    if (head !== undefined && head.action === step.action && head.rule.direction === step.rule.direction) {
      last?.push(step);
    } else {
      groups.push([step]);
    }
  }
  return groups;
}

/**
 * The AWS CLI command of one group of steps (see {@link stepGroups}) on one SG.
 *
 * @example sgCommand('sg-1', [{ action: 'revoke', rule: { direction: 'ingress', protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0', securityGroupRuleId: 'sgr-1' } }])
 * // "aws ec2 revoke-security-group-ingress --group-id sg-1 --security-group-rule-ids sgr-1"
 */
export function sgCommand(sgId: string, group: readonly SgStep[]): string {
  const head = group[0];
  if (head === undefined) return '';
  const verb = head.action === 'authorize' ? 'authorize' : 'revoke';
  const base = `aws ec2 ${verb}-security-group-${head.rule.direction} --group-id ${sgId}`;
  const ids = group.map((s) => s.rule.securityGroupRuleId);
  if (head.action === 'revoke' && ids.every((id) => id !== undefined)) {
    return `${base} --security-group-rule-ids ${ids.join(' ')}`;
  }
  const permissions = group.map((s) => toIpPermission(s.rule, { withDescription: s.action === 'authorize' }));
  return `${base} --ip-permissions ${shellQuote(JSON.stringify(permissions))}`;
}

function naclTarget(entry: NaclEntrySpec): string {
  const family = entry.cidr.includes(':') ? `--ipv6-cidr-block ${entry.cidr}` : `--cidr-block ${entry.cidr}`;
  const ports = entry.portRange ? ` --port-range From=${entry.portRange.from},To=${entry.portRange.to}` : '';
  const icmp = entry.icmp ? ` --icmp-type-code Type=${entry.icmp.type},Code=${entry.icmp.code}` : '';
  return `--protocol ${entry.protocol}${ports}${icmp} ${family} --rule-action ${entry.action}`;
}

/**
 * The AWS CLI command of one NACL step.
 *
 * @example naclCommand('acl-1', { action: 'delete', entry: { ruleNumber: 100, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' }, reason: '' })
 * // 'aws ec2 delete-network-acl-entry --network-acl-id acl-1 --rule-number 100 --ingress'
 */
export function naclCommand(naclId: string, step: NaclStep): string {
  const way = step.entry.egress ? '--egress' : '--ingress';
  const head = `aws ec2 ${step.action}-network-acl-entry --network-acl-id ${naclId} --rule-number ${step.entry.ruleNumber} ${way}`;
  return step.action === 'delete' ? head : `${head} ${naclTarget(step.entry)}`;
}
