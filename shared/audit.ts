/**
 * The audit use case: one pipeline for every runner (offline CLI, live CLI, Step Functions).
 * Inventory and flow aggregates come in through ports; a versioned report comes out.
 */

import {
  type FoldContext,
  foldConnectionRows,
  foldConnections,
  type StreamedFoldResult,
} from './analysis/fold';
import { ephemeralFoldPlan } from './analysis/fold-plan';
import { keepUnprovenReach } from './analysis/keep-unproven';
import { recommendNacls } from './analysis/nacl';
import { recommendRules } from './analysis/recommend';
import { assignVerdicts, computeRuleUsage, matchConnections } from './analysis/usage';
import type { AnalysisConfig } from './config';
import { computeCoverage, withUnattributedRows } from './coverage/coverage';
import { type DeliveryEvidence, type DeliveryProof, gapText, proveDelivery } from './coverage/delivery';
import { chooseOneReader, keepOneReaderPerEni, type OneReaderResult } from './coverage/one-reader';
import { NOT_ENI_EVIDENCE, recordsEnis, unreadWarning } from './flow/source-plan';
import type {
  CoverageStatus,
  EniCoverage,
  Finding,
  MatchedConnection,
  ResourceRow,
  RuleStatus,
  RuleUsage,
  RuleVerdict,
  Severity,
} from './model/analysis';
import { COVERAGE_STATUSES, RULE_STATUSES, RULE_VERDICTS, SEVERITIES, SEVERITY_RANK } from './model/analysis';
import { DELIVERY_STATUSES, type DeliveryReport, type FlowLogDelivery } from './model/delivery';
import type { FlowAggregateResult, FlowAggregateSource, FlowSourceStats, TimeWindow } from './model/flow';
import type { Inventory, ResourceRef, ResourceType, SecurityGroup } from './model/inventory';
import type { RuleChangeHistory } from './model/rule-change';
import { formatPortRange, type PortRange, rangesContain } from './net/ports';
import { protocolHasPorts } from './net/protocol';
import { withFixes } from './remediation/fix';
import { findingLiveness, formatCount, formatQuantity } from './render/format';
import { distinctWarnings } from './render/warnings';
import type { AuditReport, ReportSecurityGroup, ReportWarning } from './report/model';
import { REPORT_SCHEMA_VERSION } from './report/model';
import { classifyAll, isLoadBalancerLike } from './resources/classify';
import { runRiskChecks } from './risk/checks';
import { ruleTrafficText } from './rules/peer';
import { RuleIndex } from './rules/rule-index';
import type { EgressAllowList } from './suppressions/egress-allowlist';
import { reviewTraffic } from './traffic-review';
import { type Attribution, attributeRuleChanges } from './trail/attribute';

export interface AuditScope {
  readonly vpcIds: readonly string[];
  readonly sgIds: readonly string[];
}

export interface AuditOptions {
  readonly inventory: Inventory;
  readonly flowSource: FlowAggregateSource;
  readonly window: TimeWindow;
  readonly scope: AuditScope;
  readonly config: AnalysisConfig;
  readonly mode: 'offline' | 'live';
  readonly runId: string;
  readonly generatedAt: Date;
  readonly toolVersion: string;
  /** Progress messages for long runs (the CLI prints them on stderr). */
  readonly progress?: (message: string) => void;
  /** Resource names known to the runner (e.g. instance Name tags). */
  readonly instanceNames?: ReadonlyMap<string, string>;
  /** Expected external destinations: the egress view then shows the unexpected ones. */
  readonly egressAllowList?: EgressAllowList;
  /** CloudTrail's SG change events: who created or widened each rule (absent: not attributed). */
  readonly ruleChanges?: RuleChangeHistory;
  /**
   * Called before each analysis that builds and drops structures per distinct peer (the SG
   * recommendations, the traffic review, the NACL recommendations): where the host can give back
   * the memory the previous one left. The CLI collects the JavaScript heap's garbage there
   * (cli/js-heap.ts); V8 would otherwise keep the pages a phase freed and grow past them in the
   * next, and the peaks of such phases would stack.
   */
  readonly releaseMemory?: () => void;
}

/** Counts records of a union type, every key present. */
function countBy<K extends string>(keys: readonly K[], values: Iterable<K>): Record<K, number> {
  const counts = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const value of values) counts[value] += 1;
  return counts;
}

/** SGs the report is about: those in the VPC and SG scope (all when the scope is empty). */
export function securityGroupsInScope(inventory: Inventory, scope: AuditScope): SecurityGroup[] {
  const vpcs = new Set(scope.vpcIds);
  const sgs = new Set(scope.sgIds);
  return inventory.securityGroups.filter(
    (sg) => (vpcs.size === 0 || vpcs.has(sg.vpcId)) && (sgs.size === 0 || sgs.has(sg.id)),
  );
}

/** Whether a rule can carry traffic on any of the analysed ports (all rules when no port filter). */
function ruleInPortScope(
  rule: { protocolNumber: number | 'all'; fromPort?: number; toPort?: number },
  ports: readonly PortRange[],
): boolean {
  if (ports.length === 0 || rule.protocolNumber === 'all') return true;
  if (!protocolHasPorts(rule.protocolNumber) || rule.fromPort === undefined || rule.toPort === undefined)
    return false;
  const from = rule.fromPort;
  const to = rule.toPort;
  return ports.some((p) => p.from <= to && from <= p.to);
}

/**
 * Runs the whole audit and returns the report.
 *
 * @example
 * const report = await runAudit({ inventory, flowSource, window, scope: { vpcIds: [], sgIds: [] },
 *   config: DEFAULT_CONFIG, mode: 'offline', runId: 'r1', generatedAt: new Date(), toolVersion: '0.1.0' });
 */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const { inventory, config, window, scope } = options;
  const progress = options.progress ?? (() => undefined);

  const scopedSgs = securityGroupsInScope(inventory, scope);
  const scopedSgIds = new Set(scopedSgs.map((sg) => sg.id));
  const ruleIndex = RuleIndex.build(inventory);
  const resources = classifyAll(
    inventory,
    options.instanceNames ? { instanceNames: options.instanceNames } : undefined,
  );
  // What the flow-log configuration allows, before anything was read: which ENIs to query.
  const configured = computeCoverage(inventory, window, config);
  const scopedEnis = inventory.networkInterfaces.filter((eni) => eni.sgIds.some((id) => scopedSgIds.has(id)));
  // resources.csv lists every ENI of the audited VPCs (NAT gateways and transit gateway
  // attachments carry no SG but are part of the picture); an --sg scope narrows it to their ENIs.
  const reportedEnis =
    scope.sgIds.length > 0
      ? scopedEnis
      : inventory.networkInterfaces.filter(
          (eni) => scope.vpcIds.length === 0 || scope.vpcIds.includes(eni.vpcId),
        );
  // The same counts as the report's summary (every reported ENI), naming the SG carriers apart.
  progress(
    `inventory: ${formatQuantity(scopedSgs.length, 'security group', 'security groups')} in scope, ` +
      `${formatQuantity(reportedEnis.length, 'network interface', 'network interfaces')}` +
      (scopedEnis.length === reportedEnis.length
        ? ''
        : ` (${formatCount(scopedEnis.length)} carrying an audited SG)`) +
      `, ${formatQuantity(inventory.flowLogs.length, 'flow log', 'flow logs')}`,
  );

  // Query only ENIs a flow log can have recorded; the rest are 'none' and need no scan.
  const queriedEnis = scopedEnis
    .filter((eni) => (configured.get(eni.id)?.status ?? 'none') !== 'none')
    .map((e) => e.id);
  const resourceTypeOfEni = (eniId: string): ResourceType | undefined => resources.get(eniId)?.type;
  const foldPlan = ephemeralFoldPlan(inventory, resourceTypeOfEni, config);
  const flowResult =
    queriedEnis.length > 0
      ? await options.flowSource.aggregate({
          window,
          eniIds: queriedEnis,
          ...(config.ports.length > 0 ? { ports: config.ports } : {}),
          ...(foldPlan ? { foldPlan } : {}),
          bucketSeconds: config.deliveryBucketSeconds,
        })
      : undefined;
  const stats = flowResult ? sourceStatsOf(flowResult) : [];
  // Coverage as delivered: a flow log covers a day only when it is proven to have delivered then.
  const eniEvidence = { ...inventory, flowLogs: inventory.flowLogs.filter(recordsEnis) };
  const delivery = proveDelivery(eniEvidence, window, deliveryEvidenceOf(stats), {
    bucketSeconds: config.deliveryBucketSeconds,
    toleranceBuckets: config.deliveryToleranceBuckets,
    counterTolerance: config.deliveryCounterTolerance,
  });
  const { readers, folded, matched } = await foldAndMatch(flowResult, inventory, delivery, {
    ruleIndex,
    resourceTypeOfEni,
    config,
  });
  // Rows the fold could not attribute leave their ENI's disuse unproven (silence is not evidence).
  const coverage = withUnattributedRows(
    computeCoverage(inventory, window, config, delivery),
    folded.passThrough,
  );
  progress(`flow aggregates: ${folded.rows} rows from ${flowResult?.stats.records ?? 0} records`);
  const connectionCount = matched.reduce((sum, c) => sum + c.connections, 0);
  progress(
    `connections: ${formatCount(connectionCount)} in ` +
      `${formatQuantity(matched.length, 'group', 'groups')} (${formatCount(folded.transit)} pass-through rows skipped)`,
  );

  const rawUsage = computeRuleUsage(inventory, matched, {
    ruleIndex,
    coverage,
    window,
    sgIds: [...scopedSgIds],
  });
  const releaseMemory = options.releaseMemory ?? (() => undefined);
  releaseMemory();
  const recommended = recommendRules(
    inventory,
    matched,
    {
      ruleIndex,
      sgIds: [...scopedSgIds],
      publicServiceRules: publicServiceRules(inventory, ruleIndex, resources),
    },
    config,
  );
  let usage = assignVerdicts(rawUsage, recommended.narrowable, recommended.publicServices);
  if (config.ports.length > 0) usage = markOutsidePortScope(inventory, usage, config.ports);
  // What the rules refused and where egress goes: the same connections, no second read.
  releaseMemory();
  const traffic = reviewTraffic({
    inventory,
    connections: matched,
    ruleIndex,
    resources,
    coverage,
    sgIds: scopedSgIds,
    config,
    awsServices: folded.awsServices,
    ...(options.egressAllowList ? { allowList: options.egressAllowList } : {}),
    now: options.generatedAt,
  });
  usage = traffic.reverdict(usage);
  // Rules whose use is not proven keep their reach in the recommended set, as written.
  const recommendations = keepUnprovenReach(inventory, usage, recommended.recommendations, scopedSgIds);

  const resourceTypeOfAddress = (addr: string): ResourceType | undefined => {
    const eni = ruleIndex.eniByAddress(addr);
    return eni ? resourceTypeOfEni(eni.id) : undefined;
  };
  // A NACL built from observed traffic blocks everything else: only where every ENI is proven covered.
  const unprovenNacls = naclsWithUnprovenEnis(inventory, coverage);
  const naclIds = new Set(inventory.networkAcls.map((acl) => acl.id).filter((id) => !unprovenNacls.has(id)));
  releaseMemory();
  const naclRecommendations = recommendNacls(
    inventory,
    matched,
    { ruleIndex, resourceTypeOfEni, resourceTypeOfAddress },
    config,
  ).filter((rec) => naclIds.has(rec.naclId));

  const attribution = options.ruleChanges ? attributeRuleChanges(scopedSgs, options.ruleChanges) : undefined;
  if (attribution) {
    const s = attribution.summary;
    progress(
      `rule changes: ${formatQuantity(s.events, 'CloudTrail event', 'CloudTrail events')} read; ${s.attributedRules} rules attributed, ${s.olderRules} older than the history, ${s.unknownRules} unknown`,
    );
  }
  const findings = [...runRiskChecks(inventory, { resources, ruleIndex, config, usage }), ...traffic.findings]
    .filter((f) => scopedSgIds.has(f.sgId))
    .map((f) => withChange(f, attribution))
    .sort(compareFindings);
  progress(`findings: ${findings.length}`);

  const warnings = collectWarnings({
    inventory,
    delivery: delivery.report,
    readers: readers.choices,
    unprovenNacls,
    stats,
    unmatched: matched.filter((c) => c.action === 'ACCEPT' && c.ruleIds.length === 0).length,
    transit: folded.transit,
    coverage,
    scopedEnis: scopedEnis.map((e) => e.id),
  });
  warnings.push(...traffic.warnings);
  for (const message of attribution?.warnings ?? []) warnings.push({ code: 'cloudtrail-history', message });

  // Group once by SG: filtering every list per SG was quadratic (75 s of 90 at 10,000 SGs).
  const worstBySg = new Map<string, Severity>();
  for (const f of findings) {
    const current = worstBySg.get(f.sgId);
    if (current === undefined || SEVERITY_RANK[f.severity] < SEVERITY_RANK[current])
      worstBySg.set(f.sgId, f.severity);
  }
  const recommendationsBySg = groupBySg(recommendations);
  const quotaBySg = groupBySg(recommended.quota);

  const securityGroups = scopedSgs.map((sg): ReportSecurityGroup => {
    const worst = worstBySg.get(sg.id);
    return {
      id: sg.id,
      name: sg.name,
      vpcId: sg.vpcId,
      description: sg.description,
      tags: sg.tags,
      isDefault: sg.name === 'default',
      eniIds: ruleIndex.enisOfSg(sg.id).map((eni) => eni.id),
      referencedBy: ruleIndex.referencingSgs(sg.id),
      rules: sg.rules.map((rule) => {
        const ruleUsage = usage.get(rule.id);
        if (!ruleUsage) throw new Error(`internal: no usage computed for rule ${rule.id}`);
        return {
          id: rule.id,
          ...ruleTrafficText(rule),
          ...(rule.description ? { description: rule.description } : {}),
          ...(rule.securityGroupRuleId ? { securityGroupRuleId: rule.securityGroupRuleId } : {}),
          usage: ruleUsage,
          ...optionalChange(attribution?.rules.get(rule.id)),
        };
      }),
      recommendations: recommendationsBySg.get(sg.id) ?? [],
      quota: quotaBySg.get(sg.id) ?? [],
      ...(worst ? { worstSeverity: worst } : {}),
      ...optionalChange(attribution?.groups.get(sg.id)),
    };
  });

  const resourceRows = reportedEnis.map((eni): ResourceRow => {
    const resource: ResourceRef = resources.get(eni.id) ?? {
      type: 'other',
      id: eni.id,
      name: '',
      basis: 'unclassified',
    };
    return {
      eniId: eni.id,
      sgIds: eni.sgIds,
      resource,
      privateIps: [...eni.privateIpv4, ...eni.ipv6],
      vpcId: eni.vpcId,
      subnetId: eni.subnetId,
      coverage: coverage.get(eni.id)?.status ?? 'none',
    };
  });

  const allRules = securityGroups.flatMap((sg) => sg.rules);
  // The fix of each finding reads the finished report: its rules' verdicts and recommendations.
  return withFixes({
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'sg-audit', version: options.toolVersion },
    runId: options.runId,
    generatedAt: options.generatedAt.toISOString(),
    mode: options.mode,
    account: {
      ...(inventory.accountId ? { id: inventory.accountId } : {}),
      ...(inventory.region ? { region: inventory.region } : {}),
    },
    window: {
      start: new Date(window.start * 1000).toISOString(),
      end: new Date(window.end * 1000).toISOString(),
      days: Math.round(((window.end - window.start) / 86400) * 100) / 100,
    },
    scope: { vpcIds: scope.vpcIds, sgIds: scope.sgIds, ports: config.ports.map(formatPortRange) },
    summary: {
      securityGroups: securityGroups.length,
      ruleEntries: allRules.length,
      networkInterfaces: resourceRows.length,
      findingsBySeverity: countBy(
        SEVERITIES,
        findings.map((f) => f.severity),
      ),
      rulesByStatus: countBy<RuleStatus>(
        RULE_STATUSES,
        allRules.map((r) => r.usage.status),
      ),
      rulesByVerdict: countBy<RuleVerdict>(
        RULE_VERDICTS,
        allRules.map((r) => r.usage.verdict),
      ),
      enisByCoverage: countBy<CoverageStatus>(
        COVERAGE_STATUSES,
        resourceRows.map((r) => r.coverage),
      ),
      flowRecords: stats.reduce((sum, s) => sum + s.records, 0),
      connections: connectionCount,
      malformedRecords: stats.reduce((sum, s) => sum + s.malformedRecords, 0),
      bytesScanned: stats.reduce((sum, s) => sum + s.bytesScanned, 0),
      queries: stats.reduce((sum, s) => sum + s.queries, 0),
      flowLogsByDelivery: countBy(
        DELIVERY_STATUSES,
        delivery.report.flowLogs.map((f) => f.status),
      ),
    },
    findings,
    securityGroups,
    resources: resourceRows,
    coverage: reportedEnis.flatMap((eni) => {
      const c = coverage.get(eni.id);
      return c ? [c] : [];
    }),
    naclRecommendations,
    networkAcls: inventory.networkAcls
      .filter((acl) => scope.vpcIds.length === 0 || scope.vpcIds.includes(acl.vpcId))
      .map((acl) => ({
        id: acl.id,
        vpcId: acl.vpcId,
        isDefault: acl.isDefault,
        subnetIds: acl.subnetIds,
        entries: acl.entries,
      })),
    // The per-ENI delivery counts are summed up in `delivery`; the report keeps the rest.
    flowSources: stats.map(({ deliveries: _counts, ...rest }) => rest),
    delivery: delivery.report,
    warnings: distinctWarnings({ warnings }),
    rejected: traffic.rejected,
    egress: traffic.egress,
    ...(attribution ? { changeHistory: attribution.summary } : {}),
  });
}

/** Worst first, what is live first (render/format's findingLiveness), then SG, rule and check. */
function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    findingLiveness(a) - findingLiveness(b) ||
    a.sgId.localeCompare(b.sgId) ||
    (a.ruleId ?? '').localeCompare(b.ruleId ?? '') ||
    a.check.localeCompare(b.check)
  );
}

function optionalChange<T>(change: T | undefined): { change?: T } {
  return change === undefined ? {} : { change };
}

/** A finding with its rule's change (its SG's creation for SG-level findings). */
function withChange(finding: Finding, attribution: Attribution | undefined): Finding {
  if (attribution === undefined) return finding;
  const change =
    finding.ruleId === undefined
      ? attribution.groups.get(finding.sgId)
      : attribution.rules.get(finding.ruleId);
  return change === undefined ? finding : { ...finding, change };
}

/**
 * The connections of a flow result, one flow log read per ENI and action: folded from the rows it
 * holds, or, when the source streams them, from two reads of its rows (none held in memory).
 */
async function foldFlowResult(
  flowResult: FlowAggregateResult | undefined,
  inventory: Inventory,
  delivery: DeliveryProof,
  fold: FoldContext & { readonly config: AnalysisConfig },
): Promise<{ readers: OneReaderResult; folded: StreamedFoldResult }> {
  const { config, ...context } = fold;
  const streamed = flowResult?.rows;
  if (streamed === undefined) {
    const readers = keepOneReaderPerEni(flowResult?.aggregates ?? [], inventory.flowLogs, delivery);
    const folded = foldConnections(readers.aggregates, context, config);
    return { readers, folded: { ...folded, rows: readers.aggregates.length } };
  }
  const choice = chooseOneReader(await streamed.readers(), inventory.flowLogs, delivery);
  const folded = await foldConnectionRows(streamed, context, config, {
    keep: (row) => choice.keeps(row),
    skipped: (row) => choice.leftOut(row),
  });
  // Nothing reads the rows again: the source frees them before the analyses fill the memory.
  await streamed.release?.();
  return { readers: { aggregates: [], choices: choice.choices }, folded };
}

/**
 * {@link foldFlowResult}, then the connections in the port scope matched to the rules that admit
 * them. The folded connections are not returned: the matched ones copy them, and keeping both
 * would hold every connection (one per peer and service port) twice.
 */
async function foldAndMatch(
  flowResult: FlowAggregateResult | undefined,
  inventory: Inventory,
  delivery: DeliveryProof,
  fold: FoldContext & { readonly config: AnalysisConfig },
): Promise<{
  readers: OneReaderResult;
  folded: Omit<StreamedFoldResult, 'connections'>;
  matched: MatchedConnection[];
}> {
  const { readers, folded } = await foldFlowResult(flowResult, inventory, delivery, fold);
  const { connections, ...rest } = folded;
  const { ports } = fold.config;
  const inScope =
    ports.length === 0
      ? connections
      : connections.filter((c) => c.port === null || rangesContain(ports, c.port));
  return { readers, folded: rest, matched: matchConnections(inScope, fold.ruleIndex) };
}

const PUBLIC_WEB_PORTS: ReadonlySet<number> = new Set([80, 443]);

/**
 * World-open tcp 80/443 rules of SGs whose every ENI is a load balancer, API Gateway or endpoint:
 * public by design, so they are kept as written rather than narrowed to last week's clients.
 */
export function publicServiceRules(
  inventory: Inventory,
  ruleIndex: RuleIndex,
  resources: ReadonlyMap<string, ResourceRef>,
): Set<string> {
  const ids = new Set<string>();
  for (const sg of inventory.securityGroups) {
    const enis = ruleIndex.enisOfSg(sg.id);
    if (enis.length === 0) continue;
    if (!enis.every((eni) => isLoadBalancerLike(resources.get(eni.id)?.type ?? 'other'))) continue;
    for (const rule of sg.rules) {
      if (rule.direction !== 'ingress' || rule.protocolNumber !== 6 || rule.peer.kind !== 'cidr') continue;
      if (
        rule.fromPort === undefined ||
        rule.fromPort !== rule.toPort ||
        !PUBLIC_WEB_PORTS.has(rule.fromPort)
      )
        continue;
      if (rule.peer.cidr === '0.0.0.0/0' || rule.peer.cidr === '::/0') ids.add(rule.id);
    }
  }
  return ids;
}

function groupBySg<T extends { readonly sgId: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.sgId);
    if (list === undefined) groups.set(item.sgId, [item]);
    else list.push(item);
  }
  return groups;
}

/** With a --ports filter, rules that cannot carry the analysed ports have no evidence either way. */
function markOutsidePortScope(
  inventory: Inventory,
  usage: Map<string, RuleUsage>,
  ports: readonly PortRange[],
): Map<string, RuleUsage> {
  const result = new Map(usage);
  for (const sg of inventory.securityGroups) {
    for (const rule of sg.rules) {
      const current = result.get(rule.id);
      if (!current || ruleInPortScope(rule, ports) || current.status === 'used') continue;
      result.set(rule.id, {
        ...current,
        status: 'unknown',
        statusReason: `outside the analysed ports (${ports.map(formatPortRange).join(',')})`,
        verdict: 'review',
        verdictReason: 'not analysed: outside the --ports filter',
      });
    }
  }
  return result;
}

/**
 * The statistics the report lists: one entry per engine when the source says so (a composite of
 * several engines sets `sourceStats`), else the result's one.
 */
function sourceStatsOf(
  result: FlowAggregateResult & { readonly sourceStats?: readonly FlowSourceStats[] },
): readonly FlowSourceStats[] {
  return result.sourceStats ?? [result.stats];
}

/** Every source's delivery evidence, as one. */
function deliveryEvidenceOf(stats: readonly FlowSourceStats[]): DeliveryEvidence {
  const declared = stats.filter((s) => s.flowLogIds !== undefined);
  return {
    counts: stats.flatMap((s) => s.deliveries ?? []),
    counters: stats.flatMap((s) => s.counters ?? []),
    // Sources that name no flow logs (older stored results) leave every log counted as read.
    ...(declared.length === stats.length && stats.length > 0
      ? { readFlowLogIds: new Set(declared.flatMap((s) => s.flowLogIds ?? [])) }
      : {}),
  };
}

/**
 * The delivery warnings, loud and first: inconsistent sources, silent flow logs, gaps.
 * A flow log nobody read is already warned about by whoever planned the reading.
 */
function deliveryWarnings(report: DeliveryReport): ReportWarning[] {
  const warnings: ReportWarning[] = [];
  const label = (f: FlowLogDelivery) => `flow log ${f.flowLogId} (${f.resourceId})`;
  for (const f of report.flowLogs) {
    if (f.status === 'inconsistent') {
      warnings.push({
        code: 'flow-source-inconsistent',
        message: `${label(f)}: its source's own counters disagree with what was read (${f.inconsistencies.join('; ')}); the rules of the ENIs it covers are 'unknown'`,
      });
    }
  }
  for (const f of report.flowLogs) {
    if (f.status === 'silent') {
      warnings.push({
        code: 'flow-log-silent',
        message: `${label(f)} delivered no records in the window: the rules of the ENIs it covers are 'unknown', never 'unused'`,
      });
    }
  }
  for (const f of report.flowLogs) {
    if (f.status === 'gaps') {
      const when = f.gaps.map((g) => gapText(g, report.bucketSeconds)).join(', ');
      warnings.push({
        code: 'delivery-gap',
        message: `no records from ${label(f)} ${when}: rules of the ENIs it alone covers are 'unknown' for lack of proof`,
      });
    }
  }
  return warnings;
}

/** NACLs (of the inventory) whose subnets hold an ENI that carries an SG but is not fully covered, with those ENIs. */
function naclsWithUnprovenEnis(
  inventory: Inventory,
  coverage: ReadonlyMap<string, EniCoverage>,
): Map<string, string[]> {
  const unproven = new Map<string, string[]>();
  for (const acl of inventory.networkAcls) {
    const subnets = new Set(acl.subnetIds);
    const enis = inventory.networkInterfaces
      .filter((eni) => subnets.has(eni.subnetId) && eni.sgIds.length > 0)
      .filter((eni) => coverage.get(eni.id)?.status !== 'full')
      .map((eni) => eni.id);
    if (enis.length > 0) unproven.set(acl.id, enis);
  }
  return unproven;
}

/**
 * What the inventory and the records disagree on: ENIs that name SGs the inventory lacks (their
 * rules are not judged), and records of ENIs the inventory does not hold (not attributed).
 */
function inventoryWarnings(inventory: Inventory, stats: readonly FlowSourceStats[]): ReportWarning[] {
  const warnings: ReportWarning[] = inventory.flowLogs
    .filter((log) => !recordsEnis(log))
    .map((log) => ({
      code: 'flow-log-skipped',
      message: unreadWarning({ flowLogId: log.id, reason: NOT_ENI_EVIDENCE }),
    }));
  const sgIds = new Set(inventory.securityGroups.map((sg) => sg.id));
  const missing = new Map<string, string[]>();
  for (const eni of inventory.networkInterfaces) {
    for (const sgId of eni.sgIds) {
      if (!sgIds.has(sgId)) missing.set(sgId, [...(missing.get(sgId) ?? []), eni.id]);
    }
  }
  for (const [sgId, enis] of missing) {
    warnings.push({
      code: 'unknown-security-group',
      message: `${sgId} is attached to ${enis.join(', ')} but absent from the security groups: its rules are not audited`,
    });
  }
  const eniIds = new Set(inventory.networkInterfaces.map((eni) => eni.id));
  const unknown = new Map<string, number>();
  for (const s of stats) {
    for (const other of s.otherEnis ?? []) {
      if (!eniIds.has(other.eniId)) unknown.set(other.eniId, (unknown.get(other.eniId) ?? 0) + other.records);
    }
  }
  if (unknown.size > 0) {
    const list = [...unknown].sort((a, b) => b[1] - a[1]);
    const records = list.reduce((sum, [, n]) => sum + n, 0);
    warnings.push({
      code: 'unknown-eni-records',
      message: `${records} record(s) of ${list.length} ENI(s) absent from the network interfaces were not attributed to any rule (${list
        .slice(0, 10)
        .map(([id, n]) => `${id}: ${n}`)
        .join(
          ', ',
        )}${list.length > 10 ? ', …' : ''}): a stale export, or interfaces deleted during the window`,
    });
  }
  return warnings;
}

function collectWarnings(input: {
  inventory: Inventory;
  delivery: DeliveryReport;
  readers: OneReaderResult['choices'];
  unprovenNacls: ReadonlyMap<string, readonly string[]>;
  stats: readonly FlowSourceStats[];
  unmatched: number;
  transit: number;
  coverage: ReadonlyMap<string, EniCoverage>;
  scopedEnis: readonly string[];
}): ReportWarning[] {
  const warnings: ReportWarning[] = [
    ...deliveryWarnings(input.delivery),
    ...inventoryWarnings(input.inventory, input.stats),
  ];
  for (const stats of input.stats) warnings.push(...flowSourceWarnings(stats));
  for (const [naclId, enis] of input.unprovenNacls) {
    warnings.push({
      code: 'nacl-not-recommended',
      message: `no NACL recommendation for ${naclId}: ${enis.length} ENI(s) in its subnets lack proven flow-log coverage (${enis.slice(0, 5).join(', ')}${enis.length > 5 ? ', …' : ''}), and a NACL built from the traffic seen would block what they may carry`,
    });
  }
  if (input.readers.length > 0) {
    const first = input.readers[0];
    warnings.push({
      code: 'flow-logs-overlap',
      message: `${input.readers.length} ENI(s) are recorded by more than one flow log; each record is counted once, from one log per ENI (e.g. ${first?.eniId}: ${first?.read} read, ${first?.leftOut.join(', ')} left out, ${first?.records} records)`,
    });
  }
  if (input.unmatched > 0) {
    warnings.push({
      code: 'unmatched-connections',
      message: `${input.unmatched} accepted connection group(s) matched no rule of the ENI's security groups (inventory changed during the window, or traffic the SGs do not evaluate)`,
    });
  }
  if (input.transit > 0) {
    warnings.push({
      code: 'pass-through-traffic',
      message: `${input.transit} aggregate row(s) had neither address on the ENI (NAT/transit pass-through or addresses not in the inventory) and were not attributed to rules`,
    });
  }
  const uncovered = input.scopedEnis.filter((id) => (input.coverage.get(id)?.status ?? 'none') === 'none');
  if (uncovered.length > 0) {
    warnings.push({
      code: 'no-flow-log',
      message: `${uncovered.length} network interface(s) have no flow log: their rules cannot be judged unused (${uncovered.slice(0, 5).join(', ')}${uncovered.length > 5 ? ', …' : ''})`,
    });
  }
  return warnings;
}

/** How a source words an object cut short (adapters/local/duckdb: 'truncated gzip object: …'). */
const TRUNCATED_OBJECT = /\btruncated (gzip )?object\b/;

function flowSourceWarnings(stats: FlowSourceStats): ReportWarning[] {
  const warnings: ReportWarning[] = [];
  if (stats.malformedRecords > 0) {
    // One warning with its samples: each line is said once, under one code.
    warnings.push({
      code: 'malformed-records',
      message: `${stats.malformedRecords} flow-log line(s) could not be parsed and were not analysed`,
      ...(stats.malformedSamples.length > 0
        ? { samples: stats.malformedSamples.map(({ file, line, reason }) => ({ file, line, reason })) }
        : {}),
    });
  }
  if (stats.skipdataRecords > 0) {
    warnings.push({
      code: 'skipdata',
      message: `${stats.skipdataRecords} SKIPDATA record(s): flow logs lost records during the window; usage counts are lower bounds`,
    });
  }
  for (const warning of stats.warnings) {
    // A cut object is a fact of its own: its records up to the cut were read, the rest is lost.
    warnings.push({
      code: TRUNCATED_OBJECT.test(warning) ? 'truncated-object' : 'flow-source',
      message: warning,
    });
  }
  return warnings;
}
