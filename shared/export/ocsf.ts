/**
 * findings.ocsf.json: the report's findings as OCSF 1.3.0 Detection Finding events (class 2004,
 * category Findings), for SIEMs and data lakes that read OCSF (Security Lake, Splunk, …).
 *
 * One event per current finding (activity Create when new in this run, Update when carried over;
 * status New, or Suppressed under an active accepted risk) and one per finding the diff found
 * resolved (activity Close, status Resolved). The rule, the traffic evidence, the Security Hub
 * control ids and the suppression have no Detection Finding attribute of their own: they go to
 * `unmapped`, and the SG, the peer and the port are also `observables`. Deterministic: events in
 * the renderers' finding order, keys in a fixed order, times only from the report.
 */
import type { Finding, Severity } from '../model/analysis';
import type { RuleChange } from '../model/rule-change';
import { compareFindings, findingRuleText, resourceCounts } from '../render/format';
import type { AuditReport } from '../report/model';
import {
  asffFindingId,
  asffTypes,
  findingDescription,
  findingRemediation,
  indexReport,
  observedTimes,
  partitionOf,
  type ReportIndex,
  securityGroupArn,
} from './asff';

export const OCSF_SCHEMA_VERSION = '1.3.0';
export const OCSF_DETECTION_FINDING_CLASS_UID = 2004;
export const OCSF_FINDINGS_CATEGORY_UID = 2;

/** OCSF severity_id: 1 Informational … 5 Critical. */
export const OCSF_SEVERITY: Readonly<Record<Severity, { readonly id: number; readonly name: string }>> = {
  info: { id: 1, name: 'Informational' },
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
};

const ACTIVITY = {
  create: { id: 1, name: 'Create' },
  update: { id: 2, name: 'Update' },
  close: { id: 3, name: 'Close' },
} as const;

const STATUS = {
  new: { id: 1, name: 'New' },
  suppressed: { id: 3, name: 'Suppressed' },
  resolved: { id: 4, name: 'Resolved' },
} as const;

/** Observable type_id values of the OCSF dictionary. */
const OBSERVABLE = {
  ipAddress: { id: 2, name: 'IP Address' },
  resourceUid: { id: 10, name: 'Resource UID' },
  port: { id: 11, name: 'Port' },
  subnet: { id: 12, name: 'Subnet' },
} as const;

export interface OcsfObservable {
  readonly name: string;
  readonly type_id: number;
  readonly type: string;
  readonly value: string;
}

export interface OcsfResource {
  /** The SG's ARN when the report names the account and region, else the SG id. */
  readonly uid: string;
  readonly name: string;
  readonly type: 'AWS::EC2::SecurityGroup';
  readonly region?: string;
  readonly cloud_partition?: string;
  readonly data: {
    readonly group_id: string;
    readonly vpc_id: string;
    readonly tags?: Readonly<Record<string, string>>;
  };
}

/** The fields of an OCSF 1.3.0 Detection Finding this export fills. */
export interface OcsfDetectionFinding {
  readonly activity_id: number;
  readonly activity_name: string;
  readonly category_uid: typeof OCSF_FINDINGS_CATEGORY_UID;
  readonly category_name: 'Findings';
  readonly class_uid: typeof OCSF_DETECTION_FINDING_CLASS_UID;
  readonly class_name: 'Detection Finding';
  readonly type_uid: number;
  readonly type_name: string;
  readonly severity_id: number;
  readonly severity: string;
  readonly status_id: number;
  readonly status: string;
  /** Epoch milliseconds: the report's generatedAt. */
  readonly time: number;
  /** The analysed window, epoch milliseconds. */
  readonly start_time: number;
  readonly end_time: number;
  readonly message: string;
  readonly metadata: {
    readonly version: typeof OCSF_SCHEMA_VERSION;
    readonly product: { readonly name: string; readonly vendor_name: string; readonly version: string };
    readonly profiles: readonly string[];
    readonly event_code: string;
    readonly correlation_uid: string;
  };
  readonly finding_info: {
    readonly uid: string;
    readonly title: string;
    readonly desc: string;
    readonly types: readonly string[];
    readonly analytic: {
      readonly uid: string;
      readonly name: string;
      readonly type_id: 1;
      readonly type: 'Rule';
    };
    readonly created_time: number;
    readonly first_seen_time: number;
    readonly last_seen_time: number;
    readonly modified_time: number;
  };
  readonly cloud: {
    readonly provider: 'AWS';
    readonly region?: string;
    readonly account?: { readonly uid: string; readonly type_id: 10; readonly type: 'AWS Account' };
  };
  readonly resources: readonly OcsfResource[];
  readonly observables: readonly OcsfObservable[];
  readonly remediation?: { readonly desc: string };
  readonly unmapped: OcsfUnmapped;
}

/** sg-audit's own fields: the rule, the evidence, the controls and the accepted risk. */
export interface OcsfUnmapped {
  readonly check: string;
  readonly finding_id: string;
  readonly sg_name: string;
  readonly rule?: {
    readonly id: string;
    readonly text: string;
    readonly direction?: string;
    readonly protocol?: string;
    readonly from_port?: number;
    readonly to_port?: number;
    readonly peer?: string;
  };
  readonly evidence: {
    readonly text: string;
    readonly status?: string;
    readonly verdict?: string;
    readonly verdict_reason?: string;
    readonly connections?: number;
    readonly distinct_peers?: number;
    readonly bytes?: number;
    readonly coverage?: string;
    /** Epoch milliseconds of the first and last connection on the rule in the window. */
    readonly first_seen_time?: number;
    readonly last_seen_time?: number;
  };
  readonly resources: string;
  readonly compliance: { readonly controls: readonly string[] };
  readonly suppression?: {
    readonly id: string;
    readonly owner: string;
    readonly reason: string;
    readonly expires: string;
    readonly status: string;
  };
  /** Who last created or widened the rule (its SG's creation for SG-level findings), from CloudTrail. */
  readonly change?: {
    readonly kind: string;
    readonly text: string;
    readonly event_name?: string;
    readonly event_uid?: string;
    /** Epoch milliseconds. */
    readonly time?: number;
    readonly actor_arn?: string;
    readonly session_issuer?: string;
    readonly invoked_by?: string;
    readonly src_ip?: string;
    readonly user_agent?: string;
    readonly channel?: string;
  };
  /** What to do about it, with the AWS CLI commands (shared/remediation/fix.ts). */
  readonly fix?: { readonly action: string; readonly text: string; readonly commands: readonly string[] };
  readonly run_id: string;
}

function epochMs(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms;
}

function observables(finding: Finding, resourceUid: string): OcsfObservable[] {
  const list: OcsfObservable[] = [
    {
      name: 'resources[0].uid',
      type_id: OBSERVABLE.resourceUid.id,
      type: OBSERVABLE.resourceUid.name,
      value: resourceUid,
    },
  ];
  const peer = finding.peer;
  if (peer !== undefined) {
    const isReference = peer.startsWith('sg-') || peer.startsWith('pl-');
    const host = /\/(32|128)$/.exec(peer);
    const kind = isReference ? OBSERVABLE.resourceUid : host ? OBSERVABLE.ipAddress : OBSERVABLE.subnet;
    const value = host ? peer.slice(0, host.index) : peer;
    list.push({ name: 'unmapped.rule.peer', type_id: kind.id, type: kind.name, value });
  }
  const portProtocol = finding.protocol === 'tcp' || finding.protocol === 'udp';
  if (portProtocol && finding.fromPort !== undefined && finding.fromPort === finding.toPort) {
    list.push({
      name: 'unmapped.rule.from_port',
      type_id: OBSERVABLE.port.id,
      type: OBSERVABLE.port.name,
      value: String(finding.fromPort),
    });
  }
  return list;
}

function unmapped(finding: Finding, report: AuditReport, index: ReportIndex): OcsfUnmapped {
  const usage = finding.ruleId === undefined ? undefined : index.rules.get(finding.ruleId)?.rule.usage;
  const s = finding.suppression;
  return {
    check: finding.check,
    finding_id: finding.id,
    sg_name: finding.sgName,
    ...(finding.ruleId !== undefined
      ? {
          rule: {
            id: finding.ruleId,
            text: findingRuleText(finding),
            ...(finding.direction !== undefined ? { direction: finding.direction } : {}),
            ...(finding.protocol !== undefined ? { protocol: finding.protocol } : {}),
            ...(finding.fromPort !== undefined ? { from_port: finding.fromPort } : {}),
            ...(finding.toPort !== undefined ? { to_port: finding.toPort } : {}),
            ...(finding.peer !== undefined ? { peer: finding.peer } : {}),
          },
        }
      : {}),
    evidence: {
      text: finding.evidence,
      ...(usage !== undefined
        ? {
            status: usage.status,
            verdict: usage.verdict,
            verdict_reason: usage.verdictReason,
            connections: usage.connections,
            distinct_peers: usage.distinctPeers,
            bytes: usage.bytes,
            coverage: usage.coverage,
            ...(usage.firstSeen !== undefined ? { first_seen_time: usage.firstSeen * 1000 } : {}),
            ...(usage.lastSeen !== undefined ? { last_seen_time: usage.lastSeen * 1000 } : {}),
          }
        : {}),
    },
    resources: resourceCounts(finding.resources),
    compliance: { controls: [...finding.controls] },
    ...(s !== undefined
      ? { suppression: { id: s.id, owner: s.owner, reason: s.reason, expires: s.expires, status: s.status } }
      : {}),
    ...(finding.change !== undefined ? { change: changeOf(finding.change) } : {}),
    ...(finding.fix !== undefined && finding.fix.text !== ''
      ? { fix: { action: finding.fix.action, text: finding.fix.text, commands: [...finding.fix.commands] } }
      : {}),
    run_id: report.runId,
  };
}

/** Who last created or widened the rule (CloudTrail), in OCSF's snake case. */
function changeOf(change: RuleChange): NonNullable<OcsfUnmapped['change']> {
  return {
    kind: change.kind,
    text: change.text,
    ...(change.eventName !== undefined ? { event_name: change.eventName } : {}),
    ...(change.eventId !== undefined ? { event_uid: change.eventId } : {}),
    ...(change.eventTime !== undefined ? { time: epochMs(change.eventTime) } : {}),
    ...(change.principalArn !== undefined ? { actor_arn: change.principalArn } : {}),
    ...(change.sessionIssuer !== undefined ? { session_issuer: change.sessionIssuer } : {}),
    ...(change.invokedBy !== undefined ? { invoked_by: change.invokedBy } : {}),
    ...(change.sourceIp !== undefined ? { src_ip: change.sourceIp } : {}),
    ...(change.userAgent !== undefined ? { user_agent: change.userAgent } : {}),
    ...(change.channel !== undefined ? { channel: change.channel } : {}),
  };
}

function toOcsf(
  finding: Finding,
  report: AuditReport,
  index: ReportIndex,
  resolved: boolean,
): OcsfDetectionFinding {
  const { id: accountId, region } = report.account;
  const partition = region === undefined ? undefined : partitionOf(region);
  const located = accountId !== undefined && region !== undefined && partition !== undefined;
  // The same uid as the ASFF Id when the report is located, so the two exports correlate.
  const uid = located ? asffFindingId({ accountId, region }, finding) : `sg-audit/${finding.id}`;
  const resourceUid = located ? securityGroupArn(partition, region, accountId, finding.sgId) : finding.sgId;
  const observed = observedTimes(report, index, finding, resolved);
  const isNew = index.newIds === undefined || index.newIds.has(finding.id);
  const activity = resolved ? ACTIVITY.close : isNew ? ACTIVITY.create : ACTIVITY.update;
  const status = resolved
    ? STATUS.resolved
    : finding.suppression?.status === 'active'
      ? STATUS.suppressed
      : STATUS.new;
  const severity = OCSF_SEVERITY[finding.severity];
  const generated = epochMs(report.generatedAt);
  const tags = index.sgs.get(finding.sgId)?.tags;
  const remediation = findingRemediation(finding, index);
  return {
    activity_id: activity.id,
    activity_name: activity.name,
    category_uid: OCSF_FINDINGS_CATEGORY_UID,
    category_name: 'Findings',
    class_uid: OCSF_DETECTION_FINDING_CLASS_UID,
    class_name: 'Detection Finding',
    type_uid: OCSF_DETECTION_FINDING_CLASS_UID * 100 + activity.id,
    type_name: `Detection Finding: ${activity.name}`,
    severity_id: severity.id,
    severity: severity.name,
    status_id: status.id,
    status: status.name,
    time: generated,
    start_time: epochMs(report.window.start),
    end_time: epochMs(report.window.end),
    message: finding.reason,
    metadata: {
      version: OCSF_SCHEMA_VERSION,
      product: { name: report.tool.name, vendor_name: 'sg-audit', version: report.tool.version },
      profiles: ['cloud'],
      event_code: finding.check,
      correlation_uid: report.runId,
    },
    finding_info: {
      uid,
      title: `${finding.sgName} (${finding.sgId}): ${finding.reason}`,
      desc: findingDescription(finding),
      types: asffTypes(finding),
      analytic: { uid: finding.check, name: finding.check, type_id: 1, type: 'Rule' },
      created_time: epochMs(observed.first),
      first_seen_time: epochMs(observed.first),
      last_seen_time: epochMs(observed.last),
      modified_time: generated,
    },
    cloud: {
      provider: 'AWS',
      ...(region !== undefined ? { region } : {}),
      ...(accountId !== undefined ? { account: { uid: accountId, type_id: 10, type: 'AWS Account' } } : {}),
    },
    resources: [
      {
        uid: resourceUid,
        name: finding.sgName,
        type: 'AWS::EC2::SecurityGroup',
        ...(region !== undefined ? { region } : {}),
        ...(partition !== undefined ? { cloud_partition: partition } : {}),
        data: {
          group_id: finding.sgId,
          vpc_id: finding.vpcId,
          ...(tags !== undefined && Object.keys(tags).length > 0 ? { tags } : {}),
        },
      },
    ],
    observables: observables(finding, resourceUid),
    ...(remediation !== '' ? { remediation: { desc: remediation } } : {}),
    unmapped: unmapped(finding, report, index),
  };
}

/**
 * The report's findings as OCSF Detection Finding events: current ones worst first (the
 * renderers' order), then the resolved ones by id.
 *
 * @example toOcsfFindings(report)[0]?.class_uid // 2004
 */
export function toOcsfFindings(report: AuditReport): OcsfDetectionFinding[] {
  const index = indexReport(report);
  const current = [...report.findings].sort(compareFindings).map((f) => toOcsf(f, report, index, false));
  const currentIds = new Set(report.findings.map((f) => f.id));
  const resolved = [...(report.changes?.resolvedFindings ?? [])]
    .filter((f) => !currentIds.has(f.id))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((f) => toOcsf(f, report, index, true));
  return [...current, ...resolved];
}

/**
 * findings.ocsf.json: a JSON array of Detection Finding events, two-space indent, trailing newline.
 *
 * @example JSON.parse(renderOcsf(report)).length // report.findings.length (+ resolved ones)
 */
export function renderOcsf(report: AuditReport): string {
  return `${JSON.stringify(toOcsfFindings(report), null, 2)}\n`;
}
