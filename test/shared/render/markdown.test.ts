import { markdownText, renderMarkdown } from '../../../shared/render/markdown';
import type { AuditReport } from '../../../shared/report/model';
import { changedReport, firstRunReport, manyNewFindingsReport } from '../../fixtures/changes-fixture';
import { SG_APP, sampleReport, withSgName } from '../../fixtures/report-fixture';

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const next = markdown.indexOf('\n## ', start + 3);
  return markdown.slice(start, next < 0 ? undefined : next);
}

describe('renderMarkdown', () => {
  it('states the account, window and scope in the header', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const md = renderMarkdown(report);

    // Assess
    expect(md.startsWith('# Security group audit: account 123456789012 (ap-northeast-2)\n')).toBe(true);
    expect(md).toContain('**Window:** 2025-11-10 00:00 UTC to 2025-11-17 00:00 UTC (7 days)');
    expect(md).toContain(
      '**Scope:** VPCs `vpc-0a1b2c3d4e5f60001`, `vpc-0f9e8d7c6b5a40002`; SGs all; ports all',
    );
  });

  it('counts findings by severity, rules by status and verdict, and ENIs by coverage', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const summary = section(renderMarkdown(report), 'Summary');
    const coverage = section(renderMarkdown(report), 'Flow-log coverage');

    // Assess
    expect(summary).toContain('| critical | 2 |');
    expect(summary).toContain('| info | 3 |');
    expect(summary).toContain('**Rules:** 9 used, 3 unused, 10 unknown');
    expect(summary).toContain('**Verdicts:** 6 keep, 3 narrow, 5 remove, 8 review');
    expect(coverage).toContain('ENIs: 5 full, 1 partial, 1 reject-only, 1 none.');
    expect(coverage).toContain('| `eni-0c3d000000000c001` | partial |');
  });

  it('lists top findings worst first', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const rows = section(renderMarkdown(report), 'Top findings')
      .split('\n')
      .filter((line) => line.startsWith('| **'));

    // Assess
    expect(rows).toHaveLength(report.findings.length);
    expect(rows[0]).toMatch(
      /^\| \*\*critical\*\* \| all-ports-open \| legacy-batch-ops \(`sg-0d44c0ffee0000004`\) \| ingress tcp 0-65535 from 0\.0\.0\.0\/0 \|/,
    );
    expect(rows.at(-1)).toMatch(/^\| \*\*info\*\* \|/);
  });

  it('gives each SG its recommended rules as the seed lines in a code block', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const recommendations = section(renderMarkdown(report), 'Recommended rules');

    // Assess
    expect(recommendations).toContain('### prod-app-servers (`sg-0b22c0ffee0000002`, vpc-0a1b2c3d4e5f60001)');
    expect(recommendations).toContain(
      [
        'Inbound:',
        '',
        '```text',
        '- allow tcp port 8080 from sg-0a11c0ffee0000001',
        '- allow tcp port 22 from 198.51.100.0/24',
        '- allow tcp port 9090 from 10.20.1.15/32',
        '- allow tcp port 9100 from 10.20.1.15/32',
        '- allow tcp ports 30001-40000 from 10.20.3.0/24',
        '```',
      ].join('\n'),
    );
    expect(recommendations).toContain('Quota: ingress ipv4: 4 now, 5 recommended of 60');
  });

  it('warns about malformed records with file:line samples and SKIPDATA', () => {
    // Prepare
    const report = sampleReport();

    // Act
    const warnings = section(renderMarkdown(report), 'Warnings');

    // Assess
    expect(warnings).toContain('**3 malformed flow-log records** were skipped.');
    expect(warnings).toMatch(/_20251114T0905Z_7c1e\.log\.gz:1842`: expected 14 fields, found 9/);
    expect(warnings).toContain('**4 SKIPDATA records**');
    expect(warnings).toContain('no-flow-log: VPC vpc-0f9e8d7c6b5a40002 has no flow log');
  });

  it('states each malformed-line sample once, though the audit also carries it as a warning', () => {
    // Prepare: runAudit gives each sample a 'malformed-record' warning beside the source's samples.
    const base = sampleReport();
    const samples = base.flowSources.flatMap((s) => s.malformedSamples);
    const report: AuditReport = {
      ...base,
      warnings: samples.map((m) => ({
        code: 'malformed-record',
        message: m.reason,
        file: m.file,
        line: m.line,
      })),
    };

    // Act
    const warnings = section(renderMarkdown(report), 'Warnings');

    // Assess
    expect(samples.length).toBeGreaterThan(0);
    for (const m of samples) expect(warnings.split(`${m.file}:${m.line}`)).toHaveLength(2);
  });

  it('says None when there is nothing to warn about', () => {
    // Prepare
    const base = sampleReport();
    const report: AuditReport = {
      ...base,
      warnings: [],
      flowSources: base.flowSources.map((s) => ({
        ...s,
        skipdataRecords: 0,
        malformedRecords: 0,
        malformedSamples: [],
      })),
      summary: { ...base.summary, malformedRecords: 0 },
    };

    // Act
    const warnings = section(renderMarkdown(report), 'Warnings');

    // Assess
    expect(warnings.trim()).toBe('## Warnings\n\nNone.');
  });

  it('escapes a hostile SG name so it cannot break the table or inject HTML', () => {
    // Prepare
    const report = withSgName(
      sampleReport(),
      SG_APP,
      'evil | <img src=x onerror=alert(1)> [x](javascript:1)',
    );

    // Act
    const md = renderMarkdown(report);

    // Assess
    expect(md).not.toMatch(/(^|[^\\])<img/m);
    expect(md).not.toMatch(/(^|[^\\])\]\(javascript/m);
    expect(md).toContain('evil \\| \\<img src=x onerror=alert(1)\\> \\[x\\](javascript:1)');
  });
});

describe('markdownText', () => {
  it('escapes Markdown metacharacters and folds line breaks', () => {
    // Act
    const text = markdownText('a*b_c`d\ne|f');

    // Assess
    expect(text).toBe('a\\*b\\_c\\`d e\\|f');
  });
});

describe('renderMarkdown changes', () => {
  it('adds a Changes block after the summary: counts, then new and worse findings', () => {
    // Prepare
    const report = changedReport();

    // Act
    const markdown = renderMarkdown(report);

    // Assess
    expect(markdown.indexOf('## Summary')).toBeLessThan(markdown.indexOf('## Changes since'));
    expect(markdown.indexOf('## Changes since')).toBeLessThan(markdown.indexOf('## Flow-log coverage'));
    const changes = section(markdown, 'Changes since 2025-11-10 00:05 UTC');
    expect(changes).toContain('- **Findings:** 1 new, 1 worse, 1 resolved, 1 changed, 8 unchanged');
    expect(changes).toContain('- **Rules:** 1 verdict change');
    expect(changes).toContain('0 added, 0 removed, 1 renamed; **ENIs:** 0 added, 1 removed');
    expect(changes).toContain(
      '| new | **high** | prod-app-servers (`sg-0b22c0ffee0000002`) | ingress tcp 22 from 0.0.0.0/0 — _opened by assumed-role/Admin/alice via console on 2025-11-03 09:12 UTC from 203.0.113.10_ | SSH (22) open to 0.0.0.0/0 | Replace it with allow tcp port 22 from 198.51.100.0/24 (only 3 peers in 198.51.100.0/24 connected). |',
    );
    expect(changes).toContain('| worse | **medium** (was low) | prod-db-postgres (`sg-0c33c0ffee0000003`) |');
  });

  it('puts the fix beside each top finding and points to the commands', () => {
    // Act
    const findings = section(renderMarkdown(sampleReport()), 'Top findings');

    // Assess
    expect(findings).toContain(
      '| Severity | Check | Security group | Rule | Fix | Reason | Resources | Evidence |',
    );
    expect(findings).toContain(
      '| **low** | unused-rule | prod-app-servers (`sg-0b22c0ffee0000002`) | ingress tcp 9000-9100 from pl-0c3d4e5f6a7b8c9d0 | Remove the rule: no connection in 7 days with full flow-log coverage. |',
    );
    expect(findings).toContain(
      'The AWS CLI commands of each fix are in findings.csv (column fix) and report.html.',
    );
  });

  it('lists the top ten new or worse findings and counts the rest', () => {
    // Prepare
    const report = manyNewFindingsReport(25);

    // Act
    const changes = section(renderMarkdown(report), 'Changes since');

    // Assess
    expect(changes.match(/^\| new \|/gm)).toHaveLength(10);
    expect(changes).toContain('…and 15 more new or worse findings (see changes.csv).');
  });

  it('says first run when there was no previous report, and nothing when not compared', () => {
    // Act
    const first = renderMarkdown(firstRunReport());
    const plain = renderMarkdown(sampleReport());

    // Assess
    expect(section(first, 'Changes')).toBe('## Changes\n\nFirst run: no previous report to compare.\n');
    expect(plain).not.toContain('## Changes');
  });

  it('counts accepted risks and marks suppressed findings in the top findings', () => {
    // Prepare
    const report = changedReport();

    // Act
    const markdown = renderMarkdown(report);

    // Assess
    expect(section(markdown, 'Summary')).toContain(
      '- **Accepted risks:** 1 suppressed finding; 1 finding counts again (suppression expired)',
    );
    const top = section(markdown, 'Top findings');
    expect(top).toContain('— _accepted risk (batch-legacy, batch-team, until 2026-06-30)_');
    expect(top).toContain('— _suppression app-egress expired 2025-11-01 (platform-team)_');
  });
});
