import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClientsFrom } from '../../../adapters/aws/clients';
import {
  assumedRoleCredentials,
  MemberRoleError,
  memberRoleArn,
  partitionOf,
  targetClients,
} from '../../../adapters/aws/member-role';
import { listActiveAccounts, OrganizationAccountsError } from '../../../adapters/aws/organization-accounts';

const sts = new STSClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'central', secretAccessKey: 'x' },
});
const stsMock = mockClient(sts);
const organizations = new OrganizationsClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'central', secretAccessKey: 'x' },
});
const organizationsMock = mockClient(organizations);
const ROLE_ARN = 'arn:aws:iam::111111111111:role/SgAuditMember';

function credentialsUntil(expiration: Date, key = 'ASIAMEMBER') {
  return {
    Credentials: {
      AccessKeyId: key,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: expiration,
    },
  };
}

function accessDenied(): Error {
  return Object.assign(
    new Error(
      `User: arn:aws:sts::999999999999:assumed-role/x/y is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
    ),
    { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } },
  );
}

beforeEach(() => {
  stsMock.reset();
  organizationsMock.reset();
});

describe('memberRoleArn and partitionOf', () => {
  it('names the member role in the account, in the region’s partition', () => {
    expect(memberRoleArn('111111111111', 'SgAuditMember')).toBe(ROLE_ARN);
    expect(memberRoleArn('111111111111', 'SgAuditMember', partitionOf('cn-north-1'))).toBe(
      'arn:aws-cn:iam::111111111111:role/SgAuditMember',
    );
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf('eu-west-1')).toBe('aws');
  });
});

describe('assumedRoleCredentials', () => {
  it('assumes the role once with its external id and session name, and again near expiry', async () => {
    // Prepare
    let now = Date.parse('2026-11-16T00:00:00Z');
    stsMock
      .on(AssumeRoleCommand)
      .resolvesOnce(credentialsUntil(new Date(now + 3_600_000), 'ASIAFIRST'))
      .resolves(credentialsUntil(new Date(now + 7_200_000), 'ASIASECOND'));
    const provider = assumedRoleCredentials(
      sts,
      ROLE_ARN,
      { externalId: 'ext-123', sessionName: 'sg-audit run/1' },
      () => now,
    );

    // Act
    const [a, b] = await Promise.all([provider(), provider()]);
    now += 56 * 60_000;
    const c = await provider();

    // Assess
    expect(a.accessKeyId).toBe('ASIAFIRST');
    expect(b.accessKeyId).toBe('ASIAFIRST');
    expect(c.accessKeyId).toBe('ASIASECOND');
    const calls = stsMock.commandCalls(AssumeRoleCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input).toEqual({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'sg-audit-run-1',
      DurationSeconds: 3600,
      ExternalId: 'ext-123',
    });
  });

  it('fails with MemberRoleError naming the role when STS refuses, and tries again on the next call', async () => {
    // Prepare
    stsMock
      .on(AssumeRoleCommand)
      .rejectsOnce(accessDenied())
      .resolves(credentialsUntil(new Date(Date.now() + 3_600_000)));
    const provider = assumedRoleCredentials(sts, ROLE_ARN, {});

    // Act / Assess
    const failure = await provider().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MemberRoleError);
    expect((failure as Error).message).toMatch(
      new RegExp(`^cannot assume ${ROLE_ARN}: AccessDenied: .*sts:AssumeRole`),
    );
    expect((failure as MemberRoleError).cause).toMatchObject({ name: 'AccessDenied' });
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAMEMBER' });
  });
});

describe('targetClients', () => {
  it("builds the target's clients in its region with the member role's credentials", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(credentialsUntil(new Date(Date.now() + 3_600_000)));
    const factory = jest.fn((options: Parameters<typeof awsClientsFrom>[0]) => awsClientsFrom(options));

    // Act
    const clients = targetClients(
      { accountId: '111111111111', region: 'ap-southeast-2' },
      { factory, sts, role: { roleName: 'SgAuditMember', externalId: 'ext' } },
    );
    const credentials = await clients.ec2.config.credentials();

    // Assess
    expect(await clients.ec2.config.region()).toBe('ap-southeast-2');
    expect(credentials.accessKeyId).toBe('ASIAMEMBER');
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input.RoleArn).toBe(ROLE_ARN);
    expect(stsMock.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
    clients.destroy();
  });
});

describe('listActiveAccounts', () => {
  it('lists the ACTIVE accounts of every page, with their names, sorted', async () => {
    // Prepare
    organizationsMock
      .on(ListAccountsCommand)
      .resolvesOnce({
        Accounts: [
          { Id: '222222222222', Name: 'dev', State: 'ACTIVE' },
          { Id: '333333333333', Name: 'closing', State: 'PENDING_CLOSURE' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        Accounts: [
          { Id: '111111111111', Name: 'prod', Status: 'ACTIVE' },
          { Id: '444444444444', Status: 'SUSPENDED' },
        ],
      });

    // Act
    const accounts = await listActiveAccounts(organizations);

    // Assess
    expect(accounts).toEqual([
      { id: '111111111111', name: 'prod' },
      { id: '222222222222', name: 'dev' },
    ]);
    expect(organizationsMock.commandCalls(ListAccountsCommand)[1]?.args[0].input).toEqual({
      NextToken: 'page-2',
    });
  });

  it('says where to run it from when Organizations refuses', async () => {
    organizationsMock.on(ListAccountsCommand).rejects(
      Object.assign(new Error('You don’t have permissions to access this resource.'), {
        name: 'AccessDeniedException',
      }),
    );
    const failure = await listActiveAccounts(organizations).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OrganizationAccountsError);
    expect((failure as Error).message).toMatch(
      /management account or a delegated administrator.*AccessDeniedException/,
    );
  });
});
