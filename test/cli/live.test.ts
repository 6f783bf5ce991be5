import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchLogsClient,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetQueryResultsCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeFlowLogsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { type AwsClients, awsClientsFrom } from '../../adapters/aws/clients';
import { logGroupFolder } from '../../adapters/aws/flow-log-transfer';
import { discoverAccount, liveWindow } from '../../cli/live';
import { type CliIo, EXIT_ERROR, EXIT_OK, main } from '../../cli/main';
import { DEFAULT_FIELDS } from '../../shared/flow/format';
import type { AuditReport } from '../../shared/report/model';
import { authorizeEvent, CALLERS } from '../../testkit/cloudtrail-events';

const ACCOUNT = '111122223333';
const REGION = 'ap-northeast-2';
const NOW = new Date('2026-11-21T00:00:00Z');
/** The default live window: 7 days ending 15 minutes before NOW. */
const END = Math.floor(NOW.getTime() / 1000) - 900;
const START = END - 7 * 86400;
const T = END - 3600;
const LOG_FORMAT = DEFAULT_FIELDS.map((f) => `\${${f}}`).join(' ');

const ec2 = mockClient(EC2Client);
const logs = mockClient(CloudWatchLogsClient);
const s3 = mockClient(S3Client);
const athena = mockClient(AthenaClient);
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const cloudtrail = mockClient(CloudTrailClient);

/** The account: one VPC, an SG with world-open SSH, two ENIs, flow logs to CloudWatch Logs, S3 and Firehose. */
function mockAccount(): void {
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/auditor` });
  ec2.onAnyCommand().resolves({});
  ec2.on(DescribeVpcsCommand).resolves({
    Vpcs: [{ VpcId: 'vpc-0a', OwnerId: ACCOUNT, CidrBlock: '10.0.0.0/16', IsDefault: false }],
  });
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      {
        GroupId: 'sg-0a',
        GroupName: 'bastion',
        Description: 'bastion hosts',
        VpcId: 'vpc-0a',
        OwnerId: ACCOUNT,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        IpPermissionsEgress: [],
      },
    ],
  });
  const eni = (id: string, ip: string) => ({
    NetworkInterfaceId: id,
    VpcId: 'vpc-0a',
    SubnetId: 'subnet-0a',
    AvailabilityZone: `${REGION}a`,
    OwnerId: ACCOUNT,
    InterfaceType: 'interface' as const,
    Description: 'bastion',
    Groups: [{ GroupId: 'sg-0a', GroupName: 'bastion' }],
    PrivateIpAddress: ip,
    PrivateIpAddresses: [{ PrivateIpAddress: ip, Primary: true }],
    Ipv6Addresses: [],
    Status: 'in-use' as const,
  });
  ec2.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: [eni('eni-0a', '10.0.1.10'), eni('eni-0b', '10.0.2.10')],
  });
  const common = {
    ResourceId: 'vpc-0a',
    TrafficType: 'ALL' as const,
    LogFormat: LOG_FORMAT,
    FlowLogStatus: 'ACTIVE',
    DeliverLogsStatus: 'SUCCESS',
    CreationTime: new Date('2025-01-01T00:00:00Z'),
  };
  ec2.on(DescribeFlowLogsCommand).resolves({
    FlowLogs: [
      { ...common, FlowLogId: 'fl-0cw', LogDestinationType: 'cloud-watch-logs', LogGroupName: '/vpc/flow' },
      {
        ...common,
        FlowLogId: 'fl-0s3',
        LogDestinationType: 's3',
        LogDestination: 'arn:aws:s3:::flow-bucket/net',
        DestinationOptions: {
          FileFormat: 'plain-text',
          HiveCompatiblePartitions: false,
          PerHourPartition: false,
        },
      },
      {
        ...common,
        FlowLogId: 'fl-0fh',
        LogDestinationType: 'kinesis-data-firehose',
        LogDestination: `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/flows`,
      },
    ],
  });
}

/** One S3 text object of fl-0s3 (eni-0b, SSH from a public client) and one of another flow log. */
function mockS3Objects(): string {
  const day = new Date(T * 1000).toISOString().slice(0, 10).replaceAll('-', '/');
  const folder = `net/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/${day}/`;
  const own = `${folder}${ACCOUNT}_vpcflowlogs_${REGION}_fl-0s3_20261120T2300Z_0a1b2c3d.log.gz`;
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
    Contents:
      input.Prefix === folder
        ? [
            { Key: own, Size: 100 },
            {
              Key: `${folder}${ACCOUNT}_vpcflowlogs_${REGION}_fl-0other_20261120T2300Z_ffff.log.gz`,
              Size: 1,
            },
          ]
        : [],
  }));
  const lines = [
    DEFAULT_FIELDS.join(' '),
    `2 ${ACCOUNT} eni-0b 198.51.100.7 10.0.2.10 50000 22 6 10 840 ${T} ${T + 60} ACCEPT OK`,
    `2 ${ACCOUNT} eni-0b 10.0.2.10 198.51.100.7 22 50000 6 10 4200 ${T} ${T + 60} ACCEPT OK`,
  ];
  s3.on(GetObjectCommand, { Key: own }).callsFake(() => ({
    Body: Readable.from([gzipSync(`${lines.join('\n')}\n`)]),
  }));
  return own;
}

/** The aggregate row Logs Insights returns for eni-0a: an SSH connection from a public client. */
function mockInsights(): void {
  logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
  const row: Record<string, string | number> = {
    interfaceId: 'eni-0a',
    action: 'ACCEPT',
    protocol: 6,
    client_addr: '203.0.113.9',
    server_addr: '10.0.1.10',
    server_port: 22,
    client_port: -1,
    evidence_rank: 1,
    records: 2,
    request_records: 1,
    packet_count: 20,
    byte_count: 5040,
    first_seen: T,
    last_seen: T + 60,
    distinct_client_ports: 1,
  };
  logs.on(GetQueryResultsCommand).resolves({
    status: 'Complete',
    results: [Object.entries(row).map(([field, value]) => ({ field, value: String(value) }))],
    statistics: { bytesScanned: 4096, recordsMatched: 2, recordsScanned: 10 },
  });
}

function testClients(): AwsClients {
  return awsClientsFrom({ region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

async function run(args: string[], io: Partial<CliIo> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    version: 'test',
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    now: () => NOW,
    awsClients: testClients,
    flowPollIntervalMs: 1,
    ...io,
  });
  return { code, stdout, stderr };
}

let work: string;

beforeEach(() => {
  for (const mock of [ec2, logs, s3, athena, sts, rds, cloudtrail]) mock.reset();
  work = mkdtempSync(path.join(tmpdir(), 'sg-audit-live-'));
});

afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('liveWindow', () => {
  it('ends the incomplete tail before now when no end is given', () => {
    // Act
    const window = liveWindow({ days: 7, now: NOW, incompleteTailSeconds: 900 });

    // Assess
    expect(window).toEqual({ start: START, end: END });
  });

  it('ends at --end, in whole seconds, and lasts --days', () => {
    // Act
    const window = liveWindow({
      end: '2026-11-01T12:00:00.750Z',
      days: 1.5,
      now: NOW,
      incompleteTailSeconds: 900,
    });

    // Assess
    const end = Date.parse('2026-11-01T12:00:00Z') / 1000;
    expect(window).toEqual({ start: end - 129_600, end });
  });

  it('rejects an --end that is not a date', () => {
    // Act, Assess
    expect(() => liveWindow({ end: 'yesterday', days: 7, now: NOW, incompleteTailSeconds: 900 })).toThrow(
      /--end 'yesterday' is not an ISO 8601 date-time/,
    );
  });
});

describe('discoverAccount', () => {
  it("names the credentials' account (STS), not the owner of a VPC shared with it", async () => {
    // Prepare
    mockAccount();
    ec2.on(DescribeVpcsCommand).resolves({
      Vpcs: [{ VpcId: 'vpc-0a', OwnerId: '999988887777', CidrBlock: '10.0.0.0/16', IsDefault: false }],
    });
    const clients = testClients();

    // Act
    const discovered = await discoverAccount(
      clients,
      [],
      () => {},
      () => {},
    );
    clients.destroy();

    // Assess
    expect(discovered.accountId).toBe(ACCOUNT);
    expect(discovered.inventory.accountId).toBe(ACCOUNT);
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
  });
});

describe('sg-audit audit (live)', () => {
  it('queries CloudWatch flow logs in Logs Insights and aggregates the window’s S3 objects locally', async () => {
    // Prepare
    mockAccount();
    mockInsights();
    mockS3Objects();
    const out = path.join(work, 'report');

    // Act
    const result = await run(['audit', '--out', out, '--format', 'json']);

    // Assess
    expect(result.code).toBe(EXIT_OK);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as AuditReport;
    expect(report).toMatchObject({ mode: 'live', account: { id: ACCOUNT, region: REGION } });
    expect(report.window).toMatchObject({
      start: new Date(START * 1000).toISOString(),
      end: new Date(END * 1000).toISOString(),
    });
    const start = logs.commandCalls(StartQueryCommand)[0]?.args[0].input;
    expect(start).toMatchObject({ logGroupNames: ['/vpc/flow'], startTime: START, endTime: END });
    expect(start?.queryString).toContain('eni-0a');
    // One ListObjectsV2 per day folder from the window's start to its end plus the hour of delivery slack.
    const prefixes = s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix);
    expect(prefixes).toEqual(
      [13, 14, 15, 16, 17, 18, 19, 20, 21].map(
        (d) => `net/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/2026/11/${d}/`,
      ),
    );
    // Only the flow log's own object was read.
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(1);
    expect(report.flowSources.map((s) => [s.engine, s.enisWithRecords])).toEqual([
      ['logs-insights', ['eni-0a']],
      ['duckdb-local', ['eni-0b']],
    ]);
    expect(report.flowSources[0]?.bytesScanned).toBe(4096);
    const ssh = report.securityGroups[0]?.rules.find((r) => r.fromPort === 22);
    expect(ssh?.usage.status).toBe('used');
    expect(report.findings.some((f) => f.check === 'sensitive-port-world' && f.fromPort === 22)).toBe(true);
    expect(report.warnings.map((w) => w.message)).toContainEqual(
      expect.stringMatching(/fl-0fh delivers to kinesis-data-firehose/),
    );
    expect(result.stderr).toMatch(/warning: flow log fl-0fh delivers to kinesis-data-firehose/);
  });

  it('queries S3 flow logs in Athena when --athena-database is given, and downloads nothing', async () => {
    // Prepare
    mockAccount();
    mockInsights();
    athena.on(StartQueryExecutionCommand).rejects(new Error('AccessDeniedException: not allowed'));

    // Act
    const result = await run([
      'audit',
      '--out',
      path.join(work, 'report'),
      '--athena-database',
      'flows',
      '--athena-workgroup',
      'audit',
      '--athena-output',
      's3://athena-results/sg-audit/',
    ]);

    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/not allowed/);
    const first = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(first).toMatchObject({
      WorkGroup: 'audit',
      ResultConfiguration: { OutputLocation: 's3://athena-results/sg-audit/' },
    });
    expect(first?.QueryString).toMatch(/flows/);
    expect(s3.commandCalls(ListObjectsV2Command)).toHaveLength(0);
  });

  it('explains a missing region instead of calling AWS', async () => {
    // Prepare
    const noRegion = (): AwsClients => {
      const clients = testClients();
      const ec2Client = new EC2Client({
        region: (): Promise<string> => Promise.reject(new Error('Region is missing')),
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      return { ...clients, ec2: ec2Client };
    };

    // Act
    const result = await run(['audit', '--out', path.join(work, 'report')], { awsClients: noRegion });

    // Assess
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/no AWS region: pass --region or set AWS_REGION .*--input DIR/);
    expect(ec2.calls()).toHaveLength(0);
  });
});

describe('sg-audit export', () => {
  it('writes the inventory documents, the window’s S3 objects and the CloudWatch events with a header', async () => {
    // Prepare
    mockAccount();
    const own = mockS3Objects();
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });
    logs.on(DescribeLogStreamsCommand).resolves({
      logStreams: [
        { logStreamName: 'eni-0a-all', lastIngestionTime: T * 1000 },
        { logStreamName: 'eni-0ffff-all', lastIngestionTime: T * 1000 },
        { logStreamName: 'eni-0b-all', lastIngestionTime: (START - 3 * 3600) * 1000 },
      ],
    });
    const event = (n: number) => ({
      logStreamName: 'eni-0a-all',
      timestamp: (T + n) * 1000,
      message: `2 ${ACCOUNT} eni-0a 203.0.113.9 10.0.1.10 5000${n} 22 6 10 840 ${T + n} ${T + n + 60} ACCEPT OK`,
    });
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [event(0), event(1)], nextToken: 'page-2' })
      .resolvesOnce({ events: [event(2)] });
    const out = path.join(work, 'export');

    // Act
    const result = await run(['export', '--out', out, '-q']);

    // Assess
    expect(result.stderr).toBe(
      'warning: flow log fl-0fh delivers to kinesis-data-firehose, which cannot be exported\n',
    );
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/1 S3 flow-log objects .* 3 CloudWatch Logs events in 1 files/);
    const documents = readdirSync(out).filter((f) => f.endsWith('.json'));
    expect(documents.sort()).toEqual([
      'cloudtrail-events.json',
      'flow-logs.json',
      'network-acls.json',
      'network-interfaces.json',
      'prefix-lists.json',
      'security-groups.json',
      'vpcs.json',
    ]);
    expect(JSON.parse(readFileSync(path.join(out, 'flow-logs.json'), 'utf8')).FlowLogs).toHaveLength(3);
    // The S3 object under its key's path, byte for byte.
    const copied = gunzipSync(readFileSync(path.join(out, 'flowlogs', ...own.split('/')))).toString('utf8');
    expect(copied.split('\n')[0]).toBe(DEFAULT_FIELDS.join(' '));
    // CloudWatch: only the in-scope ENI's stream with events near the window, the window in ms, every page.
    const filter = logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    expect(filter).toMatchObject({
      logGroupName: '/vpc/flow',
      logStreamNames: ['eni-0a-all'],
      startTime: START * 1000,
      endTime: END * 1000,
    });
    const folder = path.join(out, 'flowlogs', 'cloudwatch', logGroupFolder('/vpc/flow'));
    // Named with the group's one flow log for eni-0a, as S3 names its objects: the offline audit
    // then knows whose records they are.
    expect(readdirSync(folder)).toEqual(['eni-0a_fl-0cw_cloudwatch.log.gz']);
    const lines = gunzipSync(readFileSync(path.join(folder, 'eni-0a_fl-0cw_cloudwatch.log.gz')))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    expect(lines).toEqual([DEFAULT_FIELDS.join(' '), event(0).message, event(1).message, event(2).message]);
  });
});

describe('who opened a rule (CloudTrail)', () => {
  const ALICE = 'arn:aws:sts::111122223333:assumed-role/Admin/alice';

  /** The account's one change: alice opened SSH to the world from the console. */
  function mockTrail(): void {
    const opened = authorizeEvent(
      {
        id: 'ev-1',
        time: '2026-10-30T08:15:00Z',
        caller: CALLERS.console(ALICE, '203.0.113.77'),
        accountId: ACCOUNT,
      },
      'ingress',
      'sg-0a',
      [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
    );
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });
    cloudtrail
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'AuthorizeSecurityGroupIngress' }],
      })
      .resolves({ Events: [{ ...opened, EventTime: new Date(String(opened.EventTime)) }] });
  }

  function clientsWithTrail(): AwsClients {
    const clients = testClients();
    const trail = new CloudTrailClient({
      region: REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    return {
      ...clients,
      cloudtrail: trail,
      destroy: () => {
        clients.destroy();
        trail.destroy();
      },
    };
  }

  it('exports cloudtrail-events.json with its period, and the offline audit of the export names who opened SSH', async () => {
    // Prepare
    mockAccount();
    mockS3Objects();
    logs.on(DescribeLogStreamsCommand).resolves({ logStreams: [] });
    mockTrail();
    const out = path.join(work, 'export');
    const reports = path.join(work, 'reports');

    // Act
    const exported = await run(['export', '--out', out, '-q'], { awsClients: clientsWithTrail });
    const audited = await run(
      ['audit', '--input', out, '--out', reports, '--end', new Date(END * 1000).toISOString(), '-q'],
      { awsClients: clientsWithTrail },
    );

    // Assess
    expect(exported.code).toBe(EXIT_OK);
    expect(exported.stdout).toMatch(/, 1 CloudTrail events;/);
    const document = JSON.parse(readFileSync(path.join(out, 'cloudtrail-events.json'), 'utf8'));
    expect(document).toMatchObject({
      StartTime: '2026-08-23T00:00:00.000Z',
      EndTime: '2026-11-21T00:00:00.000Z',
      Complete: true,
    });
    expect(document.Events).toHaveLength(1);
    expect(cloudtrail.commandCalls(LookupEventsCommand)).toHaveLength(6);
    expect(audited.code).toBe(EXIT_OK);
    const report = JSON.parse(readFileSync(path.join(reports, 'report.json'), 'utf8')) as AuditReport;
    const ssh = report.findings.find((f) => f.check === 'sensitive-port-world');
    expect(ssh?.change?.text).toBe(
      'opened by assumed-role/Admin/alice via console on 2026-10-30 08:15 UTC from 203.0.113.77',
    );
    expect(report.changeHistory).toMatchObject({
      source: 'cloudtrail-export',
      events: 1,
      attributedRules: 1,
    });
    const csv = readFileSync(path.join(reports, 'findings.csv'), 'utf8');
    expect(csv).toContain(`${ALICE},2026-10-30T08:15:00Z,console`);
  });

  it('reads LookupEvents in a live audit, and says so when CloudTrail is denied', async () => {
    // Prepare
    mockAccount();
    mockS3Objects();
    mockInsights();
    cloudtrail
      .on(LookupEventsCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));

    // Act
    const result = await run(['audit', '--out', work, '-q'], { awsClients: clientsWithTrail });

    // Assess
    expect(result.code).toBe(EXIT_OK);
    const report = JSON.parse(readFileSync(path.join(work, 'report.json'), 'utf8')) as AuditReport;
    expect(cloudtrail.commandCalls(LookupEventsCommand)).toHaveLength(1);
    expect(report.warnings.filter((w) => w.code === 'cloudtrail-history').map((w) => w.message)).toEqual([
      'LookupEvents for AuthorizeSecurityGroupIngress failed (AccessDeniedException: User is not authorized): rules it may have changed are not attributed',
      expect.stringMatching(/^LookupEvents was not tried for AuthorizeSecurityGroupEgress, /),
    ]);
    const ssh = report.securityGroups[0]?.rules[0];
    expect(ssh?.change).toMatchObject({
      kind: 'unknown',
      reason: 'the cloudtrail-lookup history was not read whole',
    });
  });
});

describe('logGroupFolder', () => {
  it('turns a log group name into one safe folder name', () => {
    // Act, Assess
    expect(logGroupFolder('/vpc/flow-a')).toBe('vpc_flow-a');
    expect(logGroupFolder('../../etc')).toBe('___.._etc');
  });
});
