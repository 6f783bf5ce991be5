/**
 * report.html's rejected-connections section: attempts by class, the probably missing rules (with
 * the rule to review), the connections a network ACL refused (with its entry), and the blocked
 * probing as top ports and sources. What the section cannot see is said: ENIs whose flow logs do
 * not record REJECT, and refused replies no NACL explains.
 */
import type { RejectedConnection } from '../model/rejected';
import type { AuditReport } from '../report/model';
import { renderBarChart } from './charts';
import { formatCount, formatQuantity, isoSeconds } from './format';
import { html, type Markup } from './html-markup';
import { rejectedTraffic } from './traffic-words';

/** Rows listed per table; the rest are in rejected.csv. */
const TABLE_ROWS = 50;

function card(value: number, label: string, tone: string): Markup {
  return html`<div class="card ${tone}"><div class="n">${formatCount(value)}</div><div class="k">${label}</div></div>`;
}

function when(row: RejectedConnection): Markup {
  const first = isoSeconds(row.firstSeen).slice(0, 16).replace('T', ' ');
  const last = isoSeconds(row.lastSeen).slice(0, 16).replace('T', ' ');
  return html`<span class="small nowrap">${first}<br>${last}</span>`;
}

function peerCell(row: RejectedConnection): Markup {
  return html`<span class="mono">${row.peer}</span><br><span class="muted small">${row.origin}</span>`;
}

function direction(row: RejectedConnection): Markup {
  return html`<span class="tag">${row.direction === 'ingress' ? 'in' : 'out'}</span>`;
}

function more(total: number): Markup | '' {
  return total > TABLE_ROWS
    ? html`<p class="muted small">…and ${formatCount(total - TABLE_ROWS)} more in rejected.csv.</p>`
    : '';
}

function missingRuleTable(rows: readonly RejectedConnection[]): Markup {
  if (rows.length === 0) return html``;
  const body = rows.slice(0, TABLE_ROWS).map(
    (r) => html`<tr data-class="missing-rule" data-eni-id="${r.eniId}">
<td>${r.suggestion ? html`<a href="#${r.suggestion.sgId}" class="mono id">${r.suggestion.sgId}</a>` : ''}<br><span class="mono small">${r.eniId}</span></td>
<td>${direction(r)} ${rejectedTraffic(r)}</td><td>${peerCell(r)}</td><td class="num">${formatCount(r.connections)}</td><td>${when(r)}</td>
<td><code>${r.suggestion?.text ?? ''}</code> <span class="badge vd-review">review</span><br><span class="reason small">${r.suggestion?.why ?? ''}${r.nacl?.ruleNumber !== undefined ? `; ${r.nacl.text} would refuse it too` : ''}</span></td>
</tr>`,
  );
  return html`<h3>Probably missing rules</h3>
<p class="muted small">Repeated attempts from inside the network to a port served to others, or that a sibling's SG admits. The rule is a suggestion to review: blocked traffic may be unwanted traffic, so it is never part of the recommended rules.</p>
<div class="table-wrap"><table><thead><tr><th>SG / ENI</th><th>Traffic</th><th>Peer</th><th class="num">Attempts</th><th>First / last (UTC)</th><th>Suggested rule</th></tr></thead><tbody>${body}</tbody></table></div>${more(rows.length)}`;
}

function naclTable(rows: readonly RejectedConnection[]): Markup {
  if (rows.length === 0) return html``;
  const body = rows.slice(0, TABLE_ROWS).map(
    (r) => html`<tr data-class="nacl" data-eni-id="${r.eniId}">
<td class="mono small">${r.eniId}<br>${r.sgIds.join(', ')}</td>
<td>${direction(r)} ${rejectedTraffic(r)}${r.replyOnly ? html` <span class="tag">replies</span>` : ''}</td><td>${peerCell(r)}</td><td class="num">${formatCount(r.connections)}</td><td>${when(r)}</td>
<td class="reason">${r.nacl?.text ?? 'no NACL of the subnet in the inventory'}${r.admittedBy ? html`<br><span class="muted small">admitted by ${r.admittedBy.join(', ')}</span>` : ''}</td>
</tr>`,
  );
  return html`<h3>Refused by a network ACL</h3>
<p class="muted small">The ENI's SGs admit these connections, so the subnet's NACL refused them; refused replies are return traffic, which a stateless NACL needs its own entry for.</p>
<div class="table-wrap"><table><thead><tr><th>ENI / SGs</th><th>Traffic</th><th>Peer</th><th class="num">Attempts</th><th>First / last (UTC)</th><th>NACL entry</th></tr></thead><tbody>${body}</tbody></table></div>${more(rows.length)}`;
}

function probing(report: AuditReport): Markup {
  const rejected = report.rejected;
  if (rejected === undefined || rejected.byClass.probe === 0) return html``;
  const ports = rejected.topPorts.map((p) => ({
    label: rejectedTraffic(p),
    value: p.connections,
    tooltip: `${rejectedTraffic(p)}: ${formatQuantity(p.connections, 'attempt', 'attempts')} from ${formatQuantity(p.sources, 'source', 'sources')}`,
  }));
  const sources = rejected.topSources.map((s) => ({
    label: s.addr,
    value: s.connections,
    tooltip: `${s.addr} (${s.origin}): ${formatQuantity(s.connections, 'attempt', 'attempts')} on ${formatQuantity(s.ports, 'port', 'ports')} of ${formatQuantity(s.enis, 'ENI', 'ENIs')}`,
  }));
  return html`<h3>Blocked probing</h3>
<p class="muted small">${formatQuantity(rejected.byClass.probe, 'attempt', 'attempts')} the SGs refused with no sign of a missing rule (internet scans, ports nobody serves): evidence that the SGs do their job. No rule is suggested.</p>
<div class="pair">
${renderBarChart(ports, { title: 'Top probed ports by attempts', tone: 'ports', width: 560 })}
${renderBarChart(sources, { title: 'Top probing sources by attempts', tone: 'peers', width: 560 })}
</div>`;
}

/**
 * The section; nothing for a report without the rejected view.
 *
 * @example rejectedSection(report).text.includes('id="rejected"') // true
 */
export function rejectedSection(report: AuditReport): Markup {
  const rejected = report.rejected;
  // A report from before the view (schema < 1.3.0) has no section.
  if (rejected === undefined) return html``;
  const missing = rejected.rows.filter((r) => r.class === 'missing-rule');
  const nacl = rejected.rows.filter((r) => r.class === 'nacl');
  const notes = [
    ...(rejected.unrecordedEnis.length > 0
      ? [
          html`<li>${formatQuantity(rejected.unrecordedEnis.length, 'audited ENI has', 'audited ENIs have')} no flow log recording REJECT (<span class="mono small">${rejected.unrecordedEnis.slice(0, 5).join(', ')}${rejected.unrecordedEnis.length > 5 ? ', …' : ''}</span>): what their SGs refused is unknown, not absent.</li>`,
        ]
      : []),
    ...(rejected.unexplainedReplies > 0
      ? [
          html`<li>${formatQuantity(rejected.unexplainedReplies, 'refused reply record', 'refused reply records')} no NACL explains (e.g. replies after connection tracking expired) are not counted as attempts.</li>`,
        ]
      : []),
    ...(rejected.omittedRows > 0
      ? [
          html`<li>${formatQuantity(rejected.omittedRows, 'probe group', 'probe groups')} with the fewest attempts are left out of the lists; the counts include them.</li>`,
        ]
      : []),
  ];
  return html`<section id="rejected" class="block">
<h2>Rejected connections</h2>
<p class="lead">What the rules refused, folded like accepted traffic: the initiator, the service port and the peer; a SYN retried from its port is one attempt, and replies never count as attempts.</p>
<div class="cards">
${card(rejected.connections, 'refused attempts', 'plain')}
${card(rejected.byClass['missing-rule'], 'probably missing rule', 'sev-low')}
${card(rejected.byClass.nacl, 'refused by a NACL', 'sev-low')}
${card(rejected.byClass.probe, 'blocked probing', 'sev-info')}
</div>
${missing.length === 0 && nacl.length === 0 ? html`<p class="muted">No refused connection reads as a missing rule or a NACL refusal.</p>` : ''}
${missingRuleTable(missing)}
${naclTable(nacl)}
${probing(report)}
${notes.length > 0 ? html`<ul class="warnings">${notes}</ul>` : ''}
</section>`;
}
