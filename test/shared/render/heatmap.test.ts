import {
  buildPortHeatmap,
  type HeatCell,
  type PortHeatmap,
  renderPortHeatmap,
} from '../../../shared/render/heatmap';
import type { AuditReport } from '../../../shared/report/model';
import { SG_APP, SG_BATCH, SG_DB, SG_DEFAULT, SG_WEB, sampleReport } from '../../fixtures/report-fixture';

function cell(heatmap: PortHeatmap, sgId: string, direction: 'ingress' | 'egress', label: string): HeatCell {
  const row = heatmap.rows.find((r) => r.sgId === sgId && r.direction === direction);
  const index = heatmap.columns.findIndex((c) => c.label === label);
  const found = row?.cells[index];
  if (!found) throw new Error(`no cell ${sgId} ${direction} ${label}`);
  return found;
}

describe('buildPortHeatmap', () => {
  it('has a row per SG and direction with rules', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const heatmap = buildPortHeatmap(report);

    // Assess
    expect(heatmap.rows.map((r) => `${r.sgId} ${r.direction}`)).toEqual([
      `${SG_WEB} ingress`,
      `${SG_WEB} egress`,
      `${SG_APP} ingress`,
      `${SG_APP} egress`,
      `${SG_DB} ingress`,
      `${SG_BATCH} ingress`,
      `${SG_BATCH} egress`,
      `${SG_DEFAULT} ingress`,
      `${SG_DEFAULT} egress`,
    ]);
    expect(heatmap.omittedRows).toBe(0);
  });

  it('gives single-port rules their own column, then the whole port space, then ICMP/other', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const labels = buildPortHeatmap(report).columns.map((c) => c.label);

    // Assess
    expect(labels).toEqual([
      '22',
      '80',
      '161',
      '443',
      '3306',
      '5432',
      '8080',
      '8443',
      '0-1023',
      '1024-4999',
      '5000-9999',
      '10000-19999',
      '20000-29999',
      '30000-39999',
      '40000-49999',
      '50000-65535',
      'ICMP/other',
    ]);
  });

  it('marks ports with traffic used, open ports without traffic on covered ENIs unused, and the rest closed', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const heatmap = buildPortHeatmap(report);

    // Assess
    expect(cell(heatmap, SG_WEB, 'ingress', '443')).toMatchObject({ state: 'used', connections: 184_220 });
    expect(cell(heatmap, SG_WEB, 'ingress', '22').state).toBe('closed');
    expect(cell(heatmap, SG_APP, 'ingress', '8443').state).toBe('unused');
    expect(cell(heatmap, SG_APP, 'ingress', '5000-9999')).toMatchObject({
      state: 'used',
      connections: 140 + 96,
    });
    expect(cell(heatmap, SG_APP, 'ingress', '30000-39999').state).toBe('used');
    expect(cell(heatmap, SG_APP, 'ingress', '40000-49999').state).toBe('unused');
    expect(cell(heatmap, SG_APP, 'ingress', '0-1023').state).toBe('closed');
    expect(cell(heatmap, SG_APP, 'egress', 'ICMP/other').state).toBe('unused');
  });

  it('does not call ports unused where flow-log coverage has gaps', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const heatmap = buildPortHeatmap(report);

    // Assess
    expect(cell(heatmap, SG_DB, 'ingress', '3306').state).toBe('unknown');
    expect(cell(heatmap, SG_DB, 'ingress', 'ICMP/other').state).toBe('unknown');
    expect(cell(heatmap, SG_BATCH, 'ingress', '50000-65535').state).toBe('unknown');
    expect(cell(heatmap, SG_DEFAULT, 'egress', '443').state).toBe('unknown');
  });

  it('leaves ports shown on their own out of their range bucket', () => {
    // Prepare: a rule on 8080 alone; the 5000-9999 bucket must not count it.
    const report = sampleReport();

    // Act
    const heatmap = buildPortHeatmap(report);

    // Assess
    expect(cell(heatmap, SG_WEB, 'egress', '8080').state).toBe('used');
    expect(cell(heatmap, SG_WEB, 'egress', '5000-9999').state).toBe('closed');
  });

  it('keeps the worst SGs when rows must be cut', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const heatmap = buildPortHeatmap(report, { maxRows: 3 });

    // Assess
    expect(heatmap.rows.map((r) => `${r.sgId} ${r.direction}`)).toEqual([
      `${SG_APP} ingress`,
      `${SG_BATCH} ingress`,
      `${SG_BATCH} egress`,
    ]);
    expect(heatmap.omittedRows).toBe(6);
  });

  it('says why in every tooltip', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const heatmap = buildPortHeatmap(report);

    // Assess
    expect(cell(heatmap, SG_WEB, 'ingress', '443').tooltip).toBe(
      'prod-web-alb (sg-0a11c0ffee0000001) ingress, tcp/udp port 443: open and used, 184,220 connections. ' +
        'Rules: tcp 443 from 0.0.0.0/0; tcp 443 from ::/0',
    );
    expect(cell(heatmap, SG_DB, 'ingress', '3306').tooltip).toContain(
      'no proof of disuse (flow-log coverage partial)',
    );
  });
});

describe('renderPortHeatmap', () => {
  it('draws one rect per cell with its state and a title tooltip, and a legend', () => {
    // Prepare
    const heatmap = buildPortHeatmap(sampleReport());

    // Act
    const svg = renderPortHeatmap(heatmap).text;

    // Assess
    const cells = [
      ...svg.matchAll(/<rect class="cell (\w+)" data-state="(\w+)"[^>]*><title>[^<]+<\/title><\/rect>/g),
    ];
    expect(cells).toHaveLength(heatmap.rows.length * heatmap.columns.length);
    expect(new Set(cells.map((m) => m[2]))).toEqual(new Set(['used', 'unused', 'unknown', 'closed']));
    expect(svg).toMatch(/^<svg class="heatmap"/);
    expect(svg).toContain('Open, unused (full coverage)');
    expect(svg).toContain('<a href="#sg-0a11c0ffee0000001">');
  });

  it('escapes SG names in labels and tooltips', () => {
    // Prepare
    const base = sampleReport();
    const report: AuditReport = {
      ...base,
      securityGroups: base.securityGroups.map((sg) => ({ ...sg, name: '<b>x</b>' })),
    };

    // Act
    const svg = renderPortHeatmap(buildPortHeatmap(report)).text;

    // Assess
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});

describe('heatmap risk overlay', () => {
  it('marks cells with the worst finding on their rules: a used world-open SSH is red, not reassuring green', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const heatmap = buildPortHeatmap(report);
    const svg = renderPortHeatmap(heatmap).text;

    // Assess
    const ssh = cell(heatmap, SG_APP, 'ingress', '22');
    expect(ssh).toMatchObject({ state: 'used', risk: 'high' });
    expect(ssh.tooltip).toMatch(/Worst finding on these rules: high$/);
    const rect =
      svg
        .split(`data-sg-id="${SG_APP}" data-direction="ingress"`)[1]
        ?.match(/<rect class="cell used" data-state="used" data-risk="high" data-port="22"[^>]*>/)?.[0] ?? '';
    // The red ramp (RISKY_*), not the green one.
    expect(rect).toMatch(/fill="rgb\((2[0-9]{2}|1[89][0-9]),\d+,\d+\)"/);
  });

  it('hatches an unused rule loudly only when a medium or worse finding is on it', () => {
    // Prepare: the app SG's egress to ::/0 is unused and carries no finding of its own.
    const heatmap = buildPortHeatmap(sampleReport());

    // Act
    const svg = renderPortHeatmap(heatmap).text;

    // Assess
    expect(svg).toContain('fill="url(#hm-unused-quiet)"');
    expect(svg).toContain('Open, unused, low or no finding');
  });

  it('puts the legend above the grid, by the cells', () => {
    // Act
    const svg = renderPortHeatmap(buildPortHeatmap(sampleReport())).text;

    // Assess
    expect(svg.indexOf('<g class="legend">')).toBeLessThan(svg.indexOf('<g class="hm-row"'));
  });
});
