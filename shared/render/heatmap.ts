/**
 * The port-usage heatmap ("visualise unused ports", the seed author's wish): one row per SG and
 * direction, one column per port bucket, each cell saying whether the SG's rules open those ports
 * and whether traffic used them. Built from rule ranges and the per-rule port usage by interval
 * arithmetic, never by expanding port ranges.
 */
import type { Severity } from '../model/analysis';
import type { Direction } from '../model/inventory';
import type { AuditReport, ReportRule, ReportSecurityGroup } from '../report/model';
import { describePorts, formatCount, protocolHasPortRange, severityRank } from './format';
import { html, type Markup, raw, svgNumber } from './html-markup';

/** used: traffic seen; unused: open, none seen with full coverage; unknown: open, coverage gap; closed: no rule. */
export type HeatCellState = 'used' | 'unused' | 'unknown' | 'closed';

export interface HeatColumn {
  readonly kind: 'port' | 'range' | 'other';
  readonly label: string;
  /** Inclusive port bounds (the whole range for 'other'). */
  readonly from: number;
  readonly to: number;
  readonly title: string;
}

export interface HeatCell {
  readonly state: HeatCellState;
  /** The worst finding on the rules opening the cell: a used world-open SSH is no reassuring green. */
  readonly risk?: Severity;
  readonly connections: number;
  /** Rules opening the bucket, as short text. */
  readonly rules: readonly string[];
  readonly tooltip: string;
}

export interface HeatRow {
  readonly sgId: string;
  readonly sgName: string;
  readonly direction: Direction;
  readonly worstSeverity?: Severity;
  readonly cells: readonly HeatCell[];
}

export interface PortHeatmap {
  readonly columns: readonly HeatColumn[];
  readonly rows: readonly HeatRow[];
  /** Rows left out to keep the chart readable (the SG sections list every rule). */
  readonly omittedRows: number;
  readonly maxConnections: number;
}

export interface HeatmapOptions {
  /** At most this many SG × direction rows, worst SGs first when cut (default 150). */
  readonly maxRows?: number;
  /** At most this many individual port columns, most frequent first (default 24). */
  readonly maxPortColumns?: number;
}

/** Port-space buckets after the individual ports: the whole space is always shown. */
const RANGE_BUCKETS: readonly (readonly [number, number])[] = [
  [0, 1023],
  [1024, 4999],
  [5000, 9999],
  [10000, 19999],
  [20000, 29999],
  [30000, 39999],
  [40000, 49999],
  [50000, 65535],
];
/** RuleUsage.ports holds at most this many ports; a full list may be cut. */
const PORT_LIST_LIMIT = 200;

interface RuleOpening {
  /** tcp/udp ports the rule opens, or undefined when it opens none. */
  readonly ports?: { readonly from: number; readonly to: number };
  /** Whether it opens protocols without ports (ICMP, ESP, … or all traffic). */
  readonly other: boolean;
}

function opening(rule: ReportRule): RuleOpening {
  if (rule.protocol === '-1') return { ports: { from: 0, to: 65535 }, other: true };
  if (!protocolHasPortRange(rule.protocol)) return { other: true };
  const from = rule.fromPort;
  if (from === undefined || from === -1) return { ports: { from: 0, to: 65535 }, other: false };
  return { ports: { from, to: rule.toPort ?? from }, other: false };
}

function isPortTraffic(protocol: number, port: number | null): port is number {
  return (protocol === 6 || protocol === 17) && port !== null;
}

function ruleText(rule: ReportRule): string {
  const ports = describePorts(rule.protocol, rule.fromPort, rule.toPort);
  const protocol = rule.protocol === '-1' ? 'all traffic' : rule.protocol;
  return `${protocol}${ports && rule.protocol !== '-1' ? ` ${ports}` : ''} ${rule.direction === 'ingress' ? 'from' : 'to'} ${rule.peer}`;
}

interface RowSource {
  readonly sg: ReportSecurityGroup;
  readonly direction: Direction;
  readonly rules: readonly ReportRule[];
  /** Connections per tcp/udp port (largest count on one rule: rules overlap) and on other protocols. */
  readonly portTraffic: ReadonlyMap<number, number>;
  readonly otherTraffic: number;
}

function rowSource(sg: ReportSecurityGroup, direction: Direction): RowSource | undefined {
  const rules = sg.rules.filter((r) => r.direction === direction);
  if (rules.length === 0) return undefined;
  const portTraffic = new Map<number, number>();
  const otherByProtocol = new Map<number, number>();
  for (const rule of rules) {
    for (const usage of rule.usage.ports) {
      if (isPortTraffic(usage.protocol, usage.port)) {
        portTraffic.set(usage.port, Math.max(portTraffic.get(usage.port) ?? 0, usage.connections));
      } else {
        otherByProtocol.set(
          usage.protocol,
          Math.max(otherByProtocol.get(usage.protocol) ?? 0, usage.connections),
        );
      }
    }
  }
  let otherTraffic = 0;
  for (const n of otherByProtocol.values()) otherTraffic += n;
  return { sg, direction, rules, portTraffic, otherTraffic };
}

function selectRows(report: AuditReport, maxRows: number): { rows: RowSource[]; omitted: number } {
  const all: RowSource[] = [];
  for (const sg of report.securityGroups) {
    for (const direction of ['ingress', 'egress'] as const) {
      const row = rowSource(sg, direction);
      if (row) all.push(row);
    }
  }
  if (all.length <= maxRows) return { rows: all, omitted: 0 };
  const rank = (row: RowSource) =>
    row.sg.worstSeverity === undefined ? 5 : severityRank(row.sg.worstSeverity);
  const kept = new Set(
    all
      .map((row, index) => ({ row, index }))
      .sort((a, b) => rank(a.row) - rank(b.row) || a.index - b.index)
      .slice(0, maxRows)
      .map((x) => x.row),
  );
  return { rows: all.filter((row) => kept.has(row)), omitted: all.length - kept.size };
}

/** Ports worth a column of their own: single-port rules, and well-known ports that carried traffic. */
function portColumns(rows: readonly RowSource[], maxPortColumns: number): number[] {
  const rowsPerPort = new Map<number, number>();
  for (const row of rows) {
    const seen = new Set<number>();
    for (const rule of row.rules) {
      const open = opening(rule);
      if (open.ports && open.ports.from === open.ports.to) seen.add(open.ports.from);
    }
    for (const port of row.portTraffic.keys()) if (port < 1024) seen.add(port);
    for (const port of seen) rowsPerPort.set(port, (rowsPerPort.get(port) ?? 0) + 1);
  }
  return [...rowsPerPort.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, maxPortColumns)
    .map(([port]) => port)
    .sort((a, b) => a - b);
}

function countInside(sortedPorts: readonly number[], from: number, to: number): number {
  let n = 0;
  for (const p of sortedPorts) if (p >= from && p <= to) n += 1;
  return n;
}

function columnsFor(individual: readonly number[]): HeatColumn[] {
  const columns: HeatColumn[] = individual.map((port) => ({
    kind: 'port',
    label: String(port),
    from: port,
    to: port,
    title: `tcp/udp port ${port}`,
  }));
  for (const [from, to] of RANGE_BUCKETS) {
    const shown = countInside(individual, from, to);
    columns.push({
      kind: 'range',
      label: `${from}-${to}`,
      from,
      to,
      title: `tcp/udp ports ${from}-${to}${shown > 0 ? ` (other than the ${shown} shown on their own)` : ''}`,
    });
  }
  columns.push({
    kind: 'other',
    label: 'ICMP/other',
    from: 0,
    to: 65535,
    title: 'ICMP and protocols without ports',
  });
  return columns;
}

function rulesOpening(row: RowSource, column: HeatColumn, individual: readonly number[]): ReportRule[] {
  return row.rules.filter((rule) => {
    const open = opening(rule);
    if (column.kind === 'other') return open.other;
    if (!open.ports) return false;
    const from = Math.max(open.ports.from, column.from);
    const to = Math.min(open.ports.to, column.to);
    if (from > to) return false;
    // A range bucket stands for its ports minus those with their own column.
    return column.kind === 'port' || to - from + 1 > countInside(individual, from, to);
  });
}

function trafficIn(row: RowSource, column: HeatColumn, individual: ReadonlySet<number>): number {
  if (column.kind === 'other') return row.otherTraffic;
  if (column.kind === 'port') return row.portTraffic.get(column.from) ?? 0;
  let sum = 0;
  for (const [port, connections] of row.portTraffic) {
    if (port >= column.from && port <= column.to && !individual.has(port)) sum += connections;
  }
  return sum;
}

/** The worst severity among the findings on each rule. */
function riskByRule(report: AuditReport): Map<string, Severity> {
  const risk = new Map<string, Severity>();
  for (const f of report.findings) {
    if (f.ruleId === undefined) continue;
    const current = risk.get(f.ruleId);
    if (current === undefined || severityRank(f.severity) < severityRank(current))
      risk.set(f.ruleId, f.severity);
  }
  return risk;
}

function cellFor(
  row: RowSource,
  column: HeatColumn,
  individual: readonly number[],
  individualSet: ReadonlySet<number>,
  risks: ReadonlyMap<string, Severity>,
): HeatCell {
  const cell = stateOf(row, column, individual, individualSet);
  let risk: Severity | undefined;
  for (const rule of rulesOpening(row, column, individual)) {
    const severity = risks.get(rule.id);
    if (severity !== undefined && (risk === undefined || severityRank(severity) < severityRank(risk)))
      risk = severity;
  }
  if (risk === undefined) return cell;
  if (severityRank(risk) > severityRank('medium')) return { ...cell, risk };
  return { ...cell, risk, tooltip: `${cell.tooltip}. Worst finding on these rules: ${risk}` };
}

function stateOf(
  row: RowSource,
  column: HeatColumn,
  individual: readonly number[],
  individualSet: ReadonlySet<number>,
): HeatCell {
  const openers = rulesOpening(row, column, individual);
  const connections = openers.length === 0 ? 0 : trafficIn(row, column, individualSet);
  const ruleTexts = openers.map(ruleText);
  const where = `${row.sg.name} (${row.sg.id}) ${row.direction}, ${column.title}`;
  const ruleList =
    ruleTexts.length > 3
      ? `${ruleTexts.slice(0, 3).join('; ')}; +${ruleTexts.length - 3} more`
      : ruleTexts.join('; ');
  if (openers.length === 0)
    return { state: 'closed', connections: 0, rules: [], tooltip: `${where}: closed (no rule)` };
  if (connections > 0) {
    return {
      state: 'used',
      connections,
      rules: ruleTexts,
      tooltip: `${where}: open and used, ${formatCount(connections)} connections. Rules: ${ruleList}`,
    };
  }
  const gap = openers.find((r) => r.usage.coverage !== 'full');
  const truncated = openers.some((r) => r.usage.ports.length >= PORT_LIST_LIMIT);
  if (gap === undefined && !truncated) {
    return {
      state: 'unused',
      connections: 0,
      rules: ruleTexts,
      tooltip: `${where}: open but unused (no connection in the window, full flow-log coverage). Rules: ${ruleList}`,
    };
  }
  const why = gap !== undefined ? `flow-log coverage ${gap.usage.coverage}` : 'per-rule port list truncated';
  return {
    state: 'unknown',
    connections: 0,
    rules: ruleTexts,
    tooltip: `${where}: open, no connection seen but no proof of disuse (${why}). Rules: ${ruleList}`,
  };
}

/**
 * The heatmap's data: columns (individual ports, then the whole port space in ranges, then
 * ICMP/other) and one row per SG and direction with a state per cell.
 *
 * @example buildPortHeatmap(report).rows[0]?.cells[0]?.state // 'used'
 */
export function buildPortHeatmap(report: AuditReport, options: HeatmapOptions = {}): PortHeatmap {
  const { rows: sources, omitted } = selectRows(report, options.maxRows ?? 150);
  const individual = portColumns(sources, options.maxPortColumns ?? 24);
  const individualSet = new Set(individual);
  const columns = columnsFor(individual);
  const risks = riskByRule(report);
  let maxConnections = 0;
  const rows = sources.map((source) => {
    const cells = columns.map((column) => cellFor(source, column, individual, individualSet, risks));
    for (const cell of cells) maxConnections = Math.max(maxConnections, cell.connections);
    return {
      sgId: source.sg.id,
      sgName: source.sg.name,
      direction: source.direction,
      ...(source.sg.worstSeverity !== undefined ? { worstSeverity: source.sg.worstSeverity } : {}),
      cells,
    };
  });
  return { columns, rows, omittedRows: omitted, maxConnections };
}

// Geometry of the chart, in CSS pixels.
/** Cells widen to fill this width when there are few columns, within [MIN_CELL_W, MAX_CELL_W]. */
const TARGET_W = 1240;
const MIN_CELL_W = 28;
const MAX_CELL_W = 44;
const CELL_H = 24;
const GAP = 2;
const GROUP_GAP = 10;
const LABEL_W = 270;
const HEADER_H = 78;
/** The legend sits above the grid, by the cells it explains, however many rows follow. */
const LEGEND_H = 56;

const USED_LIGHT = [198, 236, 211] as const;
const USED_DARK = [10, 98, 54] as const;

const RISKY_LIGHT = [253, 214, 190] as const;
const RISKY_DARK = [180, 35, 24] as const;

/** Fill of a used cell: light to dark on a log scale of connections; green, or red when risky. */
function usedFill(connections: number, max: number, risky = false): string {
  const [light, dark] = risky ? [RISKY_LIGHT, RISKY_DARK] : [USED_LIGHT, USED_DARK];
  const t = max <= 1 ? 1 : Math.log1p(connections) / Math.log1p(max);
  const k = 0.18 + 0.82 * Math.min(1, Math.max(0, t));
  const channel = (i: 0 | 1 | 2) => Math.round(light[i] + (dark[i] - light[i]) * k);
  return `rgb(${channel(0)},${channel(1)},${channel(2)})`;
}

/** A finding at or above medium on the cell's rules: what the colours must not play down. */
function isRisky(cell: HeatCell): boolean {
  return cell.risk !== undefined && severityRank(cell.risk) <= severityRank('medium');
}

function cellFill(cell: HeatCell, max: number): string {
  switch (cell.state) {
    case 'used':
      return usedFill(
        cell.connections,
        max,
        cell.risk !== undefined && severityRank(cell.risk) <= severityRank('high'),
      );
    case 'unused':
      // Loud only when it matters: an unused info egress allow-all is a quiet note.
      return isRisky(cell) ? 'url(#hm-unused)' : 'url(#hm-unused-quiet)';
    case 'unknown':
      return 'url(#hm-unknown)';
    default:
      return '#ffffff';
  }
}

function cellWidth(columns: readonly HeatColumn[]): number {
  const groups = new Set(columns.map((c) => c.kind)).size;
  const fit = (TARGET_W - LABEL_W - (groups - 1) * GROUP_GAP) / Math.max(1, columns.length) - GAP;
  return Math.floor(Math.min(MAX_CELL_W, Math.max(MIN_CELL_W, fit)));
}

/** Left edge of each column: cells side by side, a wider gap where the column kind changes. */
function columnPositions(columns: readonly HeatColumn[], cellW: number): number[] {
  const xs: number[] = [];
  let x = LABEL_W;
  columns.forEach((column, i) => {
    if (i > 0 && column.kind !== columns[i - 1]?.kind) x += GROUP_GAP;
    xs.push(x);
    x += cellW + GAP;
  });
  return xs;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function legend(y: number, max: number): Markup {
  const swatch = (x: number, row: number, fill: string, label: string, extra = '') =>
    html`<rect x="${x}" y="${y + row * 22}" width="16" height="14" rx="2" fill="${fill}" stroke="#d0d5dd"${extra ? raw(` ${extra}`) : ''}></rect><text x="${x + 22}" y="${y + row * 22 + 11}" class="hm-legend">${label}</text>`;
  const ramp = (risky: boolean, row: number) =>
    [0.25, 0.5, 0.75, 1].map((t, i) => {
      const connections = Math.round(Math.expm1(Math.log1p(Math.max(1, max)) * t));
      return html`<rect x="${LABEL_W + 180 + i * 18}" y="${y + row * 22}" width="18" height="14" fill="${usedFill(connections, max, risky)}"></rect>`;
    });
  return html`<g class="legend">
<text x="${LABEL_W - 12}" y="${y + 11}" text-anchor="end" class="hm-legend hm-legend-title">Legend</text>
<text x="${LABEL_W}" y="${y + 11}" class="hm-legend">Open &amp; used (log scale)</text>
${ramp(false, 0)}<text x="${LABEL_W + 260}" y="${y + 11}" class="hm-legend">1 to ${formatCount(max)} connections</text>
${swatch(LABEL_W + 440, 0, 'url(#hm-unused)', 'Open, unused (full coverage), medium or worse finding')}
${swatch(LABEL_W + 820, 0, 'url(#hm-unknown)', 'Open, no evidence (coverage gap)')}
<text x="${LABEL_W}" y="${y + 33}" class="hm-legend">Used, high or critical finding</text>
${ramp(true, 1)}
${swatch(LABEL_W + 440, 1, 'url(#hm-unused-quiet)', 'Open, unused, low or no finding')}
${swatch(LABEL_W + 820, 1, '#ffffff', 'Closed')}
${swatch(LABEL_W + 960, 1, '#ffffff', 'Critical/high finding', 'class="hm-risk-swatch"')}
</g>`;
}

/**
 * The heatmap as inline SVG (no script, no external reference): a <title> tooltip on every cell,
 * data-state attributes for tests and styling, row labels linking to the SG sections.
 *
 * @example renderPortHeatmap(buildPortHeatmap(report)) // <svg class="heatmap" …>
 */
export function renderPortHeatmap(heatmap: PortHeatmap): Markup {
  const { columns, rows, maxConnections } = heatmap;
  const cellW = cellWidth(columns);
  const xs = columnPositions(columns, cellW);
  const xOf = (index: number) => xs[index] ?? LABEL_W;
  const gridRight = xOf(columns.length - 1) + cellW;
  const width = Math.max(gridRight + 16, LABEL_W + 1000);
  const top = LEGEND_H + HEADER_H;
  const gridBottom = top + rows.length * (CELL_H + GAP);
  const height = gridBottom + 10;
  const headers = columns.map((column, i) => {
    const x = xOf(i) + cellW / 2;
    return html`<text class="hm-col hm-col-${column.kind}" transform="translate(${svgNumber(x + 4)},${top - 8}) rotate(-55)"><title>${column.title}</title>${column.label}</text>`;
  });
  const groupLabels = html`<text x="${xOf(0)}" y="${LEGEND_H + 12}" class="hm-group">Ports</text>${(() => {
    const firstRange = columns.findIndex((c) => c.kind === 'range');
    return firstRange >= 0
      ? html`<text x="${xOf(firstRange)}" y="${LEGEND_H + 12}" class="hm-group">Port space</text>`
      : '';
  })()}`;
  const body = rows.map((row, r) => {
    const y = top + r * (CELL_H + GAP);
    const cells = row.cells.map(
      (cell, c) =>
        html`<rect class="cell ${cell.state}" data-state="${cell.state}"${cell.risk ? html` data-risk="${cell.risk}"` : ''} data-port="${columns[c]?.label}" x="${xOf(c)}" y="${y}" width="${cellW}" height="${CELL_H}" rx="2" fill="${cellFill(cell, maxConnections)}"><title>${cell.tooltip}</title></rect>`,
    );
    const dir = row.direction === 'ingress' ? 'in' : 'out';
    const stripe =
      r % 2 === 0
        ? html`<rect x="0" y="${y - 1}" width="${gridRight}" height="${CELL_H + 2}" class="hm-stripe"></rect>`
        : '';
    return html`<g class="hm-row" data-sg-id="${row.sgId}" data-direction="${row.direction}">${stripe}<a href="#${row.sgId}"><text x="8" y="${y + 16}" class="hm-label">${truncate(row.sgName, 30)}<tspan class="hm-id"> ${row.sgId.slice(-6)}</tspan></text></a><text x="${LABEL_W - 10}" y="${y + 16}" text-anchor="end" class="hm-dir hm-dir-${dir}">${dir}</text>${cells}</g>`;
  });
  return html`<svg class="heatmap" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Port usage heatmap: rows are security groups and directions, columns are ports and port ranges">
<defs>
<pattern id="hm-unused" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fde4e2"></rect><rect width="2.4" height="6" fill="#d64545"></rect></pattern>
<pattern id="hm-unused-quiet" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6f1f1"></rect><rect width="1.2" height="6" fill="#d9b8b5"></rect></pattern>
<pattern id="hm-unknown" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#eef0f4"></rect><circle cx="3" cy="3" r="1.1" fill="#8a94a6"></circle></pattern>
</defs>
${legend(6, Math.max(1, maxConnections))}
${groupLabels}${headers}${body}
</svg>`;
}
