/**
 * The organization's report.html: one self-contained page (the audit report's style sheet, no
 * script, nothing fetched) with the totals, what changed since the previous organization run, the
 * accounts × regions matrix — actionable findings by severity, ENI coverage, gaps, and a link to
 * each target's own report.html — the gaps with their errors, and the worst findings across the
 * organization. Links are relative to the reports root, so they work wherever the reports tree is
 * (the CLI's `DIR/`, a synced copy of the report bucket's `reports/`).
 */
import { COVERAGE_STATUSES, SEVERITIES, type Severity } from '../model/analysis';
import type { OrgFinding, OrgReport, OrgTarget, OrgTargetResult } from '../org/model';
import { targetLabel } from '../org/model';
import { formatCount, formatQuantity, readableTime } from './format';
import { html, type Markup } from './html-markup';
import { pageStart } from './html-page';
import { REPORT_CSS } from './html-style';

export interface OrgHtmlOptions {
  /**
   * The reports root relative to the folder the page is written to, ending in '/': '../' for the
   * CLI's `DIR/org/`, '../../../../../' for `reports/org/<yyyy>/<mm>/<dd>/<run>/`.
   */
  readonly reportRoot: string;
}

const ORG_CSS = `
table.matrix td, table.matrix th { vertical-align: top; }
table.matrix td.cell { min-width: 150px; }
table.matrix .counts { display: flex; flex-wrap: wrap; gap: 3px; margin-bottom: 3px; }
table.matrix .cov { color: var(--muted); font-size: 12px; }
table.matrix td.gap { background: #fff4f2; }
table.matrix td.none { color: var(--muted); }
.gap-error { font-size: 12px; color: #7a271a; word-break: break-word; }
`;

function severityCounts(counts: Readonly<Record<Severity, number>>): Markup {
  const present = SEVERITIES.filter((s) => (counts[s] ?? 0) > 0);
  if (present.length === 0) return html`<span class="badge sev-none">no findings</span>`;
  return html`${present.map((s) => html`<span class="badge sev-${s}" title="${s}">${formatCount(counts[s] ?? 0)} ${s}</span>`)}`;
}

function reportLink(target: OrgTargetResult, options: OrgHtmlOptions): Markup {
  if (target.status !== 'audited' || target.audit.reportPath === undefined) return html``;
  return html`<a href="${options.reportRoot}${target.audit.reportPath}">report</a>`;
}

function cell(target: OrgTargetResult | undefined, options: OrgHtmlOptions): Markup {
  if (target === undefined) return html`<td class="cell none">not audited</td>`;
  if (target.status === 'gap') {
    return html`<td class="cell gap"><span class="badge cov-none">gap: ${target.gap.kind}</span>
<div class="gap-error">${target.gap.error.name}${target.gap.step ? ` in ${target.gap.step}` : ''}</div></td>`;
  }
  const { audit } = target;
  const full = audit.enisByCoverage.full ?? 0;
  return html`<td class="cell"><div class="counts">${severityCounts(audit.actionableFindingsBySeverity)}</div>
<div class="cov">${formatCount(full)}/${formatCount(audit.networkInterfaces)} ENIs fully covered${audit.failedSources > 0 ? `, ${formatQuantity(audit.failedSources, 'failed source', 'failed sources')}` : ''}</div>
${reportLink(target, options)}</td>`;
}

function matrixSection(report: OrgReport, options: OrgHtmlOptions): Markup {
  const regions = [...new Set(report.targets.map((t) => t.region))].sort();
  const accounts = new Map<string, OrgTarget>();
  for (const t of report.targets) if (!accounts.has(t.accountId)) accounts.set(t.accountId, t);
  const byKey = new Map(report.targets.map((t) => [targetLabel(t), t]));
  const rows = [...accounts.values()].map(
    (
      account,
    ) => html`<tr><th scope="row"><span class="mono">${account.accountId}</span>${account.accountName ? html`<br><span class="small muted">${account.accountName}</span>` : ''}</th>
${regions.map((region) => cell(byKey.get(targetLabel({ accountId: account.accountId, region })), options))}</tr>`,
  );
  return html`<section id="matrix" class="block">
<h2>Accounts × regions</h2>
<p class="lead">Actionable findings by severity (accepted risks left out), ENI flow-log coverage, and each target's own report. A gap is a target that could not be audited.</p>
<div class="scroll"><table class="matrix">
<thead><tr><th>Account</th>${regions.map((r) => html`<th>${r}</th>`)}</tr></thead>
<tbody>${rows}</tbody>
</table></div>
</section>`;
}

function summarySection(report: OrgReport): Markup {
  const t = report.totals;
  const coverage = COVERAGE_STATUSES.map((c) => `${formatCount(t.enisByCoverage[c] ?? 0)} ${c}`).join(', ');
  return html`<section id="summary" class="block">
<h2>Summary</h2>
<p class="lead">${formatQuantity(t.targets, 'target', 'targets')} (${formatQuantity(t.accounts, 'account', 'accounts')} × ${formatQuantity(t.regions, 'region', 'regions')}): ${formatCount(t.audited)} audited, ${formatQuantity(t.gaps, 'gap', 'gaps')}.</p>
<div class="cards">
${SEVERITIES.map((s) => html`<div class="card sev-${s}"><div class="n">${formatCount(t.actionableFindingsBySeverity[s] ?? 0)}</div><div class="k">${s}</div></div>`)}
<div class="card"><div class="n">${formatCount(t.gaps)}</div><div class="k">gaps</div></div>
</div>
<p>${formatCount(t.securityGroups)} security groups, ${formatCount(t.networkInterfaces)} ENIs; coverage: ${coverage}.</p>
</section>`;
}

function targetList(targets: readonly OrgTarget[]): Markup {
  return html`${targets.map((t, i) => html`${i > 0 ? ', ' : ''}<span class="mono">${targetLabel(t)}</span>`)}`;
}

function changesSection(report: OrgReport): Markup {
  const c = report.changes;
  if (c === undefined) return html``;
  if (c.firstRun) {
    return html`<section id="changes" class="block"><h2>Since the previous run</h2><p class="lead">First organization run: nothing to compare with.</p></section>`;
  }
  const lines: Markup[] = [
    html`<li>${formatCount(c.newFindings)} new, ${formatCount(c.worseFindings)} worse, ${formatCount(c.resurfacedFindings)} resurfaced and ${formatCount(c.resolvedFindings)} resolved findings across targets</li>`,
  ];
  const listed: [string, readonly OrgTarget[]][] = [
    ['Targets with new or worse findings', c.worsenedTargets],
    ['New gaps', c.newGaps],
    ['Gaps resolved', c.resolvedGaps],
    ['New targets', c.newTargets],
    ['Targets gone', c.removedTargets],
  ];
  for (const [label, targets] of listed) {
    if (targets.length > 0) lines.push(html`<li>${label}: ${targetList(targets)}</li>`);
  }
  return html`<section id="changes" class="block">
<h2>Since the previous run</h2>
<p class="lead">Compared with run ${c.previousRunId ?? '?'}${c.previousGeneratedAt ? ` of ${readableTime(c.previousGeneratedAt)}` : ''}.</p>
<ul>${lines}</ul>
${findingTable(report.leadingFindings, true)}
</section>`;
}

function gapsSection(report: OrgReport): Markup {
  const gaps = report.targets.filter((t) => t.status === 'gap');
  if (gaps.length === 0) return html``;
  return html`<section id="gaps" class="block">
<h2>Gaps</h2>
<p class="lead">Targets that could not be audited. role-unavailable: the member role is missing or does not trust the auditor (deploy the SgAuditMemberRole stack set there); region-unavailable: the region is not enabled for the account.</p>
<table><thead><tr><th>Target</th><th>Kind</th><th>Step</th><th>Error</th></tr></thead>
<tbody>${gaps.map((g) => (g.status === 'gap' ? html`<tr><td class="mono">${targetLabel(g)}</td><td>${g.gap.kind}</td><td>${g.gap.step ?? ''}</td><td><span class="mono">${g.gap.error.name}</span> <span class="gap-error">${g.gap.error.message}</span></td></tr>` : html``))}</tbody></table>
</section>`;
}

function findingTable(findings: readonly OrgFinding[], withChange: boolean): Markup {
  if (findings.length === 0) return html`<p class="muted">None.</p>`;
  return html`<table><thead><tr><th>Severity</th>${withChange ? html`<th>Change</th>` : ''}<th>Target</th><th>SG</th><th>Check</th><th>Rule</th><th>Reason</th></tr></thead>
<tbody>${findings.map(
    (f) =>
      html`<tr><td><span class="badge sev-${f.severity}">${f.severity}</span></td>${withChange ? html`<td>${f.change === 'worse' ? `worse, was ${f.previousSeverity ?? '?'}` : (f.change ?? '')}</td>` : ''}<td class="mono">${f.accountId}/${f.region}</td><td><span class="mono">${f.sgId}</span> ${f.sgName}</td><td>${f.check}</td><td class="mono">${f.rule}</td><td>${f.reason}</td></tr>`,
  )}</tbody></table>`;
}

function topFindingsSection(report: OrgReport): Markup {
  return html`<section id="findings" class="block">
<h2>Worst findings across the organization</h2>
<p class="lead">The ${formatCount(report.topFindings.length)} worst actionable findings; findings.csv lists every finding with its account_id and region.</p>
${findingTable(report.topFindings, false)}
</section>`;
}

/**
 * The organization's report.html as one string.
 *
 * @example renderOrgHtml(orgReport, { reportRoot: '../' }).includes('Accounts × regions') // true
 */
export function renderOrgHtml(report: OrgReport, options: OrgHtmlOptions): string {
  const window = report.window
    ? `${readableTime(report.window.start)} to ${readableTime(report.window.end)} (${report.window.days} days)`
    : 'no target audited';
  return html`${pageStart({
    title: `Security group audit: organization (${report.generatedAt.slice(0, 10)})`,
    generator: `${report.tool.name} ${report.tool.version}`,
    css: REPORT_CSS + ORG_CSS,
  })}
<header class="top">
<div class="brand">${report.tool.name} ${report.tool.version} · security group audit</div>
<h1>Organization: ${formatQuantity(report.totals.accounts, 'account', 'accounts')} × ${formatQuantity(report.totals.regions, 'region', 'regions')}</h1>
<dl>
<div><dt>Window</dt><dd>${window}</dd></div>
<div><dt>Run</dt><dd>${report.runId}</dd></div>
<div><dt>Generated</dt><dd>${readableTime(report.generatedAt)}</dd></div>
</dl>
</header>
<main>
${summarySection(report)}
${changesSection(report)}
${matrixSection(report, options)}
${gapsSection(report)}
${topFindingsSection(report)}
</main>
<footer>${report.tool.name} ${report.tool.version} · organization report schema ${report.schemaVersion} · run ${report.runId}</footer>
</body>
</html>
`.text;
}
