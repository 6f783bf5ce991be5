/**
 * plan.json and applied-<time>.json as zod schemas: the source of docs/plan.schema.json and
 * docs/applied.schema.json, and the validation of those files when apply and rollback read them.
 * Compile-time checks keep them identical to the TypeScript model in ./model.ts.
 */
import { z } from 'zod';
import { RECOMMENDATION_BASES } from '../model/analysis';
import { DIRECTIONS, IP_FAMILIES } from '../model/inventory';
import { publishedJsonSchema, type SchemaMatchesModel } from '../published-schema';
import type { AppliedRecord, RemediationPlan } from './model';
import { PLANNABLE_VERDICTS } from './model';

const direction = z.enum(DIRECTIONS);

const ruleSpec = z.object({
  direction,
  protocol: z.string(),
  fromPort: z.number().int().optional(),
  toPort: z.number().int().optional(),
  peer: z.string(),
  description: z.string().optional(),
  securityGroupRuleId: z.string().optional(),
  peerOwnerId: z.string().optional(),
});

const ruleSet = z.object({ fingerprint: z.string(), rules: z.array(ruleSpec) });

const sgStep = z.object({
  action: z.enum(['authorize', 'revoke']),
  rule: ruleSpec,
  ruleId: z.string().optional(),
});

const naclEntry = z.object({
  ruleNumber: z.number().int().min(0).max(32767),
  egress: z.boolean(),
  protocol: z.string(),
  action: z.enum(['allow', 'deny']),
  cidr: z.string(),
  portRange: z.object({ from: z.number().int(), to: z.number().int() }).optional(),
  icmp: z.object({ type: z.number().int(), code: z.number().int() }).optional(),
});

const naclEntrySet = z.object({ fingerprint: z.string(), entries: z.array(naclEntry) });

const naclStep = z.object({
  action: z.enum(['create', 'replace', 'delete']),
  entry: naclEntry,
  reason: z.string(),
});

const drift = z.object({ added: z.array(z.string()), removed: z.array(z.string()) });

const iacOwner = z.object({
  tool: z.enum(['cloudformation', 'cdk', 'terraform', 'pulumi']),
  name: z.string().optional(),
  evidence: z.string(),
});

const sgPlan = z.object({
  sgId: z.string(),
  sgName: z.string(),
  vpcId: z.string(),
  action: z.enum(['apply', 'iac', 'blocked', 'none']),
  owner: iacOwner.optional(),
  blockedReason: z.string().optional(),
  expected: ruleSet,
  add: z.array(
    z.object({
      rule: ruleSpec,
      replaces: z.array(z.string()),
      basis: z.enum(RECOMMENDATION_BASES),
      connections: z.number(),
      distinctPeers: z.number(),
      text: z.string(),
    }),
  ),
  revoke: z.array(
    z.object({
      ruleId: z.string(),
      rule: ruleSpec,
      verdict: z.enum(PLANNABLE_VERDICTS),
      reason: z.string(),
      replacedBy: z.array(z.string()),
    }),
  ),
  kept: z.array(z.object({ ruleId: z.string(), verdict: z.string(), reason: z.string() })),
  steps: z.array(sgStep),
  quota: z.array(
    z.object({
      direction,
      family: z.enum(IP_FAMILIES),
      limit: z.number(),
      before: z.number(),
      afterStep: z.array(z.number()),
      peak: z.number(),
      after: z.number(),
    }),
  ),
  afterFingerprint: z.string(),
});

const naclPlan = z.object({
  naclId: z.string(),
  vpcId: z.string(),
  subnetIds: z.array(z.string()),
  action: z.enum(['apply', 'blocked', 'none']),
  blockedReason: z.string().optional(),
  expected: naclEntrySet,
  target: z.array(naclEntry),
  steps: z.array(naclStep),
  quota: z.array(
    z.object({
      direction: z.enum(['inbound', 'outbound']),
      limit: z.number(),
      before: z.number(),
      peak: z.number(),
      after: z.number(),
    }),
  ),
  afterFingerprint: z.string(),
});

export const remediationPlanSchema = z
  .object({
    schemaVersion: z.string(),
    kind: z.literal('sg-audit-plan'),
    planId: z.string(),
    createdAt: z.string(),
    tool: z.object({ name: z.string(), version: z.string() }),
    report: z.object({
      runId: z.string(),
      generatedAt: z.string(),
      window: z.object({ start: z.string(), end: z.string(), days: z.number() }),
      account: z.object({ id: z.string().optional(), region: z.string().optional() }),
    }),
    include: z.array(z.enum(PLANNABLE_VERDICTS)),
    securityGroups: z.array(sgPlan),
    nacls: z.array(naclPlan),
    summary: z.object({
      securityGroups: z.number(),
      toApply: z.number(),
      iac: z.number(),
      blocked: z.number(),
      adds: z.number(),
      revokes: z.number(),
      nacls: z.number(),
    }),
  })
  .describe('sg-audit change plan');

const appliedStatus = z.enum([
  'applied',
  'verified-unchanged',
  'failed',
  'refused-drift',
  'skipped',
  'not-reached',
  'dry-run',
]);

export const appliedRecordSchema = z
  .object({
    schemaVersion: z.string(),
    kind: z.literal('sg-audit-applied'),
    operation: z.enum(['apply', 'rollback']),
    planId: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    account: z.object({ id: z.string().optional(), region: z.string().optional() }).optional(),
    status: z.enum(['in-progress', 'complete', 'stopped']),
    stoppedAt: z
      .object({ target: z.string(), step: z.number(), of: z.number(), error: z.string() })
      .optional(),
    securityGroups: z.array(
      z.object({
        sgId: z.string(),
        status: appliedStatus,
        message: z.string().optional(),
        before: ruleSet.optional(),
        after: ruleSet.optional(),
        steps: z.array(sgStep),
        stepsDone: z.number(),
        drift: drift.optional(),
      }),
    ),
    nacls: z.array(
      z.object({
        naclId: z.string(),
        status: appliedStatus,
        message: z.string().optional(),
        before: naclEntrySet.optional(),
        after: naclEntrySet.optional(),
        steps: z.array(naclStep),
        stepsDone: z.number(),
        drift: drift.optional(),
      }),
    ),
  })
  .describe('sg-audit applied changes');

// Compile-time: each schema and its TypeScript model describe the same shape, both ways.
export const planSchemaMatchesModel: SchemaMatchesModel<
  z.infer<typeof remediationPlanSchema>,
  RemediationPlan
> = true;
export const appliedSchemaMatchesModel: SchemaMatchesModel<
  z.infer<typeof appliedRecordSchema>,
  AppliedRecord
> = true;

/** The published JSON Schema (draft 2020-12) of plan.json. */
export function planJsonSchema(): Record<string, unknown> {
  return publishedJsonSchema(remediationPlanSchema, 'plan.schema.json', 'sg-audit change plan');
}

/** The published JSON Schema (draft 2020-12) of applied-<time>.json. */
export function appliedJsonSchema(): Record<string, unknown> {
  return publishedJsonSchema(appliedRecordSchema, 'applied.schema.json', 'sg-audit applied changes');
}
