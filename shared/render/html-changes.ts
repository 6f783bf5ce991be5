/**
 * report.html's "What changed" section, on the first screen: counts of new, worse, resolved and
 * changed findings, verdict changes, SGs and ENIs added or removed; then the new and worse
 * findings, the resolved ones and the verdict changes. Long lists show their first rows and fold
 * the rest into a <details>, bounded (the whole list is in changes.csv).
 */
import type { Finding } from '../model/analysis';
import type { AuditReport, ReportRule } from '../report/model';
import { type ChangeOverview, changeOverview, leadingFindings, previousRunLabel } from './changes';
import { describePorts, formatCount, readableTime } from './format';
import { findingRule, ruleProtocol, severityBadge, suppressionBadge } from './html-findings';
import { html, type Markup } from './html-markup';

/** Rows shown before a list folds. */
const VISIBLE_ROWS = 10;
/** Rows rendered at most per list (the rest: changes.csv), so a first large diff stays small. */
const MAX_ROWS = 500;

function card(value: string, label: string, tone: string): Markup {
  return html`<div class="card ${tone}"><div class="n">${value}</div><div class="k">${label}</div></div>`;
}

/** "+3 / −1" for things added and removed. */
function addedRemoved(added: number, removed: number): string {
  return `+${formatCount(added)} / −${formatCount(removed)}`;
}

/**
 * A table whose first VISIBLE_ROWS rows show and whose next ones (up to MAX_ROWS) fold into a
 * <details> saying how many; `row` is called only for rows rendered.
 */
function foldedTable<T>(items: readonly T[], head: Markup, row: (item: T) => Markup, noun: string): Markup {
  const table = (rows: readonly Markup[]) =>
    html`<div class="table-wrap"><table class="changes"><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
  const visible = items.slice(0, VISIBLE_ROWS).map(row);
  const folded = items.slice(VISIBLE_ROWS, MAX_ROWS).map(row);
  const beyond = items.length - VISIBLE_ROWS - folded.length;
  return html`${table(visible)}${
    folded.length > 0
      ? html`<details class="more"><summary>${formatCount(folded.length)} more ${noun}</summary>${table(folded)}</details>`
      : ''
  }${beyond > 0 ? html`<p class="muted small">…and ${formatCount(beyond)} more in changes.csv.</p>` : ''}`;
}

function sgCell(f: Finding, sgIds: ReadonlySet<string>): Markup {
  // A resolved finding's SG may be gone: link only to sections that exist.
  const name = sgIds.has(f.sgId) ? html`<a href="#${f.sgId}">${f.sgName}</a>` : html`${f.sgName}`;
  return html`${name}<br><span class="muted small mono id">${f.sgId}</span>`;
}

function findingRow(
  change: 'new' | 'worse' | 'resurfaced' | 'changed' | 'resolved',
  f: Finding,
  sgIds: ReadonlySet<string>,
  note: Markup | string,
): Markup {
  return html`<tr data-change="${change}" data-finding-id="${f.id}">
<td class="nowrap">${severityBadge(f.severity)}${note}</td>
<td><span class="tag chg-${change}">${change}</span></td>
<td>${sgCell(f, sgIds)}</td>
<td class="rule">${findingRule(f)}</td>
<td class="finding-reason"><span class="mono small">${f.check}</span>: ${f.reason} ${suppressionBadge(f)}</td>
</tr>`;
}

const FINDING_HEAD = html`<tr><th>Severity</th><th>Change</th><th>Security group</th><th>Rule</th><th>Reason</th></tr>`;

function was(severity: string): Markup {
  return html` <span class="muted small">was ${severity}</span>`;
}

function verdictRows(report: AuditReport, overview: ChangeOverview): Markup {
  const rules = new Map<string, { rule: ReportRule; sgName: string }>();
  for (const sg of report.securityGroups)
    for (const rule of sg.rules) rules.set(rule.id, { rule, sgName: sg.name });
  const head = html`<tr><th>Security group</th><th>Rule</th><th>Status</th><th>Verdict</th><th>Why</th></tr>`;
  return foldedTable(
    overview.ruleVerdictChanges,
    head,
    (change) => {
      const found = rules.get(change.ruleId);
      const rule = found?.rule;
      const ruleText =
        rule === undefined
          ? html`<span class="mono small id">${change.ruleId}</span>`
          : html`<span class="tag">${rule.direction === 'ingress' ? 'in' : 'out'}</span> ${ruleProtocol(rule.protocol)} ${rule.protocol === '-1' ? '' : describePorts(rule.protocol, rule.fromPort, rule.toPort)} <span class="mono id">${rule.peer}</span>`;
      const arrow = (before: string, after: string, kind: 'st' | 'vd') =>
        before === after
          ? html`<span class="badge ${kind}-${after}">${after}</span>`
          : html`<span class="badge ${kind}-${before}">${before}</span> → <span class="badge ${kind}-${after}">${after}</span>`;
      return html`<tr data-change="verdict" data-rule-id="${change.ruleId}">
<td><a href="#${change.sgId}">${found?.sgName ?? change.sgId}</a><br><span class="muted small mono id">${change.sgId}</span></td>
<td class="rule">${ruleText}</td>
<td class="nowrap">${arrow(change.before.status, change.after.status, 'st')}</td>
<td class="nowrap">${arrow(change.before.verdict, change.after.verdict, 'vd')}</td>
<td class="reason small">${rule?.usage.verdictReason ?? ''}</td>
</tr>`;
    },
    'verdict changes',
  );
}

function countCards(overview: ChangeOverview): Markup {
  const c = overview.counts;
  return html`<div class="cards">
${card(formatCount(c.new), 'new findings', c.new > 0 ? 'chg-new' : 'plain')}
${card(formatCount(c.worse), 'worse findings', c.worse > 0 ? 'chg-worse' : 'plain')}
${c.resurfaced > 0 ? card(formatCount(c.resurfaced), 'no longer accepted', 'chg-worse') : ''}
${card(formatCount(c.resolved), 'resolved findings', c.resolved > 0 ? 'chg-resolved' : 'plain')}
${card(formatCount(c.changed), 'changed findings', 'plain')}
${card(formatCount(c.verdictChanges), 'verdict changes', 'plain')}
${card(addedRemoved(c.newSecurityGroups, c.removedSecurityGroups), 'SGs added / removed', 'plain')}
${card(formatCount(c.renamedSecurityGroups), 'SGs renamed', 'plain')}
${card(addedRemoved(c.newEnis, c.removedEnis), 'ENIs added / removed', 'plain')}
</div>`;
}

/**
 * The changes section, or '' when the report was not compared with a previous one.
 *
 * @example changesSection(reviewedReport) // <section id="changes" …>
 */
export function changesSection(report: AuditReport): Markup | '' {
  const overview = changeOverview(report);
  if (overview === undefined) return '';
  if (overview.firstRun) {
    return html`<section id="changes" class="block changes" data-first-run="true">
<h2>What changed</h2>
<p class="lead">First run: no previous report to compare. Every finding is new; the next run lists what changed since this one.</p>
</section>`;
  }
  const since = previousRunLabel(overview, readableTime);
  const sgIds = new Set(report.securityGroups.map((sg) => sg.id));
  const lead = leadingFindings(overview);
  const c = overview.counts;
  const renamed = overview.renamedSecurityGroups;
  return html`<section id="changes" class="block changes" data-first-run="false">
<h2>What changed since ${since}</h2>
<p class="lead">Compared with ${overview.previousRunId !== undefined ? html`run <span class="mono">${overview.previousRunId}</span>` : 'the previous report'}: ${formatCount(c.new)} new and ${formatCount(c.worse)} worse findings${c.resurfaced > 0 ? `, ${formatCount(c.resurfaced)} back after their acceptance ended` : ''}, ${formatCount(c.resolved)} resolved, ${formatCount(c.unchanged)} unchanged. Every change is in changes.csv.</p>
${countCards(overview)}
<h3>New and worse findings</h3>
${lead.length > 0 ? foldedTable(lead, FINDING_HEAD, (x) => findingRow(x.change, x.finding, sgIds, x.previousSeverity ? was(x.previousSeverity) : ''), 'new or worse findings') : html`<p class="muted">No new or worse findings.</p>`}
${
  overview.resolvedFindings.length > 0
    ? html`<h3>Resolved findings</h3>${foldedTable(overview.resolvedFindings, FINDING_HEAD, (f) => findingRow('resolved', f, sgIds, ''), 'resolved findings')}`
    : ''
}
${
  overview.changedFindings.length > 0
    ? html`<h3>Other changed findings</h3>${foldedTable(overview.changedFindings, FINDING_HEAD, (x) => findingRow('changed', x.finding, sgIds, x.previousSeverity !== x.finding.severity ? was(x.previousSeverity) : html` <span class="muted small">${x.changes.join(', ')}</span>`), 'changed findings')}`
    : ''
}
${overview.ruleVerdictChanges.length > 0 ? html`<h3>Rule verdict changes</h3>${verdictRows(report, overview)}` : ''}
${
  renamed.length > 0
    ? html`<p class="small">Renamed: ${renamed.slice(0, VISIBLE_ROWS).map((r, i) => html`${i > 0 ? '; ' : ''}<span class="mono">${r.sgId}</span> ${r.before} → ${r.after}`)}${renamed.length > VISIBLE_ROWS ? ` and ${formatCount(renamed.length - VISIBLE_ROWS)} more` : ''}</p>`
    : ''
}
</section>`;
}
