import { DEFAULT_FIELDS } from '../../../shared/flow/format';
import {
  logGroupOf,
  outOfScopeReason,
  planFlowSources,
  unreadWarning,
} from '../../../shared/flow/source-plan';
import { flowLog } from '../../../testkit/inventory-builder';

const CUSTOM = [...DEFAULT_FIELDS, 'tcp-flags'];

describe('planFlowSources', () => {
  it('puts at most 50 log groups of one format in an item', () => {
    // Prepare: 120 per-ENI flow logs, each to its own log group.
    const flowLogs = Array.from({ length: 120 }, (_, i) =>
      flowLog(`fl-${String(i).padStart(3, '0')}`, {
        resourceId: `eni-${i}`,
        destinationType: 'cloud-watch-logs',
        logGroupName: `/vpc/eni-${String(i).padStart(3, '0')}`,
      }),
    );

    // Act
    const plan = planFlowSources(flowLogs, { s3: 'none' });

    // Assess
    expect(plan.items.map((i) => (i.kind === 'insights' ? i.logGroups.length : 0))).toEqual([50, 50, 20]);
    expect(plan.sources.flatMap((s) => s.flowLogIds)).toHaveLength(120);
    expect(JSON.stringify(plan.items).length).toBeLessThan(16 * 1024);
  });

  it('keeps log groups of different formats in different items', () => {
    // Prepare
    const flowLogs = [
      flowLog('fl-1', { destinationType: 'cloud-watch-logs', logGroupName: '/vpc/default' }),
      flowLog('fl-2', { destinationType: 'cloud-watch-logs', logGroupName: '/vpc/custom', fields: CUSTOM }),
    ];

    // Act
    const plan = planFlowSources(flowLogs, { s3: 'none' });

    // Assess
    expect(plan.items).toEqual([
      { sourceId: 'insights-1', kind: 'insights', fields: CUSTOM, logGroups: ['/vpc/custom'] },
      { sourceId: 'insights-2', kind: 'insights', fields: [...DEFAULT_FIELDS], logGroups: ['/vpc/default'] },
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('reads a shared log group once and warns when its flow logs disagree on the format', () => {
    // Prepare
    const flowLogs = [
      flowLog('fl-1', { destinationType: 'cloud-watch-logs', logGroupName: '/vpc/shared' }),
      flowLog('fl-2', { destinationType: 'cloud-watch-logs', logGroupName: '/vpc/shared', fields: CUSTOM }),
    ];

    // Act
    const plan = planFlowSources(flowLogs, { s3: 'none' });

    // Assess
    expect(plan.items).toHaveLength(1);
    expect(plan.sources).toEqual([
      { sourceId: 'insights-1', kind: 'insights', flowLogIds: ['fl-1', 'fl-2'] },
    ]);
    expect(plan.warnings).toEqual([
      'flow log fl-2 writes another format to log group /vpc/shared; the group is read with the format of flow log fl-1',
    ]);
  });

  it('lists flow logs no source reads, with the reason', () => {
    // Prepare
    const flowLogs = [
      flowLog('fl-s3'),
      flowLog('fl-fh', { destinationType: 'kinesis-data-firehose', destination: 'arn:aws:firehose:x' }),
    ];

    // Act
    const withoutAthena = planFlowSources(flowLogs, { s3: 'none' });
    const withAthena = planFlowSources(flowLogs, { s3: 'athena' });

    // Assess
    expect(withoutAthena.items).toEqual([]);
    expect(withoutAthena.unqueried).toEqual([
      { flowLogId: 'fl-fh', reason: 'delivers to kinesis-data-firehose, which no flow source reads' },
      { flowLogId: 'fl-s3', reason: 'delivers to S3 and no Athena database is configured' },
    ]);
    expect(withAthena.items).toEqual([
      { sourceId: 'athena-fl-s3', kind: 'athena', flowLogId: 'fl-s3', table: 'vpc_flow_logs_fl_s3' },
    ]);
    expect(withAthena.unqueried.map((u) => u.flowLogId)).toEqual(['fl-fh']);
  });

  it('reads a log group named only by its ARN (the CLI and discover agree)', () => {
    // Prepare
    const flowLogs = [
      flowLog('fl-1', { destinationType: 'cloud-watch-logs', logGroupName: '/vpc/a' }),
      flowLog('fl-2', {
        destinationType: 'cloud-watch-logs',
        fields: CUSTOM,
        destination: 'arn:aws:logs:ap-northeast-2:123456789012:log-group:/vpc/b:*',
      }),
    ];

    // Act
    const plan = planFlowSources(flowLogs, { s3: 'none' });

    // Assess
    expect(plan.items).toEqual([
      { sourceId: 'insights-1', kind: 'insights', fields: [...DEFAULT_FIELDS], logGroups: ['/vpc/a'] },
      { sourceId: 'insights-2', kind: 'insights', fields: CUSTOM, logGroups: ['/vpc/b'] },
    ]);
    expect(plan).toMatchObject({ downloads: [], unqueried: [], warnings: [] });
    expect(logGroupOf(flowLogs[1] as (typeof flowLogs)[number])).toBe('/vpc/b');
  });

  it('downloads S3 flow logs when the runner reads them locally (the CLI without Athena)', () => {
    // Prepare
    const s3Log = flowLog('fl-0s3', {
      s3Options: { fileFormat: 'plain-text', hivePartitions: true, perHour: true },
    });

    // Act
    const withAthena = planFlowSources([s3Log], { s3: 'athena' });
    const download = planFlowSources([s3Log], { s3: 'download' });

    // Assess
    expect(withAthena.items).toEqual([
      {
        sourceId: 'athena-fl-0s3',
        kind: 'athena',
        flowLogId: 'fl-0s3',
        table: expect.stringMatching(/^[a-z0-9_]+$/),
      },
    ]);
    expect(withAthena.downloads).toEqual([]);
    expect(download.downloads).toEqual([s3Log]);
    expect(download.items).toEqual([]);
    expect(download.unqueried).toEqual([]);
  });

  it('says why a flow log no engine can read back gives no evidence', () => {
    // Prepare
    const flowLogs = [
      flowLog('fl-fh', { destinationType: 'kinesis-data-firehose' }),
      flowLog('fl-nogroup', { destinationType: 'cloud-watch-logs', destination: undefined }),
    ];

    // Act
    const plan = planFlowSources(flowLogs, { s3: 'download' });

    // Assess
    expect(plan.items).toEqual([]);
    expect(plan.unqueried.map(unreadWarning)).toEqual([
      'flow log fl-fh delivers to kinesis-data-firehose, which no flow source reads; ENIs covered only by it have no traffic evidence',
      'flow log fl-nogroup names no log group, so it is not queried; ENIs covered only by it have no traffic evidence',
    ]);
  });

  describe('with a scope (what the deployed query role may read)', () => {
    const ACCOUNT = '111122223333';
    const REGION = 'ap-northeast-2';

    it('leaves a log group outside the prefix unread, so it cannot fail the query of the groups inside', () => {
      // Prepare
      const flowLogs = [
        flowLog('fl-in', { destinationType: 'cloud-watch-logs', logGroupName: '/vpc/flow-logs/prod' }),
        flowLog('fl-out', { destinationType: 'cloud-watch-logs', logGroupName: '/app/flow' }),
      ];

      // Act
      const plan = planFlowSources(flowLogs, { s3: 'none', scope: { logGroupPrefix: '/vpc/flow-logs/' } });

      // Assess
      expect(plan.items).toEqual([
        {
          sourceId: 'insights-1',
          kind: 'insights',
          fields: [...DEFAULT_FIELDS],
          logGroups: ['/vpc/flow-logs/prod'],
        },
      ]);
      expect(plan.unqueried).toEqual([
        {
          flowLogId: 'fl-out',
          reason:
            "writes to log group /app/flow, outside the log-group prefix '/vpc/flow-logs/' the audit may query, so it is not queried",
        },
      ]);
      expect(plan.unqueried.map(unreadWarning)[0]).toContain(
        'ENIs covered only by it have no traffic evidence',
      );
    });

    it('reads through Athena only the S3 flow logs whose objects lie under a configured location', () => {
      // Prepare
      const flowLogs = [
        flowLog('fl-org', { destination: 'arn:aws:s3:::org-flow-logs/vpc' }),
        flowLog('fl-hive', {
          destination: 'arn:aws:s3:::org-flow-logs/vpc',
          s3Options: { fileFormat: 'parquet', hivePartitions: true, perHour: false },
        }),
        flowLog('fl-team', { destination: 'arn:aws:s3:::team-bucket' }),
      ];
      const scope = { s3Locations: ['s3://org-flow-logs/vpc/AWSLogs/'], accountId: ACCOUNT, region: REGION };

      // Act
      const plan = planFlowSources(flowLogs, { s3: 'athena', scope });

      // Assess
      expect(plan.items.map((i) => i.sourceId)).toEqual(['athena-fl-hive', 'athena-fl-org']);
      expect(plan.unqueried).toEqual([
        {
          flowLogId: 'fl-team',
          reason: `delivers to s3://team-bucket/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/, outside the flow-log locations the audit may read (s3://org-flow-logs/vpc/AWSLogs/), so it is not queried`,
        },
      ]);
    });

    it('takes a location deeper than the account folder as narrower: the whole table would not be readable', () => {
      // Prepare: the role may read one region's objects of one account; the table reads another's.
      const scope = {
        s3Locations: [`s3://org-flow-logs/AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/`],
        accountId: ACCOUNT,
        region: REGION,
      };

      // Act
      const reason = outOfScopeReason(flowLog('fl-1', { destination: 'arn:aws:s3:::org-flow-logs' }), scope);

      // Assess
      expect(reason).toContain(
        `delivers to s3://org-flow-logs/AWSLogs/${ACCOUNT}/vpcflowlogs/${REGION}/, outside`,
      );
    });

    it('leaves S3 flow logs unread when the account placing their objects is unknown', () => {
      // Act
      const plan = planFlowSources([flowLog('fl-1')], {
        s3: 'athena',
        scope: { s3Locations: ['s3://flow-logs/'] },
      });

      // Assess
      expect(plan.items).toEqual([]);
      expect(plan.unqueried[0]?.reason).toBe(
        'delivers to S3, and the account or region that places its objects is unknown, so it is not queried',
      );
    });

    it('changes nothing for what the scope does not restrict', () => {
      // Prepare
      const flowLogs = [
        flowLog('fl-cw', { destinationType: 'cloud-watch-logs', logGroupName: '/anything' }),
        flowLog('fl-s3'),
        flowLog('fl-fh', { destinationType: 'kinesis-data-firehose' }),
      ];

      // Act
      const scoped = planFlowSources(flowLogs, { s3: 'athena', scope: {} });

      // Assess
      expect(scoped).toEqual(planFlowSources(flowLogs, { s3: 'athena' }));
    });
  });
});
