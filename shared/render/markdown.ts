/**
 * summary.md: the report in a page of Markdown for pull requests, tickets and chat: window and
 * scope, counts, coverage, top findings, the recommended rules per SG (the seed's lines) and the
 * warnings a reader must know before trusting the verdicts.
 */

import type { Finding } from '../model/analysis';
import { SEVERITIES } from '../model/analysis';
import type { AuditReport, ReportSecurityGroup } from '../report/model';
import { changeOverview, leadingFindings, previousRunLabel, suppressionCounts } from './changes';
import { EVIDENCE_LEAD, evidenceProblems } from './evidence';
import {
  compareFindings,
  describePorts,
  findingRuleText,
  formatBytes,
  formatCount,
  formatQuantity,
  naclRuleNumberText,
  readableTime,
  resourceCounts,
} from './format';
import { markdownText, table } from './markdown-text';
import { egressLines, rejectedLines } from './markdown-traffic';
import { distinctWarnings } from './warnings';

export { markdownText } from './markdown-text';

/** Findings listed in the top-findings table; the rest are in findings.csv. */
const TOP_FINDINGS = 20;
/** Coverage gaps listed by ENI; the rest are in resources.csv. */
const COVERAGE_GAPS = 20;
/** New and worse findings listed in the changes block; the rest are in changes.csv. */
const TOP_CHANGES = 10;

/** A fenced code block whose fence is longer than any backtick run in the content. */
function codeBlock(lines: readonly string[]): string {
  const body = lines.map((line) => line.replace(/[\r\n]+/g, ' ')).join('\n');
  const longestRun = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}text\n${body}\n${fence}`;
}

function headerLines(report: AuditReport): string[] {
  const account = report.account.id ?? 'unknown account';
  const region = report.account.region ? ` (${report.account.region})` : '';
  const scopeList = (values: readonly string[], all: string) =>
    values.length === 0 ? all : values.map((v) => `\`${v.replace(/`/g, '')}\``).join(', ');
  return [
    `# Security group audit: account ${markdownText(account)}${markdownText(region)}`,
    '',
    `- **Window:** ${readableTime(report.window.start)} to ${readableTime(report.window.end)} (${report.window.days} days)`,
    `- **Scope:** VPCs ${scopeList(report.scope.vpcIds, 'all')}; SGs ${scopeList(report.scope.sgIds, 'all')}; ports ${scopeList(report.scope.ports, 'all')}`,
    `- **Generated:** ${readableTime(report.generatedAt)} by ${markdownText(report.tool.name)} ${markdownText(report.tool.version)} (${report.mode}, run \`${report.runId.replace(/`/g, '')}\`)`,
  ];
}

/** A finding's rule, with who opened it when CloudTrail names them. */
function ruleCell(f: Finding): string {
  const rule = markdownText(findingRuleText(f) || 'SG-level');
  const change = f.change;
  if (change === undefined || change.kind === 'before-history' || change.kind === 'unknown') return rule;
  return `${rule} — _${markdownText(change.text)}_`;
}

/** A finding's reason with its suppression, if any: accepted risks and expired ones say so. */
function reasonCell(f: Finding): string {
  const s = f.suppression;
  if (s === undefined) return markdownText(f.reason);
  const note =
    s.status === 'active'
      ? `accepted risk (${s.id}, ${s.owner}, until ${s.expires})`
      : `suppression ${s.id} expired ${s.expires} (${s.owner})`;
  return `${markdownText(f.reason)} — _${markdownText(note)}_`;
}

function suppressionLine(report: AuditReport): string[] {
  const { active, expired } = suppressionCounts(report.findings);
  if (active + expired === 0) return [];
  const lapsed =
    expired > 0
      ? `; ${formatQuantity(expired, 'finding counts', 'findings count')} again (suppression expired)`
      : '';
  return [
    `- **Accepted risks:** ${formatQuantity(active, 'suppressed finding', 'suppressed findings')}${lapsed}`,
  ];
}

/**
 * The changes block: counts, then the new and worse findings (top TOP_CHANGES); nothing when the
 * report was not compared with a previous one.
 */
function changesLines(report: AuditReport): string[] {
  const overview = changeOverview(report);
  if (overview === undefined) return [];
  if (overview.firstRun) return ['## Changes', '', 'First run: no previous report to compare.'];
  const c = overview.counts;
  const lines = [
    `## Changes since ${previousRunLabel(overview, readableTime)}`,
    '',
    `- **Findings:** ${formatCount(c.new)} new, ${formatCount(c.worse)} worse, ${c.resurfaced > 0 ? `${formatCount(c.resurfaced)} no longer accepted, ` : ''}${formatCount(c.resolved)} resolved, ${formatCount(c.changed)} changed, ${formatCount(c.unchanged)} unchanged`,
    `- **Rules:** ${formatQuantity(c.verdictChanges, 'verdict change', 'verdict changes')}`,
    `- **Security groups:** ${formatCount(c.newSecurityGroups)} added, ${formatCount(c.removedSecurityGroups)} removed, ${formatCount(c.renamedSecurityGroups)} renamed; **ENIs:** ${formatCount(c.newEnis)} added, ${formatCount(c.removedEnis)} removed`,
  ];
  const listed = leadingFindings(overview).map((lead) => ({
    change: lead.change,
    finding: lead.finding,
    severity: `**${lead.finding.severity}**${lead.previousSeverity ? ` (was ${lead.previousSeverity})` : ''}`,
  }));
  if (listed.length === 0) return [...lines, '', 'No new or worse findings.'];
  lines.push(
    '',
    ...table(
      ['Change', 'Severity', 'Security group', 'Rule', 'Reason', 'Fix'],
      listed
        .slice(0, TOP_CHANGES)
        .map(({ change, finding: f, severity }) => [
          change,
          severity,
          `${markdownText(f.sgName)} (\`${f.sgId}\`)`,
          ruleCell(f),
          reasonCell(f),
          markdownText(f.fix?.text ?? ''),
        ]),
    ),
  );
  if (listed.length > TOP_CHANGES)
    lines.push('', `…and ${listed.length - TOP_CHANGES} more new or worse findings (see changes.csv).`);
  return lines;
}

function summaryLines(report: AuditReport): string[] {
  const s = report.summary;
  return [
    '## Summary',
    '',
    ...table(
      ['Severity', 'Findings'],
      SEVERITIES.map((severity) => [severity, formatCount(s.findingsBySeverity[severity])]),
    ),
    '',
    `- **Security groups:** ${formatCount(s.securityGroups)} with ${formatCount(s.ruleEntries)} rule entries on ${formatCount(s.networkInterfaces)} ENIs`,
    `- **Rules:** ${formatCount(s.rulesByStatus.used)} used, ${formatCount(s.rulesByStatus.unused)} unused, ${formatCount(s.rulesByStatus.unknown)} unknown`,
    `- **Verdicts:** ${formatCount(s.rulesByVerdict.keep)} keep, ${formatCount(s.rulesByVerdict.narrow)} narrow, ${formatCount(s.rulesByVerdict.remove)} remove, ${formatCount(s.rulesByVerdict.review)} review`,
    `- **Traffic:** ${formatCount(s.connections)} connections from ${formatCount(s.flowRecords)} flow-log records (${formatQuantity(s.queries, 'query', 'queries')}, ${formatBytes(s.bytesScanned)} scanned)`,
    ...suppressionLine(report),
  ];
}

/** Flow logs with gaps, silent or inconsistent: before anything else, never in a footnote. */
function evidenceLines(report: AuditReport): string[] {
  const problems = evidenceProblems(report);
  if (problems.length === 0) return [];
  return [`> **${EVIDENCE_LEAD}**`, '>', ...problems.map((p) => `> - ${markdownText(p)}`)];
}

function coverageLines(report: AuditReport): string[] {
  const c = report.summary.enisByCoverage;
  const gaps = report.coverage.filter((e) => e.status !== 'full');
  const lines = [
    '## Flow-log coverage',
    '',
    `ENIs: ${formatCount(c.full)} full, ${formatCount(c.partial)} partial, ${formatCount(c['reject-only'])} reject-only, ${formatCount(c.none)} none. ` +
      'Rules on ENIs without full coverage are reported as unknown, never unused.',
  ];
  if (gaps.length > 0) {
    lines.push(
      '',
      ...table(
        ['ENI', 'Coverage', 'Why'],
        gaps
          .slice(0, COVERAGE_GAPS)
          .map((e) => [`\`${e.eniId}\``, e.status, markdownText(e.reasons.join('; '))]),
      ),
    );
    if (gaps.length > COVERAGE_GAPS)
      lines.push('', `…and ${gaps.length - COVERAGE_GAPS} more ENIs (see resources.csv).`);
  }
  return lines;
}

function findingLines(report: AuditReport): string[] {
  const sorted = [...report.findings].sort(compareFindings);
  const lines = ['## Top findings', ''];
  if (sorted.length === 0) return [...lines, 'No findings.'];
  lines.push(
    ...table(
      ['Severity', 'Check', 'Security group', 'Rule', 'Fix', 'Reason', 'Resources', 'Evidence'],
      sorted
        .slice(0, TOP_FINDINGS)
        .map((f) => [
          `**${f.severity}**`,
          f.check,
          `${markdownText(f.sgName)} (\`${f.sgId}\`)`,
          ruleCell(f),
          markdownText(f.fix?.text ?? ''),
          reasonCell(f),
          resourceCounts(f.resources),
          markdownText(f.evidence),
        ]),
    ),
  );
  if (sorted.some((f) => (f.fix?.commands.length ?? 0) > 0))
    lines.push('', 'The AWS CLI commands of each fix are in findings.csv (column fix) and report.html.');
  if (sorted.length > TOP_FINDINGS)
    lines.push('', `…and ${sorted.length - TOP_FINDINGS} more (see findings.csv).`);
  return lines;
}

function quotaLine(sg: ReportSecurityGroup): string {
  return sg.quota
    .map(
      (q) =>
        `${q.direction} ${q.family}: ${q.current} now, ${q.recommended} recommended` +
        (q.recommendedBeforeCompaction !== q.recommended
          ? ` (${q.recommendedBeforeCompaction} before compaction)`
          : '') +
        ` of ${q.limit}`,
    )
    .join('; ');
}

function recommendationLines(report: AuditReport): string[] {
  const lines = ['## Recommended rules', ''];
  const withRecommendations = report.securityGroups.filter((sg) => sg.recommendations.length > 0);
  if (withRecommendations.length === 0)
    return [...lines, 'No recommendations (no traffic observed on covered ENIs).'];
  for (const sg of withRecommendations) {
    lines.push(`### ${markdownText(sg.name)} (\`${sg.id}\`, ${markdownText(sg.vpcId)})`, '');
    for (const direction of ['ingress', 'egress'] as const) {
      const recs = sg.recommendations.filter((r) => r.direction === direction);
      if (recs.length === 0) continue;
      lines.push(
        `${direction === 'ingress' ? 'Inbound' : 'Outbound'}:`,
        '',
        codeBlock(recs.map((r) => r.text)),
        '',
      );
    }
    const unused = sg.rules.filter((r) => r.usage.verdict === 'remove');
    if (unused.length > 0) {
      lines.push(
        `Remove: ${unused.map((r) => markdownText(`${r.direction} ${r.protocol} ${describePorts(r.protocol, r.fromPort, r.toPort)} ${r.peer}`.replace(/\s+/g, ' '))).join('; ')}`,
        '',
      );
    }
    if (sg.quota.length > 0) lines.push(`Quota: ${quotaLine(sg)}`, '');
  }
  return lines;
}

function warningLines(report: AuditReport): string[] {
  const lines = ['## Warnings', ''];
  const skipdata = report.flowSources.reduce((n, s) => n + s.skipdataRecords, 0);
  for (const w of distinctWarnings(report)) {
    if (w.code === 'malformed-records') {
      const count = Math.max(report.summary.malformedRecords, w.samples?.length ?? 0);
      lines.push(`- **${formatCount(count)} malformed flow-log records** were skipped. Samples:`);
      for (const m of w.samples ?? [])
        lines.push(`  - \`${m.file.replace(/`/g, '')}:${m.line}\`: ${markdownText(m.reason)}`);
    } else if (w.code === 'skipdata' && skipdata > 0) {
      lines.push(
        `- **${formatCount(skipdata)} SKIPDATA records**: flow-log capacity was exceeded; some traffic was not logged.`,
      );
    } else {
      const where = w.file
        ? ` (\`${w.file.replace(/`/g, '')}${w.line !== undefined ? `:${w.line}` : ''}\`)`
        : '';
      lines.push(`- ${markdownText(w.code)}: ${markdownText(w.message)}${where}`);
    }
  }
  if (lines.length === 2) lines.push('None.');
  return lines;
}

function naclLines(report: AuditReport): string[] {
  if (report.naclRecommendations.length === 0) return [];
  return [
    '## Network ACL recommendations',
    '',
    ...table(
      ['NACL', 'Direction', 'Rule #', 'Protocol', 'Ports', 'CIDR', 'Action', 'Purpose'],
      report.naclRecommendations.map((n) => [
        `\`${n.naclId}\``,
        n.direction,
        naclRuleNumberText(n),
        n.protocol,
        n.fromPort === undefined
          ? ''
          : n.fromPort === n.toPort
            ? String(n.fromPort)
            : `${n.fromPort}-${n.toPort}`,
        markdownText(n.cidr),
        n.action,
        n.purpose,
      ]),
    ),
  ];
}

/**
 * summary.md.
 *
 * @example renderMarkdown(report).startsWith('# Security group audit') // true
 */
export function renderMarkdown(report: AuditReport): string {
  const sections = [
    headerLines(report),
    evidenceLines(report),
    summaryLines(report),
    changesLines(report),
    coverageLines(report),
    findingLines(report),
    recommendationLines(report),
    naclLines(report),
    rejectedLines(report),
    egressLines(report),
    warningLines(report),
  ].filter((s) => s.length > 0);
  return `${sections.map((s) => s.join('\n').trimEnd()).join('\n\n')}\n`;
}
