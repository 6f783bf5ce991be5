/**
 * The summary the CLI prints on stdout: fixed-width, plain text, safe for any terminal (control
 * characters in SG names cannot move the cursor or recolour the screen).
 */

import { SEVERITIES } from '../model/analysis';
import type { RuleChange } from '../model/rule-change';
import type { AuditReport } from '../report/model';
import { changeOverview, leadingFindings, previousRunLabel, suppressionCounts } from './changes';
import { EVIDENCE_LEAD, evidenceProblems } from './evidence';
import { compareFindings, findingRuleText, formatCount, formatQuantity, readableTime } from './format';
import { distinctWarnings } from './warnings';

export interface ConsoleSummaryOptions {
  /** Where the rendered files were written (a directory, s3:// URI …), shown last. */
  readonly outputLocation?: string;
  /** Names of the files written there. */
  readonly files?: readonly string[];
  /** Findings listed (default 10). */
  readonly topFindings?: number;
  /** New and worse findings listed in the changes block (default 5). */
  readonly topChanges?: number;
  /** Line width the table fits in (default 120). */
  readonly width?: number;
}

/** C0/C1 control characters (ESC, BEL, CR …) would let an SG name drive the terminal. */
const CONTROL_CHARACTERS = /\p{Cc}/gu;

function clean(text: string): string {
  return text.replace(CONTROL_CHARACTERS, ' ');
}

function fitCell(text: string, width: number): string {
  const t = clean(text);
  return t.length > width ? `${t.slice(0, Math.max(0, width - 1))}…` : t.padEnd(width);
}

function row(cells: readonly (readonly [string, number, 'left' | 'right'])[]): string {
  return cells
    .map(([text, width, align]) => (align === 'right' ? clean(text).padStart(width) : fitCell(text, width)))
    .join('  ')
    .trimEnd();
}

/** A change that names who made it (not "before the history", not unknown). */
function isNamed(change: RuleChange): boolean {
  return change.kind !== 'before-history' && change.kind !== 'unknown';
}

/** Column widths of the findings and changes tables. */
const ID_WIDTH = 20; // sg- and 17 hex digits
const NAME_WIDTH = 18;
const CHECK_WIDTH = 26;

/**
 * The changes block: one line of counts since the previous run, then the new and worse findings
 * (top `top`); nothing when the report was not compared.
 */
function changesLines(report: AuditReport, top: number, width: number): string[] {
  const overview = changeOverview(report);
  if (overview === undefined) return [];
  if (overview.firstRun) return ['changes   first run: no previous report to compare'];
  const c = overview.counts;
  const lines = [
    fitCell(
      `changes   since ${previousRunLabel(overview, readableTime)}: ${formatCount(c.new)} new, ${formatCount(c.worse)} worse, ${c.resurfaced > 0 ? `${formatCount(c.resurfaced)} back (no longer accepted), ` : ''}${formatCount(c.resolved)} resolved, ${formatCount(c.changed)} changed findings; ${formatQuantity(c.verdictChanges, 'verdict change', 'verdict changes')}; SGs +${formatCount(c.newSecurityGroups)}/-${formatCount(c.removedSecurityGroups)}, ENIs +${formatCount(c.newEnis)}/-${formatCount(c.removedEnis)}`,
      width * 2,
    ).trimEnd(),
  ];
  const listed = leadingFindings(overview).map((lead) => ({
    change: lead.change === 'resurfaced' ? 'BACK' : lead.change.toUpperCase(),
    finding: lead.finding,
    severity: lead.previousSeverity
      ? `${lead.previousSeverity}->${lead.finding.severity}`
      : lead.finding.severity,
  }));
  const ruleWidth = Math.max(10, width - 6 - 16 - ID_WIDTH - NAME_WIDTH - CHECK_WIDTH - 10);
  for (const { change, finding: f, severity } of listed.slice(0, top)) {
    lines.push(
      row([
        [change, 6, 'left'],
        [severity, 16, 'left'],
        [f.sgId, ID_WIDTH, 'left'],
        [f.sgName, NAME_WIDTH, 'left'],
        [f.check, CHECK_WIDTH, 'left'],
        [findingRuleText(f) || f.reason, ruleWidth, 'left'],
      ]),
    );
  }
  if (listed.length > top) {
    lines.push(
      `... and ${formatQuantity(listed.length - top, 'more new or worse finding', 'more new or worse findings')} (see changes.csv)`,
    );
  }
  return lines;
}

/** The traffic views' counts, for reports that have them: refused attempts by class, egress destinations. */
function trafficRows(
  report: AuditReport,
  labelled: (label: string, pairs: readonly (readonly [string, number])[]) => string,
): string[] {
  const { rejected, egress } = report;
  return [
    ...(rejected
      ? [
          labelled('refused', [
            ['missing', rejected.byClass['missing-rule']],
            ['nacl', rejected.byClass.nacl],
            ['probe', rejected.byClass.probe],
          ]),
        ]
      : []),
    ...(egress
      ? [
          labelled('egress', [
            ['groups', egress.destinations.length + egress.omittedRows],
            ['unexpected', egress.unexpected],
          ]),
        ]
      : []),
  ];
}

/**
 * A compact plain-text summary: findings by severity, rules by status and verdict, coverage, top
 * findings, malformed records and where the outputs are.
 *
 * @example process.stdout.write(renderConsoleSummary(report, { outputLocation: 'reports/sample' }))
 */
export function renderConsoleSummary(report: AuditReport, options: ConsoleSummaryOptions = {}): string {
  const s = report.summary;
  const width = Math.max(80, options.width ?? 120);
  const top = options.topFindings ?? 10;
  const rule = '-'.repeat(width);
  const lines: string[] = [];
  const account = `${report.account.id ?? 'unknown account'}${report.account.region ? ` ${report.account.region}` : ''}`;
  lines.push(
    fitCell(
      `${report.tool.name} ${report.tool.version}  account ${account}  (${report.mode})`,
      width,
    ).trimEnd(),
    fitCell(
      `window ${readableTime(report.window.start)} -> ${readableTime(report.window.end)} (${report.window.days} days)`,
      width,
    ).trimEnd(),
    fitCell(
      `${formatCount(s.securityGroups)} SGs, ${formatCount(s.ruleEntries)} rule entries, ${formatCount(s.networkInterfaces)} ENIs, ${formatCount(s.connections)} connections from ${formatCount(s.flowRecords)} records`,
      width,
    ).trimEnd(),
    rule,
  );
  const problems = evidenceProblems(report);
  if (problems.length > 0) {
    lines.push(`!! ${EVIDENCE_LEAD}`, ...problems.map((p) => `!!   ${p}`), rule);
  }
  const labelled = (label: string, pairs: readonly (readonly [string, number])[]) =>
    row([[label, 10, 'left'], ...pairs.map(([k, v]) => [`${k} ${formatCount(v)}`, 14, 'left'] as const)]);
  lines.push(
    labelled(
      'findings',
      SEVERITIES.map((sev) => [sev, s.findingsBySeverity[sev]] as const),
    ),
    labelled('rules', [
      ['used', s.rulesByStatus.used],
      ['unused', s.rulesByStatus.unused],
      ['unknown', s.rulesByStatus.unknown],
    ]),
    labelled('verdicts', [
      ['keep', s.rulesByVerdict.keep],
      ['narrow', s.rulesByVerdict.narrow],
      ['remove', s.rulesByVerdict.remove],
      ['review', s.rulesByVerdict.review],
    ]),
    labelled('coverage', [
      ['full', s.enisByCoverage.full],
      ['partial', s.enisByCoverage.partial],
      ['reject-only', s.enisByCoverage['reject-only']],
      ['none', s.enisByCoverage.none],
    ]),
    ...trafficRows(report, labelled),
    rule,
  );
  const suppressed = suppressionCounts(report.findings);
  if (suppressed.active + suppressed.expired > 0) {
    lines.push(
      `suppressed ${formatQuantity(suppressed.active, 'accepted risk', 'accepted risks')}${suppressed.expired > 0 ? `, ${formatQuantity(suppressed.expired, 'expired suppression', 'expired suppressions')} (counted again)` : ''}`,
    );
  }
  const changes = changesLines(report, Math.max(0, options.topChanges ?? 5), width);
  if (changes.length > 0) lines.push(...changes, rule);
  const findings = [...report.findings].sort(compareFindings).slice(0, top);
  if (findings.length > 0) {
    const idWidth = ID_WIDTH;
    const nameWidth = NAME_WIDTH;
    const checkWidth = CHECK_WIDTH;
    const ruleWidth = Math.max(10, width - 8 - idWidth - nameWidth - checkWidth - 8);
    lines.push(
      row([
        ['SEVERITY', 8, 'left'],
        ['SG', idWidth, 'left'],
        ['NAME', nameWidth, 'left'],
        ['CHECK', checkWidth, 'left'],
        ['RULE', ruleWidth, 'left'],
      ]),
    );
    for (const f of findings) {
      lines.push(
        row([
          [f.severity, 8, 'left'],
          [f.sgId, idWidth, 'left'],
          [f.sgName, nameWidth, 'left'],
          [f.check, checkWidth, 'left'],
          [findingRuleText(f) || f.reason, ruleWidth, 'left'],
        ]),
      );
      // The fix and who opened the rule, under it (indented to the SG column).
      const indent = ' '.repeat(10);
      if (f.fix?.text) lines.push(fitCell(`${indent}fix: ${f.fix.text}`, width).trimEnd());
      if (f.change && isNamed(f.change)) lines.push(fitCell(`${indent}${f.change.text}`, width).trimEnd());
    }
    if (report.findings.length > findings.length) {
      lines.push(
        `... and ${formatQuantity(report.findings.length - findings.length, 'more finding', 'more findings')}`,
      );
    }
  } else {
    lines.push('no findings');
  }
  lines.push(rule);
  if (s.malformedRecords > 0) {
    lines.push(
      `warning: ${formatCount(s.malformedRecords)} malformed flow-log records skipped (see warnings in the report)`,
    );
  }
  // The count report.json and report.html state: each warning once.
  const warnings = distinctWarnings(report).length;
  if (warnings > 0) lines.push(`warnings: ${formatCount(warnings)} (see the report)`);
  if (options.outputLocation !== undefined) {
    const files = options.files && options.files.length > 0 ? `: ${options.files.join(', ')}` : '';
    lines.push(fitCell(`outputs in ${options.outputLocation}${files}`, width * 3).trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
