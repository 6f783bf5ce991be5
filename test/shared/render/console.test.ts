import { renderConsoleSummary } from '../../../shared/render/console';
import type { AuditReport } from '../../../shared/report/model';
import { changedReport, firstRunReport, manyNewFindingsReport } from '../../fixtures/changes-fixture';
import { SG_BATCH, sampleReport, withSgName } from '../../fixtures/report-fixture';

describe('renderConsoleSummary', () => {
  it('prints counts by severity, status, verdict and coverage', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const text = renderConsoleSummary(report);

    // Assess
    const lines = text.split('\n');
    expect(lines).toContain(
      'findings    critical 2      high 1          medium 2        low 3           info 3',
    );
    expect(lines).toContain('rules       used 9          unused 3        unknown 10');
    expect(lines).toContain('verdicts    keep 6          narrow 3        remove 5        review 8');
    expect(lines).toContain('coverage    full 5          partial 1       reject-only 1   none 1');
    expect(text).toContain('window 2025-11-10 00:00 UTC -> 2025-11-17 00:00 UTC (7 days)');
  });

  it('lists the top findings worst first, with SG id and rule', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const lines = renderConsoleSummary(report, { topFindings: 3 }).split('\n');

    // Assess
    const header = lines.findIndex((l) => l.startsWith('SEVERITY'));
    // Each finding's line, then its fix and who opened its rule, indented under it.
    const rows = lines.slice(header + 1).filter((l) => /^(critical|high|medium|low|info) /.test(l));
    expect(rows.slice(0, 3).map((l) => l.split(/\s{2,}/)[0])).toEqual(['critical', 'critical', 'high']);
    expect(lines[header + 1]).toContain(SG_BATCH);
    expect(lines[header + 2]).toMatch(/^ {10}fix: Prove its use before changing it: /);
    expect(lines[header + 1]).toContain('ingress tcp 0-65535 from 0.0.0.0/0');
    expect(lines).toContain('... and 8 more findings');
  });

  it('says who opened a rule under its finding, when CloudTrail names them', () => {
    // Act
    const lines = renderConsoleSummary(sampleReport(), { topFindings: 3 }).split('\n');

    // Assess
    const ssh = lines.findIndex((l) => l.startsWith('high') && l.includes('sensitive-port-world'));
    expect(lines[ssh + 1]).toMatch(/^ {10}fix: Replace it with allow tcp port 22 from 198\.51\.100\.0\/24/);
    expect(lines[ssh + 2]).toBe(
      '          opened by assumed-role/Admin/alice via console on 2025-11-03 09:12 UTC from 203.0.113.10',
    );
  });

  it('keeps every line within the width', () => {
    // Prepare
    const report = withSgName(sampleReport(), SG_BATCH, 'x'.repeat(200));

    // Act
    const lines = renderConsoleSummary(report, { width: 100 }).trimEnd().split('\n');

    // Assess
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it('reports malformed records and where the outputs are', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const text = renderConsoleSummary(report, {
      outputLocation: 'reports/sample',
      files: ['report.html', 'rules.csv'],
    });

    // Assess
    expect(text).toContain('warning: 3 malformed flow-log records skipped');
    expect(text.trimEnd().split('\n').at(-1)).toBe('outputs in reports/sample: report.html, rules.csv');
  });

  it('strips terminal control sequences from SG names', () => {
    // Prepare
    const report = withSgName(sampleReport(), SG_BATCH, 'ev\u001b[2J\u0007il\rx');

    // Act
    const text = renderConsoleSummary(report);

    // Assess
    expect(text).not.toMatch(/\p{Cc}(?<!\n)/u);
    expect(text).toContain('ev [2J il x');
  });

  it('says so when there are no findings', () => {
    // Prepare
    const report: AuditReport = { ...sampleReport(), findings: [] };

    // Act
    const text = renderConsoleSummary(report);

    // Assess
    expect(text).toContain('\nno findings\n');
  });
});

describe('renderConsoleSummary changes', () => {
  it('prints the changes since the previous run, then the new and worse findings', () => {
    // Prepare
    const report = changedReport();

    // Act
    const lines = renderConsoleSummary(report).split('\n');

    // Assess
    const at = lines.findIndex((l) => l.startsWith('changes   '));
    expect(lines[at]).toBe(
      'changes   since 2025-11-10 00:05 UTC: 1 new, 1 worse, 1 resolved, 1 changed findings; 1 verdict change; SGs +0/-0, ENIs +0/-1',
    );
    expect(lines[at + 1]?.split(/\s{2,}/).slice(0, 5)).toEqual([
      'NEW',
      'high',
      'sg-0b22c0ffee0000002',
      'prod-app-servers',
      'sensitive-port-world',
    ]);
    expect(lines[at + 2]?.split(/\s{2,}/).slice(0, 3)).toEqual([
      'WORSE',
      'low->medium',
      'sg-0c33c0ffee0000003',
    ]);
    expect(lines.every((l) => l.length <= 240)).toBe(true);
  });

  it('lists at most topChanges new or worse findings and counts the rest', () => {
    // Prepare
    const report = manyNewFindingsReport(8);

    // Act
    const lines = renderConsoleSummary(report, { topChanges: 3 }).split('\n');

    // Assess
    expect(lines.filter((l) => l.startsWith('NEW '))).toHaveLength(3);
    expect(lines).toContain('... and 5 more new or worse findings (see changes.csv)');
  });

  it('says first run, and prints no changes block when not compared', () => {
    // Act
    const first = renderConsoleSummary(firstRunReport());
    const plain = renderConsoleSummary(sampleReport());

    // Assess
    expect(first).toContain('\nchanges   first run: no previous report to compare\n');
    expect(plain).not.toContain('changes ');
  });

  it('counts accepted risks and expired suppressions', () => {
    // Act
    const text = renderConsoleSummary(changedReport());

    // Assess
    expect(text).toContain('\nsuppressed 1 accepted risk, 1 expired suppression (counted again)\n');
  });
});
