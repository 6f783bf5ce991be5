/**
 * What every alert says whatever the channel: whose account, how bad, the worst findings first,
 * and where the full report is. The channel composers (./email, ./slack) lay it out; this module
 * holds the parts they share, and the text hygiene that keeps user-controlled values (SG names,
 * descriptions, error messages) from forging lines or breaking a channel's limits.
 */
import type { Finding, Severity } from '../model/analysis';
import { SEVERITIES, severityRank } from '../model/analysis';
import type { RuleChange } from '../model/rule-change';
import {
  type ChangeOverview,
  changeOverview,
  type LeadingFinding,
  leadingChangeText,
  leadingFindings,
  previousRunLabel,
} from '../render/changes';
import { compareFindings, formatCount, formatQuantity, readableTime } from '../render/format';
import type { AuditReport } from '../report/model';
import { isActivelySuppressed } from '../suppressions/suppressions';

/** Options every alert composer takes. */
export interface AlertOptions {
  /** Findings listed, worst first; the rest are counted. @default 10 */
  readonly topFindings?: number;
  /** Report warnings listed (Slack; the e-mail counts them and links to the report). @default 5 */
  readonly maxWarnings?: number;
}

export const DEFAULT_TOP_FINDINGS = 10;

/** The tool's name as alerts spell it (subjects must start with a letter, so never user input). */
export const ALERT_TOOL_NAME = 'sg-audit';

/** Control characters (CR, LF, ESC, NEL …) and the Unicode line and paragraph separators. */
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]+/gu;

/**
 * One line of text: control characters and line separators become spaces, runs of spaces
 * collapse, ends are trimmed. SG names and descriptions are user input; this keeps them from
 * forging lines in a message.
 *
 * @example singleLine('web\r\nSubject: hi') // 'web Subject: hi'
 */
export function singleLine(text: string): string {
  return text.replace(LINE_BREAKING, ' ').replace(/ {2,}/g, ' ').trim();
}

/**
 * The text cut to at most `max` characters (UTF-16 units), ending with `ellipsis` when cut, and
 * never splitting a surrogate pair.
 *
 * @example clip('abcdef', 4) // 'abc…'
 */
export function clip(text: string, max: number, ellipsis = '…'): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - ellipsis.length);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + ellipsis;
}

/**
 * The worst findings first (the renderers' order), at most `count`.
 *
 * @example worstFindings(report.findings, 10)
 */
export function worstFindings(findings: readonly Finding[], count: number): Finding[] {
  return [...findings].sort(compareFindings).slice(0, Math.max(0, count));
}

/**
 * Account and region as alerts name them: '123456789012/ap-northeast-2'.
 *
 * @example accountLabel({ id: '123456789012', region: 'ap-northeast-2' }) // '123456789012/ap-northeast-2'
 */
export function accountLabel(
  account: { readonly id?: string; readonly region?: string } | undefined,
): string {
  const id = singleLine(account?.id ?? '') || 'unknown-account';
  const region = singleLine(account?.region ?? '');
  return region ? `${id}/${region}` : id;
}

/**
 * The headline counts: critical and high always, the lower severities summed.
 *
 * @example severityHeadline({ critical: 3, high: 5, medium: 2, low: 0, info: 1 }) // '3 critical, 5 high findings (+3 lower)'
 */
export function severityHeadline(counts: Readonly<Record<Severity, number>>): string {
  const lower = SEVERITIES.filter((s) => s !== 'critical' && s !== 'high').reduce(
    (sum, s) => sum + (counts[s] ?? 0),
    0,
  );
  const head = `${formatCount(counts.critical ?? 0)} critical, ${formatCount(counts.high ?? 0)} high findings`;
  return lower > 0 ? `${head} (+${formatCount(lower)} lower)` : head;
}

/** Total of a count map. */
export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/**
 * The file names under a run's location, from the keys a sink wrote (the pointer files excluded).
 *
 * @example storedFileNames('s3://b/r/1/', ['r/1/report.json', 'r/latest.json']) // ['report.json']
 */
export function storedFileNames(location: string, keys: readonly string[]): string[] {
  const baseName = (key: string) => key.slice(key.lastIndexOf('/') + 1);
  // A local sink's keys are the paths it wrote; an S3 sink's are object keys under the location.
  const under = location.startsWith('s3://') ? location.replace(/^s3:\/\/[^/]*\/?/, '') : '';
  return keys
    .filter((key) => key.startsWith(under))
    .map(baseName)
    .filter((name) => name !== '');
}

/**
 * Which message an alert about a report is:
 * - 'plain': no comparison with a previous report (today's form: counts and top findings);
 * - 'first-run': compared, but there was no previous report;
 * - 'changes': new, worse or resurfaced (no longer accepted) findings since the previous report,
 *   listed first;
 * - 'no-change': compared, nothing new or worse (sent anyway, e.g. a forced notification);
 * - 'digest': the short weekly "no change" digest (asked for, and nothing new or worse).
 */
export type AlertForm = 'plain' | 'first-run' | 'changes' | 'no-change' | 'digest';

/** A report as alerts present it: actively suppressed findings left out of every count and list. */
export interface AlertView {
  readonly form: AlertForm;
  /** Findings not actively suppressed, in report order. */
  readonly findings: readonly Finding[];
  /** Counts by severity of those findings. */
  readonly counts: Readonly<Record<Severity, number>>;
  /** Findings an active suppression covers (left out; said once). */
  readonly suppressed: number;
  /** The changes with suppressed findings left out (absent when not compared). */
  readonly changes?: ChangeOverview;
  /** The previous run for people ('2025-11-10 00:05 UTC'), when compared with one. */
  readonly since?: string;
  /** The previous run's date for subjects ('2025-11-10'), when known. */
  readonly sinceDate?: string;
}

/**
 * The alert's view of a report. The summary's counts are kept (they may count findings a
 * truncated list lacks), less the actively suppressed findings. A digest is only sent as such
 * when nothing is new or worse: a new finding is never hidden behind a "no change" digest.
 *
 * @example alertView(report, false).form // 'changes'
 */
export function alertView(report: AuditReport, digest = false): AlertView {
  const findings = report.findings.filter((f) => !isActivelySuppressed(f));
  const suppressed = report.findings.length - findings.length;
  const counts = Object.fromEntries(
    SEVERITIES.map((s) => [s, report.summary.findingsBySeverity[s] ?? 0]),
  ) as Record<Severity, number>;
  for (const f of report.findings) {
    if (isActivelySuppressed(f)) counts[f.severity] = Math.max(0, counts[f.severity] - 1);
  }
  const changes = changeOverview(report, { actionableOnly: true });
  const base = { findings, counts, suppressed };
  if (changes === undefined) return { ...base, form: digest ? 'digest' : 'plain' };
  if (changes.firstRun) return { ...base, form: 'first-run', changes };
  const since = previousRunLabel(changes, readableTime);
  const sinceDate = changes.previousGeneratedAt?.slice(0, 10);
  const worse = changes.counts.new + changes.counts.worse + changes.counts.resurfaced > 0;
  const form: AlertForm = worse ? 'changes' : digest ? 'digest' : 'no-change';
  return { ...base, form, changes, since, ...(sinceDate !== undefined ? { sinceDate } : {}) };
}

/**
 * '2 new, 1 worse findings', '1 new finding', '3 worse findings', '1 resurfaced finding' (its
 * acceptance ended since the previous run: expired or deleted).
 *
 * @example newWorseText({ new: 2, worse: 1 }) // '2 new, 1 worse findings'
 */
export function newWorseText(counts: {
  readonly new: number;
  readonly worse: number;
  readonly resurfaced?: number;
}): string {
  const resurfaced = counts.resurfaced ?? 0;
  const parts = [
    ...(counts.new > 0 ? [`${formatCount(counts.new)} new`] : []),
    ...(counts.worse > 0 ? [`${formatCount(counts.worse)} worse`] : []),
    ...(resurfaced > 0 ? [`${formatCount(resurfaced)} resurfaced`] : []),
  ];
  const n = counts.new + counts.worse + resurfaced;
  return `${parts.join(', ') || '0 new'} ${n === 1 ? 'finding' : 'findings'}`;
}

/** One rule's change: its new, worse or resurfaced findings, counted once at the worst of them. */
export interface RuleChangeLead {
  /** The worst finding's change. */
  readonly change: LeadingFinding['change'];
  /** The worst finding of the rule (the SG's, for SG-level findings). */
  readonly finding: Finding;
  readonly previousSeverity?: Severity;
  /** Every leading finding of the rule, the worst first. */
  readonly findings: readonly Finding[];
}

/**
 * The rules a change report leads with, each once (3389 opened to ::/0 is one new critical
 * change, not a new critical and a new low "unused-rule"), in leadingFindings order.
 *
 * @example leadingRuleChanges(overview).map((l) => l.findings.length) // [2, 1]
 */
export function leadingRuleChanges(overview: ChangeOverview): RuleChangeLead[] {
  const groups = new Map<string, LeadingFinding[]>();
  for (const lead of leadingFindings(overview)) {
    const key = `${lead.finding.sgId}\u0000${lead.finding.ruleId ?? ''}`;
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [lead]);
    else list.push(lead);
  }
  const leads = [...groups.values()].map((group) => {
    const sorted = [...group].sort(
      (a, b) => severityRank(a.finding.severity) - severityRank(b.finding.severity),
    );
    const worst = sorted[0] as LeadingFinding;
    return {
      change: worst.change,
      finding: worst.finding,
      ...(worst.previousSeverity !== undefined ? { previousSeverity: worst.previousSeverity } : {}),
      findings: sorted.map((l) => l.finding),
    };
  });
  const order = { new: 0, worse: 1, resurfaced: 2 } as const;
  return leads.sort(
    (a, b) =>
      order[a.change] - order[b.change] ||
      severityRank(a.finding.severity) - severityRank(b.finding.severity),
  );
}

/**
 * The rule changes by kind and severity: '2 new critical, 1 worse high findings'; past
 * `maxParts` the rest are summed ('… +3 more'). Each rule counts once.
 *
 * @example ruleChangeText(leadingRuleChanges(overview)) // '1 new critical finding'
 */
export function ruleChangeText(leads: readonly RuleChangeLead[], maxParts = 3): string {
  const counts = new Map<string, number>();
  for (const lead of leads) {
    const key = `${lead.change === 'resurfaced' ? 'resurfaced' : lead.change} ${lead.finding.severity}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const parts = [...counts].map(([key, n]) => `${formatCount(n)} ${key}`);
  const shown = parts.slice(0, maxParts);
  const rest = leads.length - [...counts.values()].slice(0, maxParts).reduce((sum, n) => sum + n, 0);
  const text = `${shown.join(', ') || '0 new'}${rest > 0 ? ` (+${formatCount(rest)} more)` : ''}`;
  return `${text} ${leads.length === 1 ? 'finding' : 'findings'}`;
}

/**
 * How a rule change reads in a list: 'new', 'worse, was low', 'no longer accepted', with the
 * rule's other findings named ('new; also unused-rule low').
 *
 * @example ruleChangeLabel(lead) // 'new; also unused-rule (low)'
 */
export function ruleChangeLabel(lead: RuleChangeLead): string {
  const base = leadingChangeText({
    change: lead.change,
    finding: lead.finding,
    ...(lead.previousSeverity !== undefined ? { previousSeverity: lead.previousSeverity } : {}),
  });
  const others = lead.findings.slice(1).map((f) => `${f.severity} ${f.check}`);
  return others.length > 0 ? `${base}; also ${others.join(', ')}` : base;
}

/**
 * Whether a change names who made it (not "before the history", not unknown).
 *
 * @example isNamedChange({ kind: 'created', text: 'opened by …' }) // true
 */
export function isNamedChange(change: RuleChange): boolean {
  return change.kind !== 'before-history' && change.kind !== 'unknown';
}

/** A headline in three parts, so a channel can shorten the account label alone. */
export interface AlertHeadline {
  readonly prefix: string;
  readonly label: string;
  readonly rest: string;
}

/**
 * The alert's headline (subject, Slack header and notification text) for its form:
 * 'sg-audit: 2 new critical, 1 worse high findings in 123456789012/eu-west-1' (each rule once),
 * 'sg-audit: no new or worse findings in 123456789012/eu-west-1 since 2025-11-10',
 * 'sg-audit weekly digest: no new or worse findings in … since …',
 * 'sg-audit 123456789012/eu-west-1 (first run): 3 critical, 5 high findings',
 * 'sg-audit 123456789012/eu-west-1: 3 critical, 5 high findings (+4 lower)'.
 *
 * @example headlineText(alertHeadline(alertView(report), accountLabel(report.account)))
 */
export function alertHeadline(view: AlertView, label: string): AlertHeadline {
  const since = view.sinceDate ?? view.since;
  const sinceText = since !== undefined ? ` since ${since}` : '';
  switch (view.form) {
    case 'changes':
      return {
        prefix: `${ALERT_TOOL_NAME}: ${view.changes ? ruleChangeText(leadingRuleChanges(view.changes)) : newWorseText({ new: 0, worse: 0 })} in `,
        label,
        rest: '',
      };
    case 'no-change':
      return { prefix: `${ALERT_TOOL_NAME}: no new or worse findings in `, label, rest: sinceText };
    case 'digest':
      return view.changes === undefined
        ? { prefix: `${ALERT_TOOL_NAME} weekly digest `, label, rest: `: ${severityHeadline(view.counts)}` }
        : {
            prefix: `${ALERT_TOOL_NAME} weekly digest: no new or worse findings in `,
            label,
            rest: sinceText,
          };
    case 'first-run':
      return { prefix: `${ALERT_TOOL_NAME} `, label, rest: ` (first run): ${severityHeadline(view.counts)}` };
    case 'plain':
      return { prefix: `${ALERT_TOOL_NAME} `, label, rest: `: ${severityHeadline(view.counts)}` };
  }
}

/**
 * The headline as one line.
 *
 * @example headlineText({ prefix: 'sg-audit ', label: '1234/eu-west-1', rest: ': 0 critical, 0 high findings' })
 */
export function headlineText(headline: AlertHeadline): string {
  return `${headline.prefix}${headline.label}${headline.rest}`;
}

/**
 * The one sentence about accepted risks left out of an alert, or undefined when there are none.
 *
 * @example suppressedText(2) // '2 accepted risks (suppressed findings) are left out of this alert.'
 */
export function suppressedText(suppressed: number): string | undefined {
  if (suppressed === 0) return undefined;
  return `${formatQuantity(suppressed, 'accepted risk (suppressed finding) is', 'accepted risks (suppressed findings) are')} left out of this alert.`;
}

/**
 * The other changes in one line: changed findings, verdict changes, SGs and ENIs added/removed.
 *
 * @example otherChangesText(overview) // '1 changed finding, 1 rule verdict change, SGs +0/-0 (1 renamed), ENIs +0/-1'
 */
export function otherChangesText(changes: ChangeOverview): string {
  const c = changes.counts;
  return [
    formatQuantity(c.changed, 'changed finding', 'changed findings'),
    formatQuantity(c.verdictChanges, 'rule verdict change', 'rule verdict changes'),
    `SGs +${formatCount(c.newSecurityGroups)}/-${formatCount(c.removedSecurityGroups)}${c.renamedSecurityGroups > 0 ? ` (${formatCount(c.renamedSecurityGroups)} renamed)` : ''}`,
    `ENIs +${formatCount(c.newEnis)}/-${formatCount(c.removedEnis)}`,
  ].join(', ');
}
