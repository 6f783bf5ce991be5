/**
 * The report model as a zod schema: the source of docs/report.schema.json (the published JSON
 * Schema) and of runtime validation of reports read back (e.g. a previous week's report).
 * A compile-time check keeps it identical to the TypeScript model in ./model.ts.
 */

import { z } from 'zod';
import {
  CHECK_IDS,
  COVERAGE_STATUSES,
  FIX_ACTIONS,
  RECOMMENDATION_BASES,
  RULE_STATUSES,
  RULE_VERDICTS,
  SEVERITIES,
} from '../model/analysis';
import { DELIVERY_COUNTER_KINDS, DELIVERY_STATUSES, type DeliveryStatus } from '../model/delivery';
import { EGRESS_DESTINATION_KINDS, EGRESS_EXPECTATIONS } from '../model/egress';
import { DIRECTIONS, IP_FAMILIES, RESOURCE_TYPES } from '../model/inventory';
import { PEER_ORIGINS, REJECTED_CLASSES, SUGGESTION_BASES } from '../model/rejected';
import { CHANGE_CHANNELS, RULE_CHANGE_KINDS } from '../model/rule-change';
import { publishedJsonSchema, type SchemaMatchesModel } from '../published-schema';
import type { AuditReport } from './model';

const severity = z.enum(SEVERITIES);
const coverageStatus = z.enum(COVERAGE_STATUSES);
const direction = z.enum(DIRECTIONS);
const ipFamily = z.enum(IP_FAMILIES);
const resourceType = z.enum(RESOURCE_TYPES);
const ruleStatus = z.enum(RULE_STATUSES);
const ruleVerdict = z.enum(RULE_VERDICTS);
const epochSeconds = z.number().describe('Unix epoch seconds');

const ruleUsage = z.object({
  ruleId: z.string(),
  sgId: z.string(),
  status: ruleStatus,
  statusReason: z.string(),
  verdict: ruleVerdict,
  verdictReason: z.string(),
  connections: z.number(),
  records: z.number(),
  packets: z.number(),
  bytes: z.number(),
  distinctPeers: z.number(),
  firstSeen: epochSeconds.optional(),
  lastSeen: epochSeconds.optional(),
  coverage: z.union([coverageStatus, z.literal('no-enis')]),
  topPeers: z.array(z.object({ addr: z.string(), connections: z.number(), bytes: z.number() })),
  ports: z.array(
    z.object({
      protocol: z.number(),
      port: z.number().nullable(),
      connections: z.number(),
      bytes: z.number(),
    }),
  ),
});

const recommendation = z.object({
  sgId: z.string(),
  direction,
  family: ipFamily,
  protocol: z.string(),
  fromPort: z.number().optional(),
  toPort: z.number().optional(),
  peer: z.string(),
  connections: z.number(),
  distinctPeers: z.number(),
  basis: z.enum(RECOMMENDATION_BASES),
  text: z.string(),
  sourceRuleIds: z.array(z.string()),
  addedAddresses: z.string().optional(),
});

const quota = z.object({
  sgId: z.string(),
  direction,
  family: ipFamily,
  current: z.number(),
  recommendedBeforeCompaction: z.number(),
  recommended: z.number(),
  limit: z.number(),
  addedAddresses: z.string(),
});

const ruleChange = z.object({
  kind: z.enum(RULE_CHANGE_KINDS),
  eventName: z.string().optional(),
  eventId: z.string().optional(),
  eventTime: z.string().optional(),
  principalArn: z.string().optional(),
  sessionIssuer: z.string().optional(),
  invokedBy: z.string().optional(),
  sourceIp: z.string().optional(),
  userAgent: z.string().optional(),
  channel: z.enum(CHANGE_CHANNELS).optional(),
  stackName: z.string().optional(),
  historyStart: z.string().optional(),
  reason: z.string().optional(),
  text: z.string(),
});

const fix = z.object({
  action: z.enum(FIX_ACTIONS),
  text: z.string(),
  commands: z.array(z.string()),
});

const changeHistory = z.object({
  source: z.string(),
  start: z.string().optional(),
  end: z.string().optional(),
  complete: z.boolean(),
  events: z.number(),
  attributedRules: z.number(),
  olderRules: z.number(),
  unknownRules: z.number(),
});

const finding = z.object({
  id: z.string(),
  check: z.enum(CHECK_IDS),
  severity,
  sgId: z.string(),
  sgName: z.string(),
  vpcId: z.string(),
  ruleId: z.string().optional(),
  direction: direction.optional(),
  protocol: z.string().optional(),
  fromPort: z.number().optional(),
  toPort: z.number().optional(),
  peer: z.string().optional(),
  reason: z.string(),
  resources: z.partialRecord(resourceType, z.number()),
  evidence: z.string(),
  controls: z.array(z.string()),
  suppression: z
    .object({
      id: z.string(),
      owner: z.string(),
      reason: z.string(),
      expires: z.string(),
      status: z.enum(['active', 'expired']),
    })
    .optional(),
  firstReportedAt: z.string().optional(),
  ruleStatus: ruleStatus.optional(),
  change: ruleChange.optional(),
  fix: fix.optional(),
});

const ruleState = z.object({ status: ruleStatus, verdict: ruleVerdict });
/** The fields of ComparedRun: which previous run a report was compared with. */
export const comparedRunFields = {
  firstRun: z.boolean(),
  previousRunId: z.string().optional(),
  previousGeneratedAt: z.string().optional(),
};
const changes = z.object({
  ...comparedRunFields,
  worsened: z.boolean(),
  newFindingIds: z.array(z.string()),
  resolvedFindings: z.array(finding),
  changedFindings: z.array(
    z.object({ id: z.string(), previousSeverity: severity, changes: z.array(z.string()) }),
  ),
  unchangedFindings: z.number(),
  ruleVerdictChanges: z.array(
    z.object({ ruleId: z.string(), sgId: z.string(), before: ruleState, after: ruleState }),
  ),
  newSecurityGroups: z.array(z.string()),
  removedSecurityGroups: z.array(z.string()),
  renamedSecurityGroups: z.array(z.object({ sgId: z.string(), before: z.string(), after: z.string() })),
  newEnis: z.array(z.string()),
  removedEnis: z.array(z.string()),
});

const coverage = z.object({
  eniId: z.string(),
  status: coverageStatus,
  flowLogIds: z.array(z.string()),
  reasons: z.array(z.string()),
  coveredFrom: epochSeconds.optional(),
  deliveryGaps: z.array(z.object({ from: epochSeconds, to: epochSeconds })).optional(),
  hasTcpFlags: z.boolean(),
  hasPacketAddresses: z.boolean(),
});

const resourceRow = z.object({
  eniId: z.string(),
  sgIds: z.array(z.string()),
  resource: z.object({ type: resourceType, id: z.string(), name: z.string(), basis: z.string() }),
  privateIps: z.array(z.string()),
  vpcId: z.string(),
  subnetId: z.string(),
  coverage: coverageStatus,
});

const naclRecommendation = z.object({
  naclId: z.string(),
  subnetIds: z.array(z.string()),
  direction: z.enum(['inbound', 'outbound']),
  ruleNumber: z.number(),
  protocol: z.string(),
  fromPort: z.number().optional(),
  toPort: z.number().optional(),
  cidr: z.string(),
  action: z.enum(['allow', 'deny']),
  purpose: z.enum(['service', 'return-traffic', 'default-deny']),
  reason: z.string(),
});

const networkAcl = z.object({
  id: z.string(),
  vpcId: z.string(),
  isDefault: z.boolean(),
  subnetIds: z.array(z.string()),
  entries: z.array(
    z.object({
      ruleNumber: z.number(),
      egress: z.boolean(),
      protocol: z.string(),
      action: z.enum(['allow', 'deny']),
      cidr: z.string(),
      portRange: z.object({ from: z.number(), to: z.number() }).optional(),
      icmp: z.object({ type: z.number(), code: z.number() }).optional(),
    }),
  ),
});

const deliveryCounter = z.object({
  kind: z.enum(DELIVERY_COUNTER_KINDS),
  flowLogIds: z.array(z.string()),
  subject: z.string(),
  bucketStart: epochSeconds.optional(),
  delivered: z.number(),
  read: z.number(),
});

const flowSourceStats = z.object({
  engine: z.string(),
  sources: z.array(z.string()),
  files: z.number(),
  records: z.number(),
  nodataRecords: z.number(),
  skipdataRecords: z.number(),
  malformedRecords: z.number(),
  malformedSamples: z.array(z.object({ file: z.string(), line: z.number(), reason: z.string() })),
  queries: z.number(),
  bytesScanned: z.number(),
  newestRecord: epochSeconds.optional(),
  oldestRecord: epochSeconds.optional(),
  enisWithRecords: z.array(z.string()),
  warnings: z.array(z.string()),
  deliveries: z
    .array(
      z.object({
        flowLogId: z.string().nullable(),
        eniId: z.string(),
        bucketStart: epochSeconds,
        records: z.number(),
      }),
    )
    .optional(),
  counters: z.array(deliveryCounter).optional(),
  flowLogIds: z.array(z.string()).optional(),
  otherEnis: z.array(z.object({ eniId: z.string(), records: z.number() })).optional(),
});

const deliveryStatus = z.enum(DELIVERY_STATUSES);

const deliveryReport = z.object({
  bucketSeconds: z.number(),
  buckets: z.array(z.object({ start: epochSeconds, from: epochSeconds, to: epochSeconds })),
  flowLogs: z.array(
    z.object({
      flowLogId: z.string(),
      resourceId: z.string(),
      status: deliveryStatus,
      records: z.array(z.number()),
      proven: z.array(z.boolean()),
      expected: z.array(z.boolean()),
      gaps: z.array(z.object({ from: epochSeconds, to: epochSeconds })),
      inconsistencies: z.array(z.string()),
    }),
  ),
});

const naclDirection = z.enum(['inbound', 'outbound']);

const rejectedReport = z.object({
  connections: z.number(),
  byClass: z.object(
    Object.fromEntries(REJECTED_CLASSES.map((k) => [k, z.number()])) as Record<
      (typeof REJECTED_CLASSES)[number],
      z.ZodNumber
    >,
  ),
  rows: z.array(
    z.object({
      eniId: z.string(),
      sgIds: z.array(z.string()),
      vpcId: z.string(),
      direction,
      protocol: z.string(),
      port: z.number().nullable(),
      peer: z.string(),
      origin: z.enum(PEER_ORIGINS),
      connections: z.number(),
      records: z.number(),
      packets: z.number(),
      firstSeen: epochSeconds,
      lastSeen: epochSeconds,
      class: z.enum(REJECTED_CLASSES),
      reason: z.string(),
      replyOnly: z.boolean().optional(),
      servicePortUnknown: z.boolean().optional(),
      suggestion: z
        .object({
          sgId: z.string(),
          direction,
          protocol: z.string(),
          fromPort: z.number().optional(),
          toPort: z.number().optional(),
          peer: z.string(),
          peerSgIds: z.array(z.string()),
          basis: z.enum(SUGGESTION_BASES),
          text: z.string(),
          why: z.string(),
        })
        .optional(),
      nacl: z
        .object({
          naclId: z.string(),
          direction: naclDirection,
          ruleNumber: z.number().optional(),
          text: z.string(),
        })
        .optional(),
      admittedBy: z.array(z.string()).optional(),
    }),
  ),
  omittedRows: z.number(),
  topSources: z.array(
    z.object({
      addr: z.string(),
      origin: z.enum(PEER_ORIGINS),
      connections: z.number(),
      ports: z.number(),
      enis: z.number(),
    }),
  ),
  topPorts: z.array(
    z.object({
      protocol: z.string(),
      port: z.number().nullable(),
      connections: z.number(),
      sources: z.number(),
    }),
  ),
  unrecordedEnis: z.array(z.string()),
  unexplainedReplies: z.number(),
});

const egressReport = z.object({
  connections: z.number(),
  bytes: z.number(),
  destinations: z.array(
    z.object({
      sgId: z.string(),
      destination: z.string(),
      kind: z.enum(EGRESS_DESTINATION_KINDS),
      peer: z.string(),
      service: z.string().optional(),
      public: z.boolean(),
      protocol: z.string(),
      port: z.number().nullable(),
      connections: z.number(),
      bytes: z.number(),
      addresses: z.number(),
      topAddresses: z.array(z.string()),
      firstSeen: epochSeconds,
      lastSeen: epochSeconds,
      expected: z.enum(EGRESS_EXPECTATIONS),
      allowListId: z.string().optional(),
      adminPort: z.boolean(),
    }),
  ),
  unexpected: z.number(),
  omittedRows: z.number(),
  allowList: z
    .object({
      file: z.string(),
      entries: z.number(),
      expired: z.array(z.string()),
      unused: z.array(z.string()),
    })
    .optional(),
  incompleteEnis: z.array(z.string()),
});

const countsOf = <T extends string>(keys: readonly [T, ...T[]]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number()])) as Record<T, z.ZodNumber>);

export const auditReportSchema = z
  .object({
    schemaVersion: z.string(),
    tool: z.object({ name: z.string(), version: z.string() }),
    runId: z.string(),
    generatedAt: z.string(),
    mode: z.enum(['offline', 'live']),
    account: z.object({ id: z.string().optional(), region: z.string().optional() }),
    window: z.object({ start: z.string(), end: z.string(), days: z.number() }),
    scope: z.object({ vpcIds: z.array(z.string()), sgIds: z.array(z.string()), ports: z.array(z.string()) }),
    summary: z.object({
      securityGroups: z.number(),
      ruleEntries: z.number(),
      networkInterfaces: z.number(),
      findingsBySeverity: countsOf(SEVERITIES),
      rulesByStatus: countsOf(RULE_STATUSES),
      rulesByVerdict: countsOf(RULE_VERDICTS),
      enisByCoverage: countsOf(COVERAGE_STATUSES),
      flowRecords: z.number(),
      connections: z.number(),
      malformedRecords: z.number(),
      bytesScanned: z.number(),
      queries: z.number(),
      flowLogsByDelivery: z
        .object(
          Object.fromEntries(DELIVERY_STATUSES.map((k) => [k, z.number()])) as Record<
            DeliveryStatus,
            z.ZodNumber
          >,
        )
        .optional(),
    }),
    findings: z.array(finding),
    securityGroups: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        vpcId: z.string(),
        description: z.string(),
        tags: z.record(z.string(), z.string()).optional(),
        isDefault: z.boolean(),
        eniIds: z.array(z.string()),
        referencedBy: z.array(z.string()),
        rules: z.array(
          z.object({
            id: z.string(),
            direction,
            protocol: z.string(),
            fromPort: z.number().optional(),
            toPort: z.number().optional(),
            peer: z.string(),
            description: z.string().optional(),
            securityGroupRuleId: z.string().optional(),
            usage: ruleUsage,
            change: ruleChange.optional(),
          }),
        ),
        recommendations: z.array(recommendation),
        quota: z.array(quota),
        worstSeverity: severity.optional(),
        change: ruleChange.optional(),
      }),
    ),
    resources: z.array(resourceRow),
    coverage: z.array(coverage),
    naclRecommendations: z.array(naclRecommendation),
    networkAcls: z.array(networkAcl).optional(),
    flowSources: z.array(flowSourceStats),
    delivery: deliveryReport.optional(),
    warnings: z.array(
      z.object({
        code: z.string(),
        message: z.string(),
        file: z.string().optional(),
        line: z.number().optional(),
        samples: z.array(z.object({ file: z.string(), line: z.number(), reason: z.string() })).optional(),
      }),
    ),
    changes: changes.optional(),
    rejected: rejectedReport.optional(),
    egress: egressReport.optional(),
    changeHistory: changeHistory.optional(),
  })
  .describe('sg-audit report');

// Compile-time: the schema and the TypeScript model describe the same shape, both ways.
export const schemaMatchesModel: SchemaMatchesModel<z.infer<typeof auditReportSchema>, AuditReport> = true;

/** The published JSON Schema (draft 2020-12) of report.json. */
export function reportJsonSchema(): Record<string, unknown> {
  return publishedJsonSchema(auditReportSchema, 'report.schema.json', 'sg-audit report');
}
