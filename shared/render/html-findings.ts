/**
 * The markup of one finding that report.html repeats wherever findings are listed (the findings
 * table, the changes section, each SG's section): its severity badge, its rule, and its
 * suppression badge (accepted risk, or expired suppression visibly flagged), and how long it has
 * been open.
 */
import type { Finding, Fix, Severity } from '../model/analysis';
import type { RuleChange } from '../model/rule-change';
import { describePorts, readableTime } from './format';
import { html, type Markup } from './html-markup';

/**
 * A severity badge ('no findings' when absent).
 *
 * @example severityBadge('high').text // '<span class="badge sev-high">high</span>'
 */
export function severityBadge(severity: Severity | undefined): Markup {
  return severity === undefined
    ? html`<span class="badge sev-none">no findings</span>`
    : html`<span class="badge sev-${severity}">${severity}</span>`;
}

/**
 * AWS's '-1' as people say it.
 *
 * @example ruleProtocol('-1') // 'all'
 */
export function ruleProtocol(protocol: string): string {
  return protocol === '-1' ? 'all' : protocol;
}

/**
 * A finding's rule: direction, protocol, ports and peer, or 'SG-level'.
 *
 * @example findingRule(finding) // in tcp 22 from 0.0.0.0/0
 */
export function findingRule(f: Finding): Markup {
  if (f.direction === undefined || f.protocol === undefined) return html`<span class="muted">SG-level</span>`;
  const ports = describePorts(f.protocol, f.fromPort, f.toPort);
  return html`<span class="tag">${f.direction === 'ingress' ? 'in' : 'out'}</span> ${ruleProtocol(f.protocol)}${ports && f.protocol !== '-1' ? ` ${ports}` : ''} <span class="muted">${f.direction === 'ingress' ? 'from' : 'to'}</span> <span class="mono id">${f.peer ?? ''}</span>`;
}

/**
 * The suppression badge of a finding: "accepted risk" with owner and expiry (its reason on
 * hover), or a flagged "suppression expired"; nothing when the finding has no suppression.
 *
 * @example suppressionBadge(finding) // <span class="badge supp-active" …>accepted risk · platform-team · until 2027-03-31</span>
 */
export function suppressionBadge(f: Finding): Markup | '' {
  const s = f.suppression;
  if (s === undefined) return '';
  const title = `${s.id}: ${s.reason}`;
  return s.status === 'active'
    ? html`<span class="badge supp-active" data-suppression="${s.id}" title="${title}">accepted risk · ${s.owner} · until ${s.expires}</span>`
    : html`<span class="badge supp-expired" data-suppression="${s.id}" title="${title}">suppression expired ${s.expires} · ${s.owner}</span>`;
}

/**
 * How long a finding has been reported, when an earlier compared run already had it ('' for one
 * first reported by this run, or by a run never compared).
 *
 * @example openSince(finding, report.generatedAt) // <span class="muted small" …>since 2025-11-03</span>
 */
export function openSince(f: Finding, generatedAt: string): Markup | '' {
  const first = f.firstReportedAt;
  if (first === undefined || first >= generatedAt) return '';
  return html`<span class="muted small nowrap open-since" title="first reported ${readableTime(first)}">since ${first.slice(0, 10)}</span>`;
}

/**
 * Who last opened or widened a rule, as a muted line ("opened by user/alice via console on …"),
 * or '' when CloudTrail was not read.
 *
 * @example changeLine(finding.change) // <span class="muted small change" data-change-kind="created">opened by …</span>
 */
export function changeLine(change: RuleChange | undefined): Markup | '' {
  if (change === undefined) return '';
  return html`<span class="muted small change" data-change-kind="${change.kind}"${change.eventId ? html` title="CloudTrail event ${change.eventId}"` : ''}>${change.text}</span>`;
}

/**
 * A fix: its words, and its AWS CLI commands folded below them.
 *
 * @example fixCell(finding.fix) // <div class="fix" data-fix-action="replace">Replace it with …<details …
 */
export function fixCell(fix: Fix | undefined): Markup | '' {
  if (fix === undefined || fix.text === '') return '';
  return html`<div class="fix" data-fix-action="${fix.action}">${fix.text}${
    fix.commands.length > 0
      ? html`<details class="cli"><summary>AWS CLI (${fix.commands.length})</summary><pre>${fix.commands.join('\n')}</pre></details>`
      : ''
  }</div>`;
}
