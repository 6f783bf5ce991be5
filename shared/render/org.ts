/**
 * The organization report's files: org-report.json, targets.csv (one row per account and region:
 * counts by severity, coverage, gaps, the link to the target's report), findings.csv (every
 * target's findings rows with account_id and region, from the roll-up), report.html (the
 * accounts × regions overview) and summary.md; and the console summary of an organization run.
 */
import { COVERAGE_STATUSES, SEVERITIES } from '../model/analysis';
import type { OrgReport } from '../org/model';
import { targetLabel } from '../org/model';
import { type Cell, type ReportTable, renderCsv } from './csv';
import { formatCount, formatQuantity, readableTime } from './format';
import type { RenderedFile } from './index';
import { markdownText } from './markdown';
import { type OrgHtmlOptions, renderOrgHtml } from './org-html';

/** The organization report's JSON file name (report.json is a target's). */
export const ORG_REPORT_FILE = 'org-report.json';

export const TARGETS_COLUMNS = [
  'account_id',
  'account_name',
  'region',
  'status',
  ...SEVERITIES,
  ...SEVERITIES.map((s) => `actionable_${s}`),
  'security_groups',
  'network_interfaces',
  ...COVERAGE_STATUSES.map((c) => `enis_${c.replace('-', '_')}`),
  'warnings',
  'failed_sources',
  'new_findings',
  'worse_findings',
  'resolved_findings',
  'report',
  'gap_kind',
  'gap_step',
  'error',
] as const;

/**
 * targets.csv: one row per target, audited or gap.
 *
 * @example targetsTable(org).rows[0]?.slice(0, 4) // ['111111111111', 'prod', 'eu-west-1', 'audited']
 */
export function targetsTable(report: OrgReport): ReportTable {
  const rows: Cell[][] = report.targets.map((t) => {
    const head: Cell[] = [t.accountId, t.accountName, t.region, t.status];
    if (t.status === 'gap') {
      const empty = Array.from({ length: TARGETS_COLUMNS.length - head.length - 3 }, () => undefined);
      return [...head, ...empty, t.gap.kind, t.gap.step, `${t.gap.error.name}: ${t.gap.error.message}`];
    }
    const a = t.audit;
    return [
      ...head,
      ...SEVERITIES.map((s) => a.findingsBySeverity[s] ?? 0),
      ...SEVERITIES.map((s) => a.actionableFindingsBySeverity[s] ?? 0),
      a.securityGroups,
      a.networkInterfaces,
      ...COVERAGE_STATUSES.map((c) => a.enisByCoverage[c] ?? 0),
      a.warnings,
      a.failedSources,
      a.changes?.newFindings,
      a.changes?.worseFindings,
      a.changes?.resolvedFindings,
      a.reportPath,
      undefined,
      undefined,
      undefined,
    ];
  });
  // 'targets.csv' is not one of a target's files: the table type names those.
  return {
    fileName: 'targets.csv',
    sheetName: 'Targets',
    columns: TARGETS_COLUMNS,
    rows,
  } as unknown as ReportTable;
}

/**
 * summary.md of an organization run: totals, changes, the matrix as a table, gaps.
 *
 * @example renderOrgMarkdown(org).startsWith('# Security group audit: organization') // true
 */
export function renderOrgMarkdown(report: OrgReport): string {
  const t = report.totals;
  const lines = [
    `# Security group audit: organization`,
    '',
    `Run \`${report.runId}\`, generated ${readableTime(report.generatedAt)}${report.window ? `; window ${readableTime(report.window.start)} to ${readableTime(report.window.end)}` : ''}.`,
    '',
    `${formatQuantity(t.targets, 'target', 'targets')} (${formatQuantity(t.accounts, 'account', 'accounts')} × ${formatQuantity(t.regions, 'region', 'regions')}): ${formatCount(t.audited)} audited, ${formatQuantity(t.gaps, 'gap', 'gaps')}. Actionable findings: ${SEVERITIES.map((s) => `${formatCount(t.actionableFindingsBySeverity[s] ?? 0)} ${s}`).join(', ')}.`,
  ];
  const c = report.changes;
  if (c && !c.firstRun) {
    lines.push(
      '',
      `Since run \`${c.previousRunId ?? '?'}\`: ${formatCount(c.newFindings)} new, ${formatCount(c.worseFindings)} worse, ${formatCount(c.resolvedFindings)} resolved findings; ${formatQuantity(c.newGaps.length, 'new gap', 'new gaps')}, ${formatQuantity(c.resolvedGaps.length, 'gap resolved', 'gaps resolved')}.`,
    );
  }
  lines.push(
    '',
    '| target | status | critical | high | medium | low | info | coverage (full/ENIs) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const target of report.targets) {
    if (target.status === 'gap') {
      lines.push(
        `| ${targetLabel(target)} | gap (${target.gap.kind}): ${markdownText(target.gap.error.name)} | | | | | | |`,
      );
      continue;
    }
    const a = target.audit.actionableFindingsBySeverity;
    lines.push(
      `| ${targetLabel(target)} | audited | ${SEVERITIES.map((s) => formatCount(a[s] ?? 0)).join(' | ')} | ${formatCount(target.audit.enisByCoverage.full ?? 0)}/${formatCount(target.audit.networkInterfaces)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The console summary of an organization run: one line per target, then the totals.
 *
 * @example renderOrgConsoleSummary(org).split('\n')[0] // 'Organization: 4 targets …'
 */
export function renderOrgConsoleSummary(report: OrgReport): string {
  const t = report.totals;
  const lines = [
    `Organization: ${formatQuantity(t.targets, 'target', 'targets')}, ${formatCount(t.audited)} audited, ${formatQuantity(t.gaps, 'gap', 'gaps')}`,
  ];
  for (const target of report.targets) {
    const label = targetLabel(target).padEnd(30);
    if (target.status === 'gap') {
      lines.push(`  ${label} GAP ${target.gap.kind}: ${target.gap.error.name}`);
    } else {
      const a = target.audit.actionableFindingsBySeverity;
      lines.push(`  ${label} ${SEVERITIES.map((s) => `${formatCount(a[s] ?? 0)} ${s}`).join(', ')}`);
    }
  }
  lines.push(
    `Total actionable findings: ${SEVERITIES.map((s) => `${formatCount(t.actionableFindingsBySeverity[s] ?? 0)} ${s}`).join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}

const TEXT = 'text/csv; charset=utf-8';

/**
 * The organization report's files: org-report.json, targets.csv, the roll-up's tables
 * (findings.csv), report.html, summary.md.
 *
 * @example renderOrgReport(org, tables, { reportRoot: '../' }).map((f) => f.name)
 * // ['org-report.json', 'targets.csv', 'findings.csv', 'report.html', 'summary.md']
 */
export function renderOrgReport(
  report: OrgReport,
  tables: readonly ReportTable[],
  options: OrgHtmlOptions,
): RenderedFile[] {
  return [
    {
      name: ORG_REPORT_FILE,
      contentType: 'application/json; charset=utf-8',
      body: `${JSON.stringify(report, null, 2)}\n`,
    },
    { name: 'targets.csv', contentType: TEXT, body: renderCsv(targetsTable(report)) },
    ...tables.map((table) => ({ name: table.fileName, contentType: TEXT, body: renderCsv(table) })),
    { name: 'report.html', contentType: 'text/html; charset=utf-8', body: renderOrgHtml(report, options) },
    { name: 'summary.md', contentType: 'text/markdown; charset=utf-8', body: renderOrgMarkdown(report) },
  ];
}
