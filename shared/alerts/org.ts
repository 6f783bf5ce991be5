/**
 * One alert for a whole organization run (not one per target): whether it goes out, and its
 * e-mail and Slack forms. It leads with what is new or worse across targets (each target compared
 * with its own previous report) and with the targets that became gaps, then the totals, the gaps,
 * and the link to the organization's report.html. Pure: the publishers send it.
 */
import { integerOption } from '../errors';
import type { Severity } from '../model/analysis';
import { SEVERITIES } from '../model/analysis';
import type { OrgAlert } from '../model/ports';
import type { OrgFinding, OrgReport, OrgTarget } from '../org/model';
import { targetLabel } from '../org/model';
import { formatCount, formatQuantity, readableTime } from '../render/format';
import { type AlertDecision, type AlertPolicy, decideByPolicy } from './changes';
import { ALERT_TOOL_NAME, clip, severityHeadline, singleLine } from './digest';
import { DEFAULT_EMAIL_MAX_BODY_BYTES, type EmailMessage, emailSubject, fitBytes } from './email';
import { mrkdwnText, type SlackBlock, type SlackMessage } from './slack';

/** Why an organization alert goes out, or why not (the same rules as a target's: decideAlert). */
export type OrgAlertDecision = AlertDecision;

/**
 * Whether an organization run alerts: `always` → every run; `changes` → a run not compared, the
 * first organization run, or new/worse/resurfaced actionable findings in some target or a target
 * newly a gap; otherwise the "no change" digest when enabled, else nothing.
 *
 * @example decideOrgAlert(org, { alertOn: 'changes', noChangeDigest: false }).send
 */
export function decideOrgAlert(report: OrgReport, policy: AlertPolicy): OrgAlertDecision {
  return decideByPolicy(policy, () => {
    const c = report.changes;
    if (c === undefined) return { alert: 'the run was not compared with a previous one' };
    if (c.firstRun) return { alert: 'first organization run: no previous report' };
    if (c.worsened) {
      return {
        alert: `findings ${c.newFindings} new, ${c.worseFindings} worse, ${c.resurfacedFindings} with an expired suppression; ${c.newGaps.length} new gap(s)`,
      };
    }
    return { quiet: `nothing new or worse since organization run ${c.previousRunId ?? '?'}` };
  });
}

/** The one-line headline of an organization alert. */
export function orgHeadline(report: OrgReport, digest: boolean): string {
  const t = report.totals;
  const c = report.changes;
  const gaps = t.gaps > 0 ? `, ${formatQuantity(t.gaps, 'gap', 'gaps')}` : '';
  const scope = `${formatQuantity(t.targets, 'target', 'targets')}${gaps}`;
  if (c !== undefined && !c.firstRun && c.worsened) {
    const found = c.newFindings + c.worseFindings + c.resurfacedFindings;
    const parts = [
      ...(found > 0
        ? [
            `${formatCount(c.newFindings)} new, ${formatCount(c.worseFindings)} worse findings in ${formatQuantity(c.worsenedTargets.length, 'target', 'targets')}`,
          ]
        : []),
      ...(c.newGaps.length > 0 ? [formatQuantity(c.newGaps.length, 'new gap', 'new gaps')] : []),
    ];
    return `${ALERT_TOOL_NAME} organization: ${parts.join('; ')}`;
  }
  if (c !== undefined && !c.firstRun) {
    const since = c.previousGeneratedAt ? ` since ${c.previousGeneratedAt.slice(0, 10)}` : '';
    return `${ALERT_TOOL_NAME}${digest ? ' weekly digest' : ''} organization: no new or worse findings${since} (${scope})`;
  }
  const first = c?.firstRun ? ' (first run)' : '';
  return `${ALERT_TOOL_NAME} organization${first}: ${scope}: ${severityHeadline(t.actionableFindingsBySeverity)}`;
}

function countsText(counts: Readonly<Record<Severity, number>>): string {
  return SEVERITIES.map((s) => `${formatCount(counts[s] ?? 0)} ${s}`).join(', ');
}

function findingLine(f: OrgFinding): string {
  const change = f.change === 'worse' ? `worse, was ${f.previousSeverity ?? '?'}` : f.change;
  const rule = f.rule ? ` ${f.rule}` : '';
  return singleLine(
    `[${f.severity.toUpperCase()}${change ? `, ${change}` : ''}] ${f.accountId}/${f.region} ${f.sgId} (${clip(f.sgName, 80)})${rule}: ${clip(f.reason, 300)}`,
  );
}

function targetsText(targets: readonly OrgTarget[], max = 20): string {
  const listed = targets.slice(0, max).map(targetLabel).join(', ');
  return targets.length > max ? `${listed} (+${targets.length - max} more)` : listed;
}

/** The e-mail body's lines. */
function emailLines(alert: OrgAlert, topFindings: number): string[] {
  const { report, stored } = alert;
  const t = report.totals;
  const c = report.changes;
  const lines = [orgHeadline(report, alert.digest === true), ''];
  if (stored.htmlUrl) {
    const until = stored.htmlUrlExpiresAt
      ? ` (link valid until ${readableTime(stored.htmlUrlExpiresAt)})`
      : '';
    lines.push(`Organization report: ${singleLine(stored.htmlUrl)}${until}`);
  }
  lines.push(`All files:           ${singleLine(stored.location)}`, '');
  lines.push(
    `Targets: ${formatCount(t.targets)} (${formatQuantity(t.accounts, 'account', 'accounts')} x ${formatQuantity(t.regions, 'region', 'regions')}), ${formatCount(t.audited)} audited, ${formatQuantity(t.gaps, 'gap', 'gaps')}`,
    `Actionable findings: ${countsText(t.actionableFindingsBySeverity)}`,
    `Run: ${report.runId}${report.window ? `, window ${readableTime(report.window.start)} to ${readableTime(report.window.end)}` : ''}`,
  );
  if (c && !c.firstRun) {
    lines.push(
      '',
      `Since run ${c.previousRunId ?? '?'}${c.previousGeneratedAt ? ` (${readableTime(c.previousGeneratedAt)})` : ''}: ${formatCount(c.newFindings)} new, ${formatCount(c.worseFindings)} worse, ${formatCount(c.resurfacedFindings)} resurfaced, ${formatCount(c.resolvedFindings)} resolved findings`,
    );
    if (c.newGaps.length > 0) lines.push(`New gaps: ${targetsText(c.newGaps)}`);
    if (c.resolvedGaps.length > 0) lines.push(`Gaps resolved: ${targetsText(c.resolvedGaps)}`);
    if (c.newTargets.length > 0) lines.push(`New targets: ${targetsText(c.newTargets)}`);
    if (c.removedTargets.length > 0) lines.push(`Targets gone: ${targetsText(c.removedTargets)}`);
  }
  if (alert.digest === true) return [...lines, '', '--', `${ALERT_TOOL_NAME}: security group audit`];
  if (report.leadingFindings.length > 0) {
    lines.push('', 'New and worse findings (worst first):');
    for (const f of report.leadingFindings.slice(0, topFindings)) lines.push(`  ${findingLine(f)}`);
  }
  const gaps = report.targets.filter((g) => g.status === 'gap');
  if (gaps.length > 0) {
    lines.push('', `Gaps (targets not audited): ${formatCount(gaps.length)}`);
    for (const g of gaps.slice(0, 100)) {
      if (g.status !== 'gap') continue;
      lines.push(
        `  ${targetLabel(g)}: ${g.gap.kind}${g.gap.step ? ` in ${singleLine(g.gap.step)}` : ''}: ${singleLine(g.gap.error.name)}: ${clip(singleLine(g.gap.error.message), 300)}`,
      );
    }
    if (gaps.length > 100) lines.push(`  +${formatCount(gaps.length - 100)} more in targets.csv`);
  }
  if (report.topFindings.length > 0) {
    lines.push('', 'Worst findings across the organization:');
    for (const f of report.topFindings.slice(0, topFindings)) lines.push(`  ${findingLine(f)}`);
    lines.push('  (findings.csv lists every finding with its account_id and region)');
  }
  lines.push('', '--', `${ALERT_TOOL_NAME}: security group audit`);
  return lines;
}

/**
 * The e-mail form of an organization alert: an SNS-safe subject (ASCII, one line, < 100
 * characters) and a plain-text body of at most `maxBodyBytes`.
 *
 * @example composeOrgEmail({ kind: 'organization', report, stored }).subject // 'sg-audit organization (first run): 4 targets, 1 gap: …'
 */
export function composeOrgEmail(
  alert: OrgAlert,
  options: { readonly topFindings?: number; readonly maxBodyBytes?: number } = {},
): EmailMessage {
  const maxBodyBytes = integerOption(
    'maxBodyBytes',
    options.maxBodyBytes ?? DEFAULT_EMAIL_MAX_BODY_BYTES,
    1_024,
  );
  const subject = emailSubject(orgHeadline(alert.report, alert.digest === true));
  const note = `\n\n[Message truncated to ${maxBodyBytes} bytes: the full report is at ${clip(singleLine(alert.stored.location), 300)}]\n`;
  const body = `${emailLines(alert, options.topFindings ?? 10).join('\n')}\n`;
  return { subject, body: fitBytes(body, maxBodyBytes, note) };
}

/**
 * The Slack form of an organization alert: a header, the totals, what changed, the new and worse
 * findings, the gaps, and a button to the organization's report.html. Within Slack's limits (50
 * blocks, 3,000 characters a section).
 *
 * @example composeOrgSlack({ kind: 'organization', report, stored }).blocks[0]?.type // 'header'
 */
export function composeOrgSlack(
  alert: OrgAlert,
  options: { readonly topFindings?: number } = {},
): SlackMessage {
  const { report, stored } = alert;
  const headline = orgHeadline(report, alert.digest === true);
  const t = report.totals;
  const section = (text: string): SlackBlock => ({
    type: 'section',
    text: { type: 'mrkdwn', text: clip(text, 2_900) },
  });
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(singleLine(headline), 150), emoji: true } },
    section(
      `*Targets:* ${formatCount(t.targets)} (${formatCount(t.accounts)} accounts × ${formatCount(t.regions)} regions), ${formatCount(t.audited)} audited, ${formatQuantity(t.gaps, 'gap', 'gaps')}\n*Actionable findings:* ${mrkdwnText(countsText(t.actionableFindingsBySeverity), 300)}`,
    ),
  ];
  const c = report.changes;
  if (c && !c.firstRun) {
    const lines = [
      `*Since run* \`${mrkdwnText(c.previousRunId ?? '?', 80)}\`: ${formatCount(c.newFindings)} new, ${formatCount(c.worseFindings)} worse, ${formatCount(c.resolvedFindings)} resolved findings`,
    ];
    if (c.newGaps.length > 0) lines.push(`*New gaps:* ${mrkdwnText(targetsText(c.newGaps), 800)}`);
    if (c.resolvedGaps.length > 0)
      lines.push(`*Gaps resolved:* ${mrkdwnText(targetsText(c.resolvedGaps), 800)}`);
    blocks.push(section(lines.join('\n')));
  }
  if (alert.digest !== true) {
    const leading = report.leadingFindings.slice(0, options.topFindings ?? 10);
    if (leading.length > 0) {
      blocks.push(
        section(
          ['*New and worse findings*', ...leading.map((f) => `• ${mrkdwnText(findingLine(f), 280)}`)].join(
            '\n',
          ),
        ),
      );
    }
    const gaps = report.targets.filter((g) => g.status === 'gap');
    if (gaps.length > 0) {
      const listed = gaps
        .slice(0, 15)
        .map((g) =>
          g.status === 'gap'
            ? `• ${mrkdwnText(`${targetLabel(g)}: ${g.gap.kind}: ${g.gap.error.name}`, 180)}`
            : '',
        );
      if (gaps.length > 15) listed.push(`+${formatCount(gaps.length - 15)} more in targets.csv`);
      blocks.push(section([`:warning: *Gaps* (${formatCount(gaps.length)})`, ...listed].join('\n')));
    }
  }
  const url = stored.htmlUrl ? singleLine(stored.htmlUrl) : '';
  if (url && url.length <= 3_000) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open the organization report', emoji: false },
          url,
          action_id: 'open-org-report',
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Files: \`${mrkdwnText(stored.location, 400)}\`` }],
  });
  return { blocks, text: mrkdwnText(headline, 300) };
}
