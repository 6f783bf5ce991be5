/**
 * report.json: the report model, pretty-printed, with keys in the model's declaration order
 * whatever order the pipeline built the objects in (count maps in their type's order), so two
 * runs diff cleanly. Keys the order
 * table does not know (additive fields of a newer model) follow the known ones, as given.
 */
import type {
  EniCoverage,
  Finding,
  Fix,
  NaclRecommendation,
  PeerUsage,
  PortUsage,
  QuotaReport,
  Recommendation,
  ResourceRow,
  RuleUsage,
} from '../model/analysis';
import { COVERAGE_STATUSES, RULE_STATUSES, RULE_VERDICTS, SEVERITIES } from '../model/analysis';
import type { FlowSourceStats, MalformedRecord } from '../model/flow';
import type { ResourceRef } from '../model/inventory';
import { RESOURCE_TYPES } from '../model/inventory';
import type { ChangeHistorySummary, RuleChange } from '../model/rule-change';
import type {
  AuditReport,
  ReportRule,
  ReportSecurityGroup,
  ReportSummary,
  ReportWarning,
} from '../report/model';

/** Key order of one object type, and of the objects (or arrays of objects) under its keys. */
interface KeyOrder {
  readonly keys: readonly string[];
  readonly children?: Readonly<Record<string, KeyOrder>>;
}

function order<T>(keys: readonly (keyof T & string)[], children?: Record<string, KeyOrder>): KeyOrder {
  return { keys, children };
}

const USAGE = order<RuleUsage>(
  [
    'ruleId',
    'sgId',
    'status',
    'statusReason',
    'verdict',
    'verdictReason',
    'connections',
    'records',
    'packets',
    'bytes',
    'distinctPeers',
    'firstSeen',
    'lastSeen',
    'coverage',
    'topPeers',
    'ports',
  ],
  {
    topPeers: order<PeerUsage>(['addr', 'connections', 'bytes']),
    ports: order<PortUsage>(['protocol', 'port', 'connections', 'bytes']),
  },
);

const CHANGE = order<RuleChange>([
  'kind',
  'eventName',
  'eventId',
  'eventTime',
  'principalArn',
  'sessionIssuer',
  'invokedBy',
  'sourceIp',
  'userAgent',
  'channel',
  'stackName',
  'historyStart',
  'reason',
  'text',
]);

const FIX = order<Fix>(['action', 'text', 'commands']);

const REPORT_ORDER = order<AuditReport>(
  [
    'schemaVersion',
    'tool',
    'runId',
    'generatedAt',
    'mode',
    'account',
    'window',
    'scope',
    'summary',
    'findings',
    'securityGroups',
    'resources',
    'coverage',
    'naclRecommendations',
    'flowSources',
    'warnings',
    'changeHistory',
  ],
  {
    tool: order<AuditReport['tool']>(['name', 'version']),
    account: order<AuditReport['account']>(['id', 'region']),
    window: order<AuditReport['window']>(['start', 'end', 'days']),
    scope: order<AuditReport['scope']>(['vpcIds', 'sgIds', 'ports']),
    summary: order<ReportSummary>(
      [
        'securityGroups',
        'ruleEntries',
        'networkInterfaces',
        'findingsBySeverity',
        'rulesByStatus',
        'rulesByVerdict',
        'enisByCoverage',
        'flowRecords',
        'connections',
        'malformedRecords',
        'bytesScanned',
        'queries',
      ],
      {
        findingsBySeverity: { keys: SEVERITIES },
        rulesByStatus: { keys: RULE_STATUSES },
        rulesByVerdict: { keys: RULE_VERDICTS },
        enisByCoverage: { keys: COVERAGE_STATUSES },
      },
    ),
    findings: order<Finding>(
      [
        'id',
        'check',
        'severity',
        'sgId',
        'sgName',
        'vpcId',
        'ruleId',
        'direction',
        'protocol',
        'fromPort',
        'toPort',
        'peer',
        'reason',
        'resources',
        'evidence',
        'controls',
        'firstReportedAt',
        'ruleStatus',
        'change',
        'fix',
      ],
      { resources: { keys: RESOURCE_TYPES }, change: CHANGE, fix: FIX },
    ),
    securityGroups: order<ReportSecurityGroup>(
      [
        'id',
        'name',
        'vpcId',
        'description',
        'isDefault',
        'eniIds',
        'referencedBy',
        'rules',
        'recommendations',
        'quota',
        'worstSeverity',
        'change',
      ],
      {
        rules: order<ReportRule>(
          [
            'id',
            'direction',
            'protocol',
            'fromPort',
            'toPort',
            'peer',
            'description',
            'usage',
            'securityGroupRuleId',
            'change',
          ],
          { usage: USAGE, change: CHANGE },
        ),
        recommendations: order<Recommendation>([
          'sgId',
          'direction',
          'family',
          'protocol',
          'fromPort',
          'toPort',
          'peer',
          'connections',
          'distinctPeers',
          'basis',
          'text',
          'sourceRuleIds',
          'addedAddresses',
        ]),
        quota: order<QuotaReport>([
          'sgId',
          'direction',
          'family',
          'current',
          'recommendedBeforeCompaction',
          'recommended',
          'limit',
          'addedAddresses',
        ]),
        change: CHANGE,
      },
    ),
    resources: order<ResourceRow>(
      ['eniId', 'sgIds', 'resource', 'privateIps', 'vpcId', 'subnetId', 'coverage'],
      {
        resource: order<ResourceRef>(['type', 'id', 'name', 'basis']),
      },
    ),
    coverage: order<EniCoverage>([
      'eniId',
      'status',
      'flowLogIds',
      'reasons',
      'coveredFrom',
      'hasTcpFlags',
      'hasPacketAddresses',
    ]),
    naclRecommendations: order<NaclRecommendation>([
      'naclId',
      'subnetIds',
      'direction',
      'ruleNumber',
      'protocol',
      'fromPort',
      'toPort',
      'cidr',
      'action',
      'purpose',
      'reason',
    ]),
    flowSources: order<FlowSourceStats>(
      [
        'engine',
        'sources',
        'files',
        'records',
        'nodataRecords',
        'skipdataRecords',
        'malformedRecords',
        'malformedSamples',
        'queries',
        'bytesScanned',
        'newestRecord',
        'oldestRecord',
        'enisWithRecords',
        'warnings',
      ],
      { malformedSamples: order<MalformedRecord>(['file', 'line', 'reason']) },
    ),
    warnings: order<ReportWarning>(['code', 'message', 'file', 'line', 'samples'], {
      samples: order<MalformedRecord>(['file', 'line', 'reason']),
    }),
    changeHistory: order<ChangeHistorySummary>([
      'source',
      'start',
      'end',
      'complete',
      'events',
      'attributedRules',
      'olderRules',
      'unknownRules',
    ]),
  },
);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ordered(value: unknown, keyOrder: KeyOrder | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => ordered(item, keyOrder));
  if (!isPlainObject(value) || keyOrder === undefined) return value;
  const out: Record<string, unknown> = {};
  for (const key of keyOrder.keys) {
    if (key in value) out[key] = ordered(value[key], keyOrder.children?.[key]);
  }
  for (const [key, child] of Object.entries(value)) {
    if (!(key in out)) out[key] = child;
  }
  return out;
}

/**
 * The report as pretty JSON (two-space indent, trailing newline) in model key order.
 *
 * @example JSON.parse(renderJson(report)).schemaVersion // '1.3.0'
 */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(ordered(report, REPORT_ORDER), null, 2)}\n`;
}
