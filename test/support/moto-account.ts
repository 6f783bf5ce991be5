/**
 * A small, realistic account seeded in moto_server for the end-to-end tests of the workflow: one
 * VPC, a web tier open to the world (SSH too), an app tier reached by SG reference, their ENIs, a
 * VPC flow log to CloudWatch Logs with a few records, the work and report buckets and the alert
 * topic. Also what the tests read back: the SNS messages moto recorded and stored objects.
 *
 * Moto's Logs Insights returns the raw events of the time range and ignores `stats`: the records
 * are timestamped two days before `now`, outside a 1-day window, so the query plumbing runs end to
 * end on an empty result (the aggregation's semantics are tested through the query builder).
 *
 * @example
 * const account = await seedAccount({ ec2, logs, s3, sns }, { ...MOTO_ACCOUNT_DEFAULTS, now });
 * const sent = await sentNotifications(moto.endpoint, account.topicArn);
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { motoClientConfig } from './moto';
import { ec2Seeder, required } from './moto-ec2';

export interface MotoAccountClients {
  readonly ec2: EC2Client;
  readonly logs: CloudWatchLogsClient;
  readonly s3: S3Client;
  readonly sns: SNSClient;
}

/**
 * The clients a test seeds and reads moto with (S3 path-style, as moto serves it).
 *
 * @example const clients = motoAccountClients(moto.endpoint); … destroyClients(clients);
 */
export function motoAccountClients(endpoint: string): MotoAccountClients {
  const config = motoClientConfig(endpoint);
  return {
    ec2: new EC2Client(config),
    logs: new CloudWatchLogsClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sns: new SNSClient(config),
  };
}

export function destroyClients(clients: Partial<MotoAccountClients> | undefined): void {
  for (const client of Object.values(clients ?? {})) client?.destroy();
}

/**
 * The environment that points the workflow's handlers at moto: they create their clients at
 * module scope and read their configuration at cold start, so set it before importing them.
 *
 * @example Object.assign(process.env, handlerEnvironment(moto.endpoint, 'ap-northeast-2', { WORK_BUCKET }));
 */
export function handlerEnvironment(
  endpoint: string,
  region: string,
  settings: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    LOG_LEVEL: 'ERROR',
    ...settings,
  };
}

export interface SeedOptions {
  /** moto's default account. */
  readonly account: string;
  readonly region: string;
  /** The VPC is `${network}.0.0/16`, its subnet `${network}.1.0/24`, e.g. '10.20'. */
  readonly network: string;
  readonly workBucket: string;
  readonly reportBucket: string;
  readonly topicName: string;
  readonly logGroup: string;
  /** Epoch seconds; the flow records are two days older. */
  readonly now: number;
}

export interface SeededAccount {
  readonly vpcId: string;
  readonly subnetId: string;
  /** SG open to the world on tcp 22 and 443. */
  readonly web: string;
  /** SG open on tcp 8080 to the web SG. */
  readonly app: string;
  readonly webEni: string;
  readonly appEni: string;
  readonly flowLogId: string;
  readonly topicArn: string;
}

/** One notification moto recorded: [message id, message, subject, attributes, group id]. */
export type SentNotification = [string, string, string | null, Record<string, unknown> | null, string | null];

/** What seedNetwork creates: the VPC, its SGs and ENIs, the flow log. */
export type SeededNetwork = Omit<SeededAccount, 'topicArn'>;

/**
 * Creates the account's network in moto: one VPC, a web SG open to the world (SSH too) and an app
 * SG reached from it, their ENIs, a VPC flow log to CloudWatch Logs with two records.
 *
 * @example const { web, webEni } = await seedNetwork({ ec2, logs }, options);
 */
export async function seedNetwork(
  clients: Pick<MotoAccountClients, 'ec2' | 'logs'>,
  options: Pick<SeedOptions, 'account' | 'region' | 'network' | 'logGroup' | 'now'>,
): Promise<SeededNetwork> {
  const { ec2, logs } = clients;
  const { account, region, network, logGroup } = options;
  const seed = ec2Seeder(ec2);
  const vpcId = await seed.vpc(`${network}.0.0/16`);
  const subnetId = await seed.subnet(vpcId, `${network}.1.0/24`, `${region}a`);
  const web = await seed.securityGroup(vpcId, 'web', 'web');
  const app = await seed.securityGroup(vpcId, 'app', 'app');
  await seed.ingress(web, [
    { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
    { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
  ]);
  await seed.ingress(app, [
    { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: web }] },
  ]);
  const webAddress = `${network}.1.10`;
  const appAddress = `${network}.1.20`;
  const webEni = await seed.networkInterface(subnetId, [web], { address: webAddress });
  const appEni = await seed.networkInterface(subnetId, [app], { address: appAddress });

  await logs.send(new CreateLogGroupCommand({ logGroupName: logGroup }));
  const flowLogId = await seed.flowLog({
    ResourceType: 'VPC',
    ResourceIds: [vpcId],
    TrafficType: 'ALL',
    LogDestinationType: 'cloud-watch-logs',
    LogGroupName: logGroup,
    DeliverLogsPermissionArn: `arn:aws:iam::${account}:role/flow-logs`,
  });
  // Timestamped with the record's start, as AWS does.
  const start = options.now - 2 * 86_400;
  await logs.send(new CreateLogStreamCommand({ logGroupName: logGroup, logStreamName: `${webEni}-all` }));
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: logGroup,
      logStreamName: `${webEni}-all`,
      logEvents: [
        `2 ${account} ${webEni} 203.0.113.7 ${webAddress} 50100 443 6 10 840 ${start} ${start + 60} ACCEPT OK`,
        `2 ${account} ${webEni} ${webAddress} ${appAddress} 40100 8080 6 8 640 ${start + 5} ${start + 65} ACCEPT OK`,
      ].map((message, i) => ({ timestamp: (start + i * 5) * 1000, message })),
    }),
  );

  return { vpcId, subnetId, web, app, webEni, appEni, flowLogId };
}

/**
 * Creates the account's resources in moto (after a reset): its network (seedNetwork), the work
 * and report buckets and the alert topic.
 *
 * @example const { web, webEni } = await seedAccount(clients, options);
 */
export async function seedAccount(clients: MotoAccountClients, options: SeedOptions): Promise<SeededAccount> {
  const { s3, sns } = clients;
  const { region } = options;
  const seeded = await seedNetwork(clients, options);
  for (const bucket of [options.workBucket, options.reportBucket]) {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
      }),
    );
  }
  const topicArn = required(
    (await sns.send(new CreateTopicCommand({ Name: options.topicName }))).TopicArn,
    'a topic ARN',
  );
  return { ...seeded, topicArn };
}

/**
 * The messages moto recorded as published to a topic, oldest first.
 *
 * @example const [[, message, subject]] = await sentNotifications(moto.endpoint, topicArn);
 */
export async function sentNotifications(endpoint: string, topicArn: string): Promise<SentNotification[]> {
  const response = await fetch(`${endpoint}/moto-api/data.json`);
  const data = (await response.json()) as {
    sns?: { Topic?: { arn: string; sent_notifications: SentNotification[] }[] };
  };
  return data.sns?.Topic?.find((t) => t.arn === topicArn)?.sent_notifications ?? [];
}

/**
 * An object's text.
 *
 * @example JSON.parse(await objectText(s3, 'reports', key))
 */
export async function objectText(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await object.Body?.transformToString('utf-8')) ?? '';
}
