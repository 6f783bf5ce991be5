/**
 * The Slack digest (incoming webhook, Block Kit): the counts at a glance, then the worst findings
 * themselves — a channel acts on "sg-0a11 (web) allows 22 from 0.0.0.0/0", not on "3 critical" —
 * then the warnings and a button to the HTML report. Compared with a previous report, the new and
 * worse findings are the ones listed; the weekly digest has no list. Accepted risks (actively
 * suppressed findings) are left out. Slack's limits (aws-facts.md "SNS and
 * Slack"): at most 50 blocks, section text at most 3000 characters, header 150, and the blocks'
 * text kept under ~12,000 characters; the digest lists what fits and says how many more there are.
 */

import { integerOption } from '../errors';
import type { Finding, Severity } from '../model/analysis';
import { COVERAGE_STATUSES, RULE_STATUSES, RULE_VERDICTS, SEVERITIES } from '../model/analysis';
import type { AuditAlert, StoredReport } from '../model/ports';
import { EVIDENCE_LEAD, evidenceProblems } from '../render/evidence';
import { findingRuleText, formatCount, formatQuantity, readableTime } from '../render/format';
import { distinctWarnings } from '../render/warnings';
import type { AuditReport } from '../report/model';
import {
  ALERT_TOOL_NAME,
  type AlertOptions,
  type AlertView,
  accountLabel,
  alertHeadline,
  alertView,
  clip,
  DEFAULT_TOP_FINDINGS,
  headlineText,
  isNamedChange,
  leadingRuleChanges,
  otherChangesText,
  ruleChangeLabel,
  ruleChangeText,
  singleLine,
  suppressedText,
  worstFindings,
} from './digest';

export const SLACK_MAX_BLOCKS = 50;
export const SLACK_SECTION_TEXT_MAX = 3_000;
export const SLACK_FIELD_TEXT_MAX = 2_000;
export const SLACK_SECTION_FIELDS_MAX = 10;
export const SLACK_HEADER_TEXT_MAX = 150;
export const SLACK_CONTEXT_ELEMENTS_MAX = 10;
export const SLACK_BUTTON_TEXT_MAX = 75;
export const SLACK_BUTTON_URL_MAX = 3_000;
/** Slack truncates messages whose blocks carry more text than about this. */
export const SLACK_TEXT_LIMIT = 12_000;
/** The text budget used by default: under the limit with room to spare. */
export const DEFAULT_SLACK_TEXT_BUDGET = 11_000;
/** The smallest budget accepted: the fixed parts (header, counts, warnings, link) must fit. */
const MIN_TEXT_BUDGET = 5_000;
const MIN_BLOCKS = 12;
const DEFAULT_SLACK_WARNINGS = 5;
/** Room kept for the "Top findings" title and the "+N more" line, decided after the findings. */
const TITLE_RESERVE_CHARS = 120;

export interface SlackOptions extends AlertOptions {
  /** Blocks at most (Slack: 50). @default 50 */
  readonly maxBlocks?: number;
  /** Characters of block text at most (Slack: ~12,000). @default 11000 */
  readonly maxTextChars?: number;
}

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}

export interface SlackButton {
  readonly type: 'button';
  readonly text: SlackText;
  readonly url: string;
  readonly action_id: string;
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text?: SlackText; readonly fields?: readonly SlackText[] }
  | { readonly type: 'divider' }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }
  | { readonly type: 'actions'; readonly elements: readonly SlackButton[] };

export interface SlackMessage {
  /** Block Kit blocks, within Slack's limits. */
  readonly blocks: SlackBlock[];
  /** The notification text (and the fallback where blocks do not show), mrkdwn-escaped. */
  readonly text: string;
}

const SEVERITY_EMOJI: Readonly<Record<Severity, string>> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  info: ':white_circle:',
};

/**
 * Text safe in Slack mrkdwn: the three control characters Slack reserves (&, <, >) become
 * entities, so user text cannot open a link, a mention (<!channel>) or a date token.
 *
 * @example escapeMrkdwn('<!channel> & co') // '&lt;!channel&gt; &amp; co'
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * User text for mrkdwn: one line, escaped, at most `max` characters after escaping, never cut
 * inside an entity.
 *
 * @example mrkdwnText('a <b> c', 8) // 'a &lt;b…'
 */
export function mrkdwnText(raw: string, max: number): string {
  const escaped = escapeMrkdwn(singleLine(raw));
  if (escaped.length <= max) return escaped;
  const cut = clip(escaped, max);
  return `${cut.slice(0, -1).replace(/&[a-z]*$/, '')}…`;
}

/** User text as inline code (backticks inside would close the span early). */
function code(raw: string, max: number): string {
  return `\`${mrkdwnText(raw.replace(/`/g, "'"), max)}\``;
}

function mrkdwn(text: string, max = SLACK_SECTION_TEXT_MAX): SlackText {
  return { type: 'mrkdwn', text: clipMrkdwn(text, max) };
}

/** Composed mrkdwn (already escaped) cut to `max` characters, never inside an entity. */
function clipMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${clip(text, max)
    .slice(0, -1)
    .replace(/&[a-z]*$/, '')}…`;
}

function header(text: string): SlackBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: clip(singleLine(text), SLACK_HEADER_TEXT_MAX), emoji: true },
  };
}

function context(...texts: string[]): SlackBlock {
  return {
    type: 'context',
    elements: texts.slice(0, SLACK_CONTEXT_ELEMENTS_MAX).map((text) => mrkdwn(text)),
  };
}

/**
 * Characters of text a block carries (what Slack's size limits count).
 *
 * @example blockTextChars({ type: 'divider' }) // 0
 */
export function blockTextChars(block: SlackBlock): number {
  switch (block.type) {
    case 'header':
      return block.text.text.length;
    case 'section':
      return (block.text?.text.length ?? 0) + (block.fields ?? []).reduce((n, f) => n + f.text.length, 0);
    case 'context':
      return block.elements.reduce((n, e) => n + e.text.length, 0);
    case 'actions':
      return block.elements.reduce((n, e) => n + e.text.text.length, 0);
    case 'divider':
      return 0;
  }
}

function textChars(blocks: readonly SlackBlock[]): number {
  return blocks.reduce((n, block) => n + blockTextChars(block), 0);
}

function findingBlock(finding: Finding, change = ''): SlackBlock {
  const name = finding.sgName ? ` ${mrkdwnText(finding.sgName, 100)}` : '';
  const rule = findingRuleText(finding);
  const lines = [
    `${SEVERITY_EMOJI[finding.severity]} *${finding.severity.toUpperCase()}*${change ? ` _(${change})_` : ''} · ${code(finding.sgId, 40)}${name} · ${mrkdwnText(finding.vpcId, 40)}`,
    `${rule ? `${code(rule, 200)} · ` : ''}${mrkdwnText(finding.check, 40)}`,
    mrkdwnText(finding.reason, 400),
  ];
  if (finding.change !== undefined && isNamedChange(finding.change))
    lines.push(`:bust_in_silhouette: ${mrkdwnText(finding.change.text, 300)}`);
  if (finding.evidence) lines.push(`Evidence: ${mrkdwnText(finding.evidence, 300)}`);
  if (finding.fix?.text) lines.push(`:wrench: *Fix:* ${mrkdwnText(finding.fix.text, 600)}`);
  const s = finding.suppression;
  if (s?.status === 'expired') {
    lines.push(
      `:hourglass: suppression ${code(s.id, 60)} (${mrkdwnText(s.owner, 60)}) expired ${mrkdwnText(s.expires, 20)}: counted again`,
    );
  }
  return { type: 'section', text: mrkdwn(lines.join('\n')) };
}

function countField(
  label: string,
  counts: Readonly<Record<string, number>>,
  order: readonly string[],
): SlackText {
  const text = order.map((key) => `${formatCount(counts[key] ?? 0)} ${key}`).join(' · ');
  return mrkdwn(`*${label}*\n${text}`, SLACK_FIELD_TEXT_MAX);
}

function summaryBlocks(report: AuditReport, view: AlertView): SlackBlock[] {
  const s = report.summary;
  const window = `*Window:* ${readableTime(report.window.start)} → ${readableTime(report.window.end)} (${report.window.days} days)`;
  const run = `*Run:* ${code(report.runId, 80)} (${report.mode}) · ${formatQuantity(s.securityGroups, 'SG', 'SGs')}, ${formatQuantity(s.ruleEntries, 'rule', 'rules')}, ${formatQuantity(s.networkInterfaces, 'ENI', 'ENIs')}`;
  const fields: SlackText[] = [
    ...SEVERITIES.map((severity) =>
      mrkdwn(
        `${SEVERITY_EMOJI[severity]} *${severity}*\n${formatCount(view.counts[severity])}`,
        SLACK_FIELD_TEXT_MAX,
      ),
    ),
    countField('Rules', s.rulesByStatus, RULE_STATUSES),
    countField('Verdicts', s.rulesByVerdict, RULE_VERDICTS),
    countField('ENI coverage', s.enisByCoverage, COVERAGE_STATUSES),
  ];
  return [
    { type: 'section', text: mrkdwn(`${window}\n${run}`), fields: fields.slice(0, SLACK_SECTION_FIELDS_MAX) },
  ];
}

function warningBlocks(report: AuditReport, maxWarnings: number): SlackBlock[] {
  // Each once, the count report.html and report.json give.
  const warnings = distinctWarnings(report);
  if (warnings.length === 0) return [];
  const lines = [`:warning: *Warnings* (${formatCount(warnings.length)})`];
  for (const warning of warnings.slice(0, maxWarnings)) {
    lines.push(`• ${mrkdwnText(warning.code, 40)}: ${mrkdwnText(warning.message, 250)}`);
  }
  const more = warnings.length - Math.min(maxWarnings, warnings.length);
  if (more > 0) lines.push(`+${formatCount(more)} more in report.json`);
  return [{ type: 'section', text: mrkdwn(lines.join('\n'), 2_000) }];
}

function linkBlocks(report: AuditReport, stored: StoredReport): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  const url = stored.htmlUrl ? singleLine(stored.htmlUrl) : '';
  if (url && url.length <= SLACK_BUTTON_URL_MAX) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open the HTML report', emoji: false },
          url,
          action_id: 'open-report',
        },
      ],
    });
  }
  const notes = [`Files: ${code(stored.location, 400)}`];
  if (url && url.length > SLACK_BUTTON_URL_MAX)
    notes.push('The report link is too long for Slack: open report.html there.');
  if (url && stored.htmlUrlExpiresAt) notes.push(`Link valid until ${readableTime(stored.htmlUrlExpiresAt)}`);
  notes.push(`${mrkdwnText(report.tool.name, 40)} ${mrkdwnText(report.tool.version, 40)}`);
  blocks.push(context(...notes));
  return blocks;
}

/** The lines above the counts: what changed (when compared) and the accepted risks left out. */
function leadText(view: AlertView): string | undefined {
  const lines: string[] = [];
  const since = view.since ?? 'the previous run';
  if (view.form === 'changes') {
    lines.push(
      `*${view.changes ? ruleChangeText(leadingRuleChanges(view.changes)) : '0 new findings'}* since ${since}`,
    );
  } else if (view.form === 'no-change' || (view.form === 'digest' && view.changes !== undefined)) {
    lines.push(`No new or worse findings since ${since}`);
  } else if (view.form === 'first-run') {
    lines.push('First run: no previous report to compare, every finding is new');
  }
  if (view.changes !== undefined && !view.changes.firstRun) {
    lines.push(
      `:white_check_mark: ${formatQuantity(view.changes.counts.resolved, 'finding', 'findings')} resolved · ${otherChangesText(view.changes)}`,
    );
  }
  const suppressed = suppressedText(view.suppressed);
  if (suppressed) lines.push(`:shield: ${suppressed}`);
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** The findings listed: new and worse ones when there are, else the worst open ones. */
function listedFindings(
  view: AlertView,
  top: number,
): { title: string; items: { finding: Finding; change: string }[]; total: number } {
  const changes = view.changes;
  if (view.form === 'changes' && changes !== undefined) {
    // One item per rule: its worst finding, its other findings named beside it.
    const items = leadingRuleChanges(changes).map((lead) => ({
      finding: lead.finding,
      change: ruleChangeLabel(lead),
    }));
    return { title: 'New or worse findings', items: items.slice(0, Math.max(top, 1)), total: items.length };
  }
  const items = worstFindings(view.findings, top).map((finding) => ({ finding, change: '' }));
  return { title: 'Top findings', items, total: view.findings.length };
}

function reportMessage(
  report: AuditReport,
  stored: StoredReport,
  view: AlertView,
  options: Required<SlackOptions>,
): SlackMessage {
  const label = accountLabel(report.account);
  const headline = headlineText(alertHeadline(view, label));
  const lead = leadText(view);
  const problems = evidenceProblems(report);
  const evidence =
    problems.length === 0
      ? []
      : [
          {
            type: 'section',
            text: mrkdwn(
              `:warning: *${escapeMrkdwn(EVIDENCE_LEAD)}*\n${problems
                .slice(0, 5)
                .map((p) => `• ${escapeMrkdwn(p)}`)
                .join(
                  '\n',
                )}${problems.length > 5 ? `\n…and ${problems.length - 5} more in report.html` : ''}`,
              2_000,
            ),
          } as const,
        ];
  const head: SlackBlock[] = [
    header(headline),
    ...evidence,
    ...(lead !== undefined ? [{ type: 'section', text: mrkdwn(lead, 2_000) } as const] : []),
    ...summaryBlocks(report, view),
  ];
  const tail: SlackBlock[] = [...warningBlocks(report, options.maxWarnings), ...linkBlocks(report, stored)];
  if (view.form === 'digest') {
    // The digest is short: the counts, what was resolved, the link; no finding list.
    return {
      blocks: [...head, { type: 'divider' }, ...linkBlocks(report, stored)],
      text: mrkdwnText(headline, 300),
    };
  }
  // Fixed blocks: head, divider, findings title, "+N more", divider, tail.
  let blocksLeft = options.maxBlocks - head.length - tail.length - 4;
  let charsLeft = options.maxTextChars - textChars(head) - textChars(tail) - 2 * TITLE_RESERVE_CHARS;
  const listed: SlackBlock[] = [];
  const candidates = listedFindings(view, options.topFindings);
  for (const { finding, change } of candidates.items) {
    const block = findingBlock(finding, change);
    const chars = blockTextChars(block);
    if (blocksLeft < 1 || chars > charsLeft) break;
    listed.push(block);
    blocksLeft -= 1;
    charsLeft -= chars;
  }
  const totalFindings = candidates.total;
  const title =
    totalFindings === 0
      ? `*${candidates.title}:* none`
      : `*${candidates.title}* (${formatCount(listed.length)} of ${formatCount(totalFindings)}, ${view.form === 'changes' ? 'new first' : 'worst first'})`;
  const more = totalFindings - listed.length;
  const blocks: SlackBlock[] = [
    ...head,
    { type: 'divider' },
    { type: 'section', text: mrkdwn(title) },
    ...listed,
    ...(more > 0
      ? [
          context(
            `+${formatCount(more)} more ${more === 1 ? 'finding' : 'findings'} in the report (${view.form === 'changes' ? 'changes.csv' : 'findings.csv'}, report.html)`,
          ),
        ]
      : []),
    { type: 'divider' },
    ...tail,
  ];
  return { blocks, text: mrkdwnText(headline, 300) };
}

function failureMessage(alert: Extract<AuditAlert, { kind: 'failure' }>): SlackMessage {
  const label = accountLabel(alert.account);
  const fields: SlackText[] = [
    mrkdwn(`*Account*\n${mrkdwnText(label, 200)}`, SLACK_FIELD_TEXT_MAX),
    mrkdwn(`*Run*\n${code(alert.runId, 200)}`, SLACK_FIELD_TEXT_MAX),
    mrkdwn(`*Error*\n${code(alert.error.name, 200)}`, SLACK_FIELD_TEXT_MAX),
  ];
  if (alert.step) fields.push(mrkdwn(`*Step*\n${code(alert.step, 200)}`, SLACK_FIELD_TEXT_MAX));
  // The message keeps its lines inside a code block; fences in it would end the block early.
  const message = escapeMrkdwn(
    clip(alert.error.message, 2_500)
      .replace(/\r\n?|[\u2028\u2029]/g, '\n')
      .replace(/[^\P{Cc}\n]/gu, ' ')
      .replace(/`{3,}/g, "'''"),
  );
  const blocks: SlackBlock[] = [
    header(`:x: ${ALERT_TOOL_NAME} run FAILED: ${label}`),
    { type: 'section', text: mrkdwn('The audit produced no report.'), fields },
    { type: 'section', text: mrkdwn(`\`\`\`${clipMrkdwn(message, SLACK_SECTION_TEXT_MAX - 6)}\`\`\``) },
    context("Look the run up in the workflow's execution history and the function logs."),
  ];
  const step = alert.step ? ` in ${alert.step}` : '';
  return {
    blocks,
    text: mrkdwnText(`${ALERT_TOOL_NAME} FAILED ${label}: ${alert.error.name}${step}`, 300),
  };
}

function checkedOptions(options: SlackOptions): Required<SlackOptions> {
  const maxBlocks = options.maxBlocks ?? SLACK_MAX_BLOCKS;
  const maxTextChars = options.maxTextChars ?? DEFAULT_SLACK_TEXT_BUDGET;
  integerOption('maxBlocks', maxBlocks, MIN_BLOCKS, SLACK_MAX_BLOCKS);
  integerOption('maxTextChars', maxTextChars, MIN_TEXT_BUDGET, SLACK_TEXT_LIMIT);
  return {
    maxBlocks,
    maxTextChars,
    topFindings: Math.max(0, options.topFindings ?? DEFAULT_TOP_FINDINGS),
    maxWarnings: Math.max(0, options.maxWarnings ?? DEFAULT_SLACK_WARNINGS),
  };
}

/**
 * The Slack (Block Kit) form of an alert: a header, the counts, the top findings listed worst
 * first (as many as fit, then "+N more"), the warnings and a button to the HTML report; a failure
 * alert carries the error, the step and the run id. Within Slack's limits: at most `maxBlocks`
 * blocks, section text ≤ 3000, header ≤ 150, block text ≤ `maxTextChars`. User text (SG names,
 * reasons, error messages) is escaped for mrkdwn.
 *
 * @throws InvalidValueError when `maxBlocks` or `maxTextChars` is out of range.
 * @example
 * const { blocks, text } = composeSlack({ kind: 'report', report, stored });
 * await fetch(webhookUrl, { method: 'POST', body: JSON.stringify({ text, blocks }) });
 */
export function composeSlack(alert: AuditAlert, options: SlackOptions = {}): SlackMessage {
  const checked = checkedOptions(options);
  return alert.kind === 'failure'
    ? failureMessage(alert)
    : reportMessage(alert.report, alert.stored, alertView(alert.report, alert.digest === true), checked);
}
