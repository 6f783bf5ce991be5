import { StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { type CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { GetQueryResultsCommand, StartQueryCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeFlowLogsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  type FlowLog,
} from '@aws-sdk/client-ec2';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClientsFrom } from '../../adapters/aws/clients';
import type { WantedPermission } from '../../adapters/aws/role-simulation';
import { type DoctorOptions, type LogGroupIncomingEvents, runDoctor } from '../../cli/doctor';
import { renderDoctor } from '../../cli/doctor-table';
import { DEFAULT_LOG_FORMAT } from '../../shared/flow/format';

const ACCOUNT = '111122223333';
const REGION = 'ap-northeast-2';
const NOW = new Date('2026-11-21T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;

const config = { region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const clients = awsClientsFrom(config);
const ec2 = mockClient(clients.ec2);
const logs = mockClient(clients.logs);
const athena = mockClient(clients.athena);
const s3 = mockClient(clients.s3);
const sts = mockClient(clients.sts);
mockClient(clients.rds).onAnyCommand().resolves({});
const cloudtrail = mockClient(clients.cloudtrail as CloudTrailClient);

const OPTIONS: DoctorOptions = {
  vpcIds: [],
  now: NOW,
  incompleteTailSeconds: 900,
  progress: () => {},
  pollIntervalMs: 1,
};

/** A flow log as DescribeFlowLogs returns it, created a week before NOW. */
function flowLog(id: string, resourceId: string, extra: Partial<FlowLog>): FlowLog {
  return {
    FlowLogId: id,
    ResourceId: resourceId,
    TrafficType: 'ALL',
    LogFormat: DEFAULT_LOG_FORMAT,
    FlowLogStatus: 'ACTIVE',
    DeliverLogsStatus: 'SUCCESS',
    CreationTime: new Date(NOW.getTime() - 7 * 86_400_000),
    ...extra,
  };
}

const cloudWatch = (group: string): Partial<FlowLog> => ({
  LogDestinationType: 'cloud-watch-logs',
  LogGroupName: group,
});
const toS3 = (bucket: string): Partial<FlowLog> => ({
  LogDestinationType: 's3',
  LogDestination: `arn:aws:s3:::${bucket}`,
});

/** Two VPCs with one ENI each, and these flow logs (the region's listing, TGW ones included). */
function mockAccount(flowLogs: FlowLog[]): void {
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
  ec2.onAnyCommand().resolves({});
  ec2.on(DescribeVpcsCommand).resolves({
    Vpcs: [
      { VpcId: 'vpc-0a', OwnerId: ACCOUNT, CidrBlock: '10.0.0.0/16', IsDefault: false },
      { VpcId: 'vpc-0b', OwnerId: ACCOUNT, CidrBlock: '10.1.0.0/16', IsDefault: false },
    ],
  });
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      {
        GroupId: 'sg-0a',
        GroupName: 'a',
        Description: 'a',
        VpcId: 'vpc-0a',
        OwnerId: ACCOUNT,
        IpPermissions: [],
        IpPermissionsEgress: [],
      },
    ],
  });
  const eni = (id: string, vpc: string, subnet: string, ip: string) => ({
    NetworkInterfaceId: id,
    VpcId: vpc,
    SubnetId: subnet,
    AvailabilityZone: `${REGION}a`,
    InterfaceType: 'interface' as const,
    Description: '',
    Groups: [{ GroupId: 'sg-0a', GroupName: 'a' }],
    PrivateIpAddress: ip,
    PrivateIpAddresses: [{ PrivateIpAddress: ip, Primary: true }],
  });
  ec2.on(DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: [
      eni('eni-0a', 'vpc-0a', 'subnet-0a', '10.0.1.10'),
      eni('eni-0b', 'vpc-0b', 'subnet-0b', '10.1.1.10'),
    ],
  });
  ec2.on(DescribeFlowLogsCommand).resolves({ FlowLogs: flowLogs });
  cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });
  // Logs Insights answers every trial with no rows.
  logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
  logs.on(GetQueryResultsCommand).resolves({
    status: 'Complete',
    results: [],
    statistics: { bytesScanned: 2048, recordsMatched: 0, recordsScanned: 0 },
  });
  // S3 flow logs delivered an hour ago, whatever the folder.
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
    Contents: input.Prefix?.endsWith('/2026/11/21/')
      ? ['fl-s3', 'fl-young'].map((id) => ({
          Key: `${input.Prefix}${ACCOUNT}_vpcflowlogs_${REGION}_${id}_20261121T1100Z_0a1b.log.gz`,
          Size: 10,
        }))
      : [],
  }));
}

beforeEach(() => {
  for (const mock of [ec2, logs, athena, s3, sts, cloudtrail]) mock.reset();
});

describe('runDoctor', () => {
  it('judges log groups by their IncomingLogEvents of the last 24 h, when a reader is given', async () => {
    // Prepare
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a')),
      flowLog('fl-cw-b', 'vpc-0b', cloudWatch('/vpc/b')),
    ]);
    const reader = jest.fn<ReturnType<LogGroupIncomingEvents>, Parameters<LogGroupIncomingEvents>>(
      async () => new Map([['/vpc/a', 1200]]),
    );

    // Act
    const result = await runDoctor({ clients, logGroupIncomingEvents: reader }, OPTIONS);

    // Assess
    expect(reader).toHaveBeenCalledWith(['/vpc/a', '/vpc/b'], { start: NOW_S - 86_400, end: NOW_S });
    expect(result.flowLogs.map((f) => [f.flowLogId, f.delivery])).toEqual([
      ['fl-cw-a', { status: 'delivered', incomingLogEvents: 1200 }],
      ['fl-cw-b', { status: 'silent', incomingLogEvents: 0 }],
    ]);
    expect(result.ready).toBe(false);
    expect(result.problems).toEqual([
      'flow log fl-cw-b (vpc-0b) delivered nothing in the last 24 h (/vpc/b): its ENIs would have no evidence',
    ]);
    expect(result.trials).toEqual([
      {
        sourceId: 'insights-1',
        engine: 'insights',
        flowLogIds: ['fl-cw-a', 'fl-cw-b'],
        reads: ['/vpc/a', '/vpc/b'],
        status: 'ok',
        rows: 0,
        records: 0,
        bytesScanned: 2048,
      },
    ]);
    const started = logs.commandCalls(StartQueryCommand)[0]?.args[0].input;
    expect([started?.startTime, started?.endTime]).toEqual([NOW_S - 900 - 3600, NOW_S - 900]);
  });

  it('states log-group delivery as not checked without a reader, and is ready when the rest is', async () => {
    // Prepare
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a')),
      flowLog('fl-s3', 'vpc-0b', toS3('flow-logs')),
    ]);

    // Act
    const result = await runDoctor({ clients }, OPTIONS);

    // Assess
    expect(result).toMatchObject({
      accountId: ACCOUNT,
      region: REGION,
      ready: true,
      problems: [],
      warnings: [],
    });
    expect(result.flowLogs.map((f) => [f.flowLogId, f.readBy, f.delivery.status])).toEqual([
      ['fl-cw-a', 'insights', 'not-checked'],
      ['fl-s3', 'download', 'delivered'],
    ]);
    expect(result.flowLogs[1]?.delivery).toEqual({
      status: 'delivered',
      objects: 1,
      bytes: 10,
      newestDelivery: '2026-11-21T11:00:00Z',
    });
  });

  it('flags REJECT-only, Firehose and Transit Gateway flow logs, and a VPC none of whose logs can be read', async () => {
    // Prepare
    mockAccount([
      flowLog('fl-reject', 'vpc-0a', { ...cloudWatch('/vpc/rejects'), TrafficType: 'REJECT' }),
      flowLog('fl-fh', 'subnet-0a', {
        LogDestinationType: 'kinesis-data-firehose',
        LogDestination: `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/flows`,
      }),
      flowLog('fl-s3', 'vpc-0b', toS3('flow-logs')),
      flowLog('fl-tgw', 'tgw-0a', toS3('flow-logs')),
    ]);

    // Act
    const result = await runDoctor({ clients }, OPTIONS);

    // Assess
    expect(result.flowLogs.map((f) => [f.flowLogId, f.vpcId, f.flags, f.readBy])).toEqual([
      ['fl-reject', 'vpc-0a', ['reject-only'], 'insights'],
      ['fl-fh', 'vpc-0a', ['firehose'], 'none'],
      ['fl-s3', 'vpc-0b', [], 'download'],
    ]);
    expect(result.transitGatewayFlowLogs).toEqual([
      { id: 'fl-tgw', resourceId: 'tgw-0a', destinationType: 's3' },
    ]);
    expect(result.problems).toEqual([
      "VPC vpc-0a has no flow log the audit can read (ACCEPT or ALL, to CloudWatch Logs or S3): every rule of its security groups would be 'unknown'",
    ]);
    expect(result.warnings).toEqual([
      "flow log fl-reject (vpc-0a) records REJECT traffic only: it proves no rule is used, its ENIs' rules stay 'unknown'",
      'flow log fl-fh (subnet-0a) delivers to Kinesis Data Firehose, which the audit cannot read back',
      'flow log fl-tgw records Transit Gateway tgw-0a: no ENI evidence, the audit skips it',
    ]);
  });

  it('counts a format without the fields the audit folds on as blindness', async () => {
    // Prepare: no interface-id, no ports.
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', {
        ...cloudWatch('/vpc/a'),
        LogFormat: '${version} ${srcaddr} ${dstaddr} ${action}',
      }),
      flowLog('fl-s3', 'vpc-0b', toS3('flow-logs')),
    ]);

    // Act
    const result = await runDoctor({ clients }, OPTIONS);

    // Assess
    expect(result.flowLogs[0]?.flags).toEqual(['missing-fields']);
    expect(result.problems).toEqual([
      'flow log fl-cw-a (vpc-0a): its format lacks fields the audit needs, so its records cannot be folded',
    ]);
  });

  it('gives a flow log created minutes ago time to deliver (a warning, not blindness)', async () => {
    // Prepare
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a')),
      flowLog('fl-new', 'vpc-0b', {
        ...toS3('new-logs'),
        CreationTime: new Date(NOW.getTime() - 10 * 60_000),
      }),
    ]);
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });

    // Act
    const result = await runDoctor({ clients }, OPTIONS);

    // Assess
    expect(result.flowLogs[1]?.delivery.status).toBe('too-new');
    expect(result.ready).toBe(true);
    expect(result.warnings).toEqual([
      'flow log fl-new (vpc-0b) was created less than 30 minutes ago and has not delivered yet',
    ]);
  });

  it('trials S3 flow logs in Athena when a database is given, and a failing trial is blindness', async () => {
    // Prepare
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a')),
      flowLog('fl-s3', 'vpc-0b', toS3('flow-logs')),
    ]);
    athena.on(StartQueryExecutionCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: athena:StartQueryExecution'), {
        name: 'AccessDeniedException',
        $metadata: {},
      }),
    );

    // Act
    const result = await runDoctor(
      { clients },
      { ...OPTIONS, athena: { database: 'sg_audit', workGroup: 'sg-audit' } },
    );

    // Assess
    expect(result.flowLogs[1]?.readBy).toBe('athena');
    expect(result.trials.map((t) => [t.sourceId, t.engine, t.reads, t.status])).toEqual([
      ['insights-1', 'insights', ['/vpc/a'], 'ok'],
      ['athena-fl-s3', 'athena', ['vpc_flow_logs_fl_s3'], 'failed'],
    ]);
    expect(result.ready).toBe(false);
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^trial query athena-fl-s3 \(athena: vpc_flow_logs_fl_s3\) failed: .*not authorized/,
      ),
    ]);
  });

  it('keeps a delivery it could not check as a warning, not blindness', async () => {
    // Prepare
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a')),
      flowLog('fl-s3', 'vpc-0b', toS3('flow-logs')),
    ]);
    s3.on(ListObjectsV2Command).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: {} }),
    );
    const reader: LogGroupIncomingEvents = async () => {
      throw Object.assign(new Error('not authorized: cloudwatch:GetMetricData'), { name: 'AccessDenied' });
    };

    // Act
    const result = await runDoctor({ clients, logGroupIncomingEvents: reader }, OPTIONS);

    // Assess
    expect(result.flowLogs.map((f) => f.delivery.status)).toEqual(['failed', 'failed']);
    expect(result.ready).toBe(true);
    expect(result.warnings).toEqual([
      'flow log fl-cw-a (vpc-0a): delivery not checked: IncomingLogEvents not read: AccessDenied: not authorized: cloudwatch:GetMetricData',
      'flow log fl-s3 (vpc-0b): delivery not checked: S3 listing failed: AccessDenied: Access Denied',
    ]);
  });

  it('states the quotas as documented defaults, not read from Service Quotas', async () => {
    // Prepare
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a')),
      flowLog('fl-s3', 'vpc-0b', toS3('flow-logs')),
    ]);

    // Act
    const result = await runDoctor({ clients }, OPTIONS);

    // Assess
    expect(result.quotas.map((q) => [q.name, q.value, q.source])).toEqual([
      ['Logs Insights concurrent queries', 100, 'documented default (not read from Service Quotas)'],
      ['Athena active DML queries', 100, 'documented default (not read from Service Quotas)'],
    ]);
  });
});

describe('runDoctor quotas from Service Quotas', () => {
  it('reads each quota, keeping the documented default where the read is denied or finds none', async () => {
    // Prepare
    mockAccount([flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a'))]);
    const asked: string[] = [];
    const serviceQuota = async (wanted: { serviceCode: string; name: RegExp }) => {
      asked.push(wanted.serviceCode);
      if (wanted.serviceCode === 'logs') return { value: 150, applied: true };
      throw Object.assign(new Error('not authorized: servicequotas:ListServiceQuotas'), {
        name: 'AccessDeniedException',
      });
    };

    // Act
    const result = await runDoctor({ clients, serviceQuota }, OPTIONS);

    // Assess
    expect(asked.sort()).toEqual(['athena', 'logs']);
    expect(result.quotas.map((q) => [q.name, q.value, q.source])).toEqual([
      ['Logs Insights concurrent queries', 150, 'Service Quotas (applied to this account)'],
      [
        'Athena active DML queries',
        100,
        'documented default (not read from Service Quotas); Service Quotas not read: AccessDeniedException: not authorized: servicequotas:ListServiceQuotas',
      ],
    ]);
  });
});

describe('runDoctor CloudTrail event history', () => {
  const ready = () =>
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a')),
      flowLog('fl-s3', 'vpc-0b', toS3('flow-logs')),
    ]);

  it('proves LookupEvents with one call of at most one SG event', async () => {
    // Prepare
    ready();

    // Act
    const result = await runDoctor({ clients }, OPTIONS);

    // Assess
    expect(cloudtrail.commandCalls(LookupEventsCommand).map((c) => c.args[0].input)).toEqual([
      {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'AuthorizeSecurityGroupIngress' }],
        MaxResults: 1,
      },
    ]);
    expect(result.changeHistory).toEqual({
      status: 'readable',
      detail: 'LookupEvents answered: the audit can say who opened each rule',
    });
    expect(result.warnings).toEqual([]);
  });

  it('fails the check when denied, naming the permission and what is lost, without calling the audit blind', async () => {
    // Prepare
    ready();
    cloudtrail.on(LookupEventsCommand).rejects(
      Object.assign(
        new Error(
          'User: arn:aws:sts::111122223333:assumed-role/Audit/me is not authorized to perform: cloudtrail:LookupEvents',
        ),
        {
          name: 'AccessDeniedException',
        },
      ),
    );

    // Act
    const result = await runDoctor({ clients }, OPTIONS);
    const text = renderDoctor(result);

    // Assess
    const detail =
      "cloudtrail:LookupEvents is denied (AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/Audit/me is not authorized to perform: cloudtrail:LookupEvents): the audit would not say who opened each rule (every rule's change 'unknown'); grant cloudtrail:LookupEvents (read-only) to attribute them";
    expect(result.changeHistory).toEqual({ status: 'denied', detail });
    expect(result).toMatchObject({ ready: true, problems: [], warnings: [detail] });
    expect(text).toContain(`CloudTrail event history (who opened each rule)\n  FAILED: ${detail}`);
  });

  it('says it could not verify on any other error, naming it (an emulator without LookupEvents)', async () => {
    // Prepare: what the SDK throws for a 500 with an HTML body.
    ready();
    cloudtrail.on(LookupEventsCommand).rejects(
      Object.assign(new SyntaxError('Unexpected token \'<\', "<!doctype "... is not valid JSON'), {
        $metadata: { httpStatusCode: 500 },
      }),
    );

    // Act
    const result = await runDoctor({ clients }, OPTIONS);

    // Assess
    expect(result.ready).toBe(true);
    expect(result.changeHistory.status).toBe('not-verified');
    expect(result.changeHistory.detail).toMatch(
      /^could not verify that CloudTrail's event history is readable \(LookupEvents: SyntaxError: Unexpected token .* \(HTTP 500\)\): who opened each rule may be unknown in the audit$/,
    );
    expect(renderDoctor(result)).toContain(
      "CloudTrail event history (who opened each rule)\n  could not verify that CloudTrail's event history is readable",
    );
  });
});

describe('renderDoctor', () => {
  it('prints a row per flow log under its VPC, a BLIND row for a VPC without one, and the verdict', async () => {
    // Prepare
    mockAccount([flowLog('fl-s3', 'vpc-0b', toS3('flow-logs'))]);
    const result = await runDoctor({ clients }, OPTIONS);

    // Act
    const text = renderDoctor(result);

    // Assess
    expect(text).toContain(`sg-audit doctor: account ${ACCOUNT}, region ${REGION}, 2026-11-21T12:00:00Z`);
    expect(text).toMatch(/vpc-0a\s+\(none\)\s+BLIND: no flow log/);
    expect(text).toMatch(
      /vpc-0b\s+fl-s3\s+vpc vpc-0b\s+ALL\s+s3: s3:\/\/flow-logs\s+default v2\s+download\s+ok: 1 objects, 10 B, newest 2026-11-21T11:00:00Z/,
    );
    expect(text).toContain('none planned (no flow log is read by Logs Insights or Athena)');
    expect(text).toContain('The audit would be blind:\n  - VPC vpc-0a has no flow log the audit can read');
    expect(text.trimEnd().split('\n').at(-1)).toBe('Not ready: 1 problem(s) above (exit 2).');
  });
});

describe('runDoctor permissions of given roles (--role-arn)', () => {
  const DISCOVER = `arn:aws:iam::${ACCOUNT}:role/SgAudit-DiscoverRole`;
  const QUERY = `arn:aws:iam::${ACCOUNT}:role/SgAudit-QueryRole`;
  const ready = () =>
    mockAccount([
      flowLog('fl-cw-a', 'vpc-0a', cloudWatch('/vpc/a')),
      flowLog('fl-s3', 'vpc-0b', { ...toS3('flow-logs'), LogDestination: 'arn:aws:s3:::flow-logs/vpc' }),
    ]);
  /** Allows what `allowed` names, to every role; records what was asked. */
  const simulator = (allowed: (action: string) => boolean) => {
    const asked: { roles: readonly string[]; wanted: readonly WantedPermission[] }[] = [];
    const rolePermissions = async (roles: readonly string[], wanted: readonly WantedPermission[]) => {
      asked.push({ roles, wanted });
      return wanted.map((w) =>
        allowed(w.action)
          ? { ...w, decision: 'allowed' as const, allowedBy: [...roles] }
          : { ...w, decision: 'implicitDeny' as const, allowedBy: [] },
      );
    };
    return { asked, rolePermissions };
  };

  it("asks for what the audit needs here: the inventory, Insights on the account's flow-log groups, the S3 flow logs' folder, CloudTrail", async () => {
    // Prepare
    ready();
    const { asked, rolePermissions } = simulator(() => true);

    // Act
    const result = await runDoctor({ clients, rolePermissions }, { ...OPTIONS, roleArns: [DISCOVER, QUERY] });

    // Assess
    expect(asked).toHaveLength(1);
    expect(asked[0]?.roles).toEqual([DISCOVER, QUERY]);
    const wanted = new Map(asked[0]?.wanted.map((w) => [w.action, w]));
    expect(wanted.get('ec2:DescribeSecurityGroups')?.blind).toBe(true);
    expect(wanted.get('logs:StartQuery')?.resources).toEqual([
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/vpc/a`,
    ]);
    expect(wanted.get('s3:GetObject')?.resources).toEqual([
      `arn:aws:s3:::flow-logs/vpc/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/*`,
    ]);
    expect(wanted.get('s3:ListBucket')?.resources).toEqual(['arn:aws:s3:::flow-logs']);
    expect(wanted.get('cloudtrail:LookupEvents')?.blind).toBe(false);
    expect(result.permissions?.status).toBe('checked');
    expect(result.ready).toBe(true);
    expect(renderDoctor(result)).toContain(`Permissions of ${DISCOVER}, ${QUERY} (IAM policy simulator)`);
  });

  it('is not ready when no role may query the flow logs; a missing CloudTrail read is only a warning', async () => {
    // Prepare
    ready();
    const { rolePermissions } = simulator(
      (action) => action !== 'logs:StartQuery' && action !== 'cloudtrail:LookupEvents',
    );

    // Act
    const result = await runDoctor({ clients, rolePermissions }, { ...OPTIONS, roleArns: [DISCOVER] });

    // Assess
    expect(result.ready).toBe(false);
    expect(result.problems).toContainEqual(
      expect.stringMatching(
        /^no given role may logs:StartQuery \(implicitDeny\): Logs Insights queries of the flow logs/,
      ),
    );
    expect(result.warnings).toContainEqual(
      expect.stringMatching(
        /^no given role may cloudtrail:LookupEvents \(implicitDeny\): who opened each rule/,
      ),
    );
    expect(renderDoctor(result)).toMatch(/logs:StartQuery\s+1 resource\(s\)\s+BLIND: implicitDeny/);
  });

  it('says the roles are not verified when the simulator cannot run, and stays ready on the rest', async () => {
    // Prepare
    ready();
    const rolePermissions = async (): Promise<never> => {
      throw Object.assign(
        new Error('User: x is not authorized to perform: iam:SimulatePrincipalPolicy\nmore'),
        {
          name: 'AccessDenied',
        },
      );
    };

    // Act
    const result = await runDoctor({ clients, rolePermissions }, { ...OPTIONS, roleArns: [QUERY] });

    // Assess
    expect(result.permissions).toMatchObject({ status: 'not-verified', checks: [] });
    expect(result.warnings).toContainEqual(
      "IAM's policy simulator could not run (AccessDenied: User: x is not authorized to perform: iam:SimulatePrincipalPolicy): the roles' permissions are not verified (the caller needs iam:SimulatePrincipalPolicy)",
    );
    expect(result.ready).toBe(true);
  });
});
