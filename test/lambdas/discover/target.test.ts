import type { DiscoverResult } from '../../../lambdas/discover/contract';
import { handlerColdStart } from '../../support/handler-cold-start';

const MEMBER = '111111111111';
const coldStart = handlerColdStart({ WORK_BUCKET: 'sg-audit-work' });

/** CloudTrail is not read unless `env` says so (CHANGE_HISTORY); its client is mocked either way. */
async function loadDiscover(env: Record<string, string>) {
  coldStart({ CHANGE_HISTORY: 'false', ...env });
  const { mockClient } = await import('aws-sdk-client-mock');
  const trailSdk = await import('@aws-sdk/client-cloudtrail');
  const trail = mockClient(trailSdk.CloudTrailClient);
  trail.on(trailSdk.LookupEventsCommand).resolves({ Events: [] });
  const stsSdk = await import('@aws-sdk/client-sts');
  const sts = mockClient(stsSdk.STSClient);
  sts.on(stsSdk.GetCallerIdentityCommand).resolves({ Account: MEMBER });
  sts.on(stsSdk.AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAMEMBER',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  });
  const ec2Sdk = await import('@aws-sdk/client-ec2');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const rdsSdk = await import('@aws-sdk/client-rds');
  const ec2 = mockClient(ec2Sdk.EC2Client);
  ec2.onAnyCommand().resolves({});
  mockClient(rdsSdk.RDSClient).onAnyCommand().resolves({ DBInstances: [] });
  mockClient(s3Sdk.S3Client).on(s3Sdk.PutObjectCommand).resolves({});
  const { handler } = await import('../../../lambdas/discover/handler');
  return { handler, sts, stsSdk, ec2, trail, trailSdk };
}

describe('discover handler, an organization target', () => {
  it("discovers with the target's clients: its region, the member role's credentials (with its external id)", async () => {
    // Prepare
    const { handler, sts, stsSdk, ec2 } = await loadDiscover({
      MEMBER_ROLE_NAME: 'SgAuditMember',
      MEMBER_EXTERNAL_ID: 'ext-123',
    });
    const target = { accountId: MEMBER, region: 'eu-west-1' };

    // Act
    const result: DiscoverResult = await handler({
      runId: 'org-1-111111111111-eu-west-1',
      end: 1_800_000_000,
      target,
    });

    // Assess: the run hands the target on; the EC2 client discovery used is the target's.
    expect(result).toMatchObject({ runId: 'org-1-111111111111-eu-west-1', target, eniCount: 0 });
    const client = ec2.call(0).thisValue as import('@aws-sdk/client-ec2').EC2Client;
    expect(await client.config.region()).toBe('eu-west-1');
    expect((await client.config.credentials()).accessKeyId).toBe('ASIAMEMBER');
    expect(sts.commandCalls(stsSdk.AssumeRoleCommand)[0]?.args[0].input).toMatchObject({
      RoleArn: `arn:aws:iam::${MEMBER}:role/SgAuditMember`,
      ExternalId: 'ext-123',
      RoleSessionName: 'sg-audit-discover',
    });
  });

  it("reads the target's CloudTrail event history through the member role", async () => {
    // Prepare: the member account denies it (a member role stack older than its ChangeHistory statement).
    const { handler, trail, trailSdk } = await loadDiscover({
      MEMBER_ROLE_NAME: 'SgAuditMember',
      CHANGE_HISTORY: 'true',
    });
    trail
      .on(trailSdk.LookupEventsCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', $metadata: {} }));

    // Act
    const result = await handler({
      runId: 'org-1-111111111111-eu-west-1',
      end: 1_800_000_000,
      target: { accountId: MEMBER, region: 'eu-west-1' },
    });

    // Assess: asked in the target's region with the member role's credentials; the run goes on.
    expect(result.runId).toBe('org-1-111111111111-eu-west-1');
    const client = trail.call(0).thisValue as import('@aws-sdk/client-cloudtrail').CloudTrailClient;
    expect(await client.config.region()).toBe('eu-west-1');
    expect((await client.config.credentials()).accessKeyId).toBe('ASIAMEMBER');
  });

  it('discovers with its own clients without a target', async () => {
    const { handler, ec2 } = await loadDiscover({ MEMBER_ROLE_NAME: 'SgAuditMember' });
    await handler({ runId: 'run-1' });
    const client = ec2.call(0).thisValue as import('@aws-sdk/client-ec2').EC2Client;
    expect(await client.config.region()).toBe('ap-northeast-2');
    expect((await client.config.credentials()).accessKeyId).toBe('testing');
  });

  it('fails naming the missing setting when the function has no member role', async () => {
    const { handler } = await loadDiscover({});
    await expect(handler({ target: { accountId: MEMBER, region: 'eu-west-1' } })).rejects.toThrow(
      /MEMBER_ROLE_NAME is not set/,
    );
  });
});
