/**
 * The targets of an organization run — every (account, region) of the accounts and regions asked
 * for, less the excluded accounts — and what becomes of a target that fails: a gap, classified
 * from its error (a role that cannot be assumed, a region that is not enabled, anything else).
 */
import { InvalidValueError } from '../errors';
import { errorOfStep, type StepError } from '../model/run';
import type { GapKind, OrgTarget, TargetGap } from './model';

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** An account of the organization (Organizations ListAccounts, or a given list). */
export interface OrgAccount {
  readonly id: string;
  readonly name?: string;
}

export interface TargetPlanOptions {
  readonly accounts: readonly OrgAccount[];
  readonly regions: readonly string[];
  /** Accounts left out (e.g. the management account, a sandbox OU's accounts). @default none */
  readonly excludeAccounts?: readonly string[];
}

/**
 * Every (account, region) of the accounts and regions, less the excluded accounts: sorted by
 * account then region, each once.
 *
 * @throws InvalidValueError on an account id that is not 12 digits or a malformed region.
 * @example planTargets({ accounts: [{ id: '111111111111' }], regions: ['eu-west-1', 'us-east-1'] }).length // 2
 */
export function planTargets(options: TargetPlanOptions): OrgTarget[] {
  for (const account of [...options.accounts.map((a) => a.id), ...(options.excludeAccounts ?? [])]) {
    if (!ACCOUNT_ID.test(account)) {
      throw new InvalidValueError(`'${account}' is not a 12-digit AWS account id`, { field: 'accounts' });
    }
  }
  for (const region of options.regions) {
    if (!REGION.test(region)) {
      throw new InvalidValueError(`'${region}' is not a region name like eu-west-1`, { field: 'regions' });
    }
  }
  const excluded = new Set(options.excludeAccounts ?? []);
  const accounts = new Map<string, OrgAccount>();
  for (const account of options.accounts) {
    if (!excluded.has(account.id) && !accounts.has(account.id)) accounts.set(account.id, account);
  }
  const regions = [...new Set(options.regions)].sort();
  return [...accounts.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .flatMap((account) =>
      regions.map((region) => ({
        accountId: account.id,
        region,
        ...(account.name ? { accountName: account.name } : {}),
      })),
    );
}

/**
 * The run id of one target of an organization run: unique per run and target, and a valid run id
 * and execution name (`[A-Za-z0-9._=-]`, ≤ 80 characters).
 *
 * @example targetRunId('20261116T000000Z-7f3a9c', { accountId: '111111111111', region: 'eu-west-1' })
 * // '20261116T000000Z-7f3a9c-111111111111-eu-west-1'
 */
export function targetRunId(orgRunId: string, target: Pick<OrgTarget, 'accountId' | 'region'>): string {
  return `${orgRunId.slice(0, 48)}-${target.accountId}-${target.region}`;
}

/** Errors of a role that cannot be assumed (missing, or not trusting the auditor or its external id). */
const ROLE_ERRORS =
  /^(MemberRoleError|AccessDenied|AccessDeniedException|UnauthorizedOperation|NoSuchEntity)$/;
/** Errors of a region that is not enabled for the account (opt-in regions) or does not exist. */
const REGION_ERRORS =
  /^(OptInRequired|AuthFailure|InvalidClientTokenId|UnrecognizedClientException|RegionDisabledException|UnknownEndpoint)$/;

/**
 * What kind of gap an error makes: `role-unavailable` (AccessDenied on sts:AssumeRole, or any
 * AccessDenied: a member role missing or narrower than the audit needs), `region-unavailable`
 * (an opt-in region not enabled: the token is refused there), else `failed`.
 *
 * @example gapKindOf({ name: 'AccessDenied', message: '… not authorized to perform: sts:AssumeRole …' }) // 'role-unavailable'
 */
export function gapKindOf(error: { readonly name: string; readonly message: string }): GapKind {
  if (
    ROLE_ERRORS.test(error.name) ||
    /MemberRoleError|not authorized to perform: sts:AssumeRole/.test(error.message)
  ) {
    return 'role-unavailable';
  }
  if (REGION_ERRORS.test(error.name)) return 'region-unavailable';
  return 'failed';
}

/** Longest error message a gap keeps (the whole one is in the run's logs). */
export const GAP_MESSAGE_MAX = 1_000;

/**
 * A gap from a failed target's error, classified.
 *
 * @example targetGap({ name: 'AccessDenied', message: 'not authorized to perform: sts:AssumeRole' }, 'Discover').kind // 'role-unavailable'
 */
export function targetGap(
  error: { readonly name: string; readonly message: string },
  step?: string,
): TargetGap {
  const message =
    error.message.length > GAP_MESSAGE_MAX
      ? `${error.message.slice(0, GAP_MESSAGE_MAX - 1)}…`
      : error.message;
  return {
    kind: gapKindOf(error),
    ...(step ? { step } : {}),
    error: { name: error.name || 'Error', message },
  };
}

function parsedObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** How a target run states its failed step (lib/audit-workflow.ts): `failed in <step>: <cause>`. */
const FAILED_IN = /^failed in ([A-Za-z0-9]+): ([\s\S]*)$/;

/**
 * The gap of a target whose audit run failed, from what the organization run's Catch recorded:
 * unwraps the nested run's description (startExecution.sync: its `Error`/`Cause`, or `error`/
 * `cause`), the run's own failure (`failed in <step>: <cause>`) and a Lambda's error
 * (`{ errorType, errorMessage }`), down to the error that failed the target and its step.
 *
 * @example gapOfFailedRun({ Error: 'States.TaskFailed', Cause: '{"Error":"MemberRoleError","Cause":"failed in Discover: …"}' }).step // 'Discover'
 */
export function gapOfFailedRun(error: StepError): TargetGap {
  let current: StepError = error;
  let step: string | undefined;
  for (let depth = 0; depth < 3; depth += 1) {
    const failedIn = FAILED_IN.exec(current.Cause ?? '');
    if (failedIn) {
      step = failedIn[1];
      current = { Error: current.Error, Cause: failedIn[2] };
      continue;
    }
    const cause = parsedObject(current.Cause);
    const name = cause?.Error ?? cause?.error;
    const text = cause?.Cause ?? cause?.cause;
    if (typeof name !== 'string') break;
    current = { Error: name, Cause: typeof text === 'string' ? text : undefined };
  }
  // A Lambda's error names its type: the class the handler threw (MemberRoleError …).
  const lambda = parsedObject(current.Cause);
  const errorType = typeof lambda?.errorType === 'string' ? lambda.errorType : undefined;
  const { name, message } = errorOfStep(current);
  return targetGap({ name: errorType && name === 'Error' ? errorType : name, message }, step);
}
