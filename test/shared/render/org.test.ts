import { parse } from 'csv-parse/sync';
import {
  renderOrgConsoleSummary,
  renderOrgMarkdown,
  renderOrgReport,
  TARGETS_COLUMNS,
} from '../../../shared/render/org';
import { renderOrgHtml } from '../../../shared/render/org-html';
import { DEV, orgRun, PROD } from '../org/org-fixtures';

function csvRecords(body: string | Uint8Array): Record<string, string>[] {
  return parse(String(body), { columns: true }) as Record<string, string>[];
}

describe('renderOrgReport', () => {
  it('writes org-report.json, targets.csv, findings.csv, report.html and summary.md', () => {
    // Prepare
    const { report, tables } = orgRun();

    // Act
    const files = renderOrgReport(report, tables, { reportRoot: '../' });

    // Assess
    expect(files.map((f) => f.name)).toEqual([
      'org-report.json',
      'targets.csv',
      'findings.csv',
      'report.html',
      'summary.md',
    ]);
    expect(JSON.parse(String(files[0]?.body))).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('lists every target in targets.csv, a gap with its kind, step and error', () => {
    // Prepare
    const { report, tables } = orgRun();

    // Act
    const targets = renderOrgReport(report, tables, { reportRoot: '../' }).find(
      (f) => f.name === 'targets.csv',
    );

    // Assess
    const rows = csvRecords(targets?.body ?? '');
    expect(Object.keys(rows[0] ?? {})).toEqual([...TARGETS_COLUMNS]);
    expect(rows.map((r) => `${r.account_id}/${r.region}:${r.status}`)).toEqual([
      `${PROD}/eu-west-1:audited`,
      `${PROD}/us-east-1:audited`,
      `${DEV}/eu-west-1:audited`,
      `${DEV}/us-east-1:gap`,
    ]);
    expect(rows[3]).toMatchObject({
      account_name: 'dev',
      gap_kind: 'role-unavailable',
      gap_step: 'Discover',
      critical: '',
    });
    expect(rows[3]?.error).toMatch(/^AccessDenied: .*sts:AssumeRole/);
    expect(rows[0]).toMatchObject({ report: `${PROD}/eu-west-1/report.html`, gap_kind: '' });
    expect(Number(rows[0]?.critical)).toBeGreaterThan(0);
  });

  it('writes findings.csv with account_id and region first', () => {
    const { report, tables } = orgRun();
    const findings = renderOrgReport(report, tables, { reportRoot: '../' }).find(
      (f) => f.name === 'findings.csv',
    );
    const rows = csvRecords(findings?.body ?? '');
    expect(Object.keys(rows[0] ?? {}).slice(0, 3)).toEqual(['account_id', 'region', 'sg_id']);
    expect(new Set(rows.map((r) => `${r.account_id}/${r.region}`))).toEqual(
      new Set([`${PROD}/eu-west-1`, `${PROD}/us-east-1`, `${DEV}/eu-west-1`]),
    );
  });
});

describe('renderOrgHtml', () => {
  it('shows the accounts × regions matrix with links under the reports root, and the gaps', () => {
    // Act
    const page = renderOrgHtml(orgRun().report, { reportRoot: '../../../../../' });

    // Assess
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('Accounts × regions');
    expect(page).toContain(`href="../../../../../${PROD}/eu-west-1/report.html"`);
    expect(page).toContain('gap: role-unavailable');
    expect(page).toContain('script-src &#39;none&#39;');
    expect(page).not.toMatch(/<script/);
    expect(page).not.toMatch(/https?:\/\//);
  });

  it('escapes what the targets carry (SG names, error messages)', () => {
    const { report } = orgRun();
    const hostile = {
      ...report,
      targets: report.targets.map((t) =>
        t.status === 'gap'
          ? { ...t, gap: { ...t.gap, error: { name: 'E', message: '<img src=x onerror=alert(1)>' } } }
          : t,
      ),
    };
    const page = renderOrgHtml(hostile, { reportRoot: '../' });
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('renderOrgMarkdown and renderOrgConsoleSummary', () => {
  it('list every target and the totals', () => {
    const { report } = orgRun();
    const md = renderOrgMarkdown(report);
    expect(md).toContain('4 targets (2 accounts × 2 regions): 3 audited, 1 gap');
    expect(md).toContain(`| ${DEV}/us-east-1 | gap (role-unavailable): AccessDenied |`);
    const consoleText = renderOrgConsoleSummary(report);
    expect(consoleText.split('\n')[0]).toBe('Organization: 4 targets, 3 audited, 1 gap');
    expect(consoleText).toContain(`${DEV}/us-east-1`);
  });
});
