/**
 * `sg-audit doctor` against moto_server: a ready account (a VPC flow log to CloudWatch Logs, one to
 * S3 that delivered today) exits 0; an account whose S3 flow log delivered nothing and whose
 * CloudWatch flow log names a log group that does not exist (its trial query fails) exits 2, naming
 * both. Doctor runs two hours after the flow logs were created (moto dates them now), so neither is
 * too new to judge.
 *
 * A log group's delivery is its CloudWatch `IncomingLogEvents` (GetMetricData), put into moto's
 * CloudWatch with PutMetricData as AWS publishes it (namespace AWS/Logs, dimension LogGroupName).
 * Service Quotas is read too: moto lists no Logs or Athena quota, so the documented defaults stand.
 * Moto has no CloudTrail LookupEvents (it answers HTTP 500): the CloudTrail check says it could not
 * verify, naming the error — a warning, the account still ready.
 * Not covered here: IAM SimulatePrincipalPolicy (moto does not implement it).
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type AwsClients, awsClientsFrom } from '../../adapters/aws/clients';
import type { DoctorResult } from '../../cli/doctor';
import { EXIT_NOT_READY, EXIT_OK, main } from '../../cli/main';
import { DEFAULT_FIELDS } from '../../shared/flow/format';
import { type MotoServer, motoClientConfig, startMoto } from '../support/moto';
import { destroyClients, motoAccountClients } from '../support/moto-account';
import { ec2Seeder } from '../support/moto-ec2';

const ACCOUNT = '123456789012';
const REGION = 'ap-northeast-2';
/** Doctor's clock: two hours after the seeding. */
const LATER = new Date(Date.now() + 2 * 3600_000);

interface Seeded {
  readonly vpcs: string[];
  readonly cloudWatchFlowLog: string;
  readonly s3FlowLog: string;
}

/** Two VPCs: one logging to CloudWatch Logs (`logGroup`, created or not), one to S3 (`bucket`). */
async function seed(
  endpoint: string,
  names: { logGroup: string; createGroup: boolean; bucket: string; deliver: boolean },
): Promise<Seeded> {
  const clients = motoAccountClients(endpoint);
  const { ec2, logs, s3 } = clients;
  try {
    const ec2Seed = ec2Seeder(ec2);
    const cwVpc = await ec2Seed.vpc('10.30.0.0/16');
    const s3Vpc = await ec2Seed.vpc('10.40.0.0/16');
    const subnet = await ec2Seed.subnet(s3Vpc, '10.40.1.0/24', `${REGION}a`);
    const group = await ec2Seed.securityGroup(s3Vpc, `web-${names.bucket}`, 'web');
    const eni = await ec2Seed.networkInterface(subnet, [group], {
      address: '10.40.1.10',
      description: 'web',
    });
    if (names.createGroup) await logs.send(new CreateLogGroupCommand({ logGroupName: names.logGroup }));
    await s3.send(
      new CreateBucketCommand({
        Bucket: names.bucket,
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    const cloudWatchFlowLog = await ec2Seed.flowLog({
      ResourceType: 'VPC',
      ResourceIds: [cwVpc],
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: names.logGroup,
      DeliverLogsPermissionArn: `arn:aws:iam::${ACCOUNT}:role/flow-logs`,
    });
    const s3FlowLog = await ec2Seed.flowLog({
      ResourceType: 'VPC',
      ResourceIds: [s3Vpc],
      TrafficType: 'ALL',
      LogDestinationType: 's3',
      LogDestination: `arn:aws:s3:::${names.bucket}`,
    });
    if (names.deliver) {
      // The log group received 42 events an hour before doctor runs (CloudWatch's own count).
      const cloudwatch = new CloudWatchClient(motoClientConfig(endpoint));
      await cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: 'AWS/Logs',
          MetricData: [
            {
              MetricName: 'IncomingLogEvents',
              Dimensions: [{ Name: 'LogGroupName', Value: names.logGroup }],
              Timestamp: new Date(LATER.getTime() - 3600_000),
              Value: 42,
              Unit: 'Count',
            },
          ],
        }),
      );
      cloudwatch.destroy();
      // One object delivered an hour before doctor runs, under AWS's key layout.
      const delivered = new Date(LATER.getTime() - 3600_000);
      const [y, m, d] = delivered.toISOString().slice(0, 10).split('-');
      const stamp = delivered.toISOString().replace(/[-:]/g, '').slice(0, 13);
      const start = Math.floor(delivered.getTime() / 1000) - 600;
      await s3.send(
        new PutObjectCommand({
          Bucket: names.bucket,
          Key: `AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/${y}/${m}/${d}/${ACCOUNT}_vpcflowlogs_${REGION}_${s3FlowLog}_${stamp}Z_0a1b2c3d.log.gz`,
          Body: `${DEFAULT_FIELDS.join(' ')}\n2 ${ACCOUNT} ${eni} 10.40.1.50 10.40.1.10 51000 80 6 10 840 ${start} ${start + 60} ACCEPT OK\n`,
        }),
      );
    }
    return { vpcs: [cwVpc, s3Vpc], cloudWatchFlowLog, s3FlowLog };
  } finally {
    destroyClients(clients);
  }
}

/** Moto's clients (S3 path-style, as moto serves it). */
function motoClients(endpoint: string): AwsClients {
  const config = motoClientConfig(endpoint);
  return awsClientsFrom(config, { s3: new S3Client({ ...config, forcePathStyle: true }) });
}

describe('sg-audit doctor against moto', () => {
  let moto: MotoServer;

  const doctor = async (vpcs: readonly string[], json: boolean, extra: readonly string[] = []) => {
    let stdout = '';
    let stderr = '';
    const args = ['doctor', ...vpcs.flatMap((v) => ['--vpc', v]), ...(json ? ['--json'] : []), ...extra];
    const code = await main(args, {
      version: 'e2e',
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      now: () => LATER,
      awsClients: () => motoClients(moto.endpoint),
      flowPollIntervalMs: 10,
    });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('exits 0 for an account whose flow logs deliver and whose trial queries run', async () => {
    // Prepare
    const account = await seed(moto.endpoint, {
      logGroup: '/vpc/ready',
      createGroup: true,
      bucket: 'ready-flow-logs',
      deliver: true,
    });

    // Act
    const table = await doctor(account.vpcs, false);
    const json = await doctor(account.vpcs, true);

    // Assess
    expect(table.stderr).not.toContain('error:');
    expect(table.code).toBe(EXIT_OK);
    expect(table.stdout).toContain('Ready: every flow log delivers and every trial query ran.');
    const result = JSON.parse(json.stdout) as DoctorResult;
    expect(json.code).toBe(EXIT_OK);
    expect(result).toMatchObject({ accountId: ACCOUNT, region: REGION, ready: true, problems: [] });
    expect(result.flowLogs.find((f) => f.flowLogId === account.s3FlowLog)).toMatchObject({
      readBy: 'download',
      delivery: { status: 'delivered', objects: 1 },
    });
    expect(result.flowLogs.find((f) => f.flowLogId === account.cloudWatchFlowLog)).toMatchObject({
      readBy: 'insights',
      destination: '/vpc/ready',
      delivery: { status: 'delivered', incomingLogEvents: 42 },
    });
    expect(result.trials).toEqual([
      expect.objectContaining({ engine: 'insights', reads: ['/vpc/ready'], status: 'ok', rows: 0 }),
    ]);
    // --role-arn goes to IAM's policy simulator at the run's endpoint; moto has none: not verified,
    // said once, and the account stays ready.
    const roles = await doctor(account.vpcs, true, [
      '--role-arn',
      `arn:aws:iam::${ACCOUNT}:role/SgAuditMember`,
    ]);
    const simulated = JSON.parse(roles.stdout) as DoctorResult;
    expect(roles.code).toBe(EXIT_OK);
    expect(simulated.permissions).toMatchObject({
      roles: [`arn:aws:iam::${ACCOUNT}:role/SgAuditMember`],
      status: 'not-verified',
      checks: [],
    });
    expect(simulated.warnings).toContainEqual(
      expect.stringMatching(/^IAM's policy simulator could not run \(/),
    );
    expect(result.changeHistory).toEqual({
      status: 'not-verified',
      detail: expect.stringMatching(
        /^could not verify that CloudTrail's event history is readable \(LookupEvents: .+\): who opened each rule may be unknown in the audit$/,
      ),
    });
    expect(result.warnings).toContain(result.changeHistory.detail);
    expect(table.stdout).toContain(
      "CloudTrail event history (who opened each rule)\n  could not verify that CloudTrail's event history is readable",
    );
    // Moto's Service Quotas knows only VPC quotas: the documented defaults stand, with the reason.
    expect(result.quotas.map((q) => [q.value, q.source.startsWith('documented default')])).toEqual([
      [100, true],
      [100, true],
    ]);
  });

  it('exits 2 naming a flow log silent for 24 h and a trial query that fails', async () => {
    // Prepare
    const account = await seed(moto.endpoint, {
      logGroup: '/vpc/missing',
      createGroup: false,
      bucket: 'silent-flow-logs',
      deliver: false,
    });

    // Act
    const table = await doctor(account.vpcs, false);
    const json = await doctor(account.vpcs, true);

    // Assess
    expect(table.code).toBe(EXIT_NOT_READY);
    expect(table.stdout).toContain('SILENT for 24 h');
    expect(table.stdout).toContain('The audit would be blind:');
    const result = JSON.parse(json.stdout) as DoctorResult;
    expect(json.code).toBe(EXIT_NOT_READY);
    expect(result.ready).toBe(false);
    expect(result.problems).toEqual([
      `flow log ${account.cloudWatchFlowLog} (${account.vpcs[0]}) delivered nothing in the last 24 h (/vpc/missing): its ENIs would have no evidence`,
      expect.stringContaining(
        `flow log ${account.s3FlowLog} (${account.vpcs[1]}) delivered nothing in the last 24 h`,
      ),
      expect.stringMatching(/^trial query insights-1 \(insights: \/vpc\/missing\) failed: /),
    ]);
  });
});
