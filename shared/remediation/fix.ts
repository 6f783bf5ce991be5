/**
 * The fix of a finding or a rule: what to change, in words, and the AWS CLI commands that make the
 * change (authorize the narrower entries before revoking the wide one, so nothing in use breaks
 * in between). Commands are given only for changes the evidence supports: a rule whose use is not
 * proven gets words (prove it first), never a revoke — silence is never evidence. Every output
 * (report.json, the CSVs and workbook, summary.md, report.html, e-mail, Slack) and the planned
 * `sg-audit plan` read fixes from here.
 */
import { recommendationText } from '../analysis/recommend';
import type { Finding, Fix, Recommendation } from '../model/analysis';
import { isIcmp, protocolHasPorts, protocolNumber } from '../net/protocol';
import type { AuditReport, ReportRule, ReportSecurityGroup } from '../report/model';

/** The rule-level checks whose finding is about exposure (the fix should also say what to restrict). */
const EXPOSURE_ADVICE: Readonly<Partial<Record<Finding['check'], string>>> = {
  'sensitive-port-world':
    'a sensitive port must not face the world: reach it through a VPN, a bastion or SSM Session Manager',
  'sensitive-port-wide-public': 'narrow the peer to the networks that need the port',
  'all-traffic-open': 'name the protocols, ports and peers the resource serves',
  'all-ports-open': 'name the ports the resource serves',
  'portless-protocol-open': 'narrow the peer to the gateways that speak the protocol',
  'world-port-range': 'open the ports in use, to the peers that use them',
  'world-open-port': 'narrow the peer, or serve it through a load balancer',
  'world-open-web': 'serve the web through a load balancer, or narrow the peer',
  'world-open-icmp':
    'admit the ICMP types the host needs (path MTU discovery), from the networks that need them',
  'wide-public-cidr': 'narrow the peer to the networks that need it',
};

interface Permission {
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly peer: string;
}

/** The IpPermissions JSON of one entry, as the AWS CLI takes it. */
function ipPermissionJson(entry: Permission): string {
  const portless = entry.protocol === '-1' || entry.fromPort === undefined;
  const peer = entry.peer.startsWith('sg-')
    ? { UserIdGroupPairs: [{ GroupId: entry.peer }] }
    : entry.peer.startsWith('pl-')
      ? { PrefixListIds: [{ PrefixListId: entry.peer }] }
      : entry.peer.includes(':')
        ? { Ipv6Ranges: [{ CidrIpv6: entry.peer }] }
        : { IpRanges: [{ CidrIp: entry.peer }] };
  return JSON.stringify([
    {
      IpProtocol: entry.protocol,
      ...(portless ? {} : { FromPort: entry.fromPort, ToPort: entry.toPort ?? entry.fromPort }),
      ...peer,
    },
  ]);
}

function regionFlag(report: Pick<AuditReport, 'account'> | undefined): string {
  const region = report?.account.region;
  return region !== undefined && /^[a-z0-9-]+$/.test(region) ? ` --region ${region}` : '';
}

/**
 * The AWS CLI command that revokes a rule entry: by its `sgr-` id when known, else by its spec.
 *
 * @example revokeCommand('sg-1', rule) // "aws ec2 revoke-security-group-ingress --group-id sg-1 --ip-permissions '[…]'"
 */
export function revokeCommand(
  sgId: string,
  rule: Permission & Pick<ReportRule, 'direction' | 'securityGroupRuleId'>,
  report?: Pick<AuditReport, 'account'>,
): string {
  const what =
    rule.securityGroupRuleId !== undefined
      ? `--security-group-rule-ids ${rule.securityGroupRuleId}`
      : `--ip-permissions '${ipPermissionJson(rule)}'`;
  return `aws ec2 revoke-security-group-${rule.direction} --group-id ${sgId} ${what}${regionFlag(report)}`;
}

/**
 * The AWS CLI command that adds a recommended entry.
 *
 * @example authorizeCommand(recommendation) // "aws ec2 authorize-security-group-ingress --group-id sg-1 --ip-permissions '[…]'"
 */
export function authorizeCommand(rec: Recommendation, report?: Pick<AuditReport, 'account'>): string {
  return `aws ec2 authorize-security-group-${rec.direction} --group-id ${rec.sgId} --ip-permissions '${ipPermissionJson(rec)}'${regionFlag(report)}`;
}

function sameEntry(rec: Recommendation, rule: ReportRule): boolean {
  return (
    rec.direction === rule.direction &&
    rec.protocol === rule.protocol &&
    rec.fromPort === rule.fromPort &&
    rec.toPort === rule.toPort &&
    rec.peer === rule.peer
  );
}

/**
 * Whether a recommended entry is a rule the SG already has (keep it), or a new one (add it).
 *
 * @example recommendationAction(sg, rec) // 'add'
 */
export function recommendationAction(sg: ReportSecurityGroup, rec: Recommendation): 'add' | 'keep' {
  return sg.rules.some((rule) => sameEntry(rec, rule)) ? 'keep' : 'add';
}

/**
 * A rule to remove in the seed's words: `- remove tcp port 3389 from ::/0`.
 *
 * @example removalText(rule) // '- remove all traffic to 0.0.0.0/0'
 */
export function removalText(rule: ReportRule): string {
  let protocol: number | 'all';
  try {
    protocol = protocolNumber(rule.protocol);
  } catch {
    return `- remove ${rule.direction} ${rule.protocol} ${rule.direction === 'ingress' ? 'from' : 'to'} ${rule.peer}`;
  }
  const ranged = protocol !== 'all' && protocolHasPorts(protocol) && rule.fromPort !== undefined;
  const icmpType =
    protocol !== 'all' && isIcmp(protocol) && rule.fromPort !== undefined && rule.fromPort !== -1
      ? { type: rule.fromPort, code: rule.toPort ?? -1 }
      : undefined;
  const ports = ranged
    ? { from: rule.fromPort as number, to: rule.toPort ?? (rule.fromPort as number) }
    : undefined;
  return recommendationText(rule.direction, protocol, ports, icmpType, rule.peer).replace(
    /^- allow /,
    '- remove ',
  );
}

/** The recommended entries that take over a rule's traffic and are not rules yet. */
function replacementsOf(sg: ReportSecurityGroup, rule: ReportRule): Recommendation[] {
  return sg.recommendations.filter(
    (rec) => rec.sourceRuleIds.includes(rule.id) && rec.basis !== 'unproven' && !sameEntry(rec, rule),
  );
}

function entryWords(rec: Recommendation): string {
  return rec.text.replace(/^-\s*/, '');
}

function sentence(text: string): string {
  const trimmed = text.trim().replace(/[.;:\s]+$/, '');
  return trimmed === '' ? '' : `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}.`;
}

/**
 * The fix of one rule entry, from its verdict: remove (unused under proof), replace with the
 * narrower entries its traffic needs, keep, or prove its use first. A rule of an SG no ENI
 * carries can go: nothing uses it now.
 *
 * @example fixOfRule(rule, sg, report).action // 'replace'
 */
export function fixOfRule(
  rule: ReportRule,
  sg: ReportSecurityGroup,
  report?: Pick<AuditReport, 'account'>,
): Fix {
  const usage = rule.usage;
  const revoke = revokeCommand(sg.id, rule, report);
  switch (usage.verdict) {
    case 'remove':
      return {
        action: 'remove',
        text: sentence(`Remove the rule: ${usage.verdictReason}`),
        commands: [revoke],
      };
    case 'narrow': {
      const replacements = replacementsOf(sg, rule);
      if (replacements.length === 0)
        return {
          action: 'remove',
          text: sentence(`Remove the rule: other rules admit all its traffic`),
          commands: [revoke],
        };
      return {
        action: 'replace',
        text: sentence(
          `Replace it with ${replacements.map(entryWords).join('; ')} (${usage.verdictReason.replace(/^used, but /, '')})`,
        ),
        commands: [...replacements.map((rec) => authorizeCommand(rec, report)), revoke],
      };
    }
    case 'keep':
      return { action: 'keep', text: sentence(`Keep it: ${usage.verdictReason}`), commands: [] };
    case 'review': {
      if (sg.eniIds.length === 0 && sg.referencedBy.filter((id) => id !== sg.id).length === 0) {
        return {
          action: 'remove',
          text: 'No network interface carries the SG and no other SG references it: nothing uses the rule now, so it can go (or delete the SG).',
          commands: [revoke],
        };
      }
      const why = (usage.status === 'unknown' ? usage.statusReason : usage.verdictReason).replace(
        /^usage unknown: /,
        '',
      );
      // Fully covered yet unknown: traffic flow logs never record, or a peer the inventory lacks.
      if (usage.coverage === 'full')
        return { action: 'keep', text: sentence(`Keep it as written: ${why}`), commands: [] };
      return {
        action: 'prove',
        text: sentence(
          `Prove its use before changing it: ${why}; no change is proposed until flow logs cover its ENIs for the whole window`,
        ),
        commands: [],
      };
    }
  }
}

function groupFix(finding: Finding, sg: ReportSecurityGroup | undefined, report: AuditReport): Fix {
  const revokeAll = (group: ReportSecurityGroup) =>
    group.rules.map((rule) => revokeCommand(group.id, rule, report));
  switch (finding.check) {
    case 'unused-sg':
      return {
        action: 'delete-sg',
        text: 'Delete the SG once no launch template, Lambda function, ECS service or stack names it.',
        commands: [`aws ec2 delete-security-group --group-id ${finding.sgId}${regionFlag(report)}`],
      };
    case 'default-sg-has-rules':
      return {
        action: 'empty-default-sg',
        text: 'Remove the default SG’s rules: no ENI uses them, and resources that land in it by omission get no access.',
        commands: sg === undefined ? [] : revokeAll(sg),
      };
    case 'default-sg-in-use': {
      const enis = sg?.eniIds ?? [];
      return {
        action: 'empty-default-sg',
        text: sentence(
          `Attach purpose-made SGs to ${enis.length === 1 ? 'its ENI' : `its ${enis.length} ENIs`} (${enis.slice(0, 5).join(', ')}${enis.length > 5 ? ', …' : ''}), then remove the default SG’s rules`,
        ),
        // Revoking first would cut what the ENIs carry: the move needs a person's choice of SGs.
        commands: [],
      };
    }
    default:
      return { action: 'keep', text: '', commands: [] };
  }
}

/** SGs and rules of a report by id, built once for many findings. */
export interface FixIndex {
  readonly sgs: ReadonlyMap<string, ReportSecurityGroup>;
  readonly rules: ReadonlyMap<string, { readonly rule: ReportRule; readonly sg: ReportSecurityGroup }>;
}

/**
 * The lookups fixOfFinding needs, for reuse across a report's findings.
 *
 * @example const index = fixIndex(report); report.findings.map((f) => fixOfFinding(f, report, index))
 */
export function fixIndex(report: Pick<AuditReport, 'securityGroups'>): FixIndex {
  const sgs = new Map<string, ReportSecurityGroup>();
  const rules = new Map<string, { rule: ReportRule; sg: ReportSecurityGroup }>();
  for (const sg of report.securityGroups) {
    sgs.set(sg.id, sg);
    for (const rule of sg.rules) rules.set(rule.id, { rule, sg });
  }
  return { sgs, rules };
}

/**
 * The fix of a finding: its rule's fix (with what to restrict, for exposure checks whose rule is
 * kept or not yet proven), or the SG-level fix (delete the unused SG, empty the default SG).
 *
 * @example fixOfFinding(finding, report).text // 'Replace it with allow tcp port 22 from 203.0.113.0/24 (…).'
 */
export function fixOfFinding(finding: Finding, report: AuditReport, index: FixIndex = fixIndex(report)): Fix {
  if (finding.ruleId === undefined) return groupFix(finding, index.sgs.get(finding.sgId), report);
  const context = index.rules.get(finding.ruleId);
  if (context === undefined)
    return { action: 'prove', text: 'The rule is not in this report.', commands: [] };
  const fix = fixOfRule(context.rule, context.sg, report);
  const advice = EXPOSURE_ADVICE[finding.check];
  if (advice === undefined || fix.action === 'remove' || fix.action === 'replace') return fix;
  if (finding.severity === 'info') return fix;
  return { ...fix, text: `${fix.text} Meanwhile ${advice}.` };
}

/**
 * A fix in one line for tables: the words, then the commands joined with ' && '.
 *
 * @example fixLine({ action: 'remove', text: 'Remove the rule.', commands: ['aws ec2 …'] }) // 'Remove the rule. Run: aws ec2 …'
 */
export function fixLine(fix: Fix | undefined): string {
  if (fix === undefined) return '';
  return fix.commands.length === 0 ? fix.text : `${fix.text} Run: ${fix.commands.join(' && ')}`;
}

/**
 * The report with every finding's fix set.
 *
 * @example withFixes(report).findings[0]?.fix?.action // 'replace'
 */
export function withFixes(report: AuditReport): AuditReport {
  const index = fixIndex(report);
  return { ...report, findings: report.findings.map((f) => ({ ...f, fix: fixOfFinding(f, report, index) })) };
}
