/**
 * Security Hub export: the report's findings in the AWS Security Finding Format (ASFF
 * 2018-10-08), ready for BatchImportFindings under the account's default custom integration
 * (`product/<account>/default`). Pure: the adapter in adapters/aws sends what this builds.
 *
 * How Security Hub treats a re-import decides the mapping:
 * - A finding is matched by `Id` and accepted only when its `UpdatedAt` is later than the stored
 *   one, so ids derive from account, region and the (already run-stable) Finding.id, and
 *   `UpdatedAt` is the report's generatedAt.
 * - `Workflow` and `Note` are honoured when a finding is created and ignored on later imports
 *   (only BatchUpdateFindings changes them). The suppression therefore also travels in
 *   ProductFields, which every import refreshes.
 * - Severity and Types are sent both top-level and in FindingProviderFields: the provider's
 *   later changes reach Security Hub only through the latter.
 * - `Compliance.Status: PASSED` makes Security Hub set the workflow to RESOLVED, and a later
 *   FAILED sets it back to NEW; resolved findings are sent ARCHIVED + PASSED with the same Id.
 * - Every import replaces CreatedAt and FirstObservedAt (Security Hub keeps no earlier value), so
 *   both come from the finding's `firstReportedAt`, which a compared run carries forward from
 *   report to report: a finding that stays open keeps its date week after week. A report without
 *   it (never compared) falls back to what it proves: generatedAt for a new finding, the previous
 *   report's generatedAt for one carried over.
 */
import { createHash } from 'node:crypto';
import type { Finding, Severity } from '../model/analysis';
import { compareFindings, findingRuleText, resourceCounts } from '../render/format';
import type { AuditReport, ReportRule, ReportSecurityGroup } from '../report/model';

export const ASFF_SCHEMA_VERSION = '2018-10-08';

/** ASFF limits (AwsSecurityFinding API reference and the BatchImportFindings guidelines). */
export const ASFF_LIMITS = {
  id: 512,
  title: 256,
  description: 1024,
  remediationText: 512,
  noteText: 512,
  productFields: 50,
  productFieldKey: 128,
  productFieldValue: 2048,
  relatedRequirements: 32,
} as const;

/** Product-field keys carry the product's own namespace; `aws/` is reserved for AWS. */
const FIELD_PREFIX = 'sg-audit/';
const COMPANY_NAME = 'sg-audit';

export type AsffSeverityLabel = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export type AsffComplianceStatus = 'PASSED' | 'WARNING' | 'FAILED' | 'NOT_AVAILABLE';
export type AsffWorkflowStatus = 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED';
export type AsffRecordState = 'ACTIVE' | 'ARCHIVED';

/** One rule entry in AwsEc2SecurityGroup details (the SDK's AwsEc2SecurityGroupIpPermission). */
export interface AsffIpPermission {
  readonly IpProtocol: string;
  readonly FromPort?: number;
  readonly ToPort?: number;
  readonly IpRanges?: { readonly CidrIp: string }[];
  readonly Ipv6Ranges?: { readonly CidrIpv6: string }[];
  readonly UserIdGroupPairs?: { readonly GroupId: string }[];
  readonly PrefixListIds?: { readonly PrefixListId: string }[];
}

/** ASFF's names for partitions (Resource.Partition), which differ from ARN partitions for ISO. */
export type AsffPartition = 'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-us-iso' | 'aws-us-iso-b';

const ASFF_PARTITIONS: Readonly<Record<string, AsffPartition>> = {
  aws: 'aws',
  'aws-cn': 'aws-cn',
  'aws-us-gov': 'aws-us-gov',
  'aws-iso': 'aws-us-iso',
  'aws-iso-b': 'aws-us-iso-b',
};

export interface AsffSecurityGroupResource {
  readonly Type: 'AwsEc2SecurityGroup';
  /** The SG's ARN. */
  readonly Id: string;
  /** Absent for a partition ASFF does not name. */
  readonly Partition?: AsffPartition;
  readonly Region: string;
  readonly Tags?: Record<string, string>;
  readonly Details: {
    readonly AwsEc2SecurityGroup: {
      readonly GroupId: string;
      readonly GroupName: string;
      readonly OwnerId: string;
      readonly VpcId: string;
      readonly IpPermissions?: AsffIpPermission[];
      readonly IpPermissionsEgress?: AsffIpPermission[];
    };
  };
}

/** The subset of AwsSecurityFinding this exporter fills (structurally the SDK's type). */
export interface AsffFinding {
  readonly SchemaVersion: typeof ASFF_SCHEMA_VERSION;
  readonly Id: string;
  readonly ProductArn: string;
  readonly ProductName: string;
  readonly CompanyName: string;
  readonly GeneratorId: string;
  readonly AwsAccountId: string;
  readonly Types: string[];
  readonly CreatedAt: string;
  readonly UpdatedAt: string;
  readonly FirstObservedAt: string;
  readonly LastObservedAt: string;
  readonly Severity: { readonly Label: AsffSeverityLabel; readonly Original: string };
  readonly FindingProviderFields: {
    readonly Severity: { readonly Label: AsffSeverityLabel; readonly Original: string };
    readonly Types: string[];
  };
  readonly Title: string;
  readonly Description: string;
  readonly Remediation?: { readonly Recommendation: { readonly Text: string } };
  readonly ProductFields: Record<string, string>;
  readonly Resources: AsffSecurityGroupResource[];
  readonly Compliance: {
    readonly Status: AsffComplianceStatus;
    readonly RelatedRequirements?: string[];
    readonly SecurityControlId?: string;
  };
  readonly Workflow: { readonly Status: AsffWorkflowStatus };
  readonly RecordState: AsffRecordState;
  readonly Note?: { readonly Text: string; readonly UpdatedBy: string; readonly UpdatedAt: string };
}

/** Where the findings go: the calling account (BatchImportFindings requires it) and region. */
export interface AsffTarget {
  readonly accountId: string;
  readonly region: string;
  /** ARN partition. @default derived from the region: aws-cn for cn-*, aws-us-gov for us-gov-*, else aws */
  readonly partition?: string;
}

/** The report's findings as ASFF: the current ones ACTIVE, the resolved ones ARCHIVED. */
export interface AsffExport {
  readonly active: AsffFinding[];
  readonly archived: AsffFinding[];
}

export const ASFF_SEVERITY: Readonly<Record<Severity, AsffSeverityLabel>> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  info: 'INFORMATIONAL',
};

const REACHABILITY = 'Software and Configuration Checks/AWS Security Best Practices/Network Reachability';
const BEST_PRACTICES = 'Software and Configuration Checks/AWS Security Best Practices';
const CIS =
  'Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark';

/**
 * The ASFF Types of a finding: Network Reachability for rules that expose something, plus the
 * effect (ingress exposes data, egress lets it leave); best practices for hygiene checks. The
 * switch names every check, so a new check does not compile until it is typed here.
 *
 * @example asffTypes(finding) // ['Software and Configuration Checks/…/Network Reachability', 'Effects/Data Exposure']
 */
export function asffTypes(finding: Finding): string[] {
  switch (finding.check) {
    // A rule admitting too much from (or to) too many addresses.
    case 'all-traffic-open':
    case 'all-ports-open':
    case 'portless-protocol-open':
    case 'world-port-range':
    case 'sensitive-port-world':
    case 'sensitive-port-wide-public':
    case 'wide-public-cidr':
    case 'world-open-port':
      return [
        REACHABILITY,
        finding.direction === 'egress' ? 'Effects/Data Exfiltration' : 'Effects/Data Exposure',
      ];
    case 'egress-all-open':
      return [REACHABILITY, 'Effects/Data Exfiltration'];
    case 'world-open-web':
    case 'world-open-icmp':
      return [REACHABILITY];
    case 'default-sg-in-use':
    case 'default-sg-has-rules':
      // EC2.2 restates the CIS benchmark's default-security-group recommendation.
      return [BEST_PRACTICES, CIS];
    case 'unused-sg':
    case 'unused-rule':
    // Traffic the rules refuse that they were probably meant to admit: configuration to review.
    case 'rejected-missing-rule':
    case 'rejected-by-nacl':
      return [BEST_PRACTICES];
    case 'rejected-probe':
      return ['TTPs/Discovery'];
    case 'unexpected-egress':
      return ['Unusual Behaviors/Network Flow', 'Effects/Data Exfiltration'];
    case 'egress-admin-port':
      return ['Unusual Behaviors/Network Flow'];
  }
}

/**
 * The partition of a region: aws-cn for China, aws-us-gov for GovCloud, aws otherwise.
 *
 * @example partitionOf('cn-north-1') // 'aws-cn'
 */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

/**
 * The ARN of a security group.
 *
 * @example securityGroupArn('aws', 'ap-northeast-2', '123456789012', 'sg-1') // 'arn:aws:ec2:ap-northeast-2:123456789012:security-group/sg-1'
 */
export function securityGroupArn(partition: string, region: string, accountId: string, sgId: string): string {
  return `arn:${partition}:ec2:${region}:${accountId}:security-group/${sgId}`;
}

/**
 * The account's default custom-integration product ARN, which BatchImportFindings accepts from
 * the account itself without a partner integration.
 *
 * @example defaultProductArn({ accountId: '123456789012', region: 'eu-west-1' }) // 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default'
 */
export function defaultProductArn(target: AsffTarget): string {
  const partition = target.partition ?? partitionOf(target.region);
  return `arn:${partition}:securityhub:${target.region}:${target.accountId}:product/${target.accountId}/default`;
}

/**
 * A finding's ASFF Id: `sg-audit/<account>/<region>/<Finding.id>`, stable across runs because
 * Finding.id is. An id over ASFF's 512 characters keeps its check and SG and replaces the rest by
 * a SHA-256 of the Finding.id, so it stays stable and distinct.
 *
 * @example asffFindingId(target, finding) // 'sg-audit/123456789012/ap-northeast-2/sensitive-port-world:sg-0b2…'
 */
export function asffFindingId(target: AsffTarget, finding: Pick<Finding, 'id' | 'check' | 'sgId'>): string {
  const base = `sg-audit/${target.accountId}/${target.region}/`;
  const readable = `${base}${finding.id}`;
  if (readable.length <= ASFF_LIMITS.id) return readable;
  const digest = createHash('sha256').update(finding.id).digest('hex');
  return `${base}${finding.check}:${finding.sgId}:sha256:${digest}`.slice(0, ASFF_LIMITS.id);
}

/**
 * Text clipped to `max` characters with an ellipsis, never splitting a surrogate pair.
 *
 * @example clipText('abcdef', 4) // 'abc…'
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let head = text.slice(0, Math.max(0, max - 1));
  const last = head.charCodeAt(head.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) head = head.slice(0, -1);
  return `${head}…`;
}

/** ASFF strings must hold a non-space character. */
function nonBlank(text: string, fallback: string): string {
  return /\S/.test(text) ? text : fallback;
}

/** What the report knows about a finding's rule: its entry and its SG. */
export interface RuleContext {
  readonly rule: ReportRule;
  readonly sg: ReportSecurityGroup;
}

/** Lookups over one report, built once so mapping stays linear in findings. */
export interface ReportIndex {
  readonly sgs: ReadonlyMap<string, ReportSecurityGroup>;
  readonly rules: ReadonlyMap<string, RuleContext>;
  /** Ids of findings new in this run; undefined when every finding is new (no comparison, first run). */
  readonly newIds: ReadonlySet<string> | undefined;
}

/**
 * SGs and rules by id, and the ids of new findings, for the exporters.
 *
 * @example indexReport(report).rules.get(finding.ruleId ?? '')?.rule.usage.verdict // 'narrow'
 */
export function indexReport(report: AuditReport): ReportIndex {
  const sgs = new Map<string, ReportSecurityGroup>();
  const rules = new Map<string, RuleContext>();
  for (const sg of report.securityGroups) {
    sgs.set(sg.id, sg);
    for (const rule of sg.rules) rules.set(rule.id, { rule, sg });
  }
  const changes = report.changes;
  const newIds = changes === undefined || changes.firstRun ? undefined : new Set(changes.newFindingIds);
  return { sgs, rules, newIds };
}

/**
 * When a finding was first and last observed, as far as this report and its history prove: first
 * at its `firstReportedAt` when the run was compared; otherwise a new finding at generatedAt and one
 * carried over at the previous report's generatedAt. A resolved one was last seen in the previous
 * report (it is gone now).
 *
 * @example observedTimes(report, index, finding, false) // { first: '2025-11-10T…', last: '2025-11-17T…' }
 */
export function observedTimes(
  report: AuditReport,
  index: ReportIndex,
  finding: Finding,
  resolved: boolean,
): { readonly first: string; readonly last: string } {
  const previous = report.changes?.previousGeneratedAt ?? report.window.start;
  if (resolved) return { first: finding.firstReportedAt ?? previous, last: previous };
  const isNew = index.newIds === undefined || index.newIds.has(finding.id);
  return {
    first: finding.firstReportedAt ?? (isNew ? report.generatedAt : previous),
    last: report.generatedAt,
  };
}

/**
 * What to do instead, for a rule-level finding: the verdict on the rule and, unless it is kept,
 * the narrower entries its observed traffic needs. '' when the report has no usage for the rule.
 *
 * @example findingRemediation(finding, index) // 'narrow: only 3 peers … Replace with: allow tcp port 22 from 198.51.100.0/24'
 */
export function findingRemediation(finding: Finding, index: ReportIndex): string {
  const context = finding.ruleId === undefined ? undefined : index.rules.get(finding.ruleId);
  if (context === undefined) return '';
  const usage = context.rule.usage;
  const verdict = `${usage.verdict}: ${usage.verdictReason}`;
  if (usage.verdict === 'keep') return verdict;
  const replacements = context.sg.recommendations
    .filter((r) => r.sourceRuleIds.includes(context.rule.id))
    .map((r) => r.text.replace(/^-\s*/, ''));
  return replacements.length > 0 ? `${verdict}. Replace with: ${replacements.join('; ')}` : verdict;
}

/**
 * The accepted risk on a finding in one line, or '' when none matched.
 *
 * @example suppressionText(finding) // 'Accepted risk bastion-ssh (owner sec-team, expires 2026-03-31): bastion host'
 */
export function suppressionText(finding: Finding): string {
  const s = finding.suppression;
  if (s === undefined) return '';
  const state = s.status === 'active' ? 'Accepted risk' : 'Expired acceptance';
  return `${state} ${s.id} (owner ${s.owner}, expires ${s.expires}): ${s.reason}`;
}

/**
 * The reason, the rule, the traffic evidence, the resources behind the SG and any accepted risk,
 * clipped to ASFF's 1,024 characters.
 *
 * @example findingDescription(finding) // 'SSH (22) open to 0.0.0.0/0. Rule: ingress tcp 22 from 0.0.0.0/0. Traffic evidence: …'
 */
export function findingDescription(finding: Finding): string {
  const parts = [finding.reason.replace(/[.\s]+$/, '')];
  const rule = findingRuleText(finding);
  if (rule !== '') parts.push(`Rule: ${rule}`);
  if (finding.evidence !== '') parts.push(`Traffic evidence: ${finding.evidence}`);
  const resources = resourceCounts(finding.resources);
  if (resources !== '') parts.push(`Resources: ${resources}`);
  const suppression = suppressionText(finding);
  if (suppression !== '') parts.push(suppression);
  return clipText(parts.join('. '), ASFF_LIMITS.description);
}

/** The finding's rule as an AwsEc2SecurityGroup permission, or undefined for SG-level findings. */
function ipPermission(finding: Finding): AsffIpPermission | undefined {
  if (finding.protocol === undefined || finding.peer === undefined) return undefined;
  const peer = finding.peer;
  const ports =
    finding.protocol !== '-1' && finding.fromPort !== undefined
      ? { FromPort: finding.fromPort, ToPort: finding.toPort ?? finding.fromPort }
      : {};
  const to = peer.startsWith('sg-')
    ? { UserIdGroupPairs: [{ GroupId: peer }] }
    : peer.startsWith('pl-')
      ? { PrefixListIds: [{ PrefixListId: peer }] }
      : peer.includes(':')
        ? { Ipv6Ranges: [{ CidrIpv6: peer }] }
        : { IpRanges: [{ CidrIp: peer }] };
  return { IpProtocol: finding.protocol, ...ports, ...to };
}

function securityGroupResource(
  finding: Finding,
  target: AsffTarget,
  partition: string,
  sg: ReportSecurityGroup | undefined,
): AsffSecurityGroupResource {
  const permission = ipPermission(finding);
  const permissions =
    permission === undefined
      ? {}
      : finding.direction === 'egress'
        ? { IpPermissionsEgress: [permission] }
        : { IpPermissions: [permission] };
  // ASFF takes at most 50 resource tags; AWS allows 50 per resource, so none are lost.
  const tags = Object.entries(sg?.tags ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(0, 50);
  return {
    Type: 'AwsEc2SecurityGroup',
    Id: securityGroupArn(partition, target.region, target.accountId, finding.sgId),
    ...(ASFF_PARTITIONS[partition] !== undefined ? { Partition: ASFF_PARTITIONS[partition] } : {}),
    Region: target.region,
    ...(tags.length > 0 ? { Tags: Object.fromEntries(tags) } : {}),
    Details: {
      AwsEc2SecurityGroup: {
        GroupId: finding.sgId,
        GroupName: finding.sgName,
        OwnerId: target.accountId,
        VpcId: finding.vpcId,
        ...permissions,
      },
    },
  };
}

function productFields(
  finding: Finding,
  report: AuditReport,
  context: RuleContext | undefined,
  state: 'active' | 'resolved',
): Record<string, string> {
  const usage = context?.rule.usage;
  const s = finding.suppression;
  const entries: [string, string | number | undefined][] = [
    ['findingId', finding.id],
    ['check', finding.check],
    ['severity', finding.severity],
    ['state', state],
    ['sgId', finding.sgId],
    ['sgName', finding.sgName],
    ['vpcId', finding.vpcId],
    ['ruleId', finding.ruleId],
    ['rule', findingRuleText(finding)],
    ['direction', finding.direction],
    ['protocol', finding.protocol],
    ['fromPort', finding.fromPort],
    ['toPort', finding.toPort],
    ['peer', finding.peer],
    ['evidence', finding.evidence],
    ['resources', resourceCounts(finding.resources)],
    ['controls', finding.controls.join(',')],
    ['usage/status', usage?.status],
    ['usage/verdict', usage?.verdict],
    ['usage/connections', usage?.connections],
    ['usage/coverage', usage?.coverage],
    ['suppression/id', s?.id],
    ['suppression/owner', s?.owner],
    ['suppression/reason', s?.reason],
    ['suppression/expires', s?.expires],
    ['suppression/status', s?.status],
    ['runId', report.runId],
    ['version', report.tool.version],
    ['windowStart', report.window.start],
    ['windowEnd', report.window.end],
  ];
  const fields: Record<string, string> = {};
  for (const [key, value] of entries.slice(0, ASFF_LIMITS.productFields)) {
    if (value === undefined || value === '') continue;
    fields[`${FIELD_PREFIX}${key}`.slice(0, ASFF_LIMITS.productFieldKey)] = clipText(
      String(value),
      ASFF_LIMITS.productFieldValue,
    );
  }
  return fields;
}

function compliance(finding: Finding, resolved: boolean): AsffFinding['Compliance'] {
  // Informational findings (an expected open web listener) need no action: WARNING, not FAILED.
  const status: AsffComplianceStatus = resolved
    ? 'PASSED'
    : finding.severity === 'info'
      ? 'WARNING'
      : 'FAILED';
  const controls = [...new Set(finding.controls)].slice(0, ASFF_LIMITS.relatedRequirements);
  return {
    Status: status,
    ...(controls.length > 0 ? { RelatedRequirements: controls } : {}),
    ...(controls.length === 1 && controls[0] !== undefined ? { SecurityControlId: controls[0] } : {}),
  };
}

function toAsff(
  finding: Finding,
  report: AuditReport,
  index: ReportIndex,
  target: AsffTarget,
  resolved: boolean,
): AsffFinding {
  const partition = target.partition ?? partitionOf(target.region);
  const context = finding.ruleId === undefined ? undefined : index.rules.get(finding.ruleId);
  const observed = observedTimes(report, index, finding, resolved);
  const severity = { Label: ASFF_SEVERITY[finding.severity], Original: finding.severity };
  const types = asffTypes(finding);
  const suppressed = !resolved && finding.suppression?.status === 'active';
  const workflow: AsffWorkflowStatus = resolved ? 'RESOLVED' : suppressed ? 'SUPPRESSED' : 'NEW';
  const remedy = clipText(findingRemediation(finding, index), ASFF_LIMITS.remediationText);
  const title = `${finding.sgName} (${finding.sgId}): ${finding.reason}`;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: asffFindingId(target, finding),
    ProductArn: defaultProductArn({ ...target, partition }),
    ProductName: report.tool.name,
    CompanyName: COMPANY_NAME,
    GeneratorId: `sg-audit/${finding.check}`,
    AwsAccountId: target.accountId,
    Types: types,
    CreatedAt: observed.first,
    UpdatedAt: report.generatedAt,
    FirstObservedAt: observed.first,
    LastObservedAt: observed.last,
    Severity: severity,
    FindingProviderFields: { Severity: severity, Types: types },
    Title: clipText(nonBlank(title, finding.check), ASFF_LIMITS.title),
    Description: nonBlank(findingDescription(finding), finding.check),
    ...(remedy !== '' ? { Remediation: { Recommendation: { Text: remedy } } } : {}),
    ProductFields: productFields(finding, report, context, resolved ? 'resolved' : 'active'),
    Resources: [securityGroupResource(finding, target, partition, index.sgs.get(finding.sgId))],
    Compliance: compliance(finding, resolved),
    Workflow: { Status: workflow },
    RecordState: resolved ? 'ARCHIVED' : 'ACTIVE',
    ...(suppressed
      ? {
          Note: {
            Text: clipText(suppressionText(finding), ASFF_LIMITS.noteText),
            UpdatedBy: COMPANY_NAME,
            UpdatedAt: report.generatedAt,
          },
        }
      : {}),
  };
}

/**
 * The report's findings in ASFF: every current finding ACTIVE (workflow NEW, or SUPPRESSED when
 * an accepted risk is active), and every finding the diff found resolved ARCHIVED with
 * Compliance PASSED under the same Id. Worst first, then by SG and check; resolved ones by id.
 *
 * @example const { active, archived } = toAsffFindings(report, { accountId: '123456789012', region: 'ap-northeast-2' });
 */
export function toAsffFindings(report: AuditReport, target: AsffTarget): AsffExport {
  const index = indexReport(report);
  const active = [...report.findings]
    .sort(compareFindings)
    .map((finding) => toAsff(finding, report, index, target, false));
  const currentIds = new Set(report.findings.map((f) => f.id));
  const archived = [...(report.changes?.resolvedFindings ?? [])]
    // A finding both current and "resolved" would be archived right after its import.
    .filter((finding) => !currentIds.has(finding.id))
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((finding) => toAsff(finding, report, index, target, true));
  return { active, archived };
}
