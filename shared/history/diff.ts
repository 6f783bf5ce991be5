/**
 * Week over week: what changed between the previous report and this one. Findings match by their
 * stable id (`${check}:${ruleId ?? sgId}`, no SG name in it, so a renamed SG keeps its findings),
 * rules by rule entry id, SGs and ENIs by id. The diff drives alerting (`worsened`), the report's
 * changes section and changes.csv.
 *
 * Evidence and reason texts carry counts (connections, peers, ENIs, rules) that move every week;
 * a finding is 'changed' only when they differ in substance:
 * - evidence: the leading used/unused/unknown word changes (e.g. "used: 12 connections …" →
 *   "unused in window …"); pure count changes, last-seen times and SG-level evidence ("3 of 5
 *   rules used …", no leading word) never flag;
 * - reason: the text differs once every run of digits is treated alike (ports, CIDRs and protocols
 *   in a reason are fixed by the rule id, so numbers that move can only be counts);
 * - severity: the rank differs (critical > high > medium > low > info);
 * - acceptance: an active suppression covers it in one report and not in the other — accepted
 *   since, or no longer accepted (the entry expired or was deleted from the file).
 */
import type { Finding, RuleStatus, RuleUsage, RuleVerdict, Severity } from '../model/analysis';
import { severityRank } from '../model/analysis';
import type { Cell } from '../render/csv';
import { contractPorts } from '../render/format';
import type {
  AuditReport,
  ComparedRun,
  InventoryChanges,
  ReportRule,
  ReportSecurityGroup,
} from '../report/model';

/** What differs on a finding present in both reports. */
export type FindingChange = 'severity' | 'evidence' | 'reason' | 'acceptance';

export interface ChangedFinding {
  readonly before: Finding;
  readonly after: Finding;
  /** In this order when several apply: severity, evidence, reason, acceptance. */
  readonly changes: readonly FindingChange[];
}

export interface RuleState {
  readonly status: RuleStatus;
  readonly verdict: RuleVerdict;
}

/** A rule entry present in both reports whose status or verdict differs. */
export interface RuleVerdictChange {
  readonly ruleId: string;
  readonly sgId: string;
  readonly before: RuleState;
  readonly after: RuleState;
}

export interface RenamedSecurityGroup {
  readonly sgId: string;
  readonly before: string;
  readonly after: string;
}

export interface ReportDiff extends ComparedRun, InventoryChanges {
  /** In current report order. */
  readonly newFindings: readonly Finding[];
  /** In previous report order, as they were. */
  readonly resolvedFindings: readonly Finding[];
  /** In current report order. */
  readonly changedFindings: readonly ChangedFinding[];
  /** Findings present in both reports with no change worth reporting. */
  readonly unchangedFindings: number;
  /** Something new, a severity raised, or an acceptance ended: what alerting reacts to. */
  readonly worsened: boolean;
  /** In current report order. */
  readonly ruleVerdictChanges: readonly RuleVerdictChange[];
  /** Same id, other name: neither new nor removed. */
  readonly renamedSecurityGroups: readonly RenamedSecurityGroup[];
}

const EVIDENCE_STATE = /^\s*(used|unused|unknown)\b/i;

/**
 * The rule status a finding's evidence states by its leading word, or undefined when it states
 * none (SG-level evidence, rules without usage).
 *
 * @example evidenceState('used: 120 connections from 4 peers') // 'used'
 */
export function evidenceState(evidence: string): RuleStatus | undefined {
  const word = EVIDENCE_STATE.exec(evidence)?.[1];
  return word === undefined ? undefined : (word.toLowerCase() as RuleStatus);
}

/** A reason with its counts blanked and its whitespace collapsed: what it says, not how many. */
function reasonSubstance(reason: string): string {
  return reason.replace(/\d+/g, '#').replace(/\s+/g, ' ').trim();
}

function findingChanges(before: Finding, after: Finding): FindingChange[] {
  const changes: FindingChange[] = [];
  if (severityRank(before.severity) !== severityRank(after.severity)) changes.push('severity');
  if (evidenceState(before.evidence) !== evidenceState(after.evidence)) changes.push('evidence');
  if (reasonSubstance(before.reason) !== reasonSubstance(after.reason)) changes.push('reason');
  if (isAccepted(before) !== isAccepted(after)) changes.push('acceptance');
  return changes;
}

/** An active suppression covers the finding (an expired one no longer does). */
function isAccepted(finding: Finding): boolean {
  return finding.suppression?.status === 'active';
}

/**
 * Whether a changed finding counts again because the acceptance that covered it last time ended
 * (expired, or its entry was deleted from the suppressions file).
 *
 * @example acceptanceEnded({ before, after, changes: ['acceptance'] }) // true when before was accepted
 */
export function acceptanceEnded(changed: Pick<ChangedFinding, 'before' | 'after'>): boolean {
  return isAccepted(changed.before) && !isAccepted(changed.after);
}

/** First occurrence wins, so a duplicated id cannot hide a finding twice. */
function byId<T>(items: readonly T[], id: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    const key = id(item);
    if (!map.has(key)) map.set(key, item);
  }
  return map;
}

/** The parts of a report the diff reads. */
type ReportParts = Pick<AuditReport, 'findings' | 'securityGroups' | 'resources'>;

const NO_REPORT: ReportParts = { findings: [], securityGroups: [], resources: [] };

/**
 * Every ENI a report knows of with its SGs: its resource rows, then the ENIs its SGs list (an ENI
 * outside the resource rows still counts), in first-seen order.
 */
function enisOf(report: ReportParts): Map<string, string[]> {
  const enis = new Map<string, string[]>();
  for (const row of report.resources) enis.set(row.eniId, [...row.sgIds]);
  for (const sg of report.securityGroups) {
    for (const eniId of sg.eniIds) {
      const sgIds = enis.get(eniId);
      if (sgIds === undefined) enis.set(eniId, [sg.id]);
      else if (!sgIds.includes(sg.id)) sgIds.push(sg.id);
    }
  }
  return enis;
}

function rulesById(report: ReportParts): Map<string, ReportRule> {
  const rules = new Map<string, ReportRule>();
  for (const sg of report.securityGroups) {
    for (const rule of sg.rules) if (!rules.has(rule.id)) rules.set(rule.id, rule);
  }
  return rules;
}

function ruleState(usage: RuleUsage): RuleState {
  return { status: usage.status, verdict: usage.verdict };
}

/**
 * Compares the current report with the previous one (undefined on the first run: every finding,
 * SG and ENI is new). Linear in the size of both reports.
 *
 * @example diffReports(lastWeek, thisWeek).worsened // true when a finding is new, more severe or no longer accepted
 */
export function diffReports(previous: AuditReport | undefined, current: AuditReport): ReportDiff {
  const before: ReportParts = previous ?? NO_REPORT;

  const previousFindings = byId(before.findings, (f) => f.id);
  const currentFindings = byId(current.findings, (f) => f.id);
  const newFindings: Finding[] = [];
  const changedFindings: ChangedFinding[] = [];
  let unchangedFindings = 0;
  let severityRaised = false;
  let acceptanceLost = false;
  for (const after of currentFindings.values()) {
    const prior = previousFindings.get(after.id);
    if (prior === undefined) {
      newFindings.push(after);
      continue;
    }
    const changes = findingChanges(prior, after);
    if (changes.length === 0) {
      unchangedFindings++;
      continue;
    }
    changedFindings.push({ before: prior, after, changes });
    if (severityRank(after.severity) < severityRank(prior.severity)) severityRaised = true;
    if (acceptanceEnded({ before: prior, after })) acceptanceLost = true;
  }
  const resolvedFindings = [...previousFindings.values()].filter((f) => !currentFindings.has(f.id));

  const previousRules = rulesById(before);
  const ruleVerdictChanges: RuleVerdictChange[] = [];
  for (const rule of rulesById(current).values()) {
    const prior = previousRules.get(rule.id);
    if (prior === undefined) continue;
    if (prior.usage.status === rule.usage.status && prior.usage.verdict === rule.usage.verdict) continue;
    ruleVerdictChanges.push({
      ruleId: rule.id,
      sgId: rule.usage.sgId,
      before: ruleState(prior.usage),
      after: ruleState(rule.usage),
    });
  }

  const previousSgs = byId(before.securityGroups, (sg) => sg.id);
  const currentSgs = byId(current.securityGroups, (sg) => sg.id);
  const newSecurityGroups = [...currentSgs.keys()].filter((id) => !previousSgs.has(id));
  const removedSecurityGroups = [...previousSgs.keys()].filter((id) => !currentSgs.has(id));
  const renamedSecurityGroups: RenamedSecurityGroup[] = [];
  for (const sg of currentSgs.values()) {
    const prior = previousSgs.get(sg.id);
    if (prior !== undefined && prior.name !== sg.name) {
      renamedSecurityGroups.push({ sgId: sg.id, before: prior.name, after: sg.name });
    }
  }

  const previousEnis = enisOf(before);
  const currentEnis = enisOf(current);
  const newEnis = [...currentEnis.keys()].filter((id) => !previousEnis.has(id));
  const removedEnis = [...previousEnis.keys()].filter((id) => !currentEnis.has(id));

  return {
    firstRun: previous === undefined,
    ...(previous !== undefined
      ? { previousRunId: previous.runId, previousGeneratedAt: previous.generatedAt }
      : {}),
    newFindings,
    resolvedFindings,
    changedFindings,
    unchangedFindings,
    worsened: newFindings.length > 0 || severityRaised || acceptanceLost,
    ruleVerdictChanges,
    newSecurityGroups,
    removedSecurityGroups,
    newEnis,
    removedEnis,
    renamedSecurityGroups,
  };
}

/** The kinds of row in changes.csv. */
export type ChangeKind =
  | 'new'
  | 'resolved'
  | 'changed'
  | 'verdict-changed'
  | 'sg-added'
  | 'sg-removed'
  | 'eni-added'
  | 'eni-removed';

/** changes.csv: the change, then the finding and rule columns of the CSV contract (design.md). */
export const CHANGES_COLUMNS = [
  'change',
  'check',
  'severity',
  'previous_severity',
  'sg_id',
  'sg_name',
  'direction',
  'protocol',
  'from_port',
  'to_port',
  'peer',
  'reason',
] as const;

interface RuleShape {
  readonly direction?: string;
  readonly protocol?: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly peer?: string;
}

/** direction, protocol, from_port, to_port, peer: ports empty for -1 and portless protocols. */
function ruleCells(rule: RuleShape): Cell[] {
  const [from, to] =
    rule.protocol === undefined
      ? [undefined, undefined]
      : contractPorts(rule.protocol, rule.fromPort, rule.toPort);
  return [rule.direction, rule.protocol, from, to, rule.peer];
}

function findingRow(
  change: 'new' | 'resolved' | 'changed',
  finding: Finding,
  severity: Severity | undefined,
  previousSeverity: Severity | undefined,
  reason: string,
): Cell[] {
  return [
    change,
    finding.check,
    severity,
    previousSeverity,
    finding.sgId,
    finding.sgName,
    ...ruleCells(finding),
    reason,
  ];
}

/** "severity low → high; evidence used → unused: <current reason>". */
function changedReason(changed: ChangedFinding): string {
  const { before, after } = changed;
  const words: Record<FindingChange, string> = {
    severity: `severity ${before.severity} → ${after.severity}`,
    evidence: `evidence ${evidenceState(before.evidence) ?? 'none'} → ${evidenceState(after.evidence) ?? 'none'}`,
    reason: `reason was "${before.reason}"`,
    acceptance: isAccepted(before)
      ? `no longer accepted (${before.suppression?.id} ${after.suppression?.status === 'expired' ? 'expired' : 'removed'})`
      : `accepted as ${after.suppression?.id}`,
  };
  const parts = changed.changes.map((change) => words[change]);
  return `${parts.join('; ')}: ${after.reason}`;
}

function sgNames(ids: readonly string[], sgs: ReadonlyMap<string, ReportSecurityGroup>): string {
  return ids.map((id) => sgs.get(id)?.name ?? '').join(';');
}

/** Builds the rows of ENIs added to (or removed from) one report, indexing it once. */
function eniRows(
  change: 'eni-added' | 'eni-removed',
  eniIds: readonly string[],
  report: ReportParts,
): Cell[][] {
  if (eniIds.length === 0) return [];
  const sgs = byId(report.securityGroups, (sg) => sg.id);
  const resources = byId(report.resources, (r) => r.eniId);
  const enis = enisOf(report);
  return eniIds.map((eniId) => {
    const resource = resources.get(eniId)?.resource;
    const sgIds = enis.get(eniId) ?? [];
    const what = resource === undefined ? '' : ` (${resource.type} ${resource.id})`;
    const reason =
      change === 'eni-added' ? `new ENI ${eniId}${what}` : `ENI ${eniId}${what} no longer present`;
    // One row per ENI: its SGs `;`-joined, as resources.csv's sg_ids.
    return [
      change,
      undefined,
      undefined,
      undefined,
      sgIds.join(';'),
      sgNames(sgIds, sgs),
      ...ruleCells({}),
      reason,
    ];
  });
}

/**
 * The rows of changes.csv (columns CHANGES_COLUMNS), grouped by kind: new, changed, resolved,
 * verdict-changed, sg-added, sg-removed, eni-added, eni-removed. `severity` is the severity now
 * (empty once resolved), `previous_severity` the one before (empty when new). ENI rows name the
 * ENI in `reason` and its SGs `;`-joined in sg_id/sg_name. Pass the previous report to name
 * removed SGs and describe removed ENIs; renames are not rows (sg_name carries the new name).
 *
 * @example changesRows(diffReports(lastWeek, thisWeek), thisWeek)[0] // ['new','sensitive-port-world','high','', 'sg-1',…]
 */
export function changesRows(
  diff: ReportDiff,
  current: AuditReport,
  previous?: AuditReport,
): readonly (readonly Cell[])[] {
  const rows: Cell[][] = [];
  for (const f of diff.newFindings) rows.push(findingRow('new', f, f.severity, undefined, f.reason));
  for (const c of diff.changedFindings) {
    rows.push(findingRow('changed', c.after, c.after.severity, c.before.severity, changedReason(c)));
  }
  for (const f of diff.resolvedFindings)
    rows.push(findingRow('resolved', f, undefined, f.severity, f.reason));

  const currentSgs = byId(current.securityGroups, (sg) => sg.id);
  const currentRules = rulesById(current);
  for (const change of diff.ruleVerdictChanges) {
    const rule = currentRules.get(change.ruleId);
    const { before, after } = change;
    const what = [
      before.status !== after.status ? `status ${before.status} → ${after.status}` : undefined,
      before.verdict !== after.verdict ? `verdict ${before.verdict} → ${after.verdict}` : undefined,
    ].filter((part) => part !== undefined);
    const why = rule?.usage.verdictReason;
    rows.push([
      'verdict-changed',
      undefined,
      undefined,
      undefined,
      change.sgId,
      currentSgs.get(change.sgId)?.name,
      ...ruleCells(rule ?? {}),
      why === undefined || why === '' ? what.join('; ') : `${what.join('; ')}: ${why}`,
    ]);
  }

  const noRule = ruleCells({});
  for (const sgId of diff.newSecurityGroups) {
    const sg = currentSgs.get(sgId);
    const reason = sg === undefined ? 'new SG' : `new SG in ${sg.vpcId}`;
    rows.push(['sg-added', undefined, undefined, undefined, sgId, sg?.name, ...noRule, reason]);
  }
  const previousSgs = byId(previous?.securityGroups ?? [], (sg) => sg.id);
  for (const sgId of diff.removedSecurityGroups) {
    const sg = previousSgs.get(sgId);
    const reason = sg === undefined ? 'SG no longer present' : `SG no longer present (was in ${sg.vpcId})`;
    rows.push(['sg-removed', undefined, undefined, undefined, sgId, sg?.name, ...noRule, reason]);
  }
  // concat, not push(...): tens of thousands of ENIs would overflow the argument list.
  return rows
    .concat(eniRows('eni-added', diff.newEnis, current))
    .concat(eniRows('eni-removed', diff.removedEnis, previous ?? NO_REPORT));
}
