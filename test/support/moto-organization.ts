/**
 * An AWS Organization in moto_server for the organization end-to-end tests: the organization
 * created from moto's default account (the management and central account), member accounts
 * created in it (moto picks their ids), each member's network seeded in a region with clients
 * whose credentials moto maps to that account (AssumeRole into it: moto's STS answers for any role
 * and acts in the role's account).
 *
 * moto's AssumeRole does not require the role to exist, where AWS answers AccessDenied for a role
 * that is missing (or does not trust the caller): `refuseMemberRole` makes the STS client answer
 * that way for the member role of the given accounts (a spy on STSClient's send, the handlers'
 * and the CLI's client in this module registry); every other call goes to moto.
 *
 * @example
 * const org = await createMotoOrganization(endpoint, ['prod', 'dev', 'sandbox']);
 * await seedMemberNetwork(endpoint, org.accounts[0].id, 'eu-west-1', { network: '10.40', logGroup, now });
 * refuseMemberRole([org.accounts[2].id]);
 */

import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateAccountCommand,
  CreateOrganizationCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { motoClientConfig } from './moto';
import { type SeededNetwork, seedNetwork } from './moto-account';
import { required } from './moto-ec2';

export interface MotoOrganization {
  readonly organizationId: string;
  /** The member accounts created, in the order asked (moto's ids). */
  readonly accounts: readonly { readonly id: string; readonly name: string }[];
}

/**
 * Creates the organization (its management account: moto's default one) and a member account per name.
 *
 * @example const { accounts } = await createMotoOrganization(moto.endpoint, ['prod', 'dev']);
 */
export async function createMotoOrganization(
  endpoint: string,
  names: readonly string[],
): Promise<MotoOrganization> {
  const organizations = new OrganizationsClient({ ...motoClientConfig(endpoint), region: 'us-east-1' });
  try {
    const created = await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const accounts: { id: string; name: string }[] = [];
    for (const name of names) {
      const status = await organizations.send(
        new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }),
      );
      accounts.push({ id: required(status.CreateAccountStatus?.AccountId, 'an account id'), name });
    }
    return { organizationId: required(created.Organization?.Id, 'an organization id'), accounts };
  } finally {
    organizations.destroy();
  }
}

/**
 * EC2 and Logs clients acting in a member account and region (credentials of a role assumed in it).
 *
 * @example const { ec2, logs } = await memberAccountClients(endpoint, '501809499249', 'eu-west-1');
 */
export async function memberAccountClients(
  endpoint: string,
  accountId: string,
  region: string,
): Promise<{ ec2: EC2Client; logs: CloudWatchLogsClient; destroy(): void }> {
  const sts = new STSClient(motoClientConfig(endpoint));
  try {
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
        RoleSessionName: 'e2e-seed',
      }),
    );
    const config = {
      region,
      endpoint,
      credentials: {
        accessKeyId: required(c?.AccessKeyId, 'an access key'),
        secretAccessKey: required(c?.SecretAccessKey, 'a secret key'),
        sessionToken: required(c?.SessionToken, 'a session token'),
      },
    };
    const ec2 = new EC2Client(config);
    const logs = new CloudWatchLogsClient(config);
    return {
      ec2,
      logs,
      destroy: () => {
        ec2.destroy();
        logs.destroy();
      },
    };
  } finally {
    sts.destroy();
  }
}

/**
 * Seeds a member account's network in a region (test/support/moto-account.ts seedNetwork).
 *
 * @example const { web } = await seedMemberNetwork(endpoint, accountId, 'us-east-1', { network: '10.41', logGroup, now });
 */
export async function seedMemberNetwork(
  endpoint: string,
  accountId: string,
  region: string,
  options: { readonly network: string; readonly logGroup: string; readonly now: number },
): Promise<SeededNetwork> {
  const clients = await memberAccountClients(endpoint, accountId, region);
  try {
    return await seedNetwork(clients, { account: accountId, region, ...options });
  } finally {
    clients.destroy();
  }
}

/** What an AssumeRole call asked for. */
export interface AssumeRoleAsked {
  readonly RoleArn?: string | undefined;
  readonly ExternalId?: string | undefined;
  readonly RoleSessionName?: string | undefined;
}

/**
 * AWS's answer to AssumeRole on a member role that is missing: AccessDenied, for the member role
 * (`role/<roleName>`) of these accounts; other calls reach moto. Records every AssumeRole asked
 * for (`assumed`) and those refused. Restore with jest.restoreAllMocks.
 *
 * @example refuseMemberRole(['333333333333']);
 */
export function refuseMemberRole(
  accountIds: readonly string[],
  roleName = 'SgAuditMember',
): { refused: string[]; assumed: AssumeRoleAsked[] } {
  const send = STSClient.prototype.send;
  const refused: string[] = [];
  const assumed: AssumeRoleAsked[] = [];
  jest.spyOn(STSClient.prototype, 'send').mockImplementation(function (
    this: STSClient,
    command: unknown,
    ...rest: unknown[]
  ) {
    if (command instanceof AssumeRoleCommand) {
      const { RoleArn, ExternalId, RoleSessionName } = command.input;
      assumed.push({ RoleArn, ExternalId, RoleSessionName });
      const roleArn = RoleArn ?? '';
      if (accountIds.some((id) => roleArn === `arn:aws:iam::${id}:role/${roleName}`)) {
        refused.push(roleArn);
        return Promise.reject(
          Object.assign(
            new Error(
              `User: arn:aws:sts::123456789012:assumed-role/SgAudit-Discover/e2e is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
            ),
            { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } },
          ),
        );
      }
    }
    return (send as (...args: unknown[]) => Promise<unknown>).call(this, command, ...rest);
  } as never);
  return { refused, assumed };
}
