/**
 * The audit's two traffic views beyond rule usage, run on the one fold's connections: what the
 * rules refused (rejected connections by class) and where egress goes (external destinations per
 * SG, held against the allow-list), with their findings, their warnings, and the verdict of rules
 * whose admitted traffic a NACL refused (kept for review rather than removed: the traffic wants
 * the rule). runAudit calls it; it reads no flow source of its own.
 */
import { reviewEgress } from './analysis/egress';
import { analyseRejected, type BlockedRule } from './analysis/rejected';
import type { AnalysisConfig } from './config';
import type { EniCoverage, Finding, MatchedConnection, RuleUsage } from './model/analysis';
import type { EgressReport } from './model/egress';
import type { Inventory, ResourceRef } from './model/inventory';
import type { RejectedReport } from './model/rejected';
import { formatQuantity } from './render/format';
import type { ReportWarning } from './report/model';
import { ProbeTally, trafficFindings } from './risk/traffic-checks';
import type { RuleIndex } from './rules/rule-index';
import { type EgressAllowList, EgressAllowMatcher } from './suppressions/egress-allowlist';

export interface TrafficReviewInput {
  readonly inventory: Inventory;
  /** The fold's connections, ACCEPT ones matched to rules. */
  readonly connections: readonly MatchedConnection[];
  readonly ruleIndex: RuleIndex;
  readonly resources: ReadonlyMap<string, ResourceRef>;
  readonly coverage: ReadonlyMap<string, EniCoverage>;
  /** Audited SGs. */
  readonly sgIds: ReadonlySet<string>;
  readonly config: AnalysisConfig;
  /** The AWS service the flow logs named for an address (the fold's awsServices); absent: none. */
  readonly awsServices?: ReadonlyMap<string, string>;
  readonly allowList?: EgressAllowList;
  /** Allow-list entries are active through their expiry date at this time (the run's). */
  readonly now: Date;
}

export interface TrafficReview {
  readonly rejected: RejectedReport;
  readonly egress: EgressReport;
  readonly findings: Finding[];
  readonly warnings: ReportWarning[];
  /** Rule usage with unused rules whose admitted connections a NACL refused turned to review. */
  reverdict(usage: ReadonlyMap<string, RuleUsage>): Map<string, RuleUsage>;
}

function allowListWarnings(
  list: EgressAllowList | undefined,
  matcher: EgressAllowMatcher | undefined,
  inventory: Inventory,
): ReportWarning[] {
  if (list === undefined || matcher === undefined) return [];
  const prefixLists = new Set(inventory.prefixLists.map((pl) => pl.id.toLowerCase()));
  return [
    ...matcher.expired().map((e) => ({
      code: 'egress-allowlist-expired',
      message: `egress allow-list entry ${e.id} (owner ${e.owner}) expired on ${e.expires}: the destinations it expected count as unexpected again`,
      file: list.file,
    })),
    ...list.entries
      .filter((e) => e.match.prefixList !== undefined && !prefixLists.has(e.match.prefixList.toLowerCase()))
      .map((e) => ({
        code: 'egress-allowlist-unknown-prefix-list',
        message: `egress allow-list entry ${e.id} names ${e.match.prefixList}, which the inventory does not hold: it expects nothing`,
        file: list.file,
      })),
    ...matcher.unused().map((e) => ({
      code: 'egress-allowlist-unused',
      message: `egress allow-list entry ${e.id} matched no destination in the window`,
      file: list.file,
    })),
  ];
}

function rejectedWarnings(
  rejected: RejectedReport,
  coverage: ReadonlyMap<string, EniCoverage>,
): ReportWarning[] {
  const warnings: ReportWarning[] = [];
  // ENIs without any flow log are named by 'no-flow-log' already; these have logs that skip REJECT.
  const acceptOnly = rejected.unrecordedEnis.filter((id) => (coverage.get(id)?.status ?? 'none') !== 'none');
  if (acceptOnly.length > 0) {
    warnings.push({
      code: 'rejects-not-recorded',
      message: `${formatQuantity(acceptOnly.length, 'ENI has', 'ENIs have')} only ACCEPT flow logs: what their rules refused is not seen, which is no evidence that nothing was (${acceptOnly.slice(0, 5).join(', ')}${acceptOnly.length > 5 ? ', …' : ''})`,
    });
  }
  if (rejected.omittedRows > 0) {
    warnings.push({
      code: 'rejected-rows-omitted',
      message: `${formatQuantity(rejected.omittedRows, 'probe group was', 'probe groups were')} left out of the rejected list (the least tried; rejectedRowLimit): the totals and top lists count them`,
    });
  }
  return warnings;
}

function reverdictOf(blocked: ReadonlyMap<string, BlockedRule>) {
  return (usage: ReadonlyMap<string, RuleUsage>): Map<string, RuleUsage> => {
    const result = new Map(usage);
    for (const [ruleId, block] of blocked) {
      const current = result.get(ruleId);
      if (current?.status !== 'unused' || current.verdict !== 'remove') continue;
      result.set(ruleId, {
        ...current,
        verdict: 'review',
        verdictReason: `no connection it admits got through, but ${formatQuantity(block.connections, 'attempt', 'attempts')} it admits were refused by ${block.nacl}: fix the NACL, or remove the rule if that traffic is unwanted`,
      });
    }
    return result;
  };
}

/**
 * Runs both traffic views on the fold's connections.
 *
 * @example
 * const traffic = reviewTraffic({ inventory, connections: matched, ruleIndex, resources, coverage, sgIds, config, now });
 * traffic.rejected.byClass // { 'missing-rule': 12, nacl: 8, probe: 1204 }
 */
export function reviewTraffic(input: TrafficReviewInput): TrafficReview {
  const { inventory, ruleIndex, coverage, config, sgIds } = input;
  const eniIds = new Set(
    inventory.networkInterfaces.filter((eni) => eni.sgIds.some((id) => sgIds.has(id))).map((eni) => eni.id),
  );
  const probes = new ProbeTally();
  const rejected = analyseRejected(
    input.connections,
    { inventory, ruleIndex, resources: input.resources, coverage, eniIds, config },
    (row) => probes.add(row),
  );
  const matcher = input.allowList ? new EgressAllowMatcher(input.allowList, input.now) : undefined;
  const egress = reviewEgress(input.connections, {
    inventory,
    ruleIndex,
    coverage,
    sgIds,
    config,
    ...(input.awsServices ? { awsServices: input.awsServices } : {}),
    ...(matcher ? { allowList: matcher } : {}),
  });
  return {
    rejected: rejected.report,
    egress: egress.report,
    findings: trafficFindings(
      rejected.rows,
      egress.destinations,
      {
        resources: input.resources,
        ruleIndex,
        config,
        sgIds,
        ...(input.allowList ? { allowListFile: input.allowList.file } : {}),
      },
      probes,
    ),
    warnings: [
      ...rejectedWarnings(rejected.report, coverage),
      ...allowListWarnings(input.allowList, matcher, inventory),
    ],
    reverdict: reverdictOf(rejected.blockedRules),
  };
}
