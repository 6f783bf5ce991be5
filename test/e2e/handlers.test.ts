/**
 * The workflow's Lambda handlers against moto_server, run in-process in the order the state
 * machine runs them: discover → query (each item) → analyze → notify. The handlers create their
 * clients at module scope from the environment, so the environment points the SDK at moto
 * (AWS_ENDPOINT_URL) before they are imported.
 *
 * Moto's Logs Insights returns the raw events of the time range and ignores `stats`: the flow
 * records are seeded as log events just before the window, so the query plumbing (log group,
 * time range, stored result) runs end to end on an empty result; the aggregation's semantics are
 * tested through the query builder (test/shared/flow/insights-query.test.ts).
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DescribeQueriesCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import type { AnalyzeEvent, AnalyzeResult } from '../../lambdas/analyze/contract';
import type { DiscoverResult } from '../../lambdas/discover/contract';
import type { NotifyResult } from '../../lambdas/notify/contract';
import type { QueryEvent, QueryResult } from '../../lambdas/query/contract';
import type { AuditReport } from '../../shared/report/model';
import { type MotoServer, motoClientConfig, resetMoto, startMoto } from '../support/moto';

const ACCOUNT = '123456789012';
const REGION = 'ap-northeast-2';
const WORK_BUCKET = 'sg-audit-work';
const REPORT_BUCKET = 'sg-audit-reports';
const TOPIC_NAME = 'sg-audit-alerts';
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${TOPIC_NAME}`;
const LOG_GROUP = '/sg-audit/e2e/vpc-flow';
const NOW = Math.floor(Date.now() / 1000);
/** The window's end: a little ahead, so the flow log moto creates during the test lies inside the window. */
const END = NOW + 600;

type Handler<I, O> = (event: I) => Promise<O>;
interface Handlers {
  discover: Handler<unknown, DiscoverResult>;
  query: Handler<QueryEvent, QueryResult>;
  analyze: Handler<AnalyzeEvent | Record<string, unknown>, AnalyzeResult>;
  notify: Handler<unknown, NotifyResult>;
}

/** One notification moto recorded: [message id, message, subject, attributes, group id]. */
type SentNotification = [string, string, string | null, Record<string, unknown> | null, string | null];

let moto: MotoServer;
let ec2: EC2Client;
let logs: CloudWatchLogsClient;
let s3: S3Client;
let sns: SNSClient;
let handlers: Handlers;
const savedEnv = { ...process.env };

beforeAll(async () => {
  moto = await startMoto();
  const config = motoClientConfig(moto.endpoint);
  ec2 = new EC2Client(config);
  logs = new CloudWatchLogsClient(config);
  s3 = new S3Client({ ...config, forcePathStyle: true });
  sns = new SNSClient(config);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    WORK_BUCKET,
    REPORT_BUCKET,
    ALERT_TOPIC_ARN: TOPIC_ARN,
    LOOKBACK_DAYS: '1',
    LOG_LEVEL: 'ERROR',
  });
  handlers = {
    discover: (await import('../../lambdas/discover/handler')).handler,
    query: (await import('../../lambdas/query/handler')).handler,
    analyze: (await import('../../lambdas/analyze/handler')).handler,
    notify: (await import('../../lambdas/notify/handler')).handler,
  };
});

afterAll(async () => {
  for (const client of [ec2, logs, s3, sns]) client?.destroy();
  await moto?.stop();
  process.env = savedEnv;
});

beforeEach(async () => {
  await resetMoto(moto.endpoint);
});

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`moto returned no ${what}`);
  return value;
}

/** A realistic small account: one VPC, a web tier open to the world (SSH too), an app tier reached by SG reference. */
async function seedAccount() {
  const vpcId = required(
    (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc?.VpcId,
    'VPC',
  );
  const subnetId = required(
    (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.1.0/24', AvailabilityZone: `${REGION}a` }),
      )
    ).Subnet?.SubnetId,
    'subnet',
  );
  const sg = async (name: string) =>
    required(
      (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: name })))
        .GroupId,
      'SG',
    );
  const web = await sg('web');
  const app = await sg('app');
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: web,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: app,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: web }] },
      ],
    }),
  );
  const eni = async (groups: string[], address: string) =>
    required(
      (
        await ec2.send(
          new CreateNetworkInterfaceCommand({
            SubnetId: subnetId,
            Groups: groups,
            PrivateIpAddress: address,
          }),
        )
      ).NetworkInterface?.NetworkInterfaceId,
      'ENI',
    );
  const webEni = await eni([web], '10.20.1.10');
  const appEni = await eni([app], '10.20.1.20');

  await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
  const flowLogId = required(
    (
      await ec2.send(
        new CreateFlowLogsCommand({
          ResourceType: 'VPC',
          ResourceIds: [vpcId],
          TrafficType: 'ALL',
          LogDestinationType: 'cloud-watch-logs',
          LogGroupName: LOG_GROUP,
          DeliverLogsPermissionArn: `arn:aws:iam::${ACCOUNT}:role/flow-logs`,
        }),
      )
    ).FlowLogIds?.[0],
    'flow log id',
  );
  // Flow records as CloudWatch Logs events (timestamped with the record's start, as AWS does),
  // two days old: before the 1-day window, so moto's stats-less Insights returns no raw event.
  const start = NOW - 2 * 86_400;
  await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: `${webEni}-all` }));
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: LOG_GROUP,
      logStreamName: `${webEni}-all`,
      logEvents: [
        `2 ${ACCOUNT} ${webEni} 203.0.113.7 10.20.1.10 50100 443 6 10 840 ${start} ${start + 60} ACCEPT OK`,
        `2 ${ACCOUNT} ${webEni} 10.20.1.10 10.20.1.20 40100 8080 6 8 640 ${start + 5} ${start + 65} ACCEPT OK`,
      ].map((message, i) => ({ timestamp: (start + i * 5) * 1000, message })),
    }),
  );

  for (const bucket of [WORK_BUCKET, REPORT_BUCKET]) {
    await s3.send(
      new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
  }
  const topic = await sns.send(new CreateTopicCommand({ Name: TOPIC_NAME }));
  expect(topic.TopicArn).toBe(TOPIC_ARN);
  return { vpcId, web, app, webEni, appEni, flowLogId };
}

async function sentNotifications(): Promise<SentNotification[]> {
  const response = await fetch(`${moto.endpoint}/moto-api/data.json`);
  const data = (await response.json()) as {
    sns?: { Topic?: { arn: string; sent_notifications: SentNotification[] }[] };
  };
  return data.sns?.Topic?.find((t) => t.arn === TOPIC_ARN)?.sent_notifications ?? [];
}

async function objectText(bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString('utf-8')) ?? '';
}

/** The query steps as a Map state with a Catch per item runs them. */
async function queryAll(discovered: DiscoverResult) {
  const aggregateKeys: string[] = [];
  const failedSources: { sourceId: string; error: { Error: string; Cause: string } }[] = [];
  for (const query of discovered.queries) {
    try {
      const result = await handlers.query({ ...discovered, query });
      aggregateKeys.push(result.aggregatesKey);
    } catch (error) {
      const e = error as Error;
      const cause = JSON.stringify({ errorType: e.name, errorMessage: e.message });
      failedSources.push({ sourceId: query.sourceId, error: { Error: e.name, Cause: cause } });
    }
  }
  return { aggregateKeys, failedSources };
}

describe('workflow handlers (moto)', () => {
  it('discovers, queries, analyses, stores the report and e-mails the summary', async () => {
    // Prepare
    const account = await seedAccount();

    // Act
    const discovered = await handlers.discover({ runId: 'e2e-run-1', end: END });
    const { aggregateKeys, failedSources } = await queryAll(discovered);
    const analyzed = await handlers.analyze({
      runId: discovered.runId,
      inventoryKey: discovered.inventoryKey,
      aggregateKeys,
      failedSources,
    });
    const notified = await handlers.notify(analyzed);

    // Assess: discovery and the query plan (state holds keys and the small query list).
    expect(discovered).toMatchObject({
      runId: 'e2e-run-1',
      inventoryKey: 'runs/e2e-run-1/inventory.json.gz',
      queriesKey: 'runs/e2e-run-1/queries.json',
      window: { start: END - 86_400, end: END },
      queries: [{ sourceId: 'insights-1', kind: 'insights', logGroups: [LOG_GROUP] }],
      queryCount: 1,
      unqueriedFlowLogs: 0,
    });
    expect(discovered.eniCount).toBeGreaterThanOrEqual(2);
    expect(failedSources).toEqual([]);
    expect(aggregateKeys).toEqual(['runs/e2e-run-1/aggregates/insights-1.json.gz']);
    const { queries } = await logs.send(new DescribeQueriesCommand({ logGroupName: LOG_GROUP }));
    expect(queries).toHaveLength(1);
    expect(queries?.[0]?.queryString).toContain(account.webEni);

    // Assess: the report objects are in the report bucket.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: REPORT_BUCKET }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
    const prefix = analyzed.reportPrefix;
    expect(prefix).toMatch(new RegExp(`^reports/${ACCOUNT}/${REGION}/\\d{4}/\\d{2}/\\d{2}/e2e-run-1/$`));
    for (const name of [
      'report.json',
      'findings.csv',
      'rules.csv',
      'recommendations.csv',
      'resources.csv',
      'report.html',
    ])
      expect(keys).toContain(`${prefix}${name}`);
    expect(keys).toContain(`reports/${ACCOUNT}/${REGION}/latest.json`);
    expect(analyzed.reportJsonKey).toBe(`${prefix}report.json`);

    // Assess: inventory and findings.
    const report = JSON.parse(await objectText(REPORT_BUCKET, analyzed.reportJsonKey)) as AuditReport;
    expect(report).toMatchObject({
      runId: 'e2e-run-1',
      mode: 'live',
      account: { id: ACCOUNT, region: REGION },
    });
    expect(report.securityGroups.map((sg) => sg.id)).toEqual(
      expect.arrayContaining([account.web, account.app]),
    );
    expect(report.resources.map((r) => r.eniId)).toEqual(
      expect.arrayContaining([account.webEni, account.appEni]),
    );
    const sshFinding = report.findings.find((f) => f.sgId === account.web && f.severity === 'critical');
    expect(sshFinding).toBeDefined();
    expect(
      report.securityGroups.find((sg) => sg.id === account.app)?.rules.some((r) => r.peer === account.web),
    ).toBe(true);
    expect(report.flowSources).toEqual([
      expect.objectContaining({ engine: 'logs-insights', sources: [LOG_GROUP], queries: 1 }),
    ]);
    expect(report.warnings.filter((w) => w.code.startsWith('flow-source'))).toEqual([]);
    expect(analyzed.findingsBySeverity).toEqual(report.summary.findingsBySeverity);
    // The flow log started inside the window: partial evidence, so no rule is judged unused.
    expect(report.resources.find((r) => r.eniId === account.webEni)?.coverage).toBe('partial');

    // Assess: SNS received the summary.
    expect(notified).toEqual({ runId: 'e2e-run-1', kind: 'report', published: ['sns'], failed: [] });
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toMatch(new RegExp(`^sg-audit ${ACCOUNT}/${REGION}: \\d+ critical`));
    expect(sent[0]?.[1]).toContain(`HTML report: ${analyzed.htmlUrl}`);
  });

  it('carries a failed query into the report as a warning and leaves its rules unjudged', async () => {
    // Prepare: the log group disappears between discovery and the query.
    const account = await seedAccount();
    const discovered = await handlers.discover({ runId: 'e2e-run-2', end: END });
    await logs.send(new DeleteLogGroupCommand({ logGroupName: LOG_GROUP }));

    // Act
    const { aggregateKeys, failedSources } = await queryAll(discovered);
    const analyzed = await handlers.analyze({
      runId: discovered.runId,
      inventoryKey: discovered.inventoryKey,
      aggregateKeys,
      failedSources,
    });

    // Assess
    expect(aggregateKeys).toEqual([]);
    expect(failedSources).toEqual([
      { sourceId: 'insights-1', error: expect.objectContaining({ Error: 'FlowLogQueryFailedError' }) },
    ]);
    expect(analyzed.failedSources).toBe(1);
    const report = JSON.parse(await objectText(REPORT_BUCKET, analyzed.reportJsonKey)) as AuditReport;
    const warning = report.warnings.find((w) => w.code === 'flow-source-failed');
    expect(warning?.message).toContain(
      `flow source insights-1 (insights: ${account.flowLogId}) failed: FlowLogQueryFailedError`,
    );
    expect(report.resources.find((r) => r.eniId === account.webEni)?.coverage).toBe('none');
    const webRules = report.securityGroups.find((sg) => sg.id === account.web)?.rules ?? [];
    expect(webRules.filter((r) => r.direction === 'ingress').map((r) => r.usage.status)).toEqual([
      'unknown',
      'unknown',
    ]);
  });

  it('publishes a failure alert when notify gets the error a Catch recorded', async () => {
    // Prepare
    await seedAccount();

    // Act
    const notified = await handlers.notify({
      runId: 'e2e-run-3',
      step: 'Discover',
      error: {
        Error: 'InventoryDiscoveryError',
        Cause: JSON.stringify({
          errorType: 'InventoryDiscoveryError',
          errorMessage: 'ec2:DescribeVpcs: denied',
          trace: [],
        }),
      },
    });

    // Assess
    expect(notified).toEqual({ runId: 'e2e-run-3', kind: 'failure', published: ['sns'], failed: [] });
    const sent = await sentNotifications();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[2]).toContain('FAILED');
    expect(sent[0]?.[2]).toContain('InventoryDiscoveryError');
    expect(sent[0]?.[1]).toContain('ec2:DescribeVpcs: denied');
  });
});
