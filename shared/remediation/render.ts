/**
 * The files of a change plan: plan.json (the contract apply reads), apply.sh and rollback.sh (AWS
 * CLI, one SG per block, commented), plan.md (what changes and why, for a reviewer), and the IaC
 * changes of SGs that code manages (CloudFormation and Terraform).
 */
import { naclCommand, sgCommand, stepGroups } from './aws-cli';
import type { NaclPlan, NaclStep, RemediationPlan, SgPlan, SgStep } from './model';
import { describeNaclEntry, naclTransition } from './nacl-plan';
import { peerCidrFamily, peerKind, type RuleSpec, specText } from './rule-spec';
import { applySteps, restoreSteps } from './simulate';

export interface PlanFile {
  readonly name: string;
  readonly body: string;
  /** Executable (the scripts). */
  readonly executable?: boolean;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One line: control characters out, so a description cannot break a comment or a table. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

function stepComment(step: SgStep, plan: SgPlan): string {
  if (step.action === 'authorize') {
    const add = plan.add.find((a) => a.rule === step.rule);
    const why = add ? ` (${plural(add.connections, 'connection')} seen, ${add.basis})` : '';
    return `#   + ${specText(step.rule)}${step.rule.description ? ` "${oneLine(step.rule.description)}"` : ''}${why}`;
  }
  const revoke = plan.revoke.find((r) => r.ruleId === step.ruleId);
  return `#   - ${specText(step.rule)}${revoke ? ` [${revoke.verdict}] ${oneLine(revoke.reason)}` : ''}`;
}

function sgBlock(plan: SgPlan, steps: readonly SgStep[], heading: string, rollback = false): string[] {
  const lines = [
    '',
    `# ---- ${plan.sgId} (${oneLine(plan.sgName)}, ${plan.vpcId}): ${heading} ----`,
    rollback
      ? `# Expected before: the rules after apply, fingerprint ${plan.afterFingerprint}`
      : `# Expected before: ${plan.expected.rules.length} rules, fingerprint ${plan.expected.fingerprint}`,
  ];
  if (plan.action === 'iac' && plan.owner) {
    lines.push(
      `# Managed by ${plan.owner.tool}${plan.owner.name ? ` (${plan.owner.name})` : ''}: ${oneLine(plan.owner.evidence)}.`,
      '# Not run: change the code instead (iac/), or the next deploy undoes it. The commands, for reference:',
    );
  }
  const prefix = plan.action === 'iac' ? '# ' : '';
  for (const group of stepGroups(steps)) {
    for (const step of group) lines.push(stepComment(step, plan));
    lines.push(`${prefix}${sgCommand(plan.sgId, group)}`);
  }
  return lines;
}

function naclBlock(plan: NaclPlan, steps: readonly NaclStep[], heading: string, rollback = false): string[] {
  const lines = [
    '',
    `# ---- ${plan.naclId} (${plan.vpcId}; subnets ${plan.subnetIds.join(', ')}): ${heading} ----`,
    rollback
      ? `# Expected before: the entries after apply, fingerprint ${plan.afterFingerprint}`
      : `# Expected before: ${plan.expected.entries.length} numbered entries, fingerprint ${plan.expected.fingerprint}`,
  ];
  for (const step of steps) {
    lines.push(
      `#   ${step.action} ${describeNaclEntry(step.entry)}: ${step.reason}`,
      naclCommand(plan.naclId, step),
    );
  }
  return lines;
}

function scriptHeader(plan: RemediationPlan, what: string): string[] {
  const region = plan.report.account.region;
  return [
    '#!/usr/bin/env bash',
    `# sg-audit ${what} — plan ${plan.planId}`,
    `# Made ${plan.createdAt} from report ${plan.report.runId} (window ${plan.report.window.start} .. ${plan.report.window.end}).`,
    '# Review plan.md first. `sg-audit apply --plan plan.json` makes the same changes with a drift',
    '# check against each fingerprint, EC2 DryRun first, verification and an exact before-record',
    '# for `sg-audit rollback`; this script has no such checks.',
    'set -euo pipefail',
    ...(region ? [`export AWS_REGION="\${AWS_REGION:-${region}}"`] : []),
  ];
}

/** apply.sh: adds before revokes, SG by SG; IaC-managed SGs commented out. */
export function renderApplyScript(plan: RemediationPlan): string {
  const lines = scriptHeader(plan, 'apply');
  for (const sg of plan.securityGroups) {
    if ((sg.action !== 'apply' && sg.action !== 'iac') || sg.steps.length === 0) continue;
    const adds = sg.steps.filter((s) => s.action === 'authorize').length;
    lines.push(
      ...sgBlock(sg, sg.steps, `${plural(adds, 'add')}, ${plural(sg.steps.length - adds, 'revoke')}`),
    );
  }
  for (const acl of plan.nacls) {
    if (acl.action !== 'apply') continue;
    lines.push(...naclBlock(acl, acl.steps, plural(acl.steps.length, 'step')));
  }
  return `${lines.join('\n')}\n`;
}

/** The steps back from a fully applied SG plan to the report's rules. */
export function sgRollbackSteps(sg: SgPlan): SgStep[] {
  const after = applySteps(sg.expected.rules, sg.steps);
  const limit = sg.quota[0]?.limit ?? 60;
  return restoreSteps(after, sg.expected.rules, { limit }).steps;
}

/** rollback.sh: undoes apply.sh (the rules re-added first, with their descriptions). */
export function renderRollbackScript(plan: RemediationPlan): string {
  const lines = [
    ...scriptHeader(plan, 'rollback'),
    '# Restores the rules of the report. After `sg-audit apply`, prefer `sg-audit rollback --applied',
    '# applied-<time>.json`: it restores the state read just before the change, with a drift check.',
  ];
  for (const sg of plan.securityGroups) {
    if (sg.action !== 'apply' || sg.steps.length === 0) continue;
    lines.push(...sgBlock(sg, sgRollbackSteps(sg), 'rollback', true));
  }
  for (const acl of plan.nacls) {
    if (acl.action !== 'apply') continue;
    const back = naclTransition(acl.target, acl.expected.entries, {
      quota: acl.quota[0]?.limit ?? 20,
      renumber: false,
    });
    lines.push(...naclBlock(acl, back.steps, 'rollback', true));
  }
  return `${lines.join('\n')}\n`;
}

function mdCell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}

/** plan.md: what changes and why, SG by SG, for a reviewer. */
export function renderPlanMarkdown(plan: RemediationPlan): string {
  const s = plan.summary;
  const lines = [
    `# sg-audit change plan`,
    '',
    `Plan \`${plan.planId}\`, made ${plan.createdAt} from report \`${plan.report.runId}\` ` +
      `(${plan.report.account.id ?? 'account ?'} ${plan.report.account.region ?? ''}, window ${plan.report.window.start} .. ${plan.report.window.end}).`,
    '',
    `- ${plural(s.toApply, 'security group')} to change directly: ${plural(s.adds, 'rule')} to add, ${plural(s.revokes, 'rule')} to revoke in all`,
    `- ${plural(s.iac, 'security group')} managed by code (the change is in iac/), ${s.blocked} blocked by a safety rule`,
    `- ${plural(s.nacls, 'network ACL')} to change`,
    '',
    `Only rules whose verdict is proven enter the plan: **${plan.include.join('** and **')}** under full flow-log coverage.`,
    "Rules under review (unproven) are never changed. Every add comes before the revokes it replaces, every added rule lies inside the SG's rules as they are, and the quota is checked after each step.",
    'Security groups do not filter DNS to the Amazon resolver, instance metadata, time sync or DHCP (AWS), so narrowed egress rules do not cut that traffic, which flow logs never record.',
    '',
    '`sg-audit apply --plan plan.json` refuses an SG whose rules differ from the expected fingerprint (exit 4), runs EC2 DryRun first, verifies each SG afterwards and writes `applied-<time>.json` for `sg-audit rollback`.',
  ];
  for (const sg of plan.securityGroups) {
    lines.push('', `## ${sg.sgId} — ${mdCell(sg.sgName)} (${sg.vpcId}): ${sg.action}`);
    if (sg.owner) {
      lines.push(
        '',
        `Managed by **${sg.owner.tool}**${sg.owner.name ? ` (\`${sg.owner.name}\`)` : ''} — ${mdCell(sg.owner.evidence)}. Apply the change in the code (iac/); a direct change would drift.`,
      );
    }
    if (sg.blockedReason) lines.push('', `Blocked: ${mdCell(sg.blockedReason)}`);
    if (sg.add.length > 0) {
      lines.push('', '| add | evidence | replaces |', '| --- | --- | --- |');
      for (const add of sg.add) {
        lines.push(
          `| ${mdCell(specText(add.rule))} | ${plural(add.connections, 'connection')} from ${plural(add.distinctPeers, 'peer')} (${add.basis}) | ${add.replaces.map((id) => `\`${id}\``).join('<br>')} |`,
        );
      }
    }
    if (sg.revoke.length > 0) {
      lines.push('', '| revoke | verdict | why |', '| --- | --- | --- |');
      for (const revoke of sg.revoke) {
        const id = revoke.rule.securityGroupRuleId ? ` (${revoke.rule.securityGroupRuleId})` : '';
        lines.push(
          `| ${mdCell(specText(revoke.rule))}${id} | ${revoke.verdict} | ${mdCell(revoke.reason)} |`,
        );
      }
    }
    if (sg.kept.length > 0) {
      lines.push('', '| kept as written | verdict | why |', '| --- | --- | --- |');
      for (const kept of sg.kept)
        lines.push(`| \`${kept.ruleId}\` | ${kept.verdict} | ${mdCell(kept.reason)} |`);
    }
    if (sg.steps.length > 0) {
      lines.push(
        '',
        `Quota: ${sg.quota.map((q) => `${q.direction} ${q.family} ${q.before} → peak ${q.peak} → ${q.after} of ${q.limit}`).join('; ')}.`,
      );
    }
  }
  for (const acl of plan.nacls) {
    lines.push('', `## ${acl.naclId} (${acl.vpcId}): ${acl.action}`);
    if (acl.blockedReason)
      lines.push('', `${acl.action === 'blocked' ? 'Blocked: ' : ''}${mdCell(acl.blockedReason)}`);
    if (acl.steps.length > 0) {
      lines.push('', '| step | entry | why |', '| --- | --- | --- |');
      for (const step of acl.steps)
        lines.push(`| ${step.action} | ${describeNaclEntry(step.entry)} | ${step.reason} |`);
      lines.push(
        '',
        `Quota: ${acl.quota.map((q) => `${q.direction} ${q.before} → peak ${q.peak} → ${q.after} of ${q.limit}`).join('; ')}. ` +
          'New entries take free numbers with gaps, below any deny entry they overlap; return-traffic (ephemeral) entries are kept.',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function logicalName(sgId: string, direction: string, index: number): string {
  return `SgAudit${sgId.replace(/[^a-zA-Z0-9]/g, '')}${direction === 'ingress' ? 'Ingress' : 'Egress'}${index}`;
}

function cfnPeer(rule: RuleSpec): string[] {
  const key = rule.direction === 'ingress' ? 'Source' : 'Destination';
  switch (peerKind(rule.peer)) {
    case 'sg':
      return [`      ${key}SecurityGroupId: ${rule.peer}`];
    case 'prefix-list':
      return [`      ${key}PrefixListId: ${rule.peer}`];
    case 'cidr':
      return [`      ${peerCidrFamily(rule.peer) === 'ipv6' ? 'CidrIpv6' : 'CidrIp'}: ${rule.peer}`];
  }
}

function iacPlans(plan: RemediationPlan): SgPlan[] {
  return plan.securityGroups.filter((sg) => sg.action === 'iac');
}

/** iac/cloudformation.yaml: the adds as AWS::EC2::SecurityGroupIngress/Egress, the revokes as comments. */
export function renderCloudFormation(plan: RemediationPlan): string {
  const lines = [
    `# sg-audit change plan ${plan.planId}: rules for the SGs that code manages.`,
    '# Add these resources to the stack that owns each SG (GroupId: use !Ref/!GetAtt of the SG in the',
    '# template; CDK: securityGroup.addIngressRule/addEgressRule), and remove the rules listed under',
    "# 'remove' from the template. Deploy; then re-run the audit.",
    'Resources:',
  ];
  for (const sg of iacPlans(plan)) {
    lines.push(`  # ${sg.sgId} (${oneLine(sg.sgName)}): ${sg.owner?.tool} ${sg.owner?.name ?? ''}`.trimEnd());
    sg.add.forEach((add, index) => {
      const rule = add.rule;
      const ports =
        rule.fromPort !== undefined
          ? [`      FromPort: ${rule.fromPort}`, `      ToPort: ${rule.toPort}`]
          : [];
      lines.push(
        `  ${logicalName(sg.sgId, rule.direction, index + 1)}:`,
        `    Type: AWS::EC2::SecurityGroup${rule.direction === 'ingress' ? 'Ingress' : 'Egress'}`,
        '    Properties:',
        `      GroupId: ${sg.sgId}`,
        `      IpProtocol: '${rule.protocol}'`,
        ...ports,
        ...cfnPeer(rule),
        ...(rule.description ? [`      Description: '${rule.description.replace(/'/g, "''")}'`] : []),
      );
    });
    for (const revoke of sg.revoke) lines.push(`  # remove: ${specText(revoke.rule)} (${revoke.verdict})`);
  }
  return `${lines.join('\n')}\n`;
}

function tfPeer(rule: RuleSpec): string {
  switch (peerKind(rule.peer)) {
    case 'sg':
      return `  referenced_security_group_id = "${rule.peer}"`;
    case 'prefix-list':
      return `  prefix_list_id = "${rule.peer}"`;
    case 'cidr':
      return `  ${peerCidrFamily(rule.peer) === 'ipv6' ? 'cidr_ipv6' : 'cidr_ipv4'} = "${rule.peer}"`;
  }
}

/** iac/terraform.tf: the adds as aws_vpc_security_group_ingress_rule/egress_rule, the revokes as comments. */
export function renderTerraform(plan: RemediationPlan): string {
  const lines = [
    `# sg-audit change plan ${plan.planId}: rules for the SGs that code manages.`,
    "# Add these resources (security_group_id: use the SG resource's id) and delete the rules listed",
    "# under 'remove' (their aws_vpc_security_group_*_rule resources, or the blocks of aws_security_group).",
  ];
  for (const sg of iacPlans(plan)) {
    lines.push(
      '',
      `# ${sg.sgId} (${oneLine(sg.sgName)}): ${sg.owner?.tool} ${sg.owner?.name ?? ''}`.trimEnd(),
    );
    sg.add.forEach((add, index) => {
      const rule = add.rule;
      const name = `sg_audit_${sg.sgId.replace(/-/g, '_')}_${rule.direction}_${index + 1}`;
      lines.push(
        `resource "aws_vpc_security_group_${rule.direction}_rule" "${name}" {`,
        `  security_group_id = "${sg.sgId}"`,
        `  ip_protocol = "${rule.protocol}"`,
        ...(rule.fromPort !== undefined
          ? [`  from_port = ${rule.fromPort}`, `  to_port = ${rule.toPort}`]
          : []),
        tfPeer(rule),
        ...(rule.description ? [`  description = "${rule.description.replace(/["\\]/g, '\\$&')}"`] : []),
        '}',
      );
    });
    for (const revoke of sg.revoke) lines.push(`# remove: ${specText(revoke.rule)} (${revoke.verdict})`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Every file of the plan, plan.json first.
 *
 * @example renderPlanFiles(plan).map((f) => f.name) // ['plan.json', 'apply.sh', 'rollback.sh', 'plan.md', …]
 */
export function renderPlanFiles(plan: RemediationPlan): PlanFile[] {
  const files: PlanFile[] = [
    { name: 'plan.json', body: `${JSON.stringify(plan, null, 2)}\n` },
    { name: 'apply.sh', body: renderApplyScript(plan), executable: true },
    { name: 'rollback.sh', body: renderRollbackScript(plan), executable: true },
    { name: 'plan.md', body: renderPlanMarkdown(plan) },
  ];
  if (iacPlans(plan).length > 0) {
    files.push(
      { name: 'iac/cloudformation.yaml', body: renderCloudFormation(plan) },
      { name: 'iac/terraform.tf', body: renderTerraform(plan) },
    );
  }
  return files;
}
