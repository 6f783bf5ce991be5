/**
 * The fix of a finding or a rule: what to change, in words, and the AWS CLI commands that make the
 * change (authorize the narrower entries before revoking the wide one, so nothing in use breaks
 * in between). Commands are given only for changes the evidence supports: a rule whose use is not
 * proven gets words (prove it first), never a revoke — silence is never evidence. A rule's
 * change is the one `sg-audit plan` makes (shared/remediation/planned-change.ts): an SG that code
 * manages gets the change in its code, not a command; a rule the plan keeps (the last that admits
 * observed traffic, a public service, the quota) stays. Commands are written by the plan's one
 * AWS CLI writer (aws-cli.ts). Every output (report.json, the CSVs and workbook, summary.md,
 * report.html, e-mail, Slack) reads fixes from here.
 */
import { recommendationText } from '../analysis/recommend';
import type { Finding, Fix, Recommendation } from '../model/analysis';
import { isIcmp, protocolHasPorts, protocolNumber } from '../net/protocol';
import type { AuditReport, ReportRule, ReportSecurityGroup } from '../report/model';
import { sgCommand } from './aws-cli';
import type { IacOwner } from './model';
import { iacOwner } from './ownership';
import { type PlannedRuleChange, plannedChangesOfReport } from './planned-change';
import { type ReportRuleEntry, specKey, specOfRecommendation, specOfReportRule, specText } from './rule-spec';

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
  rule: ReportRuleEntry,
  report?: Pick<AuditReport, 'account'>,
): string {
  return `${sgCommand(sgId, [{ action: 'revoke', rule: specOfReportRule(rule) }])}${regionFlag(report)}`;
}

/**
 * The AWS CLI command that adds a recommended entry.
 *
 * @example authorizeCommand(recommendation) // "aws ec2 authorize-security-group-ingress --group-id sg-1 --ip-permissions '[…]'"
 */
export function authorizeCommand(rec: Recommendation, report?: Pick<AuditReport, 'account'>): string {
  return `${sgCommand(rec.sgId, [{ action: 'authorize', rule: specOfRecommendation(rec) }])}${regionFlag(report)}`;
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
 * carries can go: nothing uses it now. With the rule's planned change (see
 * {@link plannedChangesOfReport}), a remove or narrow is the plan's: its commands, or none where
 * code manages the SG or the plan keeps the rule.
 *
 * @example fixOfRule(rule, sg, report).action // 'replace'
 */
export function fixOfRule(
  rule: ReportRule,
  sg: ReportSecurityGroup,
  report?: Pick<AuditReport, 'account'>,
  planned?: PlannedRuleChange,
): Fix {
  const usage = rule.usage;
  switch (usage.verdict) {
    case 'remove':
    case 'narrow':
      return planned === undefined ? provenFix(rule, sg, report) : plannedFix(rule, sg, planned, report);
    case 'keep':
      return { action: 'keep', text: sentence(`Keep it: ${usage.verdictReason}`), commands: [] };
    case 'review': {
      if (sg.eniIds.length === 0 && sg.referencedBy.filter((id) => id !== sg.id).length === 0) {
        return {
          action: 'remove',
          text: 'No network interface carries the SG and no other SG references it: nothing uses the rule now, so it can go (or delete the SG).',
          commands: [revokeCommand(sg.id, rule, report)],
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

/** A proven remove or narrow from the report alone (no plan given). */
function provenFix(rule: ReportRule, sg: ReportSecurityGroup, report?: Pick<AuditReport, 'account'>): Fix {
  const revoke = revokeCommand(sg.id, rule, report);
  const replacements = rule.usage.verdict === 'narrow' ? replacementsOf(sg, rule) : [];
  if (replacements.length === 0) return { ...removeWords(rule), commands: [revoke] };
  return {
    ...replaceWords(rule, replacements.map(entryWords)),
    commands: [...replacements.map((rec) => authorizeCommand(rec, report)), revoke],
  };
}

function removeWords(rule: ReportRule): Pick<Fix, 'action' | 'text'> {
  return {
    action: 'remove',
    text: sentence(
      rule.usage.verdict === 'remove'
        ? `Remove the rule: ${rule.usage.verdictReason}`
        : 'Remove the rule: other rules admit all its traffic',
    ),
  };
}

function replaceWords(rule: ReportRule, entries: readonly string[]): Pick<Fix, 'action' | 'text'> {
  return {
    action: 'replace',
    text: sentence(
      `Replace it with ${entries.join('; ')} (${rule.usage.verdictReason.replace(/^used, but /, '')})`,
    ),
  };
}

const IAC_TOOLS: Readonly<Record<IacOwner['tool'], string>> = {
  cloudformation: 'CloudFormation',
  cdk: 'The AWS CDK',
  terraform: 'Terraform',
  pulumi: 'Pulumi',
};

/** A remove or narrow as the plan makes it. */
function plannedFix(
  rule: ReportRule,
  sg: ReportSecurityGroup,
  planned: PlannedRuleChange,
  report?: Pick<AuditReport, 'account'>,
): Fix {
  if (planned.change === 'keep') {
    return { action: 'keep', text: sentence(`Keep it for now: ${planned.reason}`), commands: [] };
  }
  // The entries the plan adds, in the recommendations' words where they are recommended entries.
  const words = new Map(
    sg.recommendations.map((rec) => [specKey(specOfRecommendation(rec)), entryWords(rec)]),
  );
  const fix =
    planned.change === 'revoke' || planned.adds.length === 0
      ? removeWords(rule)
      : replaceWords(
          rule,
          planned.adds.map((add) => words.get(specKey(add)) ?? `allow ${specText(add)}`),
        );
  if (planned.owner !== undefined) {
    return {
      ...fix,
      text: `${fix.text} ${IAC_TOOLS[planned.owner.tool]} manages the SG (${planned.owner.evidence}): make the change in its code (sg-audit plan writes it), not in the SG, which would drift.`,
      commands: [],
    };
  }
  if (planned.blocked !== undefined) {
    return { ...fix, text: `${fix.text} Not changed directly: ${planned.blocked}.`, commands: [] };
  }
  return { ...fix, commands: planned.commands.map((command) => `${command}${regionFlag(report)}`) };
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

/** Each report's planned changes, built once however many outputs ask (a report's SGs are its identity). */
const plannedBySgs = new WeakMap<readonly ReportSecurityGroup[], ReadonlyMap<string, PlannedRuleChange>>();

function plannedOf(report: AuditReport): ReadonlyMap<string, PlannedRuleChange> {
  let planned = plannedBySgs.get(report.securityGroups);
  if (planned === undefined) {
    planned = plannedChangesOfReport(report);
    plannedBySgs.set(report.securityGroups, planned);
  }
  return planned;
}

/**
 * What to do about a rule the recommendations leave out, as the plan would: remove it (its revoke
 * command alone: the entries replacing it are added by their own rows), or keep it and why — the
 * plan keeps it, or code manages the SG (then no command). recommendations.csv and report.html
 * show it for each such rule.
 *
 * @example removalOf(rule, sg, report) // { action: 'remove', text: 'Remove the rule: …', command: 'aws ec2 revoke-…' }
 */
export function removalOf(
  rule: ReportRule,
  sg: ReportSecurityGroup,
  report: AuditReport,
): { readonly action: 'remove' | 'keep'; readonly text: string; readonly command?: string } {
  const fix = fixOfRule(rule, sg, report, plannedOf(report).get(rule.id));
  const action = fix.action === 'keep' ? 'keep' : 'remove';
  return fix.commands.length === 0
    ? { action, text: fix.text }
    : { action, text: fix.text, command: revokeCommand(sg.id, rule, report) };
}

/**
 * How to add a recommended entry the SG lacks: its AWS CLI command, or, where code manages the
 * SG, where to add it instead (a direct change would drift).
 *
 * @example addition(sg, rec, report) // { command: 'aws ec2 authorize-security-group-ingress …' }
 */
export function addition(
  sg: ReportSecurityGroup,
  rec: Recommendation,
  report?: Pick<AuditReport, 'account'>,
): { readonly command: string } | { readonly text: string } {
  const owner = iacOwner(sg);
  if (owner === undefined) return { command: authorizeCommand(rec, report) };
  return { text: `${IAC_TOOLS[owner.tool]} manages the SG (${owner.evidence}): add it in its code` };
}

/** SGs and rules of a report by id, built once for many findings. */
export interface FixIndex {
  readonly sgs: ReadonlyMap<string, ReportSecurityGroup>;
  readonly rules: ReadonlyMap<string, { readonly rule: ReportRule; readonly sg: ReportSecurityGroup }>;
  /** The plan's change of each rule it changes or keeps. */
  readonly planned: ReadonlyMap<string, PlannedRuleChange>;
}

/**
 * The lookups fixOfFinding needs, for reuse across a report's findings.
 *
 * @example const index = fixIndex(report); report.findings.map((f) => fixOfFinding(f, report, index))
 */
export function fixIndex(report: AuditReport): FixIndex {
  const sgs = new Map<string, ReportSecurityGroup>();
  const rules = new Map<string, { rule: ReportRule; sg: ReportSecurityGroup }>();
  for (const sg of report.securityGroups) {
    sgs.set(sg.id, sg);
    for (const rule of sg.rules) rules.set(rule.id, { rule, sg });
  }
  return { sgs, rules, planned: plannedOf(report) };
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
  const fix = fixOfRule(context.rule, context.sg, report, index.planned.get(finding.ruleId));
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
