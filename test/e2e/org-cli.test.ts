/**
 * `sg-audit audit --organization` live against moto_server holding an AWS Organization: the
 * accounts listed with ListAccounts, each (account, region) audited through the member role
 * (moto maps the assumed role's credentials to the account), one account whose role is missing
 * (answered AccessDenied as AWS does: test/support/moto-organization.ts), the reports written to
 * OUT/<account>/<region>/ and the organization report to OUT/org/.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { type AwsClientFactory, awsClientsFrom } from '../../adapters/aws/clients';
import { main } from '../../cli/main';
import type { OrgReport } from '../../shared/org/model';
import type { AuditReport } from '../../shared/report/model';
import { type MotoServer, motoClientConfig, resetMoto, startMoto } from '../support/moto';
import { createMotoOrganization, refuseMemberRole, seedMemberNetwork } from '../support/moto-organization';

const MANAGEMENT = '123456789012';
const LOG_GROUP = '/sg-audit/e2e/org-cli-flow';
const NOW = Math.floor(Date.now() / 1000);

let moto: MotoServer;
let out: string;

beforeAll(async () => {
  moto = await startMoto();
  out = mkdtempSync(path.join(tmpdir(), 'sg-audit-org-cli-'));
});
afterAll(async () => {
  await moto?.stop();
  rmSync(out, { recursive: true, force: true });
});
beforeEach(async () => {
  await resetMoto(moto.endpoint);
});
afterEach(() => {
  jest.restoreAllMocks();
});

/** The CLI's clients on moto: the region and credentials asked for (a target's member role's). */
const motoClients: AwsClientFactory = (options) => {
  const base = motoClientConfig(moto.endpoint);
  const config = {
    ...base,
    region: options.region ?? base.region,
    credentials: options.credentials ?? base.credentials,
    maxAttempts: 2,
  };
  return awsClientsFrom(config, { s3: new S3Client({ ...config, forcePathStyle: true }) });
};

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['audit', '--out', out, '--days', '1', '-q', ...args], {
    version: 'e2e',
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    awsClients: motoClients,
    flowPollIntervalMs: 1,
  });
  return { code, stdout, stderr };
}

describe('sg-audit audit --organization (live, moto)', () => {
  it('audits every account and region through the member role; a missing role is a gap', async () => {
    // Prepare
    const org = await createMotoOrganization(moto.endpoint, ['prod', 'sandbox']);
    const [prod, sandbox] = org.accounts;
    if (!prod || !sandbox) throw new Error('two member accounts expected');
    for (const [region, network] of [
      ['eu-west-1', '10.50'],
      ['us-east-1', '10.51'],
    ] as const) {
      await seedMemberNetwork(moto.endpoint, prod.id, region, { network, logGroup: LOG_GROUP, now: NOW });
    }
    const sts = refuseMemberRole([sandbox.id]);

    // Act
    const { code, stdout, stderr } = await run([
      '--organization',
      '--regions',
      'eu-west-1,us-east-1',
      '--external-id',
      'sg-audit-e2e',
      '--region',
      'ap-northeast-2',
    ]);

    // Assess: the run succeeds, the missing role's targets are gaps.
    expect(code).toBe(0);
    expect(stderr).toMatch(
      new RegExp(
        `${sandbox.id}/eu-west-1: not audited \\(a gap of the organization report\\): MemberRoleError: cannot assume`,
      ),
    );
    expect(sts.refused).toContain(`arn:aws:iam::${sandbox.id}:role/SgAuditMember`);
    expect(sts.assumed.filter((a) => a.RoleArn?.endsWith(':role/SgAuditMember'))).toEqual(
      expect.arrayContaining([
        {
          RoleArn: `arn:aws:iam::${prod.id}:role/SgAuditMember`,
          ExternalId: 'sg-audit-e2e',
          RoleSessionName: 'sg-audit-cli',
        },
      ]),
    );

    // Assess: each audited target's report is its own account's and region's.
    for (const account of [MANAGEMENT, prod.id]) {
      for (const region of ['eu-west-1', 'us-east-1']) {
        const file = path.join(out, account, region, 'report.json');
        expect(existsSync(file)).toBe(true);
        const report = JSON.parse(readFileSync(file, 'utf8')) as AuditReport;
        expect(report.account).toEqual({ id: account, region });
      }
    }
    const prodEu = JSON.parse(
      readFileSync(path.join(out, prod.id, 'eu-west-1', 'report.json'), 'utf8'),
    ) as AuditReport;
    expect(prodEu.findings.some((f) => f.sgName === 'web' && f.severity === 'critical')).toBe(true);
    expect(existsSync(path.join(out, sandbox.id))).toBe(false);

    // Assess: the organization report.
    const orgReport = JSON.parse(readFileSync(path.join(out, 'org', 'org-report.json'), 'utf8')) as OrgReport;
    expect(orgReport.totals).toMatchObject({ targets: 6, audited: 4, gaps: 2, accounts: 3, regions: 2 });
    expect(orgReport.targets.filter((t) => t.status === 'gap')).toEqual([
      expect.objectContaining({
        accountId: sandbox.id,
        region: 'eu-west-1',
        accountName: 'sandbox',
        gap: expect.objectContaining({ kind: 'role-unavailable' }),
      }),
      expect.objectContaining({
        accountId: sandbox.id,
        region: 'us-east-1',
        gap: expect.objectContaining({ kind: 'role-unavailable' }),
      }),
    ]);
    expect(readFileSync(path.join(out, 'org', 'targets.csv'), 'utf8')).toContain(
      `${prod.id},prod,eu-west-1,audited`,
    );
    expect(stdout).toContain('Organization: 6 targets, 4 audited, 2 gaps');
  });

  it('audits the listed accounts only (--accounts), in the SDK region without --regions', async () => {
    // Prepare
    const org = await createMotoOrganization(moto.endpoint, ['prod']);
    const [prod] = org.accounts;
    if (!prod) throw new Error('one member account expected');
    await seedMemberNetwork(moto.endpoint, prod.id, 'ap-northeast-2', {
      network: '10.52',
      logGroup: LOG_GROUP,
      now: NOW,
    });
    const target = path.join(out, 'listed');

    // Act
    const { code } = await run(['--accounts', prod.id, '--region', 'ap-northeast-2', '--out', target]);

    // Assess
    expect(code).toBe(0);
    const orgReport = JSON.parse(
      readFileSync(path.join(target, 'org', 'org-report.json'), 'utf8'),
    ) as OrgReport;
    expect(orgReport.targets.map((t) => `${t.accountId}/${t.region}:${t.status}`)).toEqual([
      `${prod.id}/ap-northeast-2:audited`,
    ]);
  });
});
