/**
 * From findings to changes: a report becomes a change plan per security group (and NACL, opt-in).
 *
 * Silence is never evidence: only rules whose verdict is proven — 'narrow' (used, wider than its
 * traffic, every ENI covered every day) or 'remove' (unused under full coverage) — may enter a
 * plan; 'review' never does. A narrowed rule is revoked only when every recommended entry that
 * admits its observed traffic is added (or already there and kept), and every added entry lies
 * inside the SG's rules as they are, so the result admits nothing the SG did not. Adds come before
 * revokes, the quota is checked after each step, SGs that code manages get the IaC change instead
 * of a direct one, and public services stay world-open (the core keeps them as 'keep').
 */
import { createHash } from 'node:crypto';
import type { RuleUsage } from '../model/analysis';
import { DIRECTIONS, IP_FAMILIES, type IpFamily } from '../model/inventory';
import { parseIp } from '../net/ip';
import type { AuditReport, ReportSecurityGroup } from '../report/model';
import {
  type KeptRule,
  type NaclPlan,
  PLAN_SCHEMA_VERSION,
  PLANNABLE_VERDICTS,
  type PlannableVerdict,
  type PlannedAdd,
  type PlannedRevoke,
  type RemediationPlan,
  type SgPlan,
} from './model';
import { planNacl } from './nacl-plan';
import { iacOwner } from './ownership';
import { admits, type GroupMembers, groupMembersOf, specWithin } from './rule-space';
import {
  peerKind,
  type RuleSpec,
  ruleDescription,
  ruleSetFingerprint,
  specKey,
  specOfRecommendation,
  specOfReportRule,
} from './rule-spec';
import { quotaKey, ruleWeight, scheduleChanges } from './schedule';
import { applySteps } from './simulate';

export interface PlanOptions {
  /** Only these SGs (all of the report when empty). */
  readonly sgIds?: readonly string[];
  /** The verdicts acted on. @default ['narrow', 'remove'] */
  readonly include?: readonly PlannableVerdict[];
  /** Also plan the NACLs the report recommends entries for. @default false */
  readonly nacl?: boolean;
  /** NACL entries per direction. @default 20 */
  readonly naclQuota?: number;
  /** Rule entries per SG, direction and family when the report has no quota line. @default 60 */
  readonly ruleQuota?: number;
  readonly createdAt: Date;
  readonly toolVersion: string;
}

/** Services flow logs never record, at fixed link-local addresses (the VPC resolver at base + 2 is the core's). */
const UNLOGGED_PROBES: readonly {
  label: string;
  protocol: number;
  port: number;
  addrs: readonly string[];
}[] = [
  {
    label: 'DNS to the Amazon resolver',
    protocol: 17,
    port: 53,
    addrs: ['169.254.169.253', 'fd00:ec2::253'],
  },
  { label: 'DNS to the Amazon resolver', protocol: 6, port: 53, addrs: ['169.254.169.253', 'fd00:ec2::253'] },
  { label: 'instance metadata', protocol: 6, port: 80, addrs: ['169.254.169.254', 'fd00:ec2::254'] },
  { label: 'time sync', protocol: 17, port: 123, addrs: ['169.254.169.123', 'fd00:ec2::123'] },
];

function unloggedServicesOf(rule: RuleSpec): string[] {
  if (rule.direction !== 'egress') return [];
  const labels = new Set<string>();
  for (const probe of UNLOGGED_PROBES) {
    for (const peerAddr of probe.addrs) {
      if (parseIp(peerAddr) === undefined) continue;
      if (
        admits(rule, { direction: 'egress', protocol: probe.protocol, port: probe.port, peerAddr }, new Map())
      )
        labels.add(probe.label);
    }
  }
  return [...labels];
}

/** Why a verdict is not proven enough to act on, or undefined when it is. */
function unproven(usage: RuleUsage): string | undefined {
  if (usage.coverage !== 'full') return `coverage ${usage.coverage}: not every ENI's delivery is proven`;
  if (usage.verdict === 'narrow' && usage.status !== 'used') return `status ${usage.status}`;
  if (usage.verdict === 'remove' && (usage.status !== 'unused' || usage.connections > 0))
    return `status ${usage.status} with ${usage.connections} connections`;
  return undefined;
}

function dateOf(iso: string): string {
  return iso.slice(0, 10);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

interface Candidate {
  readonly ruleId: string;
  readonly rule: RuleSpec;
  readonly usage: RuleUsage;
  readonly verdict: PlannableVerdict;
}

/** Quota weights of this SG's rules: prefix lists weigh what the report's quota lines leave for them. */
function weightsOf(sg: ReportSecurityGroup): (rule: RuleSpec, family: IpFamily) => number {
  const prefixWeights = new Map<string, number>();
  for (const direction of DIRECTIONS) {
    const lists = sg.rules.filter((r) => r.direction === direction && peerKind(r.peer) === 'prefix-list');
    if (lists.length !== 1) continue;
    const list = lists[0] as (typeof lists)[number];
    for (const family of IP_FAMILIES) {
      const line = sg.quota.find((q) => q.direction === direction && q.family === family);
      if (line === undefined) continue;
      const others = sg.rules
        .filter((r) => r.direction === direction && r !== list)
        .reduce((sum, r) => sum + ruleWeight(specOfReportRule(r), family), 0);
      prefixWeights.set(`${direction}/${family}/${list.peer}`, Math.max(0, line.current - others));
    }
  }
  return (rule, family) =>
    peerKind(rule.peer) === 'prefix-list'
      ? (prefixWeights.get(`${rule.direction}/${family}/${rule.peer}`) ?? ruleWeight(rule, family))
      : ruleWeight(rule, family);
}

/**
 * The plan of one SG of a report (see the module comment).
 *
 * @example planSecurityGroup(report, report.securityGroups[0], { include: ['narrow', 'remove'], members, ruleQuota: 60 }).steps
 */
export function planSecurityGroup(
  report: Pick<AuditReport, 'window'>,
  sg: ReportSecurityGroup,
  context: {
    readonly include: readonly PlannableVerdict[];
    readonly members: GroupMembers;
    readonly ruleQuota: number;
  },
): SgPlan {
  const originals = sg.rules.map(specOfReportRule);
  const keyOfRule = new Map(sg.rules.map((r) => [r.id, specKey(specOfReportRule(r))]));
  const ruleIdByKey = new Map(sg.rules.map((r) => [specKey(specOfReportRule(r)), r.id]));
  const kept: KeptRule[] = [];
  const keep = (ruleId: string, verdict: string, reason: string) => kept.push({ ruleId, verdict, reason });

  const candidates = new Map<string, Candidate>();
  for (const rule of sg.rules) {
    const usage = rule.usage;
    if (usage.verdict === 'review') {
      keep(rule.id, usage.verdict, `unproven, never planned: ${usage.verdictReason}`);
      continue;
    }
    if (usage.verdict === 'keep') {
      if (/^keep: public service/.test(usage.verdictReason))
        keep(rule.id, usage.verdict, usage.verdictReason);
      continue;
    }
    const verdict = usage.verdict;
    if (!context.include.includes(verdict)) {
      keep(rule.id, verdict, `not included (--include ${context.include.join(',')})`);
      continue;
    }
    const why = unproven(usage);
    if (why !== undefined) {
      keep(rule.id, verdict, `verdict '${verdict}' without proof (${why}): kept as written`);
      continue;
    }
    const spec = specOfReportRule(rule);
    const hidden = unloggedServicesOf(spec);
    if (verdict === 'remove' && hidden.length > 0) {
      keep(
        rule.id,
        verdict,
        `may carry traffic flow logs never record (${hidden.join(', ')}): kept as written`,
      );
      continue;
    }
    candidates.set(rule.id, { ruleId: rule.id, rule: spec, usage, verdict });
  }

  // The replacements of each narrowed rule: the recommended entries citing it.
  const recommendations = sg.recommendations.filter((rec) => rec.basis !== 'unproven');
  const needs = new Map<string, Set<string>>();
  const drafts = new Map<string, { rule: RuleSpec; rec: (typeof recommendations)[number] }>();
  const windowEnd = dateOf(report.window.end);
  for (const candidate of candidates.values()) {
    if (candidate.verdict !== 'narrow') continue;
    const citing = recommendations.filter((rec) => rec.sourceRuleIds.includes(candidate.ruleId));
    const keys = new Set<string>();
    for (const rec of citing) {
      const basis = rec.basis === 'observed' ? '' : ` (${rec.basis})`;
      const description = ruleDescription(
        `sg-audit ${windowEnd}: ${plural(rec.connections, 'connection')} from ${plural(rec.distinctPeers, 'peer')}${basis}`,
      );
      const rule = specOfRecommendation(rec, description);
      const key = specKey(rule);
      keys.add(key);
      if (!ruleIdByKey.has(key) && !drafts.has(key)) drafts.set(key, { rule, rec });
    }
    needs.set(candidate.ruleId, keys);
  }

  const drop = (ruleId: string, reason: string) => {
    const candidate = candidates.get(ruleId);
    if (candidate === undefined) return;
    candidates.delete(ruleId);
    keep(ruleId, candidate.verdict, reason);
  };
  for (const [ruleId, keys] of needs) {
    const candidate = candidates.get(ruleId);
    if (candidate === undefined) continue;
    if (keys.size === 0) {
      drop(ruleId, 'no recommended entry admits its observed traffic: revoking it could cut that traffic');
      continue;
    }
    for (const key of keys) {
      const existing = ruleIdByKey.get(key);
      if (existing !== undefined && candidates.has(existing)) {
        drop(ruleId, `its traffic is admitted by ${existing}, which is itself planned to go`);
        break;
      }
      const draft = drafts.get(key);
      if (draft !== undefined && !specWithin(draft.rule, originals, context.members)) {
        drop(
          ruleId,
          `the recommended entry '${draft.rec.text.replace(/^- /, '')}' could not be proven inside the SG's rules`,
        );
        break;
      }
    }
  }
  // The last rule admitting observed traffic never goes: every replacement must be there after.
  for (const [ruleId, keys] of needs) {
    const candidate = candidates.get(ruleId);
    if (candidate === undefined) continue;
    const finalKeys = new Set([
      ...[...keyOfRule].filter(([id]) => !candidates.has(id)).map(([, key]) => key),
      ...drafts.keys(),
    ]);
    const missing = [...keys].filter((key) => !finalKeys.has(key));
    if (missing.length > 0)
      drop(ruleId, `its replacements would not all be in place (${missing.join(', ')})`);
  }

  const revoke: PlannedRevoke[] = [...candidates.values()].map((c) => ({
    ruleId: c.ruleId,
    rule: c.rule,
    verdict: c.verdict,
    reason: c.usage.verdictReason,
    replacedBy: [...(needs.get(c.ruleId) ?? [])],
  }));
  const add: PlannedAdd[] = [...drafts.entries()].flatMap(([key, { rule, rec }]) => {
    const replaces = [...needs].filter(([id, keys]) => candidates.has(id) && keys.has(key)).map(([id]) => id);
    return replaces.length === 0
      ? []
      : [
          {
            rule,
            replaces,
            basis: rec.basis,
            connections: rec.connections,
            distinctPeers: rec.distinctPeers,
            text: rec.text,
          },
        ];
  });

  const limit = sg.quota[0]?.limit ?? context.ruleQuota;
  const weight = weightsOf(sg);
  const before = new Map(sg.quota.map((q) => [quotaKey(q.direction, q.family), q.current]));
  const schedule = scheduleChanges({
    current: originals,
    adds: add.map((a) => a.rule),
    revokes: revoke.map((r) => ({
      rule: r.rule,
      ruleId: r.ruleId,
      requires: r.verdict === 'remove' ? [] : r.replacedBy,
    })),
    limit,
    weight,
    before,
  });
  const owner = iacOwner(sg);
  const changes = add.length + revoke.length > 0;
  const blocked = schedule.blocked;
  const steps = blocked === undefined ? schedule.steps : [];
  return {
    sgId: sg.id,
    sgName: sg.name,
    vpcId: sg.vpcId,
    action: !changes ? 'none' : blocked !== undefined ? 'blocked' : owner !== undefined ? 'iac' : 'apply',
    ...(owner ? { owner } : {}),
    ...(blocked !== undefined ? { blockedReason: blocked } : {}),
    expected: { fingerprint: ruleSetFingerprint(originals), rules: originals },
    add,
    revoke,
    kept,
    steps,
    quota: schedule.quota,
    afterFingerprint: ruleSetFingerprint(applySteps(originals, steps)),
  };
}

function contentId(plan: Omit<RemediationPlan, 'planId' | 'createdAt'>): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(plan)).digest('hex')}`;
}

/**
 * The change plan of a report (see the module comment): SGs in scope with something proven to
 * change or a reason not to, and with `nacl` the NACLs the report recommends entries for.
 *
 * @example buildPlan(report, { createdAt: new Date(), toolVersion: '0.1.0' }).summary.revokes
 */
export function buildPlan(report: AuditReport, options: PlanOptions): RemediationPlan {
  const include = options.include ?? [...PLANNABLE_VERDICTS];
  const members = groupMembersOf(report.resources);
  const only = new Set(options.sgIds ?? []);
  const securityGroups = report.securityGroups
    .filter((sg) => only.size === 0 || only.has(sg.id))
    .map((sg) => planSecurityGroup(report, sg, { include, members, ruleQuota: options.ruleQuota ?? 60 }))
    .filter((plan) => plan.action !== 'none' || plan.kept.length > 0);
  const nacls: NaclPlan[] = [];
  if (options.nacl) {
    const ids = [...new Set(report.naclRecommendations.map((r) => r.naclId))].sort();
    for (const id of ids) {
      const acl = report.networkAcls?.find((a) => a.id === id);
      if (acl === undefined) continue;
      nacls.push(planNacl(acl, report.naclRecommendations, { quota: options.naclQuota ?? 20 }));
    }
  }
  const content = {
    schemaVersion: PLAN_SCHEMA_VERSION,
    kind: 'sg-audit-plan' as const,
    tool: { name: 'sg-audit', version: options.toolVersion },
    report: {
      runId: report.runId,
      generatedAt: report.generatedAt,
      window: report.window,
      account: report.account,
    },
    include,
    securityGroups,
    nacls,
    summary: {
      securityGroups: securityGroups.length,
      toApply: securityGroups.filter((s) => s.action === 'apply').length,
      iac: securityGroups.filter((s) => s.action === 'iac').length,
      blocked: securityGroups.filter((s) => s.action === 'blocked').length,
      adds: securityGroups.reduce((n, s) => n + s.add.length, 0),
      revokes: securityGroups.reduce((n, s) => n + s.revoke.length, 0),
      nacls: nacls.filter((n) => n.action === 'apply').length,
    },
  };
  return { ...content, planId: contentId(content), createdAt: options.createdAt.toISOString() };
}
