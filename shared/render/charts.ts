/**
 * Small charts drawn on the server as inline SVG, so the report needs neither script nor network:
 * horizontal bar charts (top ports, top peers) and proportion bars (rule status, coverage).
 */

import { protocolName } from '../net/protocol';
import type { ReportSecurityGroup } from '../report/model';
import { formatBytes, formatCount } from './format';
import { html, type Markup, svgNumber } from './html-markup';

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Text shown at the end of the bar (defaults to the value with separators). */
  readonly valueText?: string;
  readonly tooltip?: string;
}

export interface BarChartOptions {
  readonly title: string;
  readonly width?: number;
  /** CSS class of the bars (colour). */
  readonly tone?: 'ports' | 'peers';
}

const BAR_H = 18;
const BAR_GAP = 6;
const LABEL_W = 230;
const VALUE_W = 78;

/**
 * A horizontal bar chart, largest first as given, linear scale.
 *
 * @example renderBarChart([{ label: 'tcp 443', value: 120 }], { title: 'Top ports' })
 */
export function renderBarChart(bars: readonly Bar[], options: BarChartOptions): Markup {
  const width = options.width ?? 440;
  const top = 26;
  const height = top + Math.max(1, bars.length) * (BAR_H + BAR_GAP) + 4;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const span = width - LABEL_W - VALUE_W;
  const rows = bars.map((bar, i) => {
    const y = top + i * (BAR_H + BAR_GAP);
    const w = Math.max(2, (bar.value / max) * span);
    return html`<g class="bar"><title>${bar.tooltip ?? `${bar.label}: ${formatCount(bar.value)}`}</title><text x="${LABEL_W - 8}" y="${y + 13}" text-anchor="end" class="bar-label">${bar.label.length > 30 ? `${bar.label.slice(0, 29)}…` : bar.label}</text><rect x="${LABEL_W}" y="${y}" width="${svgNumber(w)}" height="${BAR_H}" rx="3" class="bar-fill ${options.tone ?? 'ports'}"></rect><text x="${svgNumber(LABEL_W + w + 6)}" y="${y + 13}" class="bar-value">${bar.valueText ?? formatCount(bar.value)}</text></g>`;
  });
  const empty =
    bars.length === 0
      ? html`<text x="${LABEL_W}" y="${top + 13}" class="bar-value">no traffic observed</text>`
      : '';
  return html`<svg class="bar-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${options.title}"><text x="0" y="14" class="chart-title">${options.title}</text>${rows}${empty}</svg>`;
}

export interface Segment {
  readonly label: string;
  readonly value: number;
  /** CSS class giving the segment its colour. */
  readonly tone: string;
}

/**
 * A 100% proportion bar with a legend underneath; segments of 0 are left out of the bar.
 *
 * @example renderProportionBar([{ label: 'used', value: 3, tone: 'used' }], 'Rules by status')
 */
export function renderProportionBar(segments: readonly Segment[], title: string, width = 520): Markup {
  const total = segments.reduce((n, s) => n + s.value, 0);
  const barY = 22;
  let x = 0;
  const parts = segments
    .filter((s) => s.value > 0)
    .map((s) => {
      const w = total === 0 ? 0 : (s.value / total) * width;
      const part = html`<rect x="${svgNumber(x)}" y="${barY}" width="${svgNumber(w)}" height="16" class="seg ${s.tone}"><title>${s.label}: ${formatCount(s.value)} of ${formatCount(total)}</title></rect>`;
      x += w;
      return part;
    });
  let lx = 0;
  const legend = segments.map((s) => {
    const text = `${s.label} ${formatCount(s.value)}`;
    const item = html`<rect x="${svgNumber(lx)}" y="48" width="10" height="10" rx="2" class="seg ${s.tone}"></rect><text x="${svgNumber(lx + 14)}" y="57" class="seg-legend">${text}</text>`;
    lx += 26 + text.length * 6.6;
    return item;
  });
  const background = html`<rect x="0" y="${barY}" width="${width}" height="16" rx="3" class="seg-track"></rect>`;
  return html`<svg class="proportion" width="${width}" height="64" viewBox="0 0 ${width} 64" role="img" aria-label="${title}"><text x="0" y="14" class="chart-title">${title}</text>${background}${parts}${legend}</svg>`;
}

/** Top ports and top peers of one SG, folded over its rules (largest count on one rule, since rules overlap). */
export interface SgTraffic {
  readonly connections: number;
  readonly ports: readonly Bar[];
  readonly peers: readonly Bar[];
}

/**
 * The traffic an SG's rules saw: top ports by connections and top peers by bytes.
 *
 * @example sgTraffic(sg, 8).ports[0]?.label // 'in tcp 443'
 */
export function sgTraffic(sg: ReportSecurityGroup, top: number): SgTraffic {
  const ports = new Map<string, { label: string; connections: number; bytes: number }>();
  const peers = new Map<string, { connections: number; bytes: number }>();
  let connections = 0;
  for (const rule of sg.rules) {
    connections += rule.usage.connections;
    const dir = rule.direction === 'ingress' ? 'in' : 'out';
    for (const p of rule.usage.ports) {
      const label = `${dir} ${protocolName(p.protocol)}${p.port === null ? '' : ` ${p.port}`}`;
      const seen = ports.get(label);
      if (!seen || seen.connections < p.connections)
        ports.set(label, { label, connections: p.connections, bytes: p.bytes });
    }
    for (const peer of rule.usage.topPeers) {
      const seen = peers.get(peer.addr);
      if (!seen || seen.bytes < peer.bytes)
        peers.set(peer.addr, { connections: peer.connections, bytes: peer.bytes });
    }
  }
  return {
    connections,
    ports: [...ports.values()]
      .sort((a, b) => b.connections - a.connections || a.label.localeCompare(b.label))
      .slice(0, top)
      .map((p) => ({
        label: p.label,
        value: p.connections,
        tooltip: `${p.label}: ${formatCount(p.connections)} connections, ${formatBytes(p.bytes)}`,
      })),
    peers: [...peers.entries()]
      .sort((a, b) => b[1].bytes - a[1].bytes || a[0].localeCompare(b[0]))
      .slice(0, top)
      .map(([addr, p]) => ({
        label: addr,
        value: p.bytes,
        valueText: formatBytes(p.bytes),
        tooltip: `${addr}: ${formatBytes(p.bytes)} in ${formatCount(p.connections)} connections`,
      })),
  };
}
