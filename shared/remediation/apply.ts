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

type Step = SgStep | NaclStep;
type Item = RuleSpec | NaclEntrySpec;

/**
 * What one SG or NACL goes through in a run, whatever its kind: the state it must be in now
 * (drift check) and after the steps (verify), how to read, compare and change it.
 */
interface Job {
  readonly kind: 'sg' | 'nacl';
  readonly id: string;
  /** 'rules' or 'entries', for messages. */
  readonly noun: string;
  fingerprint(items: readonly Item[]): string;
  /** What differs from the state expected now, by key. */
  drift(items: readonly Item[]): { readonly added: readonly string[]; readonly removed: readonly string[] };
  /** Whether the items are what the steps lead to. */
  atTarget(items: readonly Item[]): boolean;
  /** The steps from the items read now. */
  stepsFor(items: readonly Item[]): Step[];
  read(target: RemediationTarget): Promise<readonly Item[] | undefined>;
  make(target: RemediationTarget, step: Step, dryRun: boolean): Promise<void>;
}

/** How a job of one kind reads, compares and changes its SG's rules or its NACL's entries. */
interface JobKind<I extends Item, S extends Step> {
  readonly kind: 'sg' | 'nacl';
  readonly noun: string;
  fingerprint(items: readonly I[]): string;
  difference(expected: readonly I[], now: readonly I[]): ReturnType<Job['drift']>;
  describe(target: RemediationTarget, ids: readonly string[]): Promise<ReadonlyMap<string, readonly I[]>>;
  change(
    target: RemediationTarget,
    id: string,
    step: S,
    options: { readonly dryRun: boolean },
  ): Promise<void>;
}

const SG_JOB: JobKind<RuleSpec, SgStep> = {
  kind: 'sg',
  noun: 'rules',
  fingerprint: ruleSetFingerprint,
  difference: ruleSetDifference,
  describe: (target, ids) => target.describeSecurityGroups(ids),
  change: (target, id, step, options) => target.changeSecurityGroup(id, step, options),
};

const NACL_JOB: JobKind<NaclEntrySpec, NaclStep> = {
  kind: 'nacl',
  noun: 'entries',
  fingerprint: naclFingerprint,
  difference: naclDifference,
  describe: (target, ids) => target.describeNetworkAcls(ids),
  change: (target, id, step, options) => target.changeNetworkAcl(id, step, options),
};

/** A job of one kind on one SG or NACL, given the state expected now, the target test and the steps. */
function jobOf<I extends Item, S extends Step>(
  of: JobKind<I, S>,
  id: string,
  expected: readonly I[],
  atTarget: (items: readonly I[]) => boolean,
  stepsFor: (now: readonly I[]) => S[],
): Job {
  return {
    kind: of.kind,
    id,
    noun: of.noun,
    fingerprint: (items) => of.fingerprint(items as readonly I[]),
    drift: (items) => of.difference(expected, items as readonly I[]),
    atTarget: (items) => atTarget(items as readonly I[]),
    stepsFor: (items) => stepsFor(items as readonly I[]),
    read: async (target) => (await of.describe(target, [id])).get(id),
    make: (target, step, dryRun) => of.change(target, id, step as S, { dryRun }),
  };
}

function sgJob(
  id: string,
  expected: readonly RuleSpec[],
  after: readonly RuleSpec[],
  exact: boolean,
  stepsFor: (now: readonly RuleSpec[]) => SgStep[],
): Job {
  return jobOf(SG_JOB, id, expected, (items) => sameRules(items, after, exact), stepsFor);
}

function naclJob(
  id: string,
  expected: readonly NaclEntrySpec[],
  after: readonly NaclEntrySpec[],
  stepsFor: (now: readonly NaclEntrySpec[]) => NaclStep[],
): Job {
  const target = naclFingerprint(after);
  return jobOf(NACL_JOB, id, expected, (items) => naclFingerprint(items) === target, stepsFor);
}

type Skip = { readonly kind: 'sg' | 'nacl'; readonly id: string; readonly message: string };

/** One SG's or NACL's part of the record, whatever its kind (see {@link toRecord}). */
interface Progress {
  readonly kind: 'sg' | 'nacl';
  readonly id: string;
  status: AppliedSecurityGroup['status'];
  message?: string;
  before?: { fingerprint: string; items: readonly Item[] };
  after?: { fingerprint: string; items: readonly Item[] };
  steps: Step[];
  stepsDone: number;
  drift?: { readonly added: readonly string[]; readonly removed: readonly string[] };
}

function toRecord(progress: readonly Progress[]): Pick<AppliedRecord, 'securityGroups' | 'nacls'> {
  const common = (p: Progress) => ({
    status: p.status,
    ...(p.message !== undefined ? { message: p.message } : {}),
    stepsDone: p.stepsDone,
    ...(p.drift ? { drift: p.drift } : {}),
  });
  const states = <T>(p: Progress, as: (s: NonNullable<Progress['before']>) => T) => ({
    ...(p.before ? { before: as(p.before) } : {}),
    ...(p.after ? { after: as(p.after) } : {}),
  });
  return {
    securityGroups: progress
      .filter((p) => p.kind === 'sg')
      .map(
        (p): AppliedSecurityGroup => ({
          sgId: p.id,
          ...common(p),
          ...states(p, (s) => ({ fingerprint: s.fingerprint, rules: s.items as readonly RuleSpec[] })),
          steps: p.steps as SgStep[],
        }),
      ),
    nacls: progress
      .filter((p) => p.kind === 'nacl')
      .map(
        (p): AppliedNacl => ({
          naclId: p.id,
          ...common(p),
          ...states(p, (s) => ({ fingerprint: s.fingerprint, entries: s.items as readonly NaclEntrySpec[] })),
          steps: p.steps as NaclStep[],
        }),
      ),
  };
}

function errorText(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

/** Revokes name the rule by the `sgr-` id read now; adds carry no id. */
function withCurrentIds(steps: readonly SgStep[], now: readonly RuleSpec[]): SgStep[] {
  const ids = new Map(now.map((r) => [specKey(r), r.securityGroupRuleId]));
  return steps.map((step) => {
    const { securityGroupRuleId: _old, ...rule } = step.rule;
    const id = step.action === 'revoke' ? ids.get(specKey(step.rule)) : undefined;
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

/** The state read back, or undefined when it cannot be (a rollback reads it again). */
async function readBack(job: Job, target: RemediationTarget): Promise<readonly Item[] | undefined> {
  try {
    return await job.read(target);
  } catch {
    return undefined;
  }
}

/**
 * Runs the jobs (see the module comment) and returns the record.
 */
async function run(
  operation: AppliedRecord['operation'],
  planId: string,
  jobs: readonly Job[],
  skips: readonly Skip[],
  target: RemediationTarget,
  options: RunOptions,
): Promise<RunOutcome> {
  const progressLine = options.progress ?? (() => undefined);
  const progress: Progress[] = skips.map((skip) => ({
    kind: skip.kind,
    id: skip.id,
    status: 'skipped',
    message: skip.message,
    steps: [],
    stepsDone: 0,
  }));
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
    record = { ...record, ...extra, ...toRecord(progress) };
    await options.onRecord?.(record);
  };
  const finish = async (
    outcome: Omit<RunOutcome, 'record'>,
    stoppedAt?: AppliedRecord['stoppedAt'],
  ): Promise<RunOutcome> => {
    await save({
      status: stoppedAt ? 'stopped' : 'complete',
      finishedAt: options.now().toISOString(),
      ...(stoppedAt ? { stoppedAt } : {}),
    });
    return { record, ...outcome };
  };

  // Read everything once (one call per kind); refuse what drifted.
  const sgIds = jobs.filter((j) => j.kind === 'sg').map((j) => j.id);
  const naclIds = jobs.filter((j) => j.kind === 'nacl').map((j) => j.id);
  const sgNow =
    sgIds.length > 0 ? await target.describeSecurityGroups(sgIds) : new Map<string, readonly RuleSpec[]>();
  const naclNow =
    naclIds.length > 0
      ? await target.describeNetworkAcls(naclIds)
      : new Map<string, readonly NaclEntrySpec[]>();
  let drifted = 0;
  const ready: { job: Job; entry: Progress }[] = [];
  for (const job of jobs) {
    const now: readonly Item[] | undefined = job.kind === 'sg' ? sgNow.get(job.id) : naclNow.get(job.id);
    const entry: Progress = { kind: job.kind, id: job.id, status: 'not-reached', steps: [], stepsDone: 0 };
    progress.push(entry);
    if (now === undefined) {
      drifted++;
      Object.assign(entry, { status: 'refused-drift', message: `${job.id} was not found` });
      continue;
    }
    entry.before = { fingerprint: job.fingerprint(now), items: now };
    const drift = job.drift(now);
    const changed = drift.added.length + drift.removed.length > 0;
    if (changed && job.atTarget(now)) {
      Object.assign(entry, {
        status: 'verified-unchanged',
        after: entry.before,
        message: 'already in the state the plan leads to',
      });
      continue;
    }
    if (changed) {
      drifted++;
      const message = `${job.noun} changed since the plan was made (${differenceText(drift)}): refused; make a new plan`;
      Object.assign(entry, { status: 'refused-drift', drift, message });
      progressLine(`${job.id}: ${message}`);
      continue;
    }
    entry.steps = job.stepsFor(now);
    ready.push({ job, entry });
  }

  // DryRun every step before any change: a missing permission stops the run with nothing changed.
  for (const { job, entry } of ready) {
    for (const [index, step] of entry.steps.entries()) {
      try {
        await job.make(target, step, true);
      } catch (error) {
        const text = `DryRun: ${errorText(error)}`;
        Object.assign(entry, { status: 'failed', message: text });
        return finish(
          { drifted, failed: true, declined: false },
          { target: job.id, step: index + 1, of: entry.steps.length, error: text },
        );
      }
    }
  }
  if (options.dryRun) {
    for (const { entry } of ready)
      Object.assign(entry, { status: 'dry-run', message: 'DryRun: every step would be allowed' });
    return finish({ drifted, failed: false, declined: false });
  }
  if (ready.length > 0 && options.confirm) {
    const total = ready.reduce((n, r) => n + r.entry.steps.length, 0);
    const summary = ready
      .map(({ entry }) => `${entry.id}: ${entry.steps.length} step${entry.steps.length === 1 ? '' : 's'}`)
      .join('\n');
    if (!(await options.confirm(`${summary}\n${total} changes in all`))) {
      for (const { entry } of ready) Object.assign(entry, { status: 'skipped', message: 'not confirmed' });
      return finish({ drifted, failed: false, declined: true });
    }
  }
  await save();

  for (const { job, entry } of ready) {
    progressLine(`${job.id}: ${entry.steps.length} step(s)`);
    try {
      for (const step of entry.steps) {
        await job.make(target, step, false);
        entry.stepsDone++;
      }
    } catch (error) {
      const text = errorText(error);
      const after = await readBack(job, target);
      Object.assign(entry, {
        status: 'failed',
        message: `stopped at step ${entry.stepsDone + 1} of ${entry.steps.length}: ${text}`,
        ...(after ? { after: { fingerprint: job.fingerprint(after), items: after } } : {}),
      });
      return finish(
        { drifted, failed: true, declined: false },
        { target: job.id, step: entry.stepsDone + 1, of: entry.steps.length, error: text },
      );
    }
    const after = await readBack(job, target);
    if (after !== undefined) entry.after = { fingerprint: job.fingerprint(after), items: after };
    if (after === undefined || !job.atTarget(after)) {
      const text = `verify: the ${job.noun} read back after the steps are not what the plan leads to`;
      Object.assign(entry, { status: 'failed', message: text });
      return finish(
        { drifted, failed: true, declined: false },
        { target: job.id, step: entry.stepsDone, of: entry.steps.length, error: text },
      );
    }
    entry.status = 'applied';
    await save();
  }
  return finish({ drifted, failed: false, declined: false });
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
  const jobs: Job[] = [];
  const skips: Skip[] = [];
  for (const sg of plan.securityGroups) {
    if (sg.action === 'apply' && sg.steps.length > 0) {
      const after = applySteps(sg.expected.rules, sg.steps);
      jobs.push(sgJob(sg.sgId, sg.expected.rules, after, false, (now) => withCurrentIds(sg.steps, now)));
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
      const after = applyNaclSteps(acl.expected.entries, acl.steps);
      jobs.push(naclJob(acl.naclId, acl.expected.entries, after, () => [...acl.steps]));
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
  const jobs: Job[] = [];
  for (const sg of applied.securityGroups) {
    if (sg.stepsDone === 0 || sg.before === undefined) continue;
    const before = sg.before.rules;
    const left = sg.after?.rules ?? applySteps(before, sg.steps.slice(0, sg.stepsDone));
    jobs.push(
      sgJob(sg.sgId, left, before, true, (now) => {
        const schedule = restoreSteps(now, before, { limit: options.ruleQuota ?? 60 });
        return withCurrentIds(
          schedule.blocked === undefined ? schedule.steps : naiveRestore(now, before),
          now,
        );
      }),
    );
  }
  for (const acl of applied.nacls) {
    if (acl.stepsDone === 0 || acl.before === undefined) continue;
    const before = acl.before.entries;
    const left = acl.after?.entries ?? applyNaclSteps(before, acl.steps.slice(0, acl.stepsDone));
    jobs.push(
      naclJob(acl.naclId, left, before, (now) => {
        const quota = Math.max(options.naclQuota ?? 20, now.length, before.length);
        return naclTransition(now, before, { quota, renumber: false }).steps;
      }),
    );
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
