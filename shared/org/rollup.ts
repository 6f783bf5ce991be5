/**
 * The organization roll-up: targets' reports (or their gaps) in, one organization report and its
 * tables out. Fed one target at a time (a run of 8,500 targets never holds their reports at once:
 * each is summarised, its findings rows and its few worst findings kept), then compared with the
 * previous organization report for week over week at organization level. The same code serves the
 * CLI (reports in memory) and the workflow's roll-up step (reports read from S3).
 */
import { actionableBySeverity, alertableChanges } from '../alerts/changes';
import {
  COVERAGE_STATUSES,
  type CoverageStatus,
  type Finding,
  SEVERITIES,
  type Severity,
  severityRank,
} from '../model/analysis';
import { changeOverview, leadingFindings } from '../render/changes';
import { FINDINGS_COLUMNS, findingsTable, type ReportTable } from '../render/csv';
import { compareFindings, findingRuleText } from '../render/format';
import type { AuditReport } from '../report/model';
import { isActivelySuppressed } from '../suppressions/suppressions';
import {
  ORG_REPORT_SCHEMA_VERSION,
  type OrgChanges,
  type OrgFinding,
  type OrgReport,
  type OrgTarget,
  type OrgTargetResult,
  type OrgTotals,
  type TargetAudit,
  type TargetGap,
} from './model';
import { stackTables, withTargetColumns } from './tables';

/** Worst findings the organization report names (findings.csv has them all). */
export const ORG_TOP_FINDINGS = 50;
/** New, worse and resurfaced findings the organization report names. */
export const ORG_LEADING_FINDINGS = 50;

export interface OrgRollupOptions {
  readonly runId: string;
  readonly generatedAt: Date;
  readonly tool: { readonly name: string; readonly version: string };
  /** @default ORG_TOP_FINDINGS */
  readonly topFindings?: number;
  /** @default ORG_LEADING_FINDINGS */
  readonly leadingFindings?: number;
}

/** The organization report and its tables (findings.csv with account_id and region). */
export interface OrgRollupResult {
  readonly report: OrgReport;
  readonly tables: readonly ReportTable[];
}

const zeroSeverities = (): Record<Severity, number> =>
  Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
const zeroCoverage = (): Record<CoverageStatus, number> =>
  Object.fromEntries(COVERAGE_STATUSES.map((s) => [s, 0])) as Record<CoverageStatus, number>;

const targetKey = (t: Pick<OrgTarget, 'accountId' | 'region'>) => `${t.accountId}/${t.region}`;
const compareTargets = (a: OrgTarget, b: OrgTarget) =>
  a.accountId.localeCompare(b.accountId) || a.region.localeCompare(b.region);
const bareTarget = (t: OrgTarget): OrgTarget => ({
  accountId: t.accountId,
  region: t.region,
  ...(t.accountName ? { accountName: t.accountName } : {}),
});

function orgFinding(target: OrgTarget, finding: Finding): OrgFinding {
  return {
    accountId: target.accountId,
    region: target.region,
    findingId: finding.id,
    check: finding.check,
    severity: finding.severity,
    sgId: finding.sgId,
    sgName: finding.sgName,
    rule: findingRuleText(finding),
    reason: finding.reason,
  };
}

const compareOrgFindings = (a: OrgFinding, b: OrgFinding) =>
  severityRank(a.severity) - severityRank(b.severity) ||
  a.accountId.localeCompare(b.accountId) ||
  a.region.localeCompare(b.region) ||
  a.sgId.localeCompare(b.sgId) ||
  a.findingId.localeCompare(b.findingId);

/** Keeps the `limit` first of a list under an order, as items come (bounded memory). */
function keepBest<T>(list: T[], items: readonly T[], limit: number, order: (a: T, b: T) => number): void {
  list.push(...items);
  list.sort(order);
  if (list.length > limit) list.length = limit;
}

/**
 * A target's audit summary from its report.
 *
 * @example summariseTarget(report, '111111111111/eu-west-1/2026/11/16/r-1/report.html').actionableFindingsBySeverity.critical // 1
 */
export function summariseTarget(report: AuditReport, reportPath?: string): TargetAudit {
  const changes = alertableChanges(report);
  return {
    runId: report.runId,
    generatedAt: report.generatedAt,
    findingsBySeverity: { ...zeroSeverities(), ...report.summary.findingsBySeverity },
    actionableFindingsBySeverity: actionableBySeverity(report),
    securityGroups: report.summary.securityGroups,
    networkInterfaces: report.summary.networkInterfaces,
    enisByCoverage: { ...zeroCoverage(), ...report.summary.enisByCoverage },
    warnings: report.warnings.length,
    failedSources: report.warnings.filter((w) => w.code === 'flow-source-failed').length,
    ...(reportPath ? { reportPath } : {}),
    ...(changes
      ? {
          changes: {
            firstRun: changes.firstRun,
            newFindings: changes.newFindings,
            worseFindings: changes.worseFindings,
            resurfacedFindings: changes.resurfacedFindings,
            resolvedFindings: changes.resolvedFindings,
          },
        }
      : {}),
  };
}

/**
 * Accumulates targets into the organization report.
 *
 * @example
 * const rollup = new OrgRollup({ runId, generatedAt: new Date(), tool });
 * rollup.addAudit({ accountId, region }, report, `${accountId}/${region}/report.html`);
 * rollup.addGap({ accountId: '333333333333', region }, targetGap(error, 'Discover'));
 * const { report: org, tables } = rollup.finish(previousOrgReport);
 */
export class OrgRollup {
  private readonly results = new Map<string, OrgTargetResult>();
  private readonly findingTables: ReportTable[] = [];
  private readonly top: OrgFinding[] = [];
  private readonly leading: OrgFinding[] = [];
  private window?: OrgReport['window'];

  constructor(private readonly options: OrgRollupOptions) {}

  /** An audited target: its summary, its findings rows, its worst and its new/worse findings. */
  addAudit(target: OrgTarget, report: AuditReport, reportPath?: string): void {
    this.results.set(targetKey(target), {
      ...bareTarget(target),
      status: 'audited',
      audit: summariseTarget(report, reportPath),
    });
    this.window ??= report.window;
    this.findingTables.push(withTargetColumns(findingsTable(report), target));
    const actionable = report.findings.filter((f) => !isActivelySuppressed(f));
    const worst = [...actionable]
      .sort(compareFindings)
      .slice(0, this.options.topFindings ?? ORG_TOP_FINDINGS)
      .map((f) => orgFinding(target, f));
    keepBest(this.top, worst, this.options.topFindings ?? ORG_TOP_FINDINGS, compareOrgFindings);
    const overview = changeOverview(report, { actionableOnly: true });
    if (overview && !overview.firstRun) {
      const leads = leadingFindings(overview).map((lead) => ({
        ...orgFinding(target, lead.finding),
        change: lead.change,
        ...(lead.previousSeverity ? { previousSeverity: lead.previousSeverity } : {}),
      }));
      keepBest(this.leading, leads, this.options.leadingFindings ?? ORG_LEADING_FINDINGS, compareOrgFindings);
    }
  }

  /** A target that could not be audited. */
  addGap(target: OrgTarget, gap: TargetGap): void {
    this.results.set(targetKey(target), { ...bareTarget(target), status: 'gap', gap });
  }

  /** The targets added so far. */
  get size(): number {
    return this.results.size;
  }

  /** The organization report (compared with `previous` when given) and its tables. */
  finish(previous?: OrgReport): OrgRollupResult {
    const targets = [...this.results.values()].sort(compareTargets);
    const totals = totalsOf(targets);
    const report: OrgReport = {
      schemaVersion: ORG_REPORT_SCHEMA_VERSION,
      tool: this.options.tool,
      runId: this.options.runId,
      generatedAt: this.options.generatedAt.toISOString(),
      ...(this.window ? { window: this.window } : {}),
      targets,
      totals,
      topFindings: [...this.top],
      leadingFindings: [...this.leading],
    };
    const emptyFindings = withTargetColumns(
      { fileName: 'findings.csv', sheetName: 'Findings', columns: FINDINGS_COLUMNS, rows: [] },
      { accountId: '', region: '' },
    );
    const findings = stackTables(this.findingTables, emptyFindings);
    return { report: { ...report, changes: orgChanges(report, previous) }, tables: [findings] };
  }
}

function totalsOf(targets: readonly OrgTargetResult[]): OrgTotals {
  const findings = zeroSeverities();
  const actionable = zeroSeverities();
  const coverage = zeroCoverage();
  let securityGroups = 0;
  let networkInterfaces = 0;
  let audited = 0;
  for (const t of targets) {
    if (t.status !== 'audited') continue;
    audited += 1;
    for (const s of SEVERITIES) {
      findings[s] += t.audit.findingsBySeverity[s] ?? 0;
      actionable[s] += t.audit.actionableFindingsBySeverity[s] ?? 0;
    }
    for (const c of COVERAGE_STATUSES) coverage[c] += t.audit.enisByCoverage[c] ?? 0;
    securityGroups += t.audit.securityGroups;
    networkInterfaces += t.audit.networkInterfaces;
  }
  return {
    targets: targets.length,
    audited,
    gaps: targets.length - audited,
    accounts: new Set(targets.map((t) => t.accountId)).size,
    regions: new Set(targets.map((t) => t.region)).size,
    findingsBySeverity: findings,
    actionableFindingsBySeverity: actionable,
    securityGroups,
    networkInterfaces,
    enisByCoverage: coverage,
  };
}

/**
 * Week over week at organization level: the targets' own changes summed (each target compared
 * with its own previous report; one on its first run is not), and the targets that became gaps, stopped being gaps, appeared
 * or went away since the previous organization report.
 *
 * @example orgChanges(thisWeek, lastWeek).newGaps // [{ accountId: '333333333333', region: 'eu-west-1' }]
 */
export function orgChanges(report: OrgReport, previous?: OrgReport): OrgChanges {
  // A target on its first run has nothing to compare with: it counts among the new targets instead.
  const sum = (field: 'newFindings' | 'worseFindings' | 'resurfacedFindings' | 'resolvedFindings') =>
    report.targets.reduce(
      (n, t) =>
        n +
        (t.status === 'audited' && t.audit.changes && !t.audit.changes.firstRun ? t.audit.changes[field] : 0),
      0,
    );
  const worsenedTargets = report.targets
    .filter(
      (t) =>
        t.status === 'audited' &&
        t.audit.changes !== undefined &&
        !t.audit.changes.firstRun &&
        t.audit.changes.newFindings + t.audit.changes.worseFindings + t.audit.changes.resurfacedFindings > 0,
    )
    .map(bareTarget);
  const before = new Map((previous?.targets ?? []).map((t) => [targetKey(t), t]));
  const now = new Map(report.targets.map((t) => [targetKey(t), t]));
  const newGaps = report.targets
    .filter((t) => t.status === 'gap' && before.get(targetKey(t))?.status !== 'gap')
    .map(bareTarget);
  const resolvedGaps = report.targets
    .filter((t) => t.status === 'audited' && before.get(targetKey(t))?.status === 'gap')
    .map(bareTarget);
  const newTargets = previous ? report.targets.filter((t) => !before.has(targetKey(t))).map(bareTarget) : [];
  const removedTargets = (previous?.targets ?? []).filter((t) => !now.has(targetKey(t))).map(bareTarget);
  const counts = {
    newFindings: sum('newFindings'),
    worseFindings: sum('worseFindings'),
    resurfacedFindings: sum('resurfacedFindings'),
    resolvedFindings: sum('resolvedFindings'),
  };
  return {
    firstRun: previous === undefined,
    ...(previous ? { previousRunId: previous.runId, previousGeneratedAt: previous.generatedAt } : {}),
    worsened: counts.newFindings + counts.worseFindings + counts.resurfacedFindings > 0 || newGaps.length > 0,
    ...counts,
    worsenedTargets,
    newGaps,
    resolvedGaps,
    newTargets,
    removedTargets,
  };
}
