import { DescribeFlowLogsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  ListAWSDefaultServiceQuotasCommand,
  ListServiceQuotasCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import {
  deliveryStampOf,
  readServiceQuota,
  s3Delivery,
  transitGatewayFlowLogs,
} from '../../../adapters/aws/readiness';
import { flowLog } from '../../../testkit/inventory-builder';

const ACCOUNT = '111122223333';
const REGION = 'ap-northeast-2';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
/** 2026-11-21T00:30:00Z */
const NOW = Date.UTC(2026, 10, 21, 0, 30) / 1000;

const s3 = new S3Client({ region: REGION, credentials: CREDENTIALS });
const ec2 = new EC2Client({ region: REGION, credentials: CREDENTIALS });
const s3Mock = mockClient(s3);
const ec2Mock = mockClient(ec2);

beforeEach(() => {
  s3Mock.reset();
  ec2Mock.reset();
});

const objectName = (flowLogId: string, stamp: string) =>
  `${ACCOUNT}_vpcflowlogs_${REGION}_${flowLogId}_${stamp}_0a1b2c3d.log.gz`;

describe('deliveryStampOf', () => {
  it('reads the five-minute delivery stamp AWS puts in the object name', () => {
    expect(deliveryStampOf(`AWSLogs/x/${objectName('fl-1', '20261120T2305Z')}`)).toBe(
      Date.UTC(2026, 10, 20, 23, 5) / 1000,
    );
  });

  it('gives nothing for a name without one', () => {
    expect(deliveryStampOf('AWSLogs/x/some-file.log.gz')).toBeUndefined();
  });
});

describe('s3Delivery', () => {
  it("counts the flow log's own objects of today and yesterday, with the newest stamp", async () => {
    // Prepare: yesterday's and today's folders; another flow log shares them.
    const yesterday = `AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/2026/11/20/`;
    const today = `AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/2026/11/21/`;
    s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
      Contents:
        input.Prefix === yesterday
          ? [
              { Key: `${yesterday}${objectName('fl-1', '20261120T0900Z')}`, Size: 100 },
              { Key: `${yesterday}${objectName('fl-other', '20261120T2355Z')}`, Size: 7 },
            ]
          : input.Prefix === today
            ? [{ Key: `${today}${objectName('fl-1', '20261121T0015Z')}`, Size: 50 }]
            : [],
    }));

    // Act
    const delivery = await s3Delivery(s3, flowLog('fl-1'), ACCOUNT, REGION, NOW);

    // Assess
    expect(delivery).toEqual({
      objects: 2,
      bytes: 150,
      newestDelivery: Date.UTC(2026, 10, 21, 0, 15) / 1000,
    });
    expect(s3Mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual([
      yesterday,
      today,
    ]);
  });

  it('gives no newest delivery when nothing was delivered', async () => {
    // Prepare
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [] });

    // Act / Assess
    await expect(s3Delivery(s3, flowLog('fl-1'), ACCOUNT, REGION, NOW)).resolves.toEqual({
      objects: 0,
      bytes: 0,
    });
  });

  it('passes a listing failure on', async () => {
    // Prepare
    s3Mock.on(ListObjectsV2Command).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act / Assess
    await expect(s3Delivery(s3, flowLog('fl-1'), ACCOUNT, REGION, NOW)).rejects.toThrow('denied');
  });
});

describe('transitGatewayFlowLogs', () => {
  it('lists the flow logs of transit gateways and their attachments only', async () => {
    // Prepare
    ec2Mock.on(DescribeFlowLogsCommand).resolves({
      FlowLogs: [
        { FlowLogId: 'fl-vpc', ResourceId: 'vpc-0a', LogDestinationType: 'cloud-watch-logs' },
        { FlowLogId: 'fl-tgw', ResourceId: 'tgw-0a', LogDestinationType: 's3' },
        { FlowLogId: 'fl-att', ResourceId: 'tgw-attach-0a', LogDestinationType: 's3' },
      ],
    });

    // Act / Assess
    await expect(transitGatewayFlowLogs(ec2)).resolves.toEqual([
      { id: 'fl-tgw', resourceId: 'tgw-0a', destinationType: 's3' },
      { id: 'fl-att', resourceId: 'tgw-attach-0a', destinationType: 's3' },
    ]);
  });
});

describe('readServiceQuota', () => {
  const quotas = mockClient(ServiceQuotasClient);
  const client = new ServiceQuotasClient({
    region: 'ap-northeast-2',
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
  });
  beforeEach(() => quotas.reset());

  it('takes the applied value, across pages', async () => {
    // Prepare
    quotas
      .on(ListServiceQuotasCommand)
      .resolvesOnce({ Quotas: [{ QuotaName: 'Active DDL queries', Value: 20 }], NextToken: 'n' })
      .resolvesOnce({ Quotas: [{ QuotaName: 'Active DML queries', Value: 150 }] });

    // Act & Assess
    expect(await readServiceQuota(client, { serviceCode: 'athena', name: /active dml/i })).toEqual({
      value: 150,
      applied: true,
    });
  });

  it('falls back to AWS’s default, and to nothing when neither lists it', async () => {
    // Prepare
    quotas.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
    quotas
      .on(ListAWSDefaultServiceQuotasCommand)
      .resolvesOnce({ Quotas: [{ QuotaName: 'Active DML queries', Value: 100 }] })
      .resolves({ Quotas: [] });

    // Act & Assess
    expect(await readServiceQuota(client, { serviceCode: 'athena', name: /active dml/i })).toEqual({
      value: 100,
      applied: false,
    });
    expect(await readServiceQuota(client, { serviceCode: 'athena', name: /active dml/i })).toBeUndefined();
  });

  it.each(['AccessDeniedException', 'TooManyRequestsException'])(
    'throws %s for the caller to fall back',
    async (name) => {
      // Prepare
      quotas.on(ListServiceQuotasCommand).rejects(Object.assign(new Error('no'), { name }));

      // Act & Assess
      await expect(
        readServiceQuota(client, { serviceCode: 'logs', name: /insights/i }),
      ).rejects.toMatchObject({ name });
    },
  );
});
