import { gunzipSync } from 'node:zlib';
import type { DiscoverResult } from '../../../lambdas/discover/contract';
import { handlerColdStart } from '../../support/handler-cold-start';

const ACCOUNT = '111122223333';
const FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

const coldStart = handlerColdStart({ WORK_BUCKET: 'sg-audit-work' });

/**
 * Imports the handler afresh with `env` set first (its config and clients are module-scope) and
 * mocks the SDK clients of that same module registry. CloudTrail is not read unless `env` says so
 * (CHANGE_HISTORY: its scans are spaced 500 ms apart); its client is mocked either way.
 */
async function loadDiscover(env: Record<string, string> = {}, vpcOwner = ACCOUNT) {
  coldStart({ CHANGE_HISTORY: 'false', ...env });
  const { mockClient } = await import('aws-sdk-client-mock');
  const trailSdk = await import('@aws-sdk/client-cloudtrail');
  const trail = mockClient(trailSdk.CloudTrailClient);
  trail.on(trailSdk.LookupEventsCommand).resolves({ Events: [] });
  const stsSdk = await import('@aws-sdk/client-sts');
  mockClient(stsSdk.STSClient).on(stsSdk.GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
  const ec2Sdk = await import('@aws-sdk/client-ec2');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const rdsSdk = await import('@aws-sdk/client-rds');
  const ec2 = mockClient(ec2Sdk.EC2Client);
  const s3 = mockClient(s3Sdk.S3Client);
  mockClient(rdsSdk.RDSClient).onAnyCommand().resolves({ DBInstances: [] });
  ec2.onAnyCommand().resolves({});
  ec2.on(ec2Sdk.DescribeVpcsCommand).resolves({
    Vpcs: [{ VpcId: 'vpc-0a1b2c3d', CidrBlock: '10.0.0.0/16', OwnerId: vpcOwner, IsDefault: false }],
  });
  ec2.on(ec2Sdk.DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      {
        GroupId: 'sg-web',
        GroupName: 'web',
        Description: 'web',
        VpcId: 'vpc-0a1b2c3d',
        OwnerId: ACCOUNT,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        IpPermissionsEgress: [],
      },
    ],
  });
  ec2.on(ec2Sdk.DescribeNetworkInterfacesCommand).resolves({
    NetworkInterfaces: [
      {
        NetworkInterfaceId: 'eni-1',
        InterfaceType: 'interface',
        Description: '',
        VpcId: 'vpc-0a1b2c3d',
        SubnetId: 'subnet-a',
        AvailabilityZone: 'ap-northeast-2a',
        PrivateIpAddress: '10.0.1.10',
        PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.10', Primary: true }],
        Groups: [{ GroupId: 'sg-web', GroupName: 'web' }],
        TagSet: [],
      },
    ],
  });
  const flowLog = {
    ResourceId: 'vpc-0a1b2c3d',
    TrafficType: 'ALL' as const,
    LogFormat: FORMAT,
    FlowLogStatus: 'ACTIVE',
  };
  ec2.on(ec2Sdk.DescribeFlowLogsCommand).resolves({
    FlowLogs: [
      { ...flowLog, FlowLogId: 'fl-cw2', LogDestinationType: 'cloud-watch-logs', LogGroupName: '/vpc/b' },
      { ...flowLog, FlowLogId: 'fl-cw1', LogDestinationType: 'cloud-watch-logs', LogGroupName: '/vpc/a' },
      { ...flowLog, FlowLogId: 'fl-s3', LogDestinationType: 's3', LogDestination: 'arn:aws:s3:::flow-logs' },
    ],
  });
  s3.on(s3Sdk.PutObjectCommand).resolves({});
  const { handler } = await import('../../../lambdas/discover/handler');
  /** The objects written, parsed, by key. */
  const written = (): Map<string, unknown> =>
    new Map(
      s3.commandCalls(s3Sdk.PutObjectCommand).map((call) => {
        const { Key, Body } = call.args[0].input;
        const bytes = Buffer.from(Body as Uint8Array | string);
        const text = Key?.endsWith('.gz') ? gunzipSync(bytes).toString() : bytes.toString();
        return [Key ?? '', JSON.parse(text) as unknown];
      }),
    );
  return { handler, ec2, ec2Sdk, trail, trailSdk, written };
}

describe('discover handler', () => {
  it('stores the inventory and returns the run keys, window and query list', async () => {
    // Prepare
    const { handler, written } = await loadDiscover({ LOOKBACK_DAYS: '7' });

    // Act
    const result: DiscoverResult = await handler({ runId: 'run-1', end: '2026-11-17T00:00:00Z' });

    // Assess
    const end = Date.parse('2026-11-17T00:00:00Z') / 1000;
    expect(result).toEqual({
      runId: 'run-1',
      inventoryKey: 'runs/run-1/inventory.json.gz',
      queriesKey: 'runs/run-1/queries.json',
      window: { start: end - 7 * 86_400, end },
      queries: [
        {
          sourceId: 'insights-1',
          kind: 'insights',
          fields: expect.arrayContaining(['interface-id']),
          logGroups: ['/vpc/a', '/vpc/b'],
        },
      ],
      queriesInline: true,
      queryCount: 1,
      eniCount: 1,
      securityGroupCount: 1,
      unqueriedFlowLogs: 1,
      warningCount: expect.any(Number),
    });
    const objects = written();
    expect(objects.get('runs/run-1/queries.json')).toEqual(result.queries);
    expect(objects.get('runs/run-1/inventory.json.gz')).toMatchObject({
      schemaVersion: 1,
      runId: 'run-1',
      window: result.window,
      scope: { vpcIds: [] },
      inventory: { accountId: ACCOUNT, networkInterfaces: [expect.objectContaining({ id: 'eni-1' })] },
      plan: {
        sources: [{ sourceId: 'insights-1', kind: 'insights', flowLogIds: ['fl-cw1', 'fl-cw2'] }],
        unqueried: [{ flowLogId: 'fl-s3', reason: expect.stringContaining('ATHENA_DATABASE') }],
      },
    });
  });

  it('plans an Athena item per S3 flow log when Athena is configured, and filters by the event VPCs', async () => {
    // Prepare
    const { handler, ec2, ec2Sdk } = await loadDiscover({
      ATHENA_DATABASE: 'sg_audit',
      VPC_IDS: 'vpc-0000aaaa',
    });

    // Act
    const result = await handler({ runId: 'run-2', vpcIds: ['vpc-0a1b2c3d'], end: 1_800_000_000 });

    // Assess
    expect(result.queries.map((q) => q.sourceId)).toEqual(['insights-1', 'athena-fl-s3']);
    expect(result.queries[1]).toEqual({
      sourceId: 'athena-fl-s3',
      kind: 'athena',
      flowLogId: 'fl-s3',
      table: 'vpc_flow_logs_fl_s3',
    });
    expect(result.window.end).toBe(1_800_000_000);
    const filters = ec2.commandCalls(ec2Sdk.DescribeSecurityGroupsCommand)[0]?.args[0].input.Filters;
    expect(filters).toEqual([{ Name: 'vpc-id', Values: ['vpc-0a1b2c3d'] }]);
  });

  it("stores the role's account (STS), not a shared VPC's owner, as the audited account", async () => {
    // Prepare: the VPC is shared with the audited account by the account that owns it.
    const { handler, written } = await loadDiscover({}, '999988887777');

    // Act
    await handler({ runId: 'run-shared', end: 1_800_000_000 });

    // Assess
    expect(written().get('runs/run-shared/inventory.json.gz')).toMatchObject({
      inventory: { accountId: ACCOUNT },
    });
  });

  it("leaves the flow logs outside the query role's scope unread, with the reason, and queries the rest", async () => {
    // Prepare: the role may query /vpc/a only, and read no folder of the flow-logs bucket.
    const { handler, written } = await loadDiscover({
      ATHENA_DATABASE: 'sg_audit',
      FLOW_LOG_GROUP_PREFIX: '/vpc/a',
      FLOW_LOG_LOCATIONS: 's3://org-flow-logs/',
    });

    // Act
    const result = await handler({ runId: 'run-scoped', end: 1_800_000_000 });

    // Assess
    expect(result.queries).toEqual([
      { sourceId: 'insights-1', kind: 'insights', fields: expect.any(Array), logGroups: ['/vpc/a'] },
    ]);
    expect(result.unqueriedFlowLogs).toBe(2);
    expect(written().get('runs/run-scoped/inventory.json.gz')).toMatchObject({
      plan: {
        unqueried: [
          {
            flowLogId: 'fl-cw2',
            reason: expect.stringContaining("log group /vpc/b, outside the log-group prefix '/vpc/a'"),
          },
          {
            flowLogId: 'fl-s3',
            reason: expect.stringContaining(`s3://flow-logs/AWSLogs/${ACCOUNT}/vpcflowlogs/`),
          },
        ],
      },
    });
  });

  it('rejects an invalid event before any AWS call', async () => {
    // Prepare
    const { handler, ec2 } = await loadDiscover();

    // Act
    const run = handler({ runId: 'a/b', end: 'yesterday' });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'InvalidEventError', fields: ['runId', 'end'] });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('fails with the discovery error when EC2 keeps refusing', async () => {
    // Prepare
    const { handler, ec2, ec2Sdk } = await loadDiscover();
    ec2
      .on(ec2Sdk.DescribeVpcsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation', $metadata: {} }));

    // Act
    const run = handler({ runId: 'run-3' });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'InventoryDiscoveryError' });
  });

  it('fails at cold start when the work bucket is not configured', async () => {
    // Prepare / Act
    const load = loadDiscover({ WORK_BUCKET: '' });

    // Assess
    await expect(load).rejects.toMatchObject({ name: 'ConfigError', variables: ['WORK_BUCKET'] });
  });
});

describe('discover handler, the change history (CloudTrail)', () => {
  const ALICE = 'arn:aws:sts::111122223333:assumed-role/Admin/alice';

  it('reads the SG changes of the 90 days before now and stores them under the run, the key in the inventory', async () => {
    // Prepare
    const { handler, trail, trailSdk, written } = await loadDiscover({ CHANGE_HISTORY: 'true' });
    const { authorizeEvent, CALLERS } = await import('../../../testkit/cloudtrail-events');
    const opened = authorizeEvent(
      { id: 'ev-ssh', time: '2026-11-03T09:12:44Z', caller: CALLERS.console(ALICE, '203.0.113.10') },
      'ingress',
      'sg-web',
      [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
    );
    trail
      .on(trailSdk.LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'AuthorizeSecurityGroupIngress' }],
      })
      .resolves({ Events: [{ ...opened, EventTime: new Date(String(opened.EventTime)) }] });
    const before = Math.floor(Date.now() / 1000);

    // Act
    await handler(
      { runId: 'run-ct', end: '2026-11-17T00:00:00Z' },
      { getRemainingTimeInMillis: () => 300_000 },
    );

    // Assess: the history ends now (the rules are today's), not at the window's end.
    const calls = trail.commandCalls(trailSdk.LookupEventsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(6);
    const objects = written();
    expect(objects.get('runs/run-ct/inventory.json.gz')).toMatchObject({
      changeHistoryKey: 'runs/run-ct/change-history.json.gz',
    });
    const stored = objects.get('runs/run-ct/change-history.json.gz') as { history: Record<string, unknown> };
    expect(stored).toMatchObject({
      schemaVersion: 1,
      runId: 'run-ct',
      history: {
        source: 'cloudtrail-lookup',
        complete: true,
        warnings: [],
        events: [expect.objectContaining({ EventId: 'ev-ssh', EventTime: '2026-11-03T09:12:44.000Z' })],
      },
    });
    const end = stored.history.end as number;
    expect(end).toBeGreaterThanOrEqual(before);
    expect(stored.history.start).toBe(end - 90 * 86_400);
  });

  it('discovers on when LookupEvents is denied, storing an incomplete history that says why', async () => {
    // Prepare
    const { handler, trail, trailSdk, written } = await loadDiscover({ CHANGE_HISTORY: 'true' });
    trail.on(trailSdk.LookupEventsCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: cloudtrail:LookupEvents'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const result = await handler({ runId: 'run-denied', end: 1_800_000_000 });

    // Assess
    expect(result).toMatchObject({ runId: 'run-denied', securityGroupCount: 1, queryCount: 1 });
    expect(trail.commandCalls(trailSdk.LookupEventsCommand)).toHaveLength(1);
    expect(written().get('runs/run-denied/change-history.json.gz')).toMatchObject({
      history: {
        events: [],
        complete: false,
        warnings: [
          'LookupEvents for AuthorizeSecurityGroupIngress failed (AccessDeniedException: User is not authorized to perform: cloudtrail:LookupEvents): rules it may have changed are not attributed',
          expect.stringMatching(/^LookupEvents was not tried for AuthorizeSecurityGroupEgress, /),
        ],
      },
    });
  });

  it("asks nothing past the function's remaining time less the storing reserve", async () => {
    // Prepare: a minute left, all of it kept for storing.
    const { handler, trail, trailSdk, written } = await loadDiscover({ CHANGE_HISTORY: 'true' });

    // Act
    await handler({ runId: 'run-late', end: 1_800_000_000 }, { getRemainingTimeInMillis: () => 60_000 });

    // Assess
    expect(trail.commandCalls(trailSdk.LookupEventsCommand)).toHaveLength(0);
    expect(written().get('runs/run-late/change-history.json.gz')).toMatchObject({
      history: {
        complete: false,
        warnings: [expect.stringMatching(/the time allowed for reading the history ran out$/)],
      },
    });
  });

  it('reads and stores no history with CHANGE_HISTORY false', async () => {
    // Prepare
    const { handler, trail, trailSdk, written } = await loadDiscover({ CHANGE_HISTORY: 'false' });

    // Act
    await handler({ runId: 'run-off', end: 1_800_000_000 });

    // Assess
    expect(trail.commandCalls(trailSdk.LookupEventsCommand)).toHaveLength(0);
    expect([...written().keys()]).not.toContain('runs/run-off/change-history.json.gz');
    expect(written().get('runs/run-off/inventory.json.gz')).not.toHaveProperty('changeHistoryKey');
  });
});
