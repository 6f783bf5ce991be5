/**
 * Applying a change plan, and rolling it back, against a target (EC2 in adapters/aws): the use
 * case every runner (the CLI, the deployed apply function) calls.
 *
 * Apply: re-reads each SG and NACL, refuses those whose rules drifted from the plan's fingerprint
 * (and says what changed), runs every step with EC2 DryRun before any change, then makes the
 * steps in the plan's order (adds before revokes), SG by SG, verifies each with a describe and
 * records the exact before and after. The first failure stops the run: the SGs before it are
 * applied and verified, the failing one keeps the steps it made (adds come first, so access is
 * intact), the rest are not reached — the record says which step of which SG stopped it.
 * Rollback: the same, from the record back to the exact before state (specs and descriptions).
 */
import type {
  AppliedNacl,
  AppliedRecord,
  AppliedSecurityGroup,
  NaclEntrySpec,
  NaclStep,
  RemediationPlan,
  SgStep,
} from './model';
import { APPLIED_SCHEMA_VERSION } from './model';
import { applyNaclSteps, naclDifference, naclFingerprint, naclTransition } from './nacl-plan';
import { type RuleSpec, ruleSetDifference, ruleSetFingerprint, specKey } from './rule-spec';
import { applySteps, restoreSteps } from './simulate';

/** Where the changes are made: EC2 (adapters/aws/ec2-remediation.ts), or a simulation in tests. */
export interface RemediationTarget {
  /** The rules of each SG found (absent: no such SG), with descriptions and `sgr-` ids. */
  describeSecurityGroups(sgIds: readonly string[]): Promise<ReadonlyMap<string, readonly RuleSpec[]>>;
  /** One add or revoke; with `dryRun`, only whether it would be allowed (throws when not). */
  changeSecurityGroup(sgId: string, step: SgStep, options: { readonly dryRun: boolean }): Promise<void>;
  /** The numbered entries of each NACL found. */
  describeNetworkAcls(naclIds: readonly string[]): Promise<ReadonlyMap<string, readonly NaclEntrySpec[]>>;
  changeNetworkAcl(naclId: string, step: NaclStep, options: { readonly dryRun: boolean }): Promise<void>;
}

export interface RunOptions {
  /** Drift checks and DryRun only: nothing changes. */
  readonly dryRun: boolean;
  readonly now: () => Date;
  /**
   * Asked after the drift checks and DryRun, before the first change, with what will change;
   * false stops the run with nothing changed. @default always yes
   */
  readonly confirm?: (summary: string) => Promise<boolean>;
  /** Called with the record after each SG or NACL (persist it: a crash leaves what was done). */
  readonly onRecord?: (record: AppliedRecord) => Promise<void> | void;
  readonly progress?: (message: string) => void;
  readonly account?: { readonly id?: string; readonly region?: string };
  /** Rule entries per SG, direction and family when a rollback must order its steps. @default 60 */
  readonly ruleQuota?: number;
  /** NACL entries per direction when a rollback must order its steps. @default 20 */
  readonly naclQuota?: number;
}

export interface RunOutcome {
  readonly record: AppliedRecord;
  /** SGs and NACLs refused for drift. */
  readonly drifted: number;
  /** Whether a failure stopped the run. */
  readonly failed: boolean;
  /** Whether the confirmation was declined (nothing changed). */
  readonly declined: boolean;
}

/** What one SG or NACL is to go through in a run. */
interface SgJob {
  readonly kind: 'sg';
  readonly id: string;
  /** What the rules must be now (drift check). */
  readonly expected: readonly RuleSpec[];
  /** What they must be after the steps (verify). */
  readonly target: readonly RuleSpec[];
  /** Compare descriptions too when verifying (a rollback restores them exactly). */
  readonly exact: boolean;
  /** The steps from the rules read now (sgr- ids as read). */
  readonly stepsFor: (now: readonly RuleSpec[]) => SgStep[];
}

interface NaclJob {
  readonly kind: 'nacl';
  readonly id: string;
  readonly expected: readonly NaclEntrySpec[];
  readonly target: readonly NaclEntrySpec[];
  readonly stepsFor: (now: readonly NaclEntrySpec[]) => NaclStep[];
}

type Skip = { readonly kind: 'sg' | 'nacl'; readonly id: string; readonly message: string };

/** A change of an SG's or a NACL's record (`after` of the kind of the job). */
type StatusPatch = Partial<Pick<AppliedSecurityGroup, 'status' | 'message' | 'stepsDone'>> & {
  readonly after?: AppliedSecurityGroup['after'] | AppliedNacl['after'];
};

function errorText(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

/** Revokes name the rule by the `sgr-` id read now; adds carry no id. */
function withCurrentIds(steps: readonly SgStep[], now: readonly RuleSpec[]): SgStep[] {
  const ids = new Map(now.map((r) => [specKey(r), r.securityGroupRuleId]));
  return steps.map((step) => {
    if (step.action === 'authorize') {
      const { securityGroupRuleId: _id, ...rule } = step.rule;
      return { ...step, rule };
    }
    const id = ids.get(specKey(step.rule));
    const { securityGroupRuleId: _old, ...rule } = step.rule;
    return { ...step, rule: id ? { ...rule, securityGroupRuleId: id } : rule };
  });
}

function exactKeys(rules: readonly RuleSpec[]): string[] {
  return rules.map((r) => `${specKey(r)} ${r.description ?? ''}`).sort();
}

function sameRules(a: readonly RuleSpec[], b: readonly RuleSpec[], exact: boolean): boolean {
  if (!exact) return ruleSetFingerprint(a) === ruleSetFingerprint(b);
  const ka = exactKeys(a);
  const kb = exactKeys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

function differenceText(diff: {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}): string {
  const parts = [...diff.added.map((k) => `+ ${k}`), ...diff.removed.map((k) => `- ${k}`)];
  return parts.length > 6 ? `${parts.slice(0, 6).join('; ')}; … (${parts.length} in all)` : parts.join('; ');
}

/**
 * Runs the jobs (see the module comment) and returns the record.
 */
async function run(
  operation: AppliedRecord['operation'],
  planId: string,
  jobs: readonly (SgJob | NaclJob)[],
  skips: readonly Skip[],
  target: RemediationTarget,
  options: RunOptions,
): Promise<RunOutcome> {
  const progress = options.progress ?? (() => undefined);
  const sgs = new Map<string, AppliedSecurityGroup>();
  const nacls = new Map<string, AppliedNacl>();
  for (const skip of skips) {
    if (skip.kind === 'sg')
      sgs.set(skip.id, { sgId: skip.id, status: 'skipped', message: skip.message, steps: [], stepsDone: 0 });
    else
      nacls.set(skip.id, {
        naclId: skip.id,
        status: 'skipped',
        message: skip.message,
        steps: [],
        stepsDone: 0,
      });
  }
  let record: AppliedRecord = {
    schemaVersion: APPLIED_SCHEMA_VERSION,
    kind: 'sg-audit-applied',
    operation,
    planId,
    startedAt: options.now().toISOString(),
    ...(options.account ? { account: options.account } : {}),
    status: 'in-progress',
    securityGroups: [],
    nacls: [],
  };
  const save = async (extra: Partial<AppliedRecord> = {}) => {
    record = { ...record, ...extra, securityGroups: [...sgs.values()], nacls: [...nacls.values()] };
    await options.onRecord?.(record);
  };

  // Read everything once; refuse what drifted.
  const sgJobs = jobs.filter((j): j is SgJob => j.kind === 'sg');
  const naclJobs = jobs.filter((j): j is NaclJob => j.kind === 'nacl');
  const sgNow = sgJobs.length > 0 ? await target.describeSecurityGroups(sgJobs.map((j) => j.id)) : new Map();
  const naclNow =
    naclJobs.length > 0 ? await target.describeNetworkAcls(naclJobs.map((j) => j.id)) : new Map();
  let drifted = 0;
  const ready: { job: SgJob | NaclJob; steps: (SgStep | NaclStep)[] }[] = [];
  for (const job of jobs) {
    if (job.kind === 'sg') {
      const now = sgNow.get(job.id) as readonly RuleSpec[] | undefined;
      const base = { sgId: job.id, steps: [] as SgStep[], stepsDone: 0 };
      if (now === undefined) {
        drifted++;
        sgs.set(job.id, { ...base, status: 'refused-drift', message: `${job.id} was not found` });
        continue;
      }
      const before = { fingerprint: ruleSetFingerprint(now), rules: now };
      if (sameRules(now, job.target, job.exact) && !sameRules(now, job.expected, job.exact)) {
        sgs.set(job.id, {
          ...base,
          status: 'verified-unchanged',
          before,
          after: before,
          message: 'already in the state the plan leads to',
        });
        continue;
      }
      const drift = ruleSetDifference(job.expected, now);
      if (drift.added.length + drift.removed.length > 0) {
        drifted++;
        const message = `rules changed since the plan was made (${differenceText(drift)}): refused; make a new plan`;
        sgs.set(job.id, { ...base, status: 'refused-drift', before, drift, message });
        progress(`${job.id}: ${message}`);
        continue;
      }
      const steps = job.stepsFor(now);
      sgs.set(job.id, { ...base, status: 'not-reached', before, steps });
      ready.push({ job, steps });
    } else {
      const now = naclNow.get(job.id) as readonly NaclEntrySpec[] | undefined;
      const base = { naclId: job.id, steps: [] as NaclStep[], stepsDone: 0 };
      if (now === undefined) {
        drifted++;
        nacls.set(job.id, { ...base, status: 'refused-drift', message: `${job.id} was not found` });
        continue;
      }
      const before = { fingerprint: naclFingerprint(now), entries: now };
      const drift = naclDifference(job.expected, now);
      if (drift.added.length + drift.removed.length > 0) {
        if (naclFingerprint(now) === naclFingerprint(job.target)) {
          nacls.set(job.id, {
            ...base,
            status: 'verified-unchanged',
            before,
            after: before,
            message: 'already in the state the plan leads to',
          });
          continue;
        }
        drifted++;
        const message = `entries changed since the plan was made (${differenceText(drift)}): refused; make a new plan`;
        nacls.set(job.id, { ...base, status: 'refused-drift', before, drift, message });
        progress(`${job.id}: ${message}`);
        continue;
      }
      const steps = job.stepsFor(now);
      nacls.set(job.id, { ...base, status: 'not-reached', before, steps });
      ready.push({ job, steps });
    }
  }

  const makeStep = (job: SgJob | NaclJob, step: SgStep | NaclStep, dryRun: boolean) =>
    job.kind === 'sg'
      ? target.changeSecurityGroup(job.id, step as SgStep, { dryRun })
      : target.changeNetworkAcl(job.id, step as NaclStep, { dryRun });
  const setStatus = (job: SgJob | NaclJob, patch: StatusPatch) => {
    if (job.kind === 'sg') sgs.set(job.id, { ...sgs.get(job.id), ...patch } as AppliedSecurityGroup);
    else nacls.set(job.id, { ...nacls.get(job.id), ...patch } as AppliedNacl);
  };

  // DryRun every step before any change: a missing permission stops the run with nothing changed.
  for (const { job, steps } of ready) {
    for (const [index, step] of steps.entries()) {
      try {
        await makeStep(job, step, true);
      } catch (error) {
        const text = `DryRun: ${errorText(error)}`;
        setStatus(job, { status: 'failed', message: text });
        await save({
          status: 'stopped',
          finishedAt: options.now().toISOString(),
          stoppedAt: { target: job.id, step: index + 1, of: steps.length, error: text },
        });
        return { record, drifted, failed: true, declined: false };
      }
    }
  }
  const total = ready.reduce((n, r) => n + r.steps.length, 0);
  if (options.dryRun) {
    for (const { job } of ready)
      setStatus(job, { status: 'dry-run', message: 'DryRun: every step would be allowed' });
    await save({ status: 'complete', finishedAt: options.now().toISOString() });
    return { record, drifted, failed: false, declined: false };
  }
  if (ready.length > 0 && options.confirm) {
    const summary = ready
      .map(({ job, steps }) => `${job.id}: ${steps.length} step${steps.length === 1 ? '' : 's'}`)
      .join('\n');
    if (!(await options.confirm(`${summary}\n${total} changes in all`))) {
      for (const { job } of ready) setStatus(job, { status: 'skipped', message: 'not confirmed' });
      await save({ status: 'complete', finishedAt: options.now().toISOString() });
      return { record, drifted, failed: false, declined: true };
    }
  }
  await save();

  for (const { job, steps } of ready) {
    progress(`${job.id}: ${steps.length} step(s)`);
    let done = 0;
    try {
      for (const step of steps) {
        await makeStep(job, step, false);
        done++;
      }
    } catch (error) {
      const text = errorText(error);
      setStatus(job, {
        status: 'failed',
        stepsDone: done,
        message: `stopped at step ${done + 1} of ${steps.length}: ${text}`,
      });
      await recordAfter(job, target, setStatus);
      await save({
        status: 'stopped',
        finishedAt: options.now().toISOString(),
        stoppedAt: { target: job.id, step: done + 1, of: steps.length, error: text },
      });
      return { record, drifted, failed: true, declined: false };
    }
    const after = await recordAfter(job, target, setStatus);
    const verified =
      job.kind === 'sg'
        ? after !== undefined && sameRules(after as readonly RuleSpec[], job.target, job.exact)
        : after !== undefined &&
          naclFingerprint(after as readonly NaclEntrySpec[]) === naclFingerprint(job.target);
    if (!verified) {
      const text = 'verify: what was read back after the steps is not what the plan leads to';
      setStatus(job, { status: 'failed', stepsDone: done, message: text });
      await save({
        status: 'stopped',
        finishedAt: options.now().toISOString(),
        stoppedAt: { target: job.id, step: done, of: steps.length, error: text },
      });
      return { record, drifted, failed: true, declined: false };
    }
    setStatus(job, { status: 'applied', stepsDone: done });
    await save();
  }
  await save({ status: 'complete', finishedAt: options.now().toISOString() });
  return { record, drifted, failed: false, declined: false };
}

async function recordAfter(
  job: SgJob | NaclJob,
  target: RemediationTarget,
  setStatus: (job: SgJob | NaclJob, patch: StatusPatch) => void,
): Promise<readonly RuleSpec[] | readonly NaclEntrySpec[] | undefined> {
  try {
    if (job.kind === 'sg') {
      const rules = (await target.describeSecurityGroups([job.id])).get(job.id);
      if (rules !== undefined) setStatus(job, { after: { fingerprint: ruleSetFingerprint(rules), rules } });
      return rules;
    }
    const entries = (await target.describeNetworkAcls([job.id])).get(job.id);
    if (entries !== undefined) setStatus(job, { after: { fingerprint: naclFingerprint(entries), entries } });
    return entries;
  } catch {
    // The record says what was done; the state after is read again by a rollback.
    return undefined;
  }
}

/**
 * Applies a plan's 'apply' SGs and NACLs (see the module comment). SGs that code manages and
 * blocked ones are recorded as skipped.
 *
 * @example const { record, drifted, failed } = await applyPlan(plan, new Ec2RemediationTarget({ ec2 }), { dryRun: false, now: () => new Date() });
 */
export function applyPlan(
  plan: RemediationPlan,
  target: RemediationTarget,
  options: RunOptions,
): Promise<RunOutcome> {
  const jobs: (SgJob | NaclJob)[] = [];
  const skips: Skip[] = [];
  for (const sg of plan.securityGroups) {
    if (sg.action === 'apply' && sg.steps.length > 0) {
      jobs.push({
        kind: 'sg',
        id: sg.sgId,
        expected: sg.expected.rules,
        target: applySteps(sg.expected.rules, sg.steps),
        exact: false,
        stepsFor: (now) => withCurrentIds(sg.steps, now),
      });
    } else if (sg.action === 'iac' || sg.action === 'blocked') {
      skips.push({
        kind: 'sg',
        id: sg.sgId,
        message:
          sg.action === 'iac'
            ? `managed by ${sg.owner?.tool ?? 'code'}: change the code (iac/)`
            : `blocked: ${sg.blockedReason ?? ''}`,
      });
    }
  }
  for (const acl of plan.nacls) {
    if (acl.action === 'apply' && acl.steps.length > 0) {
      jobs.push({
        kind: 'nacl',
        id: acl.naclId,
        expected: acl.expected.entries,
        target: applyNaclSteps(acl.expected.entries, acl.steps),
        stepsFor: () => [...acl.steps],
      });
    } else if (acl.action === 'blocked') {
      skips.push({ kind: 'nacl', id: acl.naclId, message: `blocked: ${acl.blockedReason ?? ''}` });
    }
  }
  return run('apply', plan.planId, jobs, skips, target, options);
}

/**
 * Restores the before state of every SG and NACL an apply changed (the steps it made, failed
 * ones included), after the same drift check: the rules must be as the apply left them.
 *
 * @example await rollbackApplied(record, target, { dryRun: false, now: () => new Date() });
 */
export function rollbackApplied(
  applied: AppliedRecord,
  target: RemediationTarget,
  options: RunOptions,
): Promise<RunOutcome> {
  const jobs: (SgJob | NaclJob)[] = [];
  for (const sg of applied.securityGroups) {
    if (sg.stepsDone === 0 || sg.before === undefined) continue;
    const before = sg.before.rules;
    const left = sg.after?.rules ?? applySteps(before, sg.steps.slice(0, sg.stepsDone));
    jobs.push({
      kind: 'sg',
      id: sg.sgId,
      expected: left,
      target: before,
      exact: true,
      stepsFor: (now) => {
        const schedule = restoreSteps(now, before, { limit: options.ruleQuota ?? 60 });
        return withCurrentIds(
          schedule.blocked === undefined ? schedule.steps : naiveRestore(now, before),
          now,
        );
      },
    });
  }
  for (const acl of applied.nacls) {
    if (acl.stepsDone === 0 || acl.before === undefined) continue;
    const before = acl.before.entries;
    const left = acl.after?.entries ?? applyNaclSteps(before, acl.steps.slice(0, acl.stepsDone));
    jobs.push({
      kind: 'nacl',
      id: acl.naclId,
      expected: left,
      target: before,
      stepsFor: (now) => {
        const quota = Math.max(options.naclQuota ?? 20, now.length, before.length);
        return naclTransition(now, before, { quota, renumber: false }).steps;
      },
    });
  }
  return run('rollback', applied.planId, jobs, [], target, options);
}

/** Re-adds first, then revokes: the order when the quota leaves no better one. */
function naiveRestore(now: readonly RuleSpec[], before: readonly RuleSpec[]): SgStep[] {
  const nowKeys = new Set(now.map(specKey));
  const beforeKeys = new Set(before.map(specKey));
  return [
    ...before.filter((r) => !nowKeys.has(specKey(r))).map((rule): SgStep => ({ action: 'authorize', rule })),
    ...now.filter((r) => !beforeKeys.has(specKey(r))).map((rule): SgStep => ({ action: 'revoke', rule })),
  ];
}
