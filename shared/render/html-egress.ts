/**
 * report.html's egress section: where accepted outbound traffic went outside the account's VPCs,
 * per SG, by AWS service or network, held against the allow-list — unexpected destinations first,
 * then the busiest — with the busiest destinations as a chart.
 */
import type { EgressDestination, EgressReport } from '../model/egress';
import type { AuditReport } from '../report/model';
import { renderBarChart } from './charts';
import { formatBytes, formatCount, formatQuantity } from './format';
import { html, type Markup } from './html-markup';
import { sgLabel } from './traffic-words';

/** Destination rows listed; the rest are in egress.csv. */
const TABLE_ROWS = 60;
const CHART_BARS = 10;

const EXPECTED_BADGE: Readonly<Record<EgressDestination['expected'], string>> = {
  yes: 'vd-keep',
  no: 'vd-remove',
  unreviewed: 'st-unknown',
};

function card(value: string, label: string, tone: string): Markup {
  return html`<div class="card ${tone}"><div class="n">${value}</div><div class="k">${label}</div></div>`;
}

function allowListNote(egress: EgressReport): Markup {
  const list = egress.allowList;
  if (list === undefined) {
    return html`<p class="muted small">No egress allow-list was given (<span class="mono">--egress-allowlist</span>): no destination was reviewed, so none is called unexpected.</p>`;
  }
  return html`<p class="muted small">Allow-list <span class="mono">${list.file}</span>: ${formatQuantity(list.entries, 'entry', 'entries')}${list.expired.length > 0 ? html`; <strong>expired</strong>: <span class="mono">${list.expired.join(', ')}</span> (their destinations count as unexpected again)` : ''}${list.unused.length > 0 ? `; matched nothing: ${list.unused.join(', ')}` : ''}.</p>`;
}

function row(d: EgressDestination, names: ReadonlyMap<string, string>): Markup {
  const port = d.port === null ? d.protocol : `${d.protocol}/${d.port}`;
  return html`<tr data-expected="${d.expected}" data-sg-id="${d.sgId}">
<td><a href="#${d.sgId}">${sgLabel(d.sgId, names)}</a></td>
<td><span class="mono">${d.destination}</span>${d.kind === 'aws-service' ? html` <span class="tag">AWS ${d.service ?? ''}</span>` : ''}${d.public ? '' : html` <span class="tag">private</span>`}</td>
<td class="nowrap">${port}${d.adminPort ? html` <span class="tag">admin port</span>` : ''}</td>
<td class="num">${formatCount(d.connections)}</td><td class="num">${formatBytes(d.bytes)}</td>
<td class="mono small">${d.topAddresses.slice(0, 3).join(', ')}${d.addresses > 3 ? ` (+${formatCount(d.addresses - 3)})` : ''}</td>
<td><span class="badge ${EXPECTED_BADGE[d.expected]}">${d.expected === 'no' ? 'unexpected' : d.expected === 'yes' ? 'expected' : 'unreviewed'}</span>${d.allowListId ? html`<br><span class="muted small mono">${d.allowListId}</span>` : ''}</td>
</tr>`;
}

/**
 * The section; nothing for a report without the egress view.
 *
 * @example egressSection(report).text.includes('id="egress"') // true
 */
export function egressSection(report: AuditReport): Markup {
  const egress = report.egress;
  // A report from before the view (schema < 1.3.0) has no section.
  if (egress === undefined) return html``;
  const names = new Map(report.securityGroups.map((sg) => [sg.id, sg.name]));
  const busiest = [...egress.destinations].sort((a, b) => b.bytes - a.bytes).slice(0, CHART_BARS);
  const bars = busiest.map((d) => ({
    label: `${d.destination} ${d.port ?? ''}`.trim(),
    value: d.bytes,
    valueText: formatBytes(d.bytes),
    tooltip: `${sgLabel(d.sgId, names)} → ${d.destination} ${d.protocol}/${d.port ?? ''}: ${formatQuantity(d.connections, 'connection', 'connections')}, ${formatBytes(d.bytes)}`,
  }));
  const rows = egress.destinations.slice(0, TABLE_ROWS).map((d) => row(d, names));
  const total = egress.destinations.length + egress.omittedRows;
  return html`<section id="egress" class="block">
<h2>Egress destinations</h2>
<p class="lead">Accepted outbound connections to destinations outside the account's VPCs, per SG, grouped by AWS service (AWS-managed prefix lists) or by network. Flow logs carry addresses, not DNS names; behind a NAT gateway or a proxy the real destination is the NAT's or the proxy's to see.</p>
${allowListNote(egress)}
<div class="cards">
${card(formatCount(egress.connections), 'external connections', 'plain')}
${card(formatBytes(egress.bytes), 'bytes (both ways)', 'plain')}
${card(formatCount(total), 'destination groups', 'plain')}
${card(egress.allowList ? formatCount(egress.unexpected) : '–', 'unexpected', egress.unexpected > 0 ? 'sev-medium' : 'plain')}
</div>
${bars.length > 0 ? renderBarChart(bars, { title: 'Busiest destinations by bytes', tone: 'peers', width: 640 }) : ''}
${
  rows.length > 0
    ? html`<div class="table-wrap"><table><thead><tr><th>Security group</th><th>Destination</th><th>Traffic</th><th class="num">Connections</th><th class="num">Bytes</th><th>Addresses</th><th>Allow-list</th></tr></thead><tbody>${rows}</tbody></table></div>${egress.destinations.length > TABLE_ROWS ? html`<p class="muted small">…and ${formatCount(egress.destinations.length - TABLE_ROWS)} more in egress.csv.</p>` : ''}`
    : html`<p class="muted">No accepted connection left the account's VPCs.</p>`
}
${egress.incompleteEnis.length > 0 ? html`<p class="muted small">${formatQuantity(egress.incompleteEnis.length, 'audited ENI lacks', 'audited ENIs lack')} full ACCEPT coverage: their destinations are a lower bound.</p>` : ''}
</section>`;
}
