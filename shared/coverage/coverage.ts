/**
 * Flow-log coverage per ENI: which flow logs apply (VPC, subnet or ENI level), whether they log
 * accepted traffic for the whole window with the fields the analysis needs, and — once the flow
 * sources were read — whether they are proven to have delivered in every bucket of the window
 * (./delivery.ts). A rule may only be called unused when every ENI carrying it is fully covered,
 * so coverage comes first.
 */
import type { AnalysisConfig } from '../config';
import { hasField, requiredFieldsMissing } from '../flow/format';
import { COVERAGE_STATUSES, type CoverageStatus, type EniCoverage } from '../model/analysis';
import type { TimeWindow } from '../model/flow';
import type { FlowLogConfig, Inventory, NetworkInterface } from '../model/inventory';
import { type DeliveryProof, gapText } from './delivery';

/** What one applicable flow log contributes to an ENI's coverage. */
interface LogAssessment {
  readonly log: FlowLogConfig;
  /** Logs nothing usable (inactive, failed delivery, created after the window). */
  readonly excluded: boolean;
  readonly acceptsTraffic: boolean;
  /** Required fields the format lacks. */
  readonly missingFields: readonly string[];
  /** Epoch seconds from which the log records, when after the window start. */
  readonly lateStart?: number;
  /** The creation time could not be read, so coverage of the window start is unproven. */
  readonly unreadableCreation: boolean;
  readonly reasons: readonly string[];
}

function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

function logLabel(log: FlowLogConfig): string {
  const level = log.resourceId.startsWith('vpc-')
    ? 'VPC'
    : log.resourceId.startsWith('subnet-')
      ? 'subnet'
      : log.resourceId.startsWith('eni-')
        ? 'ENI'
        : log.scope;
  return `flow log ${log.id} (${level} ${log.resourceId})`;
}

function assess(log: FlowLogConfig, window: TimeWindow): LogAssessment {
  const label = logLabel(log);
  const reasons: string[] = [];
  let excluded = false;
  if (log.status !== undefined && log.status.toUpperCase() !== 'ACTIVE') {
    excluded = true;
    reasons.push(`${label} is not active (status ${log.status})`);
  }
  if (log.deliverStatus?.toUpperCase() === 'FAILED') {
    excluded = true;
    reasons.push(`${label} fails to deliver logs (DeliverLogsStatus FAILED)`);
  }
  let lateStart: number | undefined;
  let unreadableCreation = false;
  if (log.creationTime !== undefined) {
    const created = Date.parse(log.creationTime);
    if (Number.isNaN(created)) {
      unreadableCreation = true;
      reasons.push(`${label} has an unreadable creation time '${log.creationTime}'`);
    } else {
      const createdSeconds = Math.ceil(created / 1000);
      if (createdSeconds > window.end) {
        excluded = true;
        reasons.push(`${label} created ${isoSeconds(createdSeconds)}, after the window end`);
      } else if (createdSeconds > window.start) {
        lateStart = createdSeconds;
        reasons.push(`${label} created ${isoSeconds(createdSeconds)}, after the window start`);
      }
    }
  }
  const missingFields = requiredFieldsMissing(log.fields);
  if (missingFields.length > 0) {
    reasons.push(
      `${label} format lacks ${missingFields.join(', ')}: its records cannot be attributed to rules`,
    );
  }
  const acceptsTraffic = log.trafficType === 'ACCEPT' || log.trafficType === 'ALL';
  if (!acceptsTraffic) reasons.push(`${label} records REJECT traffic only, which proves nothing about use`);
  return {
    log,
    excluded,
    acceptsTraffic,
    missingFields,
    ...(lateStart !== undefined ? { lateStart } : {}),
    unreadableCreation,
    reasons,
  };
}

function appliesTo(log: FlowLogConfig, eni: NetworkInterface): boolean {
  return log.resourceId === eni.id || log.resourceId === eni.subnetId || log.resourceId === eni.vpcId;
}

/**
 * Why delivery is not proven for an ENI, or nothing when every required bucket is proven by one of
 * its evidence logs (within the tolerance): gaps named per log, inconsistent logs with the counter.
 */
function deliveryShortfall(
  eni: NetworkInterface,
  evidenceLogs: readonly LogAssessment[],
  proof: DeliveryProof,
): { reasons: string[]; gaps: { from: number; to: number }[] } {
  const { buckets, options } = proof;
  const covered = buckets.map(() => false);
  for (const { log } of evidenceLogs) {
    proof.provenFor(log.id, eni.id).forEach((proven, i) => {
      if (proven) covered[i] = true;
    });
  }
  const missing = buckets.filter((b, i) => b.required && !covered[i]);
  if (missing.length <= options.toleranceBuckets) return { reasons: [], gaps: [] };
  const gaps: { from: number; to: number }[] = [];
  buckets.forEach((bucket, i) => {
    if (!bucket.required) return;
    const last = gaps[gaps.length - 1];
    if (!covered[i]) {
      if (last && last.to + 1 >= bucket.from) last.to = bucket.to;
      else gaps.push({ from: bucket.from, to: bucket.to });
    }
  });
  const reasons: string[] = [];
  for (const { log } of evidenceLogs) {
    const problems = proof.inconsistencies(log.id);
    if (problems.length > 0) {
      reasons.push(`${logLabel(log)} is inconsistent with its source's counters (${problems.join('; ')})`);
    }
  }
  const logs = evidenceLogs.filter((a) => proof.inconsistencies(a.log.id).length === 0).map((a) => a.log.id);
  if (logs.length > 0) {
    const when = gaps.map((g) => gapText(g, options.bucketSeconds)).join(', ');
    reasons.push(
      `no records from ${logs.join(' or ')} ${when}: delivery not proven, so silence is not evidence`,
    );
  }
  return { reasons, gaps };
}

function coverageOf(
  eni: NetworkInterface,
  assessments: readonly LogAssessment[],
  proof: DeliveryProof | undefined,
): EniCoverage {
  const applicable = assessments.filter((a) => appliesTo(a.log, eni));
  const counted = applicable.filter((a) => !a.excluded);
  const accepting = counted.filter((a) => a.acceptsTraffic);
  const attributing = accepting.filter((a) => a.missingFields.length === 0);
  const wholeWindow = attributing.filter((a) => a.lateStart === undefined && !a.unreadableCreation);
  const evidenceLogs = attributing.length > 0 ? attributing : accepting;
  const base = {
    eniId: eni.id,
    flowLogIds: applicable.map((a) => a.log.id),
    hasTcpFlags: evidenceLogs.some((a) => hasField(a.log.fields, 'tcp-flags')),
    hasPacketAddresses: evidenceLogs.some(
      (a) => hasField(a.log.fields, 'pkt-srcaddr') && hasField(a.log.fields, 'pkt-dstaddr'),
    ),
  };
  const shortfall =
    proof && attributing.length > 0 ? deliveryShortfall(eni, attributing, proof) : { reasons: [], gaps: [] };
  const deliveryGaps = shortfall.gaps.length > 0 ? { deliveryGaps: shortfall.gaps } : {};
  if (wholeWindow.length > 0 && shortfall.reasons.length === 0)
    return { ...base, status: 'full', reasons: [] };

  const reasons = [...applicable.flatMap((a) => a.reasons), ...shortfall.reasons];
  if (accepting.length > 0) {
    const starts = attributing.flatMap((a) => (a.lateStart !== undefined ? [a.lateStart] : []));
    const coveredFrom = starts.length > 0 ? Math.min(...starts) : undefined;
    return {
      ...base,
      status: 'partial',
      reasons,
      ...(coveredFrom !== undefined ? { coveredFrom } : {}),
      ...deliveryGaps,
    };
  }
  if (counted.length > 0) return { ...base, status: 'reject-only', reasons };
  if (applicable.length === 0) {
    reasons.push(`no flow log applies (none on VPC ${eni.vpcId}, subnet ${eni.subnetId} or ENI ${eni.id})`);
  }
  return { ...base, status: 'none', reasons };
}

/**
 * The flow-log coverage of every ENI over the window. A log counts when it is active, delivers,
 * and exists before the window end; full = an ACCEPT or ALL log with every field the aggregation
 * needs, created at or before the window start; partial = accepted traffic logged for only part
 * of the window (coveredFrom) or without the needed fields; reject-only = only REJECT logs count;
 * none = no log applies or none counts. Reasons name the log, its level and what is wrong.
 * Given the delivery proof, full also needs every required bucket of the window proven for the
 * ENI by one of its logs (within the tolerance); otherwise the ENI is partial, the reason naming
 * the logs and the unproven days, and `deliveryGaps` holding them.
 * A format without tcp-flags is still full: folding falls back to port heuristics
 * (hasTcpFlags false).
 *
 * @example
 * computeCoverage(inventory, { start: 1763251200, end: 1763856000 }, DEFAULT_CONFIG).get('eni-1')
 * // { eniId: 'eni-1', status: 'full', flowLogIds: ['fl-1'], reasons: [], hasTcpFlags: false, … }
 */
export function computeCoverage(
  inventory: Inventory,
  window: TimeWindow,
  // Kept for the pipeline's uniform signature; the delivery thresholds travel with the proof.
  _config: AnalysisConfig,
  /** What the flow sources proved was delivered; absent before they were read (configuration only). */
  delivery?: DeliveryProof,
): Map<string, EniCoverage> {
  const relevant = new Set<string>();
  for (const eni of inventory.networkInterfaces) {
    relevant.add(eni.id).add(eni.subnetId).add(eni.vpcId);
  }
  // Assess each log once, then index by the resource it is attached to (linear in ENIs + logs).
  const byResource = new Map<string, LogAssessment[]>();
  for (const log of inventory.flowLogs) {
    if (!relevant.has(log.resourceId)) continue;
    const list = byResource.get(log.resourceId) ?? [];
    list.push(assess(log, window));
    byResource.set(log.resourceId, list);
  }
  const coverage = new Map<string, EniCoverage>();
  for (const eni of inventory.networkInterfaces) {
    const assessments = [
      ...(byResource.get(eni.vpcId) ?? []),
      ...(byResource.get(eni.subnetId) ?? []),
      ...(byResource.get(eni.id) ?? []),
    ];
    coverage.set(eni.id, coverageOf(eni, assessments, delivery));
  }
  return coverage;
}

/**
 * Coverage once the fold has read the rows: a fully covered ENI with accepted rows the fold could
 * not attribute (neither address its own: traffic passing through it — an appliance forwarding
 * it, read by its packet-level addresses — or addresses the inventory lacks) becomes partial,
 * since its rules may have admitted that traffic: their disuse is not proven.
 *
 * @example withUnattributedRows(coverage, new Map([['eni-fw', 12]])).get('eni-fw')?.status // 'partial'
 */
export function withUnattributedRows(
  coverage: ReadonlyMap<string, EniCoverage>,
  rowsByEni: ReadonlyMap<string, number>,
): Map<string, EniCoverage> {
  const adjusted = new Map(coverage);
  for (const [eniId, rows] of rowsByEni) {
    const c = coverage.get(eniId);
    if (c?.status !== 'full') continue;
    adjusted.set(eniId, {
      ...c,
      status: 'partial',
      reasons: [
        `${rows} accepted flow-log row(s) passed through the ENI (neither address its own${c.hasPacketAddresses ? ', as pkt-srcaddr/pkt-dstaddr show' : ''}) and are not attributed to its rules`,
      ],
    });
  }
  return adjusted;
}

/**
 * The weakest of several coverage statuses (full > partial > reject-only > none); undefined when
 * there are none (callers decide what "no ENIs" means, e.g. RuleUsage's 'no-enis').
 *
 * @example coverageSummary(['full', 'reject-only', 'partial']) // 'reject-only'
 */
export function coverageSummary(statuses: Iterable<CoverageStatus>): CoverageStatus | undefined {
  let weakest: number | undefined;
  for (const status of statuses) {
    const rank = COVERAGE_STATUSES.indexOf(status);
    if (weakest === undefined || rank > weakest) weakest = rank;
  }
  return weakest === undefined ? undefined : COVERAGE_STATUSES[weakest];
}
