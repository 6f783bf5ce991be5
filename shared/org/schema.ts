/**
 * The organization report as a zod schema: validates a previous run's org-report.json read back
 * (week over week at organization level) and the org report notify reads. A compile-time check
 * keeps it identical to the TypeScript model in ./model.ts.
 */
import { z } from 'zod';
import { COVERAGE_STATUSES, SEVERITIES } from '../model/analysis';
import type { SchemaMatchesModel } from '../published-schema';
import { comparedRunFields } from '../report/schema';
import { GAP_KINDS, type OrgReport } from './model';

/** The fields of FindingChangeCounts. */
const findingChangeCounts = {
  newFindings: z.number(),
  worseFindings: z.number(),
  resurfacedFindings: z.number(),
  resolvedFindings: z.number(),
};

const severity = z.enum(SEVERITIES);
const bySeverity = z.object(Object.fromEntries(SEVERITIES.map((s) => [s, z.number()]))) as z.ZodObject<
  Record<(typeof SEVERITIES)[number], z.ZodNumber>
>;
const byCoverage = z.object(Object.fromEntries(COVERAGE_STATUSES.map((s) => [s, z.number()]))) as z.ZodObject<
  Record<(typeof COVERAGE_STATUSES)[number], z.ZodNumber>
>;
const target = {
  accountId: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  accountName: z.string().optional(),
};
const bareTarget = z.object(target);

/** The fields of AuditCounts. */
const auditCounts = {
  findingsBySeverity: bySeverity,
  actionableFindingsBySeverity: bySeverity,
  securityGroups: z.number(),
  networkInterfaces: z.number(),
  enisByCoverage: byCoverage,
};

const audit = z.object({
  runId: z.string(),
  generatedAt: z.string(),
  ...auditCounts,
  warnings: z.number(),
  failedSources: z.number(),
  reportPath: z.string().optional(),
  changes: z.object({ firstRun: z.boolean(), ...findingChangeCounts }).optional(),
});

const gap = z.object({
  kind: z.enum(GAP_KINDS),
  step: z.string().optional(),
  error: z.object({ name: z.string(), message: z.string() }),
});

const orgFinding = z.object({
  accountId: z.string(),
  region: z.string(),
  findingId: z.string(),
  check: z.string(),
  severity,
  sgId: z.string(),
  sgName: z.string(),
  rule: z.string(),
  reason: z.string(),
  change: z.enum(['new', 'worse', 'resurfaced']).optional(),
  previousSeverity: severity.optional(),
});

export const orgReportSchema = z
  .object({
    schemaVersion: z.string().regex(/^1\./, 'must be an organization report of schema 1.x'),
    tool: z.object({ name: z.string(), version: z.string() }),
    runId: z.string(),
    generatedAt: z.string(),
    window: z.object({ start: z.string(), end: z.string(), days: z.number() }).optional(),
    targets: z.array(
      z.union([
        z.object({ ...target, status: z.literal('audited'), audit }),
        z.object({ ...target, status: z.literal('gap'), gap }),
      ]),
    ),
    totals: z.object({
      targets: z.number(),
      audited: z.number(),
      gaps: z.number(),
      accounts: z.number(),
      regions: z.number(),
      ...auditCounts,
    }),
    topFindings: z.array(orgFinding),
    leadingFindings: z.array(orgFinding),
    changes: z
      .object({
        ...comparedRunFields,
        worsened: z.boolean(),
        ...findingChangeCounts,
        worsenedTargets: z.array(bareTarget),
        newGaps: z.array(bareTarget),
        resolvedGaps: z.array(bareTarget),
        newTargets: z.array(bareTarget),
        removedTargets: z.array(bareTarget),
      })
      .optional(),
  })
  .describe('sg-audit organization report');

// Compile-time: the schema and the TypeScript model describe the same shape, both ways.
export const orgSchemaMatchesModel: SchemaMatchesModel<z.infer<typeof orgReportSchema>, OrgReport> = true;
