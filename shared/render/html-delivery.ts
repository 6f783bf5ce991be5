/**
 * report.html's delivery evidence: a banner at the very top when a flow source is inconsistent,
 * silent or has gaps (the verdicts of its ENIs are 'unknown' for that reason, and a reader must
 * not miss it), and, inside the coverage section, a calendar strip per flow log — one cell per
 * bucket of the window (a UTC day by default): proven, unproven, or not expected (before the log
 * existed, or a sliver of a day at the window's edge).
 */
import type { DeliveryReport, FlowLogDelivery } from '../model/delivery';
import type { AuditReport } from '../report/model';
import { EVIDENCE_LEAD, evidenceProblems, flowLogProblem } from './evidence';
import { formatCount } from './format';
import { html, type Markup } from './html-markup';

function bucketLabel(start: number, seconds: number): string {
  const iso = new Date(start * 1000).toISOString();
  return seconds % 86400 === 0 ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00Z`;
}

function strip(delivery: DeliveryReport, log: FlowLogDelivery): Markup {
  const cells = delivery.buckets.map((bucket, i) => {
    const records = log.records[i] ?? 0;
    const state = log.proven[i] ? 'proven' : log.expected[i] ? 'missing' : 'not-expected';
    const title = `${bucketLabel(bucket.start, delivery.bucketSeconds)}: ${formatCount(records)} records${state === 'missing' ? ' — no delivery proven' : state === 'not-expected' ? ' (not required)' : ''}`;
    return html`<span class="day ${state}" title="${title}"></span>`;
  });
  return html`<span class="strip" role="img" aria-label="delivery per ${delivery.bucketSeconds % 86400 === 0 ? 'day' : 'hour'}">${cells}</span>`;
}

/**
 * The banner above the summary; nothing when every flow log delivered throughout.
 *
 * @example evidenceBanner(report).text // '<div class="evidence-banner" …'
 */
export function evidenceBanner(report: AuditReport): Markup {
  const problems = evidenceProblems(report);
  if (problems.length === 0) return html``;
  return html`<div class="evidence-banner" role="alert" id="evidence">
<strong>${EVIDENCE_LEAD}</strong>
<ul>${problems.map((p) => html`<li>${p}</li>`)}</ul>
</div>`;
}

/**
 * The per-flow-log delivery table with its calendar strips.
 *
 * @example deliveryCalendar(report).text.includes('class="strip"') // true when the report has flow logs
 */
export function deliveryCalendar(report: AuditReport): Markup {
  const delivery = report.delivery;
  if (delivery === undefined || delivery.flowLogs.length === 0) return html``;
  const first = delivery.buckets[0];
  const last = delivery.buckets[delivery.buckets.length - 1];
  const span =
    first && last
      ? `${bucketLabel(first.start, delivery.bucketSeconds)} – ${bucketLabel(last.start, delivery.bucketSeconds)}`
      : '';
  const rows = delivery.flowLogs.map(
    (log) => html`<tr data-flow-log-id="${log.flowLogId}">
<td class="mono nowrap">${log.flowLogId}</td>
<td class="mono small id">${log.resourceId}</td>
<td><span class="badge dl-${log.status}">${log.status}</span></td>
<td>${strip(delivery, log)}</td>
<td class="num">${formatCount(log.records.reduce((a, b) => a + b, 0))}</td>
<td class="reason">${flowLogProblem(delivery, log) ?? ''}</td>
</tr>`,
  );
  return html`<h3>Delivery per flow log (${span})</h3>
<p class="muted small">Each cell is one ${delivery.bucketSeconds % 86400 === 0 ? 'UTC day' : 'hour'}: <span class="day proven"></span> records read, <span class="day missing"></span> none read (delivery not proven), <span class="day not-expected"></span> not required (before the log existed, or a sliver of the window).</p>
<div class="table-wrap"><table>
<thead><tr><th>Flow log</th><th>On</th><th>Delivery</th><th>Calendar</th><th class="num">Records</th><th>Gaps</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}
