/**
 * report.html: one self-contained file (inline CSS, inline SVG charts drawn here, a small inline
 * script for filtering) that opens offline, fetches nothing, and reads fully with scripts off.
 * A Content-Security-Policy forbids every fetch and admits only this page's own script (by hash),
 * a second line of defence behind the escaping of all report text.
 */
import type { CoverageStatus, Finding, ResourceRow } from '../model/analysis';
import { SEVERITIES } from '../model/analysis';
import { protocolName } from '../net/protocol';
import { recommendationAction, removalOf, removalText } from '../remediation/fix';
import type { AuditReport, ReportRule, ReportSecurityGroup } from '../report/model';
import { changeOverview, type LeadingFinding, leadingFindings, suppressionCounts } from './changes';
import { renderBarChart, renderProportionBar, sgTraffic } from './charts';
import {
  compareFindings,
  describePorts,
  formatAddressCount,
  formatBytes,
  formatCount,
  formatQuantity,
  isoSeconds,
  naclRuleNumberText,
  readableTime,
  resourceCounts,
} from './format';
import { buildPortHeatmap, renderPortHeatmap } from './heatmap';
import { changesSection } from './html-changes';
import { deliveryCalendar, evidenceBanner } from './html-delivery';
import { egressSection } from './html-egress';
import {
  changeLine,
  findingRule,
  fixCell,
  openSince,
  ruleProtocol,
  severityBadge,
  suppressionBadge,
} from './html-findings';
import { html, type Markup, raw } from './html-markup';
import { pageStart } from './html-page';
import { rejectedSection } from './html-rejected';
import { REPORT_CSS, REPORT_SCRIPT } from './html-style';
import { distinctWarnings } from './warnings';

/** SGs given traffic charts (busiest first); every SG still has its own section. */
const TRAFFIC_CHART_SGS = 12;
const TRAFFIC_TOP = 8;
/** SG sections start collapsed above this many SGs, to keep very large reports usable. */
const OPEN_SECTIONS_UP_TO = 40;
/** Coverage gaps listed by ENI. */
const COVERAGE_ROWS = 200;

function coverageBadge(coverage: CoverageStatus | 'no-enis'): Markup {
  return html`<span class="badge cov-${coverage}">${coverage}</span>`;
}

function headerSection(report: AuditReport): Markup {
  const scope = (values: readonly string[]) => (values.length === 0 ? 'all' : values.join(', '));
  const account = report.account.id ?? 'unknown account';
  return html`<header class="top">
<div class="brand">${report.tool.name} ${report.tool.version} · security group audit</div>
<h1>Security group audit: account ${account}${report.account.region ? ` (${report.account.region})` : ''}</h1>
<dl>
<div><dt>Window</dt><dd>${readableTime(report.window.start)} to ${readableTime(report.window.end)} (${report.window.days} days)</dd></div>
<div><dt>VPCs</dt><dd>${scope(report.scope.vpcIds)}</dd></div>
<div><dt>SGs</dt><dd>${scope(report.scope.sgIds)}</dd></div>
<div><dt>Ports</dt><dd>${scope(report.scope.ports)}</dd></div>
<div><dt>Mode</dt><dd>${report.mode}</dd></div>
<div><dt>Generated</dt><dd>${readableTime(report.generatedAt)}</dd></div>
</dl>
</header>`;
}

function navigation(report: AuditReport): Markup {
  const links: readonly (readonly [string, string])[] = [
    ['summary', 'Summary'],
    ...(report.changes !== undefined ? [['changes', 'Changes'] as const] : []),
    ['findings', 'Findings'],
    ['coverage', 'Coverage'],
    ['heatmap', 'Port heatmap'],
    ['traffic', 'Traffic'],
    ['security-groups', 'Security groups'],
    ['nacl', 'NACLs'],
    ...(report.rejected !== undefined ? [['rejected', 'Rejected'] as const] : []),
    ...(report.egress !== undefined ? [['egress', 'Egress'] as const] : []),
    ['sources', 'Flow sources'],
    ['warnings', 'Warnings'],
  ];
  return html`<nav class="toc">${links.map(([id, label]) => html`<a href="#${id}">${label}</a>`)}</nav>`;
}

function card(value: string, label: string, tone = 'plain'): Markup {
  return html`<div class="card ${tone}"><div class="n">${value}</div><div class="k">${label}</div></div>`;
}

function summarySection(report: AuditReport): Markup {
  const s = report.summary;
  const severityCards = SEVERITIES.map((severity) =>
    card(formatCount(s.findingsBySeverity[severity]), severity, `sev-${severity}`),
  );
  const suppressed = suppressionCounts(report.findings);
  // Only when a suppressions file was applied: "0 accepted risks" would be noise otherwise.
  const suppressionCards =
    suppressed.active + suppressed.expired > 0
      ? html`${card(formatCount(suppressed.active), 'accepted risks (suppressed)', 'supp-active')}${
          suppressed.expired > 0
            ? card(formatCount(suppressed.expired), 'suppressions expired', 'supp-expired')
            : ''
        }`
      : '';
  return html`<section id="summary" class="block">
<h2>Summary</h2>
<p class="lead">Findings by severity, what was audited, and what the flow logs say about each rule entry.</p>
<div class="cards">${severityCards}${suppressionCards}</div>
<div class="cards">
${card(formatCount(s.securityGroups), 'security groups')}
${card(formatCount(s.ruleEntries), 'rule entries')}
${card(formatCount(s.networkInterfaces), 'network interfaces')}
${card(formatCount(s.connections), 'connections')}
${card(formatCount(s.flowRecords), 'flow-log records')}
</div>
<div class="charts">
${renderProportionBar(
  [
    { label: 'used', value: s.rulesByStatus.used, tone: 'used' },
    { label: 'unused', value: s.rulesByStatus.unused, tone: 'unused' },
    { label: 'unknown', value: s.rulesByStatus.unknown, tone: 'unknown' },
  ],
  'Rule entries by status',
)}
${renderProportionBar(
  [
    { label: 'keep', value: s.rulesByVerdict.keep, tone: 'keep' },
    { label: 'narrow', value: s.rulesByVerdict.narrow, tone: 'narrow' },
    { label: 'remove', value: s.rulesByVerdict.remove, tone: 'remove' },
    { label: 'review', value: s.rulesByVerdict.review, tone: 'review' },
  ],
  'Rule entries by verdict',
)}
</div>
</section>`;
}

/** The finding ids the changes section leads with (new, worse, resurfaced), to tag their rows in the findings table. */
function changeTags(report: AuditReport): Map<string, LeadingFinding['change']> {
  const tags = new Map<string, LeadingFinding['change']>();
  const overview = changeOverview(report);
  // On a first run everything is new: tagging every row says nothing.
  if (overview === undefined || overview.firstRun) return tags;
  for (const lead of leadingFindings(overview)) tags.set(lead.finding.id, lead.change);
  return tags;
}

function findingsSection(report: AuditReport): Markup {
  const sorted = [...report.findings].sort(compareFindings);
  const tags = changeTags(report);
  const since = (f: Finding): Markup | '' => {
    const open = openSince(f, report.generatedAt);
    return open === '' ? '' : html`<br>${open}`;
  };
  const rows = sorted.map((f) => {
    const tag = tags.get(f.id);
    const change = changeLine(f.change);
    return html`<tr data-severity="${f.severity}" data-check="${f.check}" data-sg-id="${f.sgId}"${f.suppression ? html` data-suppression="${f.suppression.status}"` : ''}>
<td class="nowrap col-severity" data-label="Severity">${severityBadge(f.severity)}${tag ? html` <span class="tag chg-${tag}">${tag}</span>` : ''}${since(f)}</td>
<td class="nowrap mono col-check" data-label="Check">${f.check}</td>
<td class="col-sg" data-label="Security group"><a href="#${f.sgId}">${f.sgName}</a><br><span class="muted small mono id">${f.sgId}</span></td>
<td class="rule col-rule" data-label="Rule">${findingRule(f)}${change === '' ? '' : html`<br>${change}`}</td>
<td class="col-fix" data-label="Fix">${fixCell(f.fix)}</td>
<td class="finding-reason col-reason" data-label="Reason">${f.reason}${f.controls.length > 0 ? html` <span class="muted small">(${f.controls.join(', ')})</span>` : ''} ${suppressionBadge(f)}</td>
<td class="nowrap mono small col-resources" data-label="Resources">${resourceCounts(f.resources)}</td>
<td class="reason small col-evidence" data-label="Evidence">${f.evidence}</td>
</tr>`;
  });
  const filters = html`<div class="filters" id="finding-filters" hidden>
<span class="muted small">Show:</span>
${SEVERITIES.map((s) => html`<button type="button" data-severity="${s}" aria-pressed="true">${s}</button>`)}
<input type="search" placeholder="Filter findings (SG, check, peer …)" aria-label="Filter findings">
</div>`;
  return html`<section id="findings" class="block">
<h2>Findings</h2>
<p class="lead">${formatCount(sorted.length)} findings, worst first and what is live first; the fix beside each, who opened the rule under it${report.changeHistory ? '' : ' (when CloudTrail is read)'}. Security Hub controls in parentheses.</p>
${filters}
<div class="table-wrap"><table class="findings">
<thead><tr><th>Severity</th><th>Check</th><th>Security group</th><th>Rule</th><th>Fix</th><th>Reason</th><th>Resources</th><th>Evidence</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="8" class="muted">No findings.</td></tr>`}</tbody>
</table></div>
</section>`;
}

function coverageSection(report: AuditReport): Markup {
  const c = report.summary.enisByCoverage;
  const resourceByEni = new Map(report.resources.map((r) => [r.eniId, r]));
  const gaps = report.coverage.filter((e) => e.status !== 'full');
  const rows = gaps.slice(0, COVERAGE_ROWS).map((e) => {
    const r = resourceByEni.get(e.eniId);
    return html`<tr data-eni-id="${e.eniId}">
<td class="mono nowrap">${e.eniId}</td>
<td>${r ? html`<span class="tag">${r.resource.type}</span> ${r.resource.name || r.resource.id}` : ''}</td>
<td class="mono small id">${r ? r.sgIds.join(', ') : ''}</td>
<td>${coverageBadge(e.status)}</td>
<td class="mono small id">${e.flowLogIds.join(', ')}</td>
<td class="reason">${e.reasons.join('; ')}${e.coveredFrom !== undefined ? ` (covered from ${isoSeconds(e.coveredFrom)})` : ''}</td>
</tr>`;
  });
  return html`<section id="coverage" class="block">
<h2>Flow-log coverage</h2>
<p class="lead">Rules can be called unused only where ACCEPT (or ALL) flow logs cover every ENI for the whole window and are proven to have delivered on every day of it; elsewhere they are unknown.</p>
<div class="cards">
${card(formatCount(c.full), 'full', 'cov-full')}
${card(formatCount(c.partial), 'partial', 'cov-partial')}
${card(formatCount(c['reject-only']), 'reject-only', 'cov-reject-only')}
${card(formatCount(c.none), 'none', 'cov-none')}
</div>
${renderProportionBar(
  [
    { label: 'full', value: c.full, tone: 'full' },
    { label: 'partial', value: c.partial, tone: 'partial' },
    { label: 'reject-only', value: c['reject-only'], tone: 'reject-only' },
    { label: 'none', value: c.none, tone: 'none' },
  ],
  'ENIs by flow-log coverage',
  640,
)}
${
  gaps.length === 0
    ? html`<p class="muted">Every ENI is fully covered.</p>`
    : html`<h3>ENIs without full coverage</h3>
<div class="table-wrap"><table>
<thead><tr><th>ENI</th><th>Resource</th><th>Security groups</th><th>Coverage</th><th>Flow logs</th><th>Why</th></tr></thead>
<tbody>${rows}</tbody></table></div>${gaps.length > COVERAGE_ROWS ? html`<p class="muted small">…and ${formatCount(gaps.length - COVERAGE_ROWS)} more in resources.csv.</p>` : ''}`
}
${deliveryCalendar(report)}
</section>`;
}

function heatmapSection(report: AuditReport): Markup {
  const heatmap = buildPortHeatmap(report);
  return html`<section id="heatmap" class="block">
<h2>Port usage heatmap</h2>
<p class="lead">Which ports each security group opens, and whether traffic used them in the window. Rows: SG and direction; columns: ports with a rule of their own, then the whole port space in ranges. Hover a cell for its rules and counts.</p>
${
  heatmap.rows.length === 0
    ? html`<p class="muted">No rules to show.</p>`
    : html`<div class="heatmap-wrap">${renderPortHeatmap(heatmap)}</div>`
}
${heatmap.omittedRows > 0 ? html`<p class="muted small">${formatCount(heatmap.omittedRows)} more rows (SGs with less severe findings) are left out; every SG has its section below.</p>` : ''}
</section>`;
}

function trafficSection(report: AuditReport): Markup {
  const busiest = report.securityGroups
    .map((sg) => ({ sg, traffic: sgTraffic(sg, TRAFFIC_TOP) }))
    .filter((x) => x.traffic.connections > 0)
    .sort((a, b) => b.traffic.connections - a.traffic.connections);
  const cards = busiest.slice(0, TRAFFIC_CHART_SGS).map(
    ({ sg, traffic }) => html`<div class="traffic-card" data-sg-id="${sg.id}">
<h3><a href="#${sg.id}">${sg.name}</a> <span class="muted small mono">${sg.id}</span></h3>
<div class="pair">
${renderBarChart(traffic.ports, { title: 'Top ports by connections', tone: 'ports', width: 560 })}
${renderBarChart(traffic.peers, { title: 'Top peers by bytes', tone: 'peers', width: 560 })}
</div></div>`,
  );
  return html`<section id="traffic" class="block">
<h2>Traffic</h2>
<p class="lead">Observed connections per security group (busiest ${Math.min(TRAFFIC_CHART_SGS, busiest.length)} of ${busiest.length} with traffic). Peers are those among each rule's top talkers.</p>
${cards.length > 0 ? html`<div class="traffic-grid">${cards}</div>` : html`<p class="muted">No traffic observed on covered ENIs.</p>`}
</section>`;
}

function ruleRow(rule: ReportRule): Markup {
  const u = rule.usage;
  // Unknown needs its cause (a coverage gap); for used/unused the verdict's reason says it all.
  const why = u.status === 'unknown' ? `${u.statusReason}; ${u.verdictReason}` : u.verdictReason;
  return html`<tr data-rule-id="${rule.id}" data-status="${u.status}" data-verdict="${u.verdict}">
<td><span class="tag">${rule.direction === 'ingress' ? 'in' : 'out'}</span></td>
<td>${ruleProtocol(rule.protocol)}</td>
<td class="nowrap">${describePorts(rule.protocol, rule.fromPort, rule.toPort)}</td>
<td class="mono id">${rule.peer}</td>
<td>${rule.description ?? ''}</td>
<td><span class="badge st-${u.status}">${u.status}</span></td>
<td><span class="badge vd-${u.verdict}">${u.verdict}</span></td>
<td class="num">${formatCount(u.connections)}</td>
<td class="num">${u.bytes > 0 ? formatBytes(u.bytes) : '0'}</td>
<td class="num">${formatCount(u.distinctPeers)}</td>
<td class="nowrap small" title="${isoSeconds(u.lastSeen)}">${u.lastSeen !== undefined ? isoSeconds(u.lastSeen).slice(0, 16).replace('T', ' ') : ''}</td>
<td class="reason small">${why}</td>
<td class="small">${changeLine(rule.change)}</td>
</tr>`;
}

function sgSection(
  report: AuditReport,
  sg: ReportSecurityGroup,
  resources: readonly ResourceRow[],
  findings: readonly Finding[],
  open: boolean,
): Markup {
  const resourceRows = resources.map(
    (r) =>
      html`<tr><td class="mono nowrap">${r.eniId}</td><td><span class="tag">${r.resource.type}</span></td><td>${r.resource.name}${r.resource.name !== r.resource.id ? html` <span class="muted small mono">${r.resource.id}</span>` : ''}</td><td class="mono small">${r.privateIps.join(', ')}</td><td class="mono small">${r.subnetId}</td><td>${coverageBadge(r.coverage)}</td></tr>`,
  );
  const recommendations = (['ingress', 'egress'] as const).map((direction) => {
    const recs = sg.recommendations.filter((r) => r.direction === direction);
    if (recs.length === 0) return '';
    return html`<h3>Recommended ${direction === 'ingress' ? 'inbound' : 'outbound'} rules</h3><ul class="recs">${recs.map(
      (r) => {
        const action = recommendationAction(sg, r);
        return html`<li data-action="${action}"><code>${r.text}</code><span class="tag act-${action}">${action}</span><span class="tag">${r.basis}</span><span class="muted small">${formatQuantity(r.connections, 'connection', 'connections')} · ${formatQuantity(r.distinctPeers, 'peer', 'peers')}${r.addedAddresses && r.addedAddresses !== '0' ? ` · admits ${formatAddressCount(r.addedAddresses, r.family)} beyond those seen` : ''}</span></li>`;
      },
    )}</ul>`;
  });
  const removals = sg.rules.filter((r) => r.usage.verdict === 'remove' || r.usage.verdict === 'narrow');
  const removalList =
    removals.length === 0
      ? ''
      : html`<h3>Rules to remove</h3><ul class="recs">${removals.map((r) => {
          // The plan's change: it may keep the rule (and says why), or leave it to the SG's code.
          const removal = removalOf(r, sg, report);
          const why =
            removal.command === undefined
              ? removal.text
              : r.usage.verdict === 'narrow'
                ? 'replaced by the entries above'
                : r.usage.verdictReason;
          return html`<li data-action="${removal.action}"><code>${removalText(r)}</code><span class="tag act-${removal.action}">${removal.action}</span><span class="muted small">${why}</span>${removal.command === undefined ? '' : html`<details class="cli"><summary>AWS CLI</summary><pre>${removal.command}</pre></details>`}</li>`;
        })}</ul>`;
  const quota = sg.quota.map(
    (q) =>
      `${q.direction} ${q.family}: ${q.current} now → ${q.recommended} recommended${q.recommendedBeforeCompaction !== q.recommended ? ` (${q.recommendedBeforeCompaction} before compaction${q.addedAddresses !== '0' ? `, admitting ${formatAddressCount(q.addedAddresses, q.family)} more` : ''})` : ''} of ${q.limit}`,
  );
  return html`<section class="block sg" id="${sg.id}" data-sg-id="${sg.id}" data-worst-severity="${sg.worstSeverity ?? 'none'}">
<details${open ? raw(' open') : ''}>
<summary>${severityBadge(sg.worstSeverity)}<h2>${sg.name}</h2><span class="sgid mono">${sg.id}</span>${sg.isDefault ? html`<span class="tag">default SG</span>` : ''}<span class="sg-counts">${ruleCounts(sg)}</span></summary>
<dl class="meta">
<dt>VPC</dt><dd class="mono">${sg.vpcId}</dd>
<dt>Description</dt><dd>${sg.description}</dd>
<dt>Used by</dt><dd>${resources.length > 0 ? `${formatQuantity(resources.length, 'ENI', 'ENIs')} (${resourceCounts(countTypes(resources.map((r) => r.resource.type)))})` : 'no ENI'}</dd>
<dt>Referenced by</dt><dd class="mono">${sg.referencedBy.length > 0 ? sg.referencedBy.map((id, i) => html`${i > 0 ? ', ' : ''}<a href="#${id}">${id}</a>`) : html`<span class="muted">none</span>`}</dd>
${sg.change ? html`<dt>Created</dt><dd>${changeLine(sg.change)}</dd>` : ''}
</dl>
${
  resourceRows.length > 0
    ? html`<h3>Network interfaces</h3><div class="table-wrap"><table><thead><tr><th>ENI</th><th>Type</th><th>Resource</th><th>Private IPs</th><th>Subnet</th><th>Coverage</th></tr></thead><tbody>${resourceRows}</tbody></table></div>`
    : ''
}
<h3>Rules</h3>
<div class="table-wrap"><table class="rules">
<thead><tr><th>Dir</th><th>Protocol</th><th>Ports</th><th>Peer</th><th>Description</th><th>Status</th><th>Verdict</th><th class="num">Connections</th><th class="num">Bytes</th><th class="num">Peers</th><th>Last seen (UTC)</th><th>Why</th><th>Last change</th></tr></thead>
<tbody>${sg.rules.length > 0 ? sg.rules.map(ruleRow) : html`<tr><td colspan="13" class="muted">No rules.</td></tr>`}</tbody>
</table></div>
${
  findings.length > 0
    ? html`<h3>Findings</h3><ul class="warnings">${findings.map((f) => html`<li>${severityBadge(f.severity)} <span class="mono small">${f.check}</span>: ${f.reason} ${suppressionBadge(f)}${fixCell(f.fix)}</li>`)}</ul>`
    : ''
}
${recommendations}
${removalList}
${sg.recommendations.length === 0 ? html`<p class="muted small">No recommended rules: no connection was observed on covered ENIs.</p>` : ''}
${quota.length > 0 ? html`<p class="quota">Quota (rule entries per direction and IP family): ${quota.join(' · ')}</p>` : ''}
</details>
</section>`;
}

function ruleCounts(sg: ReportSecurityGroup): string {
  const count = (status: string) => sg.rules.filter((r) => r.usage.status === status).length;
  return `${formatQuantity(sg.rules.length, 'rule entry', 'rule entries')}: ${count('used')} used, ${count('unused')} unused, ${count('unknown')} unknown · ${formatQuantity(sg.eniIds.length, 'ENI', 'ENIs')}`;
}

/** NACL protocols are numbers; show the name people know next to it. */
function naclProtocol(protocol: string): string {
  if (protocol === '-1') return 'all';
  const n = Number(protocol);
  const name = Number.isInteger(n) ? protocolName(n) : protocol;
  return name === protocol ? protocol : `${name} (${protocol})`;
}

function countTypes(types: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of types) counts[t] = (counts[t] ?? 0) + 1;
  return counts;
}

/**
 * SGs in the order their worst finding ranks (compareFindings: severity, then what is live), then
 * SGs without findings, each group in report order.
 */
export function sgsByPriority(report: AuditReport): ReportSecurityGroup[] {
  const rank = new Map<string, number>();
  [...report.findings].sort(compareFindings).forEach((f, i) => {
    if (!rank.has(f.sgId)) rank.set(f.sgId, i);
  });
  return report.securityGroups
    .map((sg, index) => ({ sg, index }))
    .sort(
      (a, b) =>
        (rank.get(a.sg.id) ?? Number.MAX_SAFE_INTEGER) - (rank.get(b.sg.id) ?? Number.MAX_SAFE_INTEGER) ||
        a.index - b.index,
    )
    .map((x) => x.sg);
}

function sgSections(report: AuditReport): Markup {
  const bySg = new Map<string, Finding[]>();
  for (const f of [...report.findings].sort(compareFindings)) {
    const list = bySg.get(f.sgId) ?? [];
    list.push(f);
    bySg.set(f.sgId, list);
  }
  // Indexed once: a per-SG scan of every ENI would be quadratic on 10,000-SG accounts.
  const resourcesBySg = new Map<string, ResourceRow[]>();
  for (const r of report.resources) {
    for (const sgId of r.sgIds) {
      const list = resourcesBySg.get(sgId) ?? [];
      list.push(r);
      resourcesBySg.set(sgId, list);
    }
  }
  const open = report.securityGroups.length <= OPEN_SECTIONS_UP_TO;
  return html`<div id="security-groups">
<div class="filters" id="sg-toggles" hidden><span class="muted small">Security groups:</span><button type="button" data-open="true">expand all</button><button type="button" data-open="false">collapse all</button></div>
${sgsByPriority(report).map((sg) => sgSection(report, sg, resourcesBySg.get(sg.id) ?? [], bySg.get(sg.id) ?? [], open))}
</div>`;
}

function naclSection(report: AuditReport): Markup {
  const rows = report.naclRecommendations.map(
    (n) => html`<tr>
<td class="mono nowrap">${n.naclId}</td><td class="mono small id">${n.subnetIds.join(', ')}</td><td>${n.direction}</td><td class="num">${naclRuleNumberText(n)}</td>
<td>${naclProtocol(n.protocol)}</td><td class="nowrap">${n.fromPort === undefined ? '' : n.fromPort === n.toPort ? String(n.fromPort) : `${n.fromPort}-${n.toPort}`}</td>
<td class="mono">${n.cidr}</td><td><span class="badge ${n.action === 'allow' ? 'vd-keep' : 'vd-remove'}">${n.action}</span></td><td><span class="tag">${n.purpose}</span></td><td class="reason">${n.reason}</td>
</tr>`,
  );
  return html`<section id="nacl" class="block">
<h2>Network ACL recommendations</h2>
<p class="lead">NACLs are stateless: return traffic to the clients' ephemeral ports needs its own rule.</p>
${
  rows.length > 0
    ? html`<div class="table-wrap"><table><thead><tr><th>NACL</th><th>Subnets</th><th>Direction</th><th class="num">Rule #</th><th>Protocol</th><th>Ports</th><th>CIDR</th><th>Action</th><th>Purpose</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">No NACL recommendations.</p>`
}
</section>`;
}

function sourcesSection(report: AuditReport): Markup {
  const rows = report.flowSources.map(
    (s) => html`<tr>
<td class="mono">${s.engine}</td><td class="mono small">${s.sources.join(', ')}</td>
<td class="num">${formatCount(s.files)}</td><td class="num">${formatCount(s.records)}</td>
<td class="num">${formatCount(s.nodataRecords)}</td><td class="num">${formatCount(s.skipdataRecords)}</td><td class="num">${formatCount(s.malformedRecords)}</td>
<td class="num">${formatCount(s.queries)}</td><td class="num">${formatBytes(s.bytesScanned)}</td>
<td class="small nowrap">${isoSeconds(s.oldestRecord)}<br>${isoSeconds(s.newestRecord)}</td>
</tr>`,
  );
  return html`<section id="sources" class="block">
<h2>Flow sources</h2>
<p class="lead">What was read to decide usage: ${formatCount(report.summary.flowRecords)} records, ${formatQuantity(report.summary.queries, 'query', 'queries')}, ${formatBytes(report.summary.bytesScanned)} scanned.</p>
${
  rows.length > 0
    ? html`<div class="table-wrap"><table><thead><tr><th>Engine</th><th>Sources</th><th class="num">Files</th><th class="num">Records</th><th class="num">NODATA</th><th class="num">SKIPDATA</th><th class="num">Malformed</th><th class="num">Queries</th><th class="num">Scanned</th><th>Oldest / newest record</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">No flow source was read.</p>`
}
</section>`;
}

function warningsSection(report: AuditReport): Markup {
  const warnings = distinctWarnings(report);
  const items = warnings.map((w) => {
    if (w.code === 'malformed-records') {
      const count = Math.max(report.summary.malformedRecords, w.samples?.length ?? 0);
      return html`<li><span class="badge sev-medium">malformed-records</span> ${formatCount(count)} malformed flow-log records were skipped.${
        w.samples && w.samples.length > 0
          ? html`<ul>${w.samples.map((m) => html`<li><span class="mono small">${m.file}:${m.line}</span>: ${m.reason}</li>`)}</ul>`
          : ''
      }</li>`;
    }
    return html`<li><span class="tag">${w.code}</span> ${w.message}${w.file ? html` <span class="mono small">${w.file}${w.line !== undefined ? `:${w.line}` : ''}</span>` : ''}</li>`;
  });
  return html`<section id="warnings" class="block">
<h2>Warnings (${formatCount(warnings.length)})</h2>
<p class="lead">Read these before trusting an "unused" verdict.</p>
${items.length > 0 ? html`<ul class="warnings">${items}</ul>` : html`<p class="muted">None.</p>`}
</section>`;
}

/**
 * report.html as one string.
 *
 * @example renderHtml(report).startsWith('<!doctype html>') // true
 */
export function renderHtml(report: AuditReport): string {
  const title = `Security group audit: ${report.account.id ?? 'account'} (${report.window.start.slice(0, 10)} to ${report.window.end.slice(0, 10)})`;
  const generator = `${report.tool.name} ${report.tool.version}`;
  const page = html`${pageStart({ title, generator, css: REPORT_CSS, script: REPORT_SCRIPT })}
${headerSection(report)}
${navigation(report)}
<main>
${evidenceBanner(report)}
${summarySection(report)}
${changesSection(report)}
${findingsSection(report)}
${coverageSection(report)}
${heatmapSection(report)}
${trafficSection(report)}
${sgSections(report)}
${naclSection(report)}
${rejectedSection(report)}
${egressSection(report)}
${sourcesSection(report)}
${warningsSection(report)}
</main>
<footer>${report.tool.name} ${report.tool.version} · report schema ${report.schemaVersion} · run ${report.runId} · generated ${readableTime(report.generatedAt)}</footer>
<script>${raw(REPORT_SCRIPT)}</script>
</body>
</html>
`;
  return page.text;
}
