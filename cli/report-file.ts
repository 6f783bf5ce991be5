/** Reading the JSON files commands take: a report, a plan, an applied record — validated, with the file named. */
import { existsSync } from 'node:fs';
import type { z } from 'zod';
import { parseJsonFile, readTextFile } from '../adapters/local/export-dir';
import { InputError } from '../shared/errors';
import type { AppliedRecord, RemediationPlan } from '../shared/remediation/model';
import { appliedRecordSchema, remediationPlanSchema } from '../shared/remediation/schema';
import type { AuditReport } from '../shared/report/model';
import { auditReportSchema } from '../shared/report/schema';

function readValidated(file: string, schema: z.ZodType, what: string, missing: string): unknown {
  if (!existsSync(file)) throw new InputError(missing, { file });
  const parsed = schema.safeParse(parseJsonFile(readTextFile(file), file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`not ${what}: ${issue?.message ?? 'invalid'}`, {
      file,
      field: issue?.path.join('.') ?? '',
    });
  }
  return parsed.data;
}

/** A report.json, validated against the report schema. */
export function readReportFile(file: string, missing = 'report not found'): AuditReport {
  return readValidated(file, auditReportSchema, 'an sg-audit report', missing) as AuditReport;
}

/** A plan.json, validated against the plan schema. */
export function readPlanFile(file: string): RemediationPlan {
  return readValidated(file, remediationPlanSchema, 'an sg-audit plan', 'plan not found') as RemediationPlan;
}

/** An applied-<time>.json, validated against its schema. */
export function readAppliedFile(file: string): AppliedRecord {
  return readValidated(
    file,
    appliedRecordSchema,
    'an sg-audit applied record',
    'applied record not found',
  ) as AppliedRecord;
}
