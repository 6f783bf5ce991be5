/**
 * The style sheet and the small progressive-enhancement script of report.html. Both are inlined
 * (the report is one self-contained file); the page reads fully without the script.
 */

export const REPORT_CSS = `
:root {
  --ink: #1d2433; --muted: #5b6474; --line: #e3e7ee; --bg: #f5f7fa; --card: #ffffff;
  --navy: #13294b; --accent: #2b6cb0;
  --critical: #b42318; --high: #e04f16; --medium: #c48a05; --low: #2e6bd6; --info: #667085;
  --used: #1a7f4b; --unused: #c23b32; --unknown: #8a94a6;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; color: var(--ink); font: 14px/1.45 "Segoe UI", system-ui, -apple-system, "Helvetica Neue", "Liberation Sans", "DejaVu Sans", Arial, sans-serif; }
code, pre, .mono { font-family: "SFMono-Regular", Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 12.5px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { background: linear-gradient(120deg, #0f2342 0%, #1c3d6e 100%); color: #fff; padding: 22px 32px 18px; }
header.top .brand { font-size: 12px; letter-spacing: .12em; text-transform: uppercase; opacity: .75; }
header.top h1 { margin: 4px 0 12px; font-size: 26px; font-weight: 650; }
header.top dl { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0; font-size: 13px; }
header.top dt { opacity: .7; margin-right: 6px; display: inline; }
header.top dd { margin: 0; display: inline; font-weight: 600; }
nav.toc { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid var(--line); padding: 8px 32px; display: flex; gap: 18px; flex-wrap: wrap; font-size: 13px; }
nav.toc a { color: var(--muted); font-weight: 600; }
main { max-width: 1360px; margin: 0 auto; padding: 18px 32px 48px; }
section.block { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px 20px; margin: 0 0 18px; box-shadow: 0 1px 2px rgba(16,24,40,.04); }
section.block > h2 { margin: 0 0 4px; font-size: 18px; }
section.block > p.lead { margin: 0 0 14px; color: var(--muted); font-size: 13px; }
h3 { font-size: 15px; margin: 16px 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 10px 0 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: #fff; border-left-width: 5px; }
.card .n { font-size: 26px; font-weight: 700; line-height: 1.1; }
.card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.card.sev-critical { border-left-color: var(--critical); } .card.sev-critical .n { color: var(--critical); }
.card.sev-high { border-left-color: var(--high); } .card.sev-high .n { color: var(--high); }
.card.sev-medium { border-left-color: var(--medium); } .card.sev-medium .n { color: #9a6a00; }
.card.sev-low { border-left-color: var(--low); } .card.sev-low .n { color: var(--low); }
.card.sev-info { border-left-color: var(--info); } .card.sev-info .n { color: var(--info); }
.card.plain { border-left-color: #cbd5e1; }
.card.cov-full { border-left-color: #2f9e62; } .card.cov-partial { border-left-color: #f0b429; }
.card.cov-reject-only { border-left-color: #f08a3e; } .card.cov-none { border-left-color: #d64545; }
.charts { display: flex; flex-wrap: wrap; gap: 18px 40px; align-items: flex-start; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; border-bottom: 2px solid var(--line); padding: 6px 8px; white-space: nowrap; }
td { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
tbody tr:hover td { background: #f8fafc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
td.reason { color: var(--muted); min-width: 150px; }
td.id, span.id { white-space: nowrap; }
td.rule { min-width: 230px; }
td.finding-reason { min-width: 220px; }
td.wrap-id { word-break: break-all; }
.table-wrap { overflow-x: auto; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 11.5px; font-weight: 650; letter-spacing: .02em; color: #fff; white-space: nowrap; text-transform: lowercase; }
.badge.sev-critical { background: var(--critical); }
.badge.sev-high { background: var(--high); }
.badge.sev-medium { background: #f5b400; color: #3d2c00; }
.badge.sev-low { background: var(--low); }
.badge.sev-info { background: #98a2b3; }
.badge.sev-none { background: #e7ecf3; color: var(--muted); }
.badge.st-used, .badge.vd-keep, .badge.cov-full { background: #dcf5e6; color: #0d5c33; }
.badge.st-unused, .badge.vd-remove, .badge.cov-none { background: #fde3e1; color: #a4231a; }
.badge.st-unknown, .badge.cov-no-enis { background: #eceff3; color: #475467; }
.badge.vd-narrow, .badge.cov-partial { background: #fff1c7; color: #7a5300; }
.badge.cov-reject-only { background: #ffe4cc; color: #8a3b00; }
.badge.vd-review { background: #e6e9fb; color: #33408f; }
.badge.dl-complete { background: #dcf5e6; color: #0d5c33; }
.badge.dl-gaps { background: #fff1c7; color: #7a5300; }
.badge.dl-silent, .badge.dl-inconsistent { background: #fde3e1; color: #a4231a; }
.badge.dl-not-read { background: #eceff3; color: #475467; }
.evidence-banner { margin: 0 0 18px; padding: 12px 16px; border: 2px solid #d64545; border-radius: 8px; background: #fff5f4; color: #5c1410; }
.evidence-banner ul { margin: 6px 0 0; padding-left: 20px; }
.strip { display: inline-flex; gap: 2px; vertical-align: middle; }
.day { display: inline-block; width: 12px; height: 14px; border-radius: 2px; vertical-align: middle; }
.day.proven { background: #2f9e62; } .day.missing { background: #d64545; } .day.not-expected { background: #d7dde5; }
.badge.supp-active { background: #e8eefc; color: #2c3e8c; text-transform: none; font-weight: 600; }
.badge.supp-expired { background: #fff; color: #a4231a; border: 1px dashed #d64545; text-transform: none; font-weight: 600; }
.card.supp-active { border-left-color: #6573c3; } .card.supp-expired { border-left-color: #d64545; } .card.supp-expired .n { color: #a4231a; }
.card.chg-new { border-left-color: var(--critical); } .card.chg-new .n { color: var(--critical); }
.card.chg-worse { border-left-color: var(--high); } .card.chg-worse .n { color: var(--high); }
.card.chg-resolved { border-left-color: #2f9e62; } .card.chg-resolved .n { color: #1a7f4b; }
.tag.chg-new { background: #fde3e1; color: #a4231a; font-weight: 650; }
.tag.chg-worse { background: #ffe4cc; color: #8a3b00; font-weight: 650; }
.tag.chg-resurfaced { background: #fff; color: #a4231a; border: 1px dashed #d64545; font-weight: 650; }
.tag.chg-resolved { background: #dcf5e6; color: #0d5c33; }
section.changes { border-left: 5px solid var(--accent); }
section.changes .cards { grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); }
section.changes .card .n { font-size: 22px; }
details.more { margin: 6px 0 0; }
details.more > summary { cursor: pointer; color: var(--accent); font-size: 13px; font-weight: 600; }
.tag { display: inline-block; padding: 0 6px; border-radius: 4px; background: #eef2f7; color: #344054; font-size: 11.5px; white-space: nowrap; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.seg.used, .seg.keep, .seg.full { fill: #2f9e62; }
.seg.unused, .seg.remove, .seg.none { fill: #d64545; }
.seg.unknown, .seg.no-enis { fill: #a9b1bf; }
.seg.narrow, .seg.partial { fill: #f0b429; }
.seg.reject-only { fill: #f08a3e; }
.seg.review { fill: #6573c3; }
.seg-track { fill: #eef1f5; }
.seg-legend, .bar-label, .bar-value, .hm-legend { font-size: 12px; fill: #344054; }
.chart-title { font-size: 12.5px; font-weight: 650; fill: #1d2433; }
.bar-fill.ports { fill: #3d7dd8; }
.bar-fill.peers { fill: #7a5af8; }
.bar-value { fill: #5b6474; }
.heatmap-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; padding: 10px 4px 4px; background: #fff; }
svg.heatmap text { font-size: 12px; fill: #344054; }
svg.heatmap .hm-col { font-size: 11px; fill: #475467; }
svg.heatmap .hm-col-range, svg.heatmap .hm-col-other { fill: #7a8699; font-style: italic; }
svg.heatmap .hm-group { font-size: 11px; font-weight: 650; fill: #98a2b3; text-transform: uppercase; letter-spacing: .08em; }
svg.heatmap .hm-label { font-weight: 600; fill: #1d2433; }
svg.heatmap .hm-id { font-weight: 400; fill: #98a2b3; font-size: 11px; }
svg.heatmap .hm-dir { font-size: 11px; font-weight: 650; }
svg.heatmap .hm-dir-in { fill: #2b6cb0; } svg.heatmap .hm-dir-out { fill: #7a5af8; }
svg.heatmap .hm-stripe { fill: #f8fafc; }
svg.heatmap .hm-legend-title { font-weight: 650; }
svg.heatmap rect.cell { stroke: rgba(16,24,40,.08); }
svg.heatmap rect.cell.closed { stroke: #e4e7ec; }
svg.heatmap rect.cell:hover { stroke: #101828; stroke-width: 1.5; }
svg.heatmap rect.cell[data-risk="critical"], svg.heatmap rect.cell[data-risk="high"], svg.heatmap rect.hm-risk-swatch { stroke: #7a1c12; stroke-width: 2; }
.traffic-grid { display: grid; grid-template-columns: 1fr; gap: 12px; }
.traffic-card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.traffic-card h3 { margin: 0 0 6px; font-size: 14px; }
.traffic-card .pair { display: flex; flex-wrap: wrap; gap: 8px 48px; }
section.sg { border-left: 5px solid #cbd5e1; }
section.sg[data-worst-severity="critical"] { border-left-color: var(--critical); }
section.sg[data-worst-severity="high"] { border-left-color: var(--high); }
section.sg[data-worst-severity="medium"] { border-left-color: var(--medium); }
section.sg[data-worst-severity="low"] { border-left-color: var(--low); }
section.sg[data-worst-severity="info"] { border-left-color: var(--info); }
section.sg details > summary { cursor: pointer; list-style: none; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
section.sg details > summary::-webkit-details-marker { display: none; }
section.sg details > summary::before { content: "\\25B8"; color: var(--muted); font-size: 13px; width: 12px; }
section.sg details[open] > summary::before { content: "\\25BE"; }
section.sg h2 { margin: 0; font-size: 17px; }
section.sg .sgid { color: var(--muted); font-size: 13px; }
section.sg .sg-counts { color: var(--muted); font-size: 12.5px; margin-left: auto; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 12px 0 6px; font-size: 13px; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
ul.recs { list-style: none; padding: 0; margin: 6px 0 0; }
ul.recs li { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; padding: 3px 0; border-bottom: 1px dashed var(--line); }
ul.recs code { background: #f2f6fb; color: #0f2342; padding: 1px 6px; border-radius: 4px; }
p.quota { margin: 10px 0 0; font-size: 12.5px; color: var(--muted); }
ul.warnings { margin: 6px 0 0; padding-left: 18px; }
ul.warnings li { margin: 3px 0; }
.filters { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 0 0 10px; }
.filters button { border: 1px solid var(--line); background: #fff; border-radius: 14px; padding: 2px 10px; font: inherit; font-size: 12px; cursor: pointer; }
.filters button[aria-pressed="false"] { opacity: .45; text-decoration: line-through; }
.filters input { border: 1px solid var(--line); border-radius: 6px; padding: 3px 8px; font: inherit; font-size: 12.5px; min-width: 240px; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 8px 0 28px; }
td.col-fix { min-width: 240px; }
.fix details.cli, li details.cli { margin-top: 4px; }
details.cli > summary { cursor: pointer; color: var(--accent); font-size: 12px; font-weight: 600; }
details.cli pre { white-space: pre-wrap; word-break: break-all; background: #f2f6fb; color: #0f2342; padding: 6px 8px; border-radius: 6px; font-size: 11.5px; margin: 4px 0 0; }
span.change { display: inline-block; margin-top: 3px; }
.tag.act-add { background: #dcf5e6; color: #0d5c33; }
.tag.act-keep { background: #eef2f7; color: #344054; }
.tag.act-remove { background: #fde3e1; color: #a4231a; }
section.block { min-width: 0; max-width: 100%; }
svg.proportion, svg.bar-chart { max-width: 100%; height: auto; }
ul.warnings li, .evidence-banner, dl.meta dd, p.lead { overflow-wrap: anywhere; }
.heatmap-legend { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; margin: 0 0 8px; font-size: 12px; color: #344054; }
.heatmap-legend .sw { display: inline-block; width: 16px; height: 14px; border-radius: 2px; vertical-align: middle; margin-right: 6px; border: 1px solid #d0d5dd; }
/* A phone (420 px): each finding is a card of severity, SG, rule and fix; wide tables scroll in their box. */
@media (max-width: 700px) {
  header.top { padding: 16px; }
  header.top h1 { font-size: 20px; }
  nav.toc { padding: 8px 16px; gap: 10px; }
  main { padding: 12px 8px 32px; }
  section.block { padding: 12px 12px 14px; }
  table.findings thead { display: none; }
  table.findings, table.findings tbody, table.findings tr, table.findings td { display: block; width: 100%; }
  table.findings tr[hidden] { display: none; }
  table.findings tr { border-bottom: 2px solid var(--line); padding: 6px 0; }
  table.findings td { border: 0; padding: 3px 4px; min-width: 0; white-space: normal; }
  table.findings td::before { content: attr(data-label); display: block; font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
  table.findings td.col-severity::before, table.findings td.col-sg::before { content: none; }
  table.findings td.col-check, table.findings td.col-resources, table.findings td.col-evidence { display: none; }
  td.rule, td.finding-reason, td.col-fix { min-width: 0; }
  .filters input { min-width: 0; width: 100%; }
}
@media print {
  nav.toc, .filters { display: none !important; }
  body, html { background: #fff; }
  section.block { break-inside: avoid-page; box-shadow: none; }
}
`;

/** Filtering of the findings table and expand/collapse of SG sections; hidden controls appear only when it runs. */
export const REPORT_SCRIPT = `(function () {
  'use strict';
  var filters = document.getElementById('finding-filters');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#findings tbody tr[data-severity]'));
  if (filters) {
    filters.hidden = false;
    var hiddenSeverities = {};
    var search = filters.querySelector('input');
    var apply = function () {
      var q = search && search.value ? search.value.toLowerCase() : '';
      rows.forEach(function (row) {
        var show = !hiddenSeverities[row.getAttribute('data-severity')] && (!q || row.textContent.toLowerCase().indexOf(q) >= 0);
        row.hidden = !show;
      });
    };
    Array.prototype.forEach.call(filters.querySelectorAll('button[data-severity]'), function (button) {
      button.addEventListener('click', function () {
        var severity = button.getAttribute('data-severity');
        hiddenSeverities[severity] = !hiddenSeverities[severity];
        button.setAttribute('aria-pressed', hiddenSeverities[severity] ? 'false' : 'true');
        apply();
      });
    });
    if (search) search.addEventListener('input', apply);
  }
  var toggles = document.getElementById('sg-toggles');
  if (toggles) {
    toggles.hidden = false;
    Array.prototype.forEach.call(toggles.querySelectorAll('button[data-open]'), function (button) {
      button.addEventListener('click', function () {
        var open = button.getAttribute('data-open') === 'true';
        Array.prototype.forEach.call(document.querySelectorAll('section.sg details'), function (d) { d.open = open; });
      });
    });
  }
})();`;
