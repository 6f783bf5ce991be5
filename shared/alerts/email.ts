/**
 * The e-mail summary (SNS to e-mail subscribers): a plain-text body a reader can act on without
 * opening anything — counts, the worst findings with their evidence, the warnings that qualify
 * the verdicts — and the link to the full report. Compared with a previous report, it leads with
 * what is new or worse, then what was resolved; the weekly digest is a short "no change" note.
 * Actively suppressed findings (accepted risks) are left out of counts and lists. SNS limits: Subject ASCII, no line breaks,
 * under 100 characters; the message at most 256 KB (aws-facts.md "SNS and Slack").
 */

import { integerOption } from '../errors';
import type { Finding } from '../model/analysis';
import { COVERAGE_STATUSES, RULE_STATUSES, RULE_VERDICTS, SEVERITIES } from '../model/analysis';
import type { AuditAlert, StoredReport } from '../model/ports';
import { EVIDENCE_LEAD, evidenceProblems } from '../render/evidence';
import {
  findingRuleText,
  formatBytes,
  formatCount,
  formatQuantity,
  readableTime,
  resourceCounts,
} from '../render/format';
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
  isNamedChange,
  leadingRuleChanges,
  otherChangesText,
  ruleChangeLabel,
  ruleChangeText,
  severityHeadline,
  singleLine,
  storedFileNames,
  suppressedText,
  total,
  worstFindings,
} from './digest';

/** SNS Subject: fewer than 100 characters. */
export const SNS_SUBJECT_MAX_CHARS = 99;
/** SNS message: at most 256 KB of UTF-8. */
export const SNS_MESSAGE_MAX_BYTES = 262_144;
/** Default body cap: the SNS limit less room for the subject and message attributes. */
export const DEFAULT_EMAIL_MAX_BODY_BYTES = SNS_MESSAGE_MAX_BYTES - 4_096;
/** The smallest body cap accepted: the header and the truncation note must fit. */
const MIN_BODY_BYTES = 1_024;
/** Resolved findings listed one line each; the rest are counted (changes.csv has them all). */
const RESOLVED_LISTED = 10;
/** Longest value printed for one field (reason, evidence, name …): a finding stays readable. */
const FIELD_MAX_CHARS = 1_000;
const NAME_MAX_CHARS = 200;
const ERROR_MESSAGE_MAX_CHARS = 4_000;
const COMMAND_MAX_CHARS = 2_000;
/** Warnings that leave rules unknown because evidence was not read: stated with the evidence, not only counted. */
const EVIDENCE_WARNINGS: ReadonlySet<string> = new Set([
  'flow-source-failed',
  'flow-source-missing',
  'flow-log-not-queried',
]);

export interface EmailOptions extends AlertOptions {
  /** Largest body in UTF-8 bytes; a longer one is cut with a note. @default 258048 (256 KiB less 4 KiB) */
  readonly maxBodyBytes?: number;
}

export interface EmailMessage {
  /** ASCII, one line, under 100 characters. */
  readonly subject: string;
  /** Plain text, at most `maxBodyBytes` bytes of UTF-8. */
  readonly body: string;
}

/**
 * An SNS-safe subject: printable ASCII only (accents folded, anything else '?'), one line,
 * under 100 characters.
 *
 * @example emailSubject('sg-audit café\n') // 'sg-audit cafe'
 */
export function emailSubject(text: string): string {
  let ascii = '';
  for (const character of singleLine(text)) {
    // Per character, so a Hangul syllable (decomposed into jamo by NFKD) stays one '?'.
    const folded = character.normalize('NFKD').replace(/\p{M}/gu, '');
    ascii += /^[\x20-\x7e]+$/.test(folded) ? folded : '?';
  }
  return clip(ascii, SNS_SUBJECT_MAX_CHARS, '...');
}

/** The subject with the account label shortened first, so the counts survive a long label. */
function subjectOf(prefix: string, label: string, rest: string): string {
  const room = SNS_SUBJECT_MAX_CHARS - prefix.length - rest.length;
  const fitted = room >= label.length ? label : clip(label, Math.max(12, room), '...');
  return emailSubject(`${prefix}${fitted}${rest}`);
}

/** One field of a finding or warning: one line, bounded. */
function field(text: string, max = FIELD_MAX_CHARS): string {
  return clip(singleLine(text), max);
}

/** Lines of text with every control character but the line break removed, indented. */
function indentedBlock(text: string, indent: string): string[] {
  return clip(text, ERROR_MESSAGE_MAX_CHARS)
    .split(/\r\n|\r|\n|\u2028|\u2029/)
    .map((line) => `${indent}${singleLine(line)}`);
}

function countsLine(counts: Readonly<Record<string, number>>, order: readonly string[]): string {
  return order.map((key) => `${formatCount(counts[key] ?? 0)} ${key}`).join(', ');
}

function reportLinkLines(stored: StoredReport): string[] {
  const lines: string[] = [];
  if (stored.htmlUrl) {
    const until = stored.htmlUrlExpiresAt
      ? ` (link valid until ${readableTime(stored.htmlUrlExpiresAt)})`
      : '';
    lines.push(`HTML report: ${singleLine(stored.htmlUrl)}${until}`);
  }
  lines.push(`All files:   ${singleLine(stored.location)}`);
  const names = storedFileNames(stored.location, stored.keys);
  if (names.length > 0) lines.push(`             ${clip(names.join(', '), FIELD_MAX_CHARS)}`);
  return lines;
}

function findingLines(finding: Finding, position: number, change = ''): string[] {
  const name = field(finding.sgName, NAME_MAX_CHARS);
  const lines = [
    `${String(position).padStart(3)}. ${finding.severity.toUpperCase()}${change ? ` (${change})` : ''}  ${finding.sgId}${name ? ` (${name})` : ''} in ${field(finding.vpcId, NAME_MAX_CHARS)}`,
  ];
  const rule = findingRuleText(finding);
  if (rule) lines.push(`     Rule:      ${field(rule)}`);
  lines.push(`     Check:     ${finding.check}`);
  lines.push(`     Reason:    ${field(finding.reason)}`);
  if (finding.change !== undefined && isNamedChange(finding.change))
    lines.push(`     Changed:   ${field(finding.change.text)}`);
  if (finding.evidence) lines.push(`     Evidence:  ${field(finding.evidence)}`);
  if (finding.fix?.text) {
    lines.push(`     Fix:       ${field(finding.fix.text)}`);
    for (const command of finding.fix.commands) lines.push(`       $ ${field(command, COMMAND_MAX_CHARS)}`);
  }
  const resources = resourceCounts(finding.resources);
  if (resources) lines.push(`     Resources: ${resources}`);
  const s = finding.suppression;
  if (s?.status === 'expired') {
    lines.push(
      `     Note:      suppression ${field(s.id, NAME_MAX_CHARS)} (owner ${field(s.owner, NAME_MAX_CHARS)}) expired on ${field(s.expires, 40)}: counted again`,
    );
  }
  return lines;
}

/** The opening sentence: what changed (when compared) and the counts now. */
function openingLines(report: AuditReport, view: AlertView): string[] {
  const label = accountLabel(report.account);
  const now = severityHeadline(view.counts);
  const since = view.since ?? 'the previous run';
  const first = (() => {
    switch (view.form) {
      case 'changes':
        return `Security group audit of ${label}: ${view.changes ? ruleChangeText(leadingRuleChanges(view.changes)) : '0 new findings'} since ${since}; now ${now}.`;
      case 'no-change':
        return `Security group audit of ${label}: no new or worse findings since ${since}; now ${now}.`;
      case 'first-run':
        return `Security group audit of ${label}: ${now}. First run: no previous report to compare, every finding is new.`;
      default:
        return `Security group audit of ${label}: ${now}.`;
    }
  })();
  const suppressed = suppressedText(view.suppressed);
  return suppressed ? [first, suppressed] : [first];
}

/** New and worse findings first, then the resolved ones, then the other changes in one line. */
function changeLines(view: AlertView, top: number): { lines: string[]; listed: ReadonlySet<string> } {
  const changes = view.changes;
  const listed = new Set<string>();
  if (changes === undefined || changes.firstRun) return { lines: [], listed };
  const lines: string[] = [];
  // One entry per rule: its worst finding, its other findings named beside it.
  const leading = leadingRuleChanges(changes).map((lead) => ({
    lead,
    finding: lead.finding,
    change: ruleChangeLabel(lead),
  }));
  if (leading.length > 0) {
    const shown = leading.slice(0, Math.max(top, 1));
    lines.push(`NEW OR WORSE FINDINGS (${shown.length} of ${formatCount(leading.length)} rules, new first)`);
    shown.forEach(({ lead, finding, change }, i) => {
      for (const f of lead.findings) listed.add(f.id);
      lines.push(...findingLines(finding, i + 1, change), '');
    });
    const more = leading.length - shown.length;
    if (more > 0)
      lines.push(`  ${formatQuantity(more, 'more is', 'more are')} in changes.csv and the HTML report.`, '');
  }
  const resolved = changes.resolvedFindings;
  lines.push(
    `RESOLVED SINCE ${(view.since ?? 'the previous run').toUpperCase()}: ${formatCount(resolved.length)}`,
  );
  for (const f of resolved.slice(0, RESOLVED_LISTED)) {
    const rule = findingRuleText(f);
    lines.push(
      `  - ${f.severity.toUpperCase()}  ${f.sgId} (${field(f.sgName, NAME_MAX_CHARS)}): ${f.check}${rule ? ` ${field(rule)}` : ''}`,
    );
  }
  if (resolved.length > RESOLVED_LISTED)
    lines.push(`  - ${formatQuantity(resolved.length - RESOLVED_LISTED, 'more', 'more')} in changes.csv`);
  lines.push(`Also changed: ${otherChangesText(changes)} (changes.csv).`, '');
  return { lines, listed };
}

/** The weekly "no change" digest: the headline, the link, the totals now and what was resolved. */
function digestBody(report: AuditReport, stored: StoredReport, view: AlertView): string[] {
  const label = accountLabel(report.account);
  const s = report.summary;
  const first =
    view.changes === undefined
      ? `Weekly digest for ${label}.`
      : `Weekly digest for ${label}: no new or worse findings since ${view.since ?? 'the previous run'}.`;
  const lines = [first, '', ...reportLinkLines(stored), ''];
  lines.push(
    `Now:      ${severityHeadline(view.counts)} (${formatCount(view.findings.length)} in all)`,
    `          ${SEVERITIES.map((sev) => `${formatCount(view.counts[sev])} ${sev}`).join(', ')}`,
  );
  const suppressed = suppressedText(view.suppressed);
  if (suppressed) lines.push(`          ${suppressed}`);
  if (view.changes !== undefined) {
    lines.push(
      `Resolved: ${formatQuantity(view.changes.counts.resolved, 'finding', 'findings')} since ${view.since ?? 'the previous run'}`,
      `Changed:  ${otherChangesText(view.changes)}`,
    );
  }
  lines.push(
    `Rules:    ${countsLine(s.rulesByStatus, RULE_STATUSES)}; verdicts ${countsLine(s.rulesByVerdict, RULE_VERDICTS)}`,
    `Window:   ${readableTime(report.window.start)} to ${readableTime(report.window.end)} (${report.window.days} days)`,
    `Run:      ${field(report.runId, NAME_MAX_CHARS)}, generated ${readableTime(report.generatedAt)}`,
    '',
    '--',
    `${ALERT_TOOL_NAME}: security group audit, weekly digest`,
  );
  return lines;
}

function reportBody(
  report: AuditReport,
  stored: StoredReport,
  view: AlertView,
  options: EmailOptions,
): string[] {
  const s = report.summary;
  const top = options.topFindings ?? DEFAULT_TOP_FINDINGS;
  const scope = (values: readonly string[]) =>
    values.length === 0 ? 'all' : clip(values.map((v) => singleLine(v)).join(', '), FIELD_MAX_CHARS);
  // Flow logs that did not deliver, and sources that failed or that nothing read: what makes
  // verdicts unknown is stated here; the other warnings are counted and linked below.
  const problems = [
    ...evidenceProblems(report),
    ...distinctWarnings(report)
      .filter((w) => EVIDENCE_WARNINGS.has(w.code))
      .map((w) => `${w.code}: ${w.message}`),
  ];
  const lines: string[] = [
    ...openingLines(report, view),
    '',
    // The link first: a truncated body still carries it.
    ...reportLinkLines(stored),
    '',
    ...(problems.length === 0
      ? []
      : [
          'EVIDENCE INCOMPLETE',
          `  ${EVIDENCE_LEAD}`,
          ...problems.slice(0, 10).map((p) => `  - ${field(p)}`),
          ...(problems.length > 10 ? [`  - ${problems.length - 10} more in report.html`] : []),
          '',
        ]),
    `Window:  ${readableTime(report.window.start)} to ${readableTime(report.window.end)} (${report.window.days} days)`,
    `Run:     ${field(report.runId, NAME_MAX_CHARS)} (${report.mode}), generated ${readableTime(report.generatedAt)} by ${field(report.tool.name, NAME_MAX_CHARS)} ${field(report.tool.version, NAME_MAX_CHARS)}`,
    `Scope:   VPCs ${scope(report.scope.vpcIds)}; SGs ${scope(report.scope.sgIds)}; ports ${scope(report.scope.ports)}`,
    '',
    'FINDINGS BY SEVERITY',
    ...SEVERITIES.map(
      (severity) => `  ${severity.padEnd(10)}${formatCount(view.counts[severity]).padStart(8)}`,
    ),
    `  ${'total'.padEnd(10)}${formatCount(total(view.counts)).padStart(8)}`,
    ...(view.suppressed > 0
      ? [`  ${'suppressed'.padEnd(10)}${formatCount(view.suppressed).padStart(8)} (not counted above)`]
      : []),
    '',
    'RULES',
    `  ${formatQuantity(s.securityGroups, 'security group', 'security groups')}, ${formatQuantity(s.ruleEntries, 'rule entry', 'rule entries')}, ${formatQuantity(s.networkInterfaces, 'ENI', 'ENIs')}`,
    `  Status:   ${countsLine(s.rulesByStatus, RULE_STATUSES)}`,
    `  Verdicts: ${countsLine(s.rulesByVerdict, RULE_VERDICTS)}`,
    '',
    'COVERAGE (ENIs by flow-log coverage)',
    `  ${countsLine(s.enisByCoverage, COVERAGE_STATUSES)}`,
    `  Traffic: ${formatQuantity(s.connections, 'connection', 'connections')} from ${formatQuantity(s.flowRecords, 'flow-log record', 'flow-log records')} (${formatQuantity(s.queries, 'query', 'queries')}, ${formatBytes(s.bytesScanned)} scanned)`,
    '',
  ];

  const changed = changeLines(view, top);
  // Compared: what is new or worse leads; the other open findings follow.
  const open = view.findings.filter((f) => !changed.listed.has(f.id));
  const title = changed.listed.size > 0 ? 'OTHER OPEN FINDINGS' : 'TOP FINDINGS';
  const findings = worstFindings(open, top);
  const at = lines.indexOf('FINDINGS BY SEVERITY');
  lines.splice(at, 0, ...changed.lines);
  if (findings.length === 0) {
    lines.push(title, '  None.', '');
  } else {
    lines.push(`${title} (${findings.length} of ${formatCount(open.length)}, worst first)`);
    findings.forEach((finding, i) => {
      lines.push(...findingLines(finding, i + 1), '');
    });
    const more = open.length - findings.length;
    if (more > 0)
      lines.push(
        `  ${formatQuantity(more, 'more finding is', 'more findings are')} in findings.csv and the HTML report.`,
        '',
      );
  }

  // Warnings qualify the verdicts; the report lists them, the alert counts them and links there.
  const warnings = distinctWarnings(report).length;
  if (warnings > 0) {
    const where = stored.htmlUrl
      ? `${singleLine(stored.htmlUrl)}#warnings`
      : 'report.html (Warnings) and report.json';
    lines.push(`WARNINGS: ${formatCount(warnings)}, listed in ${clip(where, FIELD_MAX_CHARS)}`, '');
  }
  lines.push('--', `${ALERT_TOOL_NAME}: security group audit, run ${field(report.runId, NAME_MAX_CHARS)}`);
  return lines;
}

function failureBody(alert: Extract<AuditAlert, { kind: 'failure' }>): string[] {
  const lines = [
    `The ${ALERT_TOOL_NAME} run ${field(alert.runId, NAME_MAX_CHARS)} FAILED: no report was produced.`,
    '',
    `Account: ${accountLabel(alert.account)}`,
    `Run:     ${field(alert.runId, NAME_MAX_CHARS)}`,
  ];
  if (alert.step) lines.push(`Step:    ${field(alert.step, NAME_MAX_CHARS)}`);
  lines.push(
    `Error:   ${field(alert.error.name, NAME_MAX_CHARS)}`,
    'Message:',
    ...indentedBlock(alert.error.message, '  '),
  );
  lines.push(
    '',
    `Look the run up in the workflow's execution history and the function logs (run id ${field(alert.runId, NAME_MAX_CHARS)}).`,
    '',
    '--',
    `${ALERT_TOOL_NAME}: security group audit`,
  );
  return lines;
}

/**
 * The text cut to at most `maxBytes` of UTF-8 with `note` appended: cut at a line break when one
 * is near, never inside a character.
 */
export function fitBytes(text: string, maxBytes: number, note: string): string {
  const encoder = new TextEncoder();
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let cut = Math.max(0, maxBytes - encoder.encode(note).length);
  // UTF-8 continuation bytes are 10xxxxxx: back off to the start of a character.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
  let kept = new TextDecoder().decode(bytes.subarray(0, cut));
  const lineEnd = kept.lastIndexOf('\n');
  if (lineEnd > kept.length - 2_000 && lineEnd > 0) kept = kept.slice(0, lineEnd);
  return kept + note;
}

/**
 * The e-mail (SNS) form of an alert: an ASCII one-line subject under 100 characters and a
 * plain-text body of at most `maxBodyBytes` (cut with a note naming where the full report is).
 * Report alerts carry the link, counts by severity, rule statuses and verdicts, coverage, the top
 * findings worst first with reason and evidence, and the warnings; failure alerts the error, the
 * step and the run id.
 *
 * @throws InvalidValueError when `maxBodyBytes` is below 1024.
 * @example
 * const { subject, body } = composeEmail({ kind: 'report', report, stored });
 * // subject: 'sg-audit 123456789012/ap-northeast-2: 3 critical, 5 high findings (+4 lower)'
 */
export function composeEmail(alert: AuditAlert, options: EmailOptions = {}): EmailMessage {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_EMAIL_MAX_BODY_BYTES;
  integerOption('maxBodyBytes', maxBodyBytes, MIN_BODY_BYTES, SNS_MESSAGE_MAX_BYTES);
  if (alert.kind === 'failure') {
    const step = alert.step ? ` in ${singleLine(alert.step)}` : '';
    const subject = subjectOf(
      `${ALERT_TOOL_NAME} FAILED `,
      accountLabel(alert.account),
      `: ${singleLine(alert.error.name)}${step}`,
    );
    const note = `\n\n[Message truncated to ${maxBodyBytes} bytes.]\n`;
    return { subject, body: fitBytes(`${failureBody(alert).join('\n')}\n`, maxBodyBytes, note) };
  }
  const { report, stored } = alert;
  const view = alertView(report, alert.digest === true);
  const headline = alertHeadline(view, accountLabel(report.account));
  const subject = subjectOf(headline.prefix, headline.label, headline.rest);
  const note = `\n\n[Message truncated to ${maxBodyBytes} bytes: the full report is at ${clip(singleLine(stored.location), 300)}]\n`;
  const lines =
    view.form === 'digest' ? digestBody(report, stored, view) : reportBody(report, stored, view, options);
  return { subject, body: fitBytes(`${lines.join('\n')}\n`, maxBodyBytes, note) };
}
