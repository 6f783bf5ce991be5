import type { TargetRunInput, TargetsResult } from '../../../lambdas/targets/contract';
import { handlerColdStart } from '../../support/handler-cold-start';

const coldStart = handlerColdStart({ WORK_BUCKET: 'sg-audit-work', ORG_REGIONS: 'us-east-1,eu-west-1' });

async function loadTargets(env: Record<string, string>) {
  coldStart(env);
  const { mockClient } = await import('aws-sdk-client-mock');
  const orgSdk = await import('@aws-sdk/client-organizations');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const organizations = mockClient(orgSdk.OrganizationsClient);
  organizations.on(orgSdk.ListAccountsCommand).resolves({
    Accounts: [
      { Id: '222222222222', Name: 'dev', State: 'ACTIVE' },
      { Id: '111111111111', Name: 'prod', State: 'ACTIVE' },
      { Id: '333333333333', Name: 'sandbox', State: 'ACTIVE' },
      { Id: '444444444444', Name: 'closed', State: 'CLOSED' },
    ],
  });
  const s3 = mockClient(s3Sdk.S3Client);
  s3.on(s3Sdk.PutObjectCommand).resolves({});
  const { handler } = await import('../../../lambdas/targets/handler');
  const written = (): unknown =>
    JSON.parse(String(s3.commandCalls(s3Sdk.PutObjectCommand)[0]?.args[0].input.Body ?? 'null'));
  return { handler, organizations, orgSdk, written };
}

describe('targets handler', () => {
  it("lists the organization's active accounts (ORG_ACCOUNTS=all), less the excluded, × the regions, one window end", async () => {
    // Prepare
    const { handler, written } = await loadTargets({
      ORG_ACCOUNTS: 'all',
      ORG_EXCLUDE_ACCOUNTS: '333333333333',
    });

    // Act
    const result: TargetsResult = await handler({ runId: 'org-1', end: '2026-11-16T00:00:00Z' });

    // Assess
    expect(result).toEqual({
      runId: 'org-1',
      targetsKey: 'runs/org-1/targets.json',
      targetCount: 4,
      targetResultsPrefix: 'runs/org-1/target-results',
      accountsFrom: 'organization',
      accounts: 2,
      regions: 2,
    });
    const end = Date.parse('2026-11-16T00:00:00Z') / 1000;
    expect(written()).toEqual([
      {
        runId: 'org-1-111111111111-eu-west-1',
        end,
        target: { accountId: '111111111111', region: 'eu-west-1', accountName: 'prod' },
      },
      {
        runId: 'org-1-111111111111-us-east-1',
        end,
        target: { accountId: '111111111111', region: 'us-east-1', accountName: 'prod' },
      },
      {
        runId: 'org-1-222222222222-eu-west-1',
        end,
        target: { accountId: '222222222222', region: 'eu-west-1', accountName: 'dev' },
      },
      {
        runId: 'org-1-222222222222-us-east-1',
        end,
        target: { accountId: '222222222222', region: 'us-east-1', accountName: 'dev' },
      },
    ] satisfies TargetRunInput[]);
  });

  it('takes the configured accounts without asking Organizations', async () => {
    // Prepare
    const { handler, organizations, orgSdk, written } = await loadTargets({ ORG_ACCOUNTS: '111111111111' });

    // Act
    const result = await handler({ runId: 'org-2' });

    // Assess
    expect(result).toMatchObject({ targetCount: 2, accountsFrom: 'configured', accounts: 1 });
    expect(organizations.commandCalls(orgSdk.ListAccountsCommand)).toHaveLength(0);
    expect((written() as TargetRunInput[]).map((i) => i.target.region)).toEqual(['eu-west-1', 'us-east-1']);
  });
});
