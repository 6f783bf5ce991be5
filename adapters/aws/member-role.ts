/**
 * The one place an organization run gets into a member account: the SDK clients of one
 * (account, region) target, their credentials those of the member role (the SgAuditMemberRole
 * stack's), assumed with STS through the caller's own credentials and refreshed before they
 * expire. The CLI and the workflow's functions both build target clients here.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { OrgTarget } from '../../shared/org/model';
import type { AwsClientFactory, AwsClients } from './clients';

/** The member role every target account holds (deployed by the SgAuditMemberRole stack set). */
export interface MemberRole {
  /** @default 'SgAuditMember' */
  readonly roleName: string;
  /** The role's trust policy requires it (sts:ExternalId), when set. */
  readonly externalId?: string;
  /** Names the session in the member's CloudTrail: 'sg-audit-<run>'. @default 'sg-audit' */
  readonly sessionName?: string;
}

/** The default member role name (lib/member-role-stack.ts). */
export const DEFAULT_MEMBER_ROLE_NAME = 'SgAuditMember';

/** Refresh assumed credentials this long before they expire. */
const REFRESH_BEFORE_MS = 5 * 60_000;
/** One hour: the longest a role chained from another role's session may last. */
const SESSION_SECONDS = 3_600;

/** The member role could not be assumed (missing, not trusting the caller, wrong external id …). */
export class MemberRoleError extends Error {
  override readonly name = 'MemberRoleError';
  readonly roleArn: string;

  constructor(roleArn: string, options?: ErrorOptions) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.name}: ${options.cause.message}` : '';
    super(`cannot assume ${roleArn}${cause}`, options);
    this.roleArn = roleArn;
  }
}

/**
 * The partition of a region: aws-cn for China, aws-us-gov for GovCloud, else aws.
 *
 * @example partitionOf('cn-north-1') // 'aws-cn'
 */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The member role's ARN in an account.
 *
 * @example memberRoleArn('111111111111', 'SgAuditMember') // 'arn:aws:iam::111111111111:role/SgAuditMember'
 */
export function memberRoleArn(accountId: string, roleName: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** A session name STS accepts: 2-64 characters of [\w+=,.@-]. */
function sessionNameOf(name: string | undefined): string {
  const cleaned = (name ?? 'sg-audit').replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : 'sg-audit';
}

/**
 * Credentials of an assumed role, assumed on first use and again 5 minutes before they expire
 * (concurrent callers share one AssumeRole call).
 *
 * @throws MemberRoleError (when called) naming the role, the STS error as its cause.
 * @example const credentials = assumedRoleCredentials(sts, roleArn, { roleName, externalId });
 */
export function assumedRoleCredentials(
  sts: STSClient,
  roleArn: string,
  role: Omit<MemberRole, 'roleName'>,
  now: () => number = Date.now,
): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  const assume = async (): Promise<AwsCredentialIdentity> => {
    try {
      const { Credentials: c } = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionNameOf(role.sessionName),
          DurationSeconds: SESSION_SECONDS,
          ...(role.externalId ? { ExternalId: role.externalId } : {}),
        }),
      );
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('STS returned no credentials');
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    } catch (error) {
      throw new MemberRoleError(roleArn, { cause: error });
    }
  };
  return async () => {
    const held = current ? await current.catch(() => undefined) : undefined;
    const fresh = held?.expiration === undefined || held.expiration.getTime() - REFRESH_BEFORE_MS > now();
    if (current === undefined || held === undefined || !fresh) {
      current = assume();
      // A failed assumption is not kept: the next call tries again.
      current.catch(() => {
        current = undefined;
      });
    }
    return current;
  };
}

export interface TargetClientsOptions {
  /** Creates the clients (the CLI's factory, or createAwsClients). */
  readonly factory: AwsClientFactory;
  /** The caller's STS client: AssumeRole is called with the caller's credentials. */
  readonly sts: STSClient;
  readonly role: MemberRole;
  /** @default partitionOf(target.region) */
  readonly partition?: string;
}

/**
 * The clients of one target: its region, the member role's credentials (assumed lazily: the
 * first call of any client assumes the role, so a missing role fails that call with
 * MemberRoleError).
 *
 * @example const clients = targetClients({ accountId: '111111111111', region: 'eu-west-1' }, { factory: createAwsClients, sts, role: { roleName: 'SgAuditMember', externalId } });
 */
export function targetClients(
  target: Pick<OrgTarget, 'accountId' | 'region'>,
  options: TargetClientsOptions,
): AwsClients {
  const roleArn = memberRoleArn(
    target.accountId,
    options.role.roleName,
    options.partition ?? partitionOf(target.region),
  );
  return options.factory({
    region: target.region,
    credentials: assumedRoleCredentials(options.sts, roleArn, options.role),
  });
}

/**
 * Target clients kept for the next invocations of a warm function (the same target's checks
 * follow each other), at most `max` targets, the oldest destroyed first.
 *
 * @example const cache = new TargetClientsCache({ factory: createAwsClients, sts, role }); cache.of(target).logs
 */
export class TargetClientsCache {
  private readonly held = new Map<string, AwsClients>();

  constructor(
    private readonly options: TargetClientsOptions,
    private readonly max = 4,
  ) {}

  /** The target's clients, made on first use. */
  of(target: Pick<OrgTarget, 'accountId' | 'region'>): AwsClients {
    const key = `${target.accountId}/${target.region}`;
    const kept = this.held.get(key);
    if (kept) {
      // Most recently used last.
      this.held.delete(key);
      this.held.set(key, kept);
      return kept;
    }
    const clients = targetClients(target, this.options);
    this.held.set(key, clients);
    for (const [oldKey, old] of this.held) {
      if (this.held.size <= this.max) break;
      this.held.delete(oldKey);
      old.destroy();
    }
    return clients;
  }
}
