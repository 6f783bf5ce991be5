/**
 * The Slack digest (incoming webhook, Block Kit): the counts at a glance, then the worst findings
 * themselves — a channel acts on "sg-0a11 (web) allows 22 from 0.0.0.0/0", not on "3 critical" —
 * then the warnings and a button to the HTML report. Slack's limits (aws-facts.md "SNS and
 * Slack"): at most 50 blocks, section text at most 3000 characters, header 150, and the blocks'
 * text kept under ~12,000 characters; the digest lists what fits and says how many more there are.
 */
import { InvalidValueError } from '../errors';
import type { Finding, Severity } from '../model/analysis';
import { SEVERITIES } from '../model/analysis';
import type { AuditAlert, StoredReport } from '../model/ports';
import { findingRuleText, formatCount, formatQuantity, readableTime } from '../render/format';
import type { AuditReport } from '../report/model';
import {
  ALERT_TOOL_NAME,
  type AlertOptions,
  accountLabel,
  clip,
  DEFAULT_TOP_FINDINGS,
  severityHeadline,
  singleLine,
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

function findingBlock(finding: Finding): SlackBlock {
  const name = finding.sgName ? ` ${mrkdwnText(finding.sgName, 100)}` : '';
  const rule = findingRuleText(finding);
  const lines = [
    `${SEVERITY_EMOJI[finding.severity]} *${finding.severity.toUpperCase()}* · ${code(finding.sgId, 40)}${name} · ${mrkdwnText(finding.vpcId, 40)}`,
    `${rule ? `${code(rule, 200)} · ` : ''}${mrkdwnText(finding.check, 40)}`,
    mrkdwnText(finding.reason, 400),
  ];
  if (finding.evidence) lines.push(`Evidence: ${mrkdwnText(finding.evidence, 300)}`);
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

function summaryBlocks(report: AuditReport): SlackBlock[] {
  const s = report.summary;
  const window = `*Window:* ${readableTime(report.window.start)} → ${readableTime(report.window.end)} (${report.window.days} days)`;
  const run = `*Run:* ${code(report.runId, 80)} (${report.mode}) · ${formatQuantity(s.securityGroups, 'SG', 'SGs')}, ${formatQuantity(s.ruleEntries, 'rule', 'rules')}, ${formatQuantity(s.networkInterfaces, 'ENI', 'ENIs')}`;
  const fields: SlackText[] = [
    ...SEVERITIES.map((severity) =>
      mrkdwn(
        `${SEVERITY_EMOJI[severity]} *${severity}*\n${formatCount(s.findingsBySeverity[severity])}`,
        SLACK_FIELD_TEXT_MAX,
      ),
    ),
    countField('Rules', s.rulesByStatus, ['used', 'unused', 'unknown']),
    countField('Verdicts', s.rulesByVerdict, ['keep', 'narrow', 'remove', 'review']),
    countField('ENI coverage', s.enisByCoverage, ['full', 'partial', 'reject-only', 'none']),
  ];
  return [
    { type: 'section', text: mrkdwn(`${window}\n${run}`), fields: fields.slice(0, SLACK_SECTION_FIELDS_MAX) },
  ];
}

function warningBlocks(report: AuditReport, maxWarnings: number): SlackBlock[] {
  const { warnings } = report;
  const malformed = report.summary.malformedRecords;
  if (warnings.length === 0 && malformed === 0) return [];
  const lines = [`:warning: *Warnings* (${formatCount(warnings.length)})`];
  if (malformed > 0) lines.push(`• malformed flow-log records skipped: ${formatCount(malformed)}`);
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

function reportMessage(
  report: AuditReport,
  stored: StoredReport,
  options: Required<SlackOptions>,
): SlackMessage {
  const label = accountLabel(report.account);
  const headline = severityHeadline(report.summary.findingsBySeverity);
  const head: SlackBlock[] = [header(`${ALERT_TOOL_NAME} ${label}: ${headline}`), ...summaryBlocks(report)];
  const tail: SlackBlock[] = [...warningBlocks(report, options.maxWarnings), ...linkBlocks(report, stored)];
  // Fixed blocks: head, divider, findings title, "+N more", divider, tail.
  let blocksLeft = options.maxBlocks - head.length - tail.length - 4;
  let charsLeft = options.maxTextChars - textChars(head) - textChars(tail) - 2 * TITLE_RESERVE_CHARS;
  const listed: SlackBlock[] = [];
  for (const finding of worstFindings(report.findings, options.topFindings)) {
    const block = findingBlock(finding);
    const chars = blockTextChars(block);
    if (blocksLeft < 1 || chars > charsLeft) break;
    listed.push(block);
    blocksLeft -= 1;
    charsLeft -= chars;
  }
  const totalFindings = report.findings.length;
  const title =
    totalFindings === 0
      ? '*Top findings:* none'
      : `*Top findings* (${formatCount(listed.length)} of ${formatCount(totalFindings)}, worst first)`;
  const more = totalFindings - listed.length;
  const blocks: SlackBlock[] = [
    ...head,
    { type: 'divider' },
    { type: 'section', text: mrkdwn(title) },
    ...listed,
    ...(more > 0
      ? [
          context(
            `+${formatCount(more)} more ${more === 1 ? 'finding' : 'findings'} in the report (findings.csv, report.html)`,
          ),
        ]
      : []),
    { type: 'divider' },
    ...tail,
  ];
  return { blocks, text: mrkdwnText(`${ALERT_TOOL_NAME} ${label}: ${headline}`, 300) };
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
  if (!Number.isInteger(maxBlocks) || maxBlocks < MIN_BLOCKS || maxBlocks > SLACK_MAX_BLOCKS) {
    throw new InvalidValueError(
      `maxBlocks must be an integer from ${MIN_BLOCKS} to ${SLACK_MAX_BLOCKS}, got ${maxBlocks}`,
      {
        field: 'maxBlocks',
      },
    );
  }
  if (!Number.isInteger(maxTextChars) || maxTextChars < MIN_TEXT_BUDGET || maxTextChars > SLACK_TEXT_LIMIT) {
    throw new InvalidValueError(
      `maxTextChars must be an integer from ${MIN_TEXT_BUDGET} to ${SLACK_TEXT_LIMIT}, got ${maxTextChars}`,
      { field: 'maxTextChars' },
    );
  }
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
    : reportMessage(alert.report, alert.stored, checked);
}
