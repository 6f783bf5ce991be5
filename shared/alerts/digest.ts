/**
 * What every alert says whatever the channel: whose account, how bad, the worst findings first,
 * and where the full report is. The channel composers (./email, ./slack) lay it out; this module
 * holds the parts they share, and the text hygiene that keeps user-controlled values (SG names,
 * descriptions, error messages) from forging lines or breaking a channel's limits.
 */
import type { Finding, Severity } from '../model/analysis';
import { SEVERITIES } from '../model/analysis';
import { compareFindings, formatCount } from '../render/format';

/** Options every alert composer takes. */
export interface AlertOptions {
  /** Findings listed, worst first; the rest are counted. @default 10 */
  readonly topFindings?: number;
  /** Report warnings listed; the rest are counted. @default 20 for email, 5 for Slack */
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
