import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  type GetQueryResultsResponse,
  LimitExceededException,
  StartQueryCommand,
  type StartQueryRequest,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  FlowLogQueryFailedError,
  FlowLogQueryTimeoutError,
  FlowLogQueryTruncatedError,
  InsightsFlowSource,
  type InsightsFlowSourceOptions,
} from '../../../adapters/aws/insights-flow-source';
import { DEFAULT_FIELDS } from '../../../shared/flow/format';
import { MAX_INSIGHTS_QUERY_LENGTH, mergeFlowAggregates } from '../../../shared/flow/insights-query';
import type { FlowAggregate } from '../../../shared/model/flow';
import { insightsRow } from '../../../testkit/insights-rows';
import { FLOW_T0, flowAggregate } from '../../support/flow-records';

const T0 = FLOW_T0;
const WINDOW = { start: T0, end: T0 + 3599 };
const GROUP = '/vpc/flow-logs';
const CUSTOM_FIELDS = [...DEFAULT_FIELDS, 'tcp-flags'];

const client = new CloudWatchLogsClient({
  region: 'ap-northeast-2',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const logs = mockClient(client);

beforeEach(() => {
  logs.reset();
});

function complete(rows: readonly FlowAggregate[], statistics = { recordsMatched: 2, bytesScanned: 1000 }) {
  return { status: 'Complete' as const, results: rows.map(insightsRow), statistics };
}

/** No waiting in tests: the clock moves by the time slept. */
function fakeTime() {
  let clock = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => clock,
    sleep: async (ms: number) => {
      slept.push(ms);
      clock += ms;
    },
  };
}

function source(options: Partial<InsightsFlowSourceOptions> = {}): InsightsFlowSource {
  const time = fakeTime();
  return new InsightsFlowSource({
    logs: client,
    logGroups: [{ name: GROUP, fields: DEFAULT_FIELDS }],
    pollIntervalMs: 1000,
    sleep: time.sleep,
    now: time.now,
    random: () => 0.5,
    ...options,
  });
}

function startRequests(): StartQueryRequest[] {
  return logs.commandCalls(StartQueryCommand).map((c) => c.args[0].input);
}

describe('InsightsFlowSource.aggregate', () => {
  it('runs one query for the log group, window and ENIs and returns its aggregates and statistics', async () => {
    // Prepare
    const rows = [flowAggregate(), flowAggregate({ eniId: 'eni-2', serverPort: 22, records: 5 })];
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(GetQueryResultsCommand)
      .resolvesOnce({ status: 'Scheduled' })
      .resolvesOnce({ status: 'Running' })
      .resolves(complete(rows, { recordsMatched: 7, bytesScanned: 123456 }));

    // Act
    const result = await source({ flowLogIds: ['fl-1'] }).aggregate({
      window: WINDOW,
      eniIds: ['eni-1', 'eni-2'],
    });

    // Assess: the rows prove the group's one flow log delivered for both ENIs on their day.
    const day = WINDOW.start - (WINDOW.start % 86_400);
    expect(result.aggregates).toEqual(rows);
    expect(result.stats).toEqual({
      engine: 'logs-insights',
      sources: [GROUP],
      files: 0,
      records: 7,
      nodataRecords: 0,
      skipdataRecords: 0,
      malformedRecords: 0,
      malformedSamples: [],
      queries: 1,
      bytesScanned: 123456,
      enisWithRecords: ['eni-1', 'eni-2'],
      warnings: [],
      deliveries: [
        { flowLogId: 'fl-1', eniId: 'eni-1', bucketStart: day, records: 2 },
        { flowLogId: 'fl-1', eniId: 'eni-2', bucketStart: day, records: 5 },
      ],
      flowLogIds: ['fl-1'],
    });
    const [request] = startRequests();
    expect(request).toMatchObject({
      logGroupNames: [GROUP],
      startTime: WINDOW.start,
      endTime: WINDOW.end,
      limit: 100000,
    });
    expect(request?.queryString).toContain('interfaceId in ["eni-1","eni-2"]');
    expect(request?.queryString).toContain(`start >= ${WINDOW.start} and start <= ${WINDOW.end}`);
    expect(logs.commandCalls(GetQueryResultsCommand)).toHaveLength(3);
  });

  it('holds the events its kept queries scanned against the log groups’ IncomingLogEvents, for every writer', async () => {
    // Prepare: a window split once (the halves scan 40 + 60 events; the truncated first query's
    // 100 are not counted twice), and CloudWatch's own count of 100 events received.
    let started = 0;
    logs.on(StartQueryCommand).callsFake(() => ({ queryId: `q-${++started}` }));
    logs.on(GetQueryResultsCommand).callsFake(({ queryId }: { queryId: string }) =>
      queryId === 'q-1'
        ? complete([flowAggregate(), flowAggregate({ serverPort: 22 })], {
            recordsMatched: 2,
            bytesScanned: 10,
            recordsScanned: 100,
          } as never)
        : complete([flowAggregate()], {
            recordsMatched: 1,
            bytesScanned: 5,
            recordsScanned: queryId === 'q-2' ? 40 : 60,
          } as never),
    );
    const asked: { groups: readonly string[]; window: unknown }[] = [];
    const metrics = {
      incomingLogEvents: async (groups: readonly string[], window: unknown) => {
        asked.push({ groups, window });
        return new Map([[GROUP, 100]]);
      },
    };

    // Act
    const { stats } = await source({
      limit: 2,
      logGroups: [{ name: GROUP, fields: DEFAULT_FIELDS, flowLogIds: ['fl-vpc', 'fl-eni'] }],
      metrics,
    }).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(asked).toEqual([{ groups: [GROUP], window: WINDOW }]);
    expect(stats.counters).toEqual([
      {
        kind: 'incoming-log-events',
        flowLogIds: ['fl-eni', 'fl-vpc'],
        subject: `log group ${GROUP}`,
        delivered: 100,
        read: 100,
      },
    ]);
  });

  it('keeps the records’ proof and says so when IncomingLogEvents cannot be read', async () => {
    // Prepare
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves(complete([flowAggregate()]));
    const metrics = {
      incomingLogEvents: async () => {
        throw Object.assign(new Error('not authorized to perform: cloudwatch:GetMetricData'), {
          name: 'AccessDenied',
        });
      },
    };

    // Act
    const { aggregates, stats } = await source({ metrics }).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(aggregates).toHaveLength(1);
    expect(stats.counters).toBeUndefined();
    expect(stats.warnings).toEqual([
      "the log groups' IncomingLogEvents (CloudWatch GetMetricData) could not be read (AccessDenied: not authorized to perform: cloudwatch:GetMetricData); delivery rests on the records alone",
    ]);
  });

  it('returns no aggregates and empty statistics for a window without records', async () => {
    // Prepare
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves(complete([], { recordsMatched: 0, bytesScanned: 512 }));

    // Act
    const result = await source().aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(result.aggregates).toEqual([]);
    expect(result.stats).toMatchObject({ records: 0, queries: 1, bytesScanned: 512, enisWithRecords: [] });
    expect(startRequests()[0]?.queryString).not.toContain('interfaceId in');
  });

  it('reads every result page with nextToken', async () => {
    // Prepare
    const pages = [
      flowAggregate({ serverPort: 1 }),
      flowAggregate({ serverPort: 2 }),
      flowAggregate({ serverPort: 3 }),
    ];
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(GetQueryResultsCommand, { queryId: 'q-1', nextToken: undefined })
      .resolves({ ...complete(pages.slice(0, 2)), nextToken: 'page-2' });
    logs
      .on(GetQueryResultsCommand, { queryId: 'q-1', nextToken: 'page-2' })
      .resolves(complete(pages.slice(2)));

    // Act
    const result = await source({ limit: 50_000 }).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(result.aggregates.map((a) => a.serverPort)).toEqual([1, 2, 3]);
    expect(logs.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input)).toEqual([
      { queryId: 'q-1', maxItems: 10000 },
      { queryId: 'q-1', nextToken: 'page-2', maxItems: 10000 },
    ]);
    expect(startRequests()[0]?.limit).toBe(50_000);
  });

  it('retries StartQuery with growing backoff while the concurrent-query limit is reached', async () => {
    // Prepare
    const throttled = new LimitExceededException({ message: 'too many concurrent queries', $metadata: {} });
    logs.on(StartQueryCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves(complete([flowAggregate()]));
    const time = fakeTime();

    // Act
    const result = await source({ sleep: time.sleep, now: time.now, retryBaseDelayMs: 400 }).aggregate({
      window: WINDOW,
      eniIds: [],
    });

    // Assess
    expect(result.aggregates).toHaveLength(1);
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(3);
    // Equal jitter at random() = 0.5: 3/4 of 400, then of 800; then one poll interval.
    expect(time.slept).toEqual([300, 600, 1000]);
  });

  it('fails with FlowLogQueryFailedError once StartQuery attempts are used up', async () => {
    // Prepare
    logs.on(StartQueryCommand).rejects(new LimitExceededException({ message: 'limit', $metadata: {} }));

    // Act
    const run = source({ startQueryAttempts: 3 }).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    await expect(run).rejects.toThrow(FlowLogQueryFailedError);
    await expect(run).rejects.toThrow(/after 3 attempts/);
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(3);
  });

  it('splits a window that returned the row limit and merges the halves into the true totals', async () => {
    // Prepare: one raw row per second over 10 s, on 3 connections; no second alone reaches the limit.
    const raw = Array.from({ length: 10 }, (_, i) =>
      flowAggregate({
        serverPort: [22, 80, 443][i % 3] ?? 0,
        records: 1,
        requestRecords: 1,
        packets: i + 1,
        bytes: 100 * (i + 1),
        firstSeen: T0 + i,
        lastSeen: T0 + i + 30,
        evidence: i === 4 ? 'flags' : 'well-known',
      }),
    );
    const windows: { start: number; end: number }[] = [];
    logs.on(StartQueryCommand).callsFake((input: StartQueryRequest) => {
      windows.push({ start: input.startTime ?? 0, end: input.endTime ?? 0 });
      return { queryId: `q-${windows.length}` };
    });
    logs.on(GetQueryResultsCommand).callsFake((input: { queryId: string }) => {
      const window = windows[Number(input.queryId.slice(2)) - 1];
      const inWindow = raw.filter((r) => window && r.firstSeen >= window.start && r.firstSeen <= window.end);
      const rows = mergeFlowAggregates(inWindow).slice(0, 2);
      return complete(rows, { recordsMatched: inWindow.length, bytesScanned: 10 });
    });
    const truth = mergeFlowAggregates(raw);

    // Act
    const result = await source({ limit: 2 }).aggregate({ window: { start: T0, end: T0 + 9 }, eniIds: [] });

    // Assess
    const byPort = (a: FlowAggregate, b: FlowAggregate) => (a.serverPort ?? 0) - (b.serverPort ?? 0);
    expect([...result.aggregates].sort(byPort)).toEqual([...truth].sort(byPort));
    expect(result.stats.records).toBe(10);
    expect(result.stats.queries).toBe(windows.length);
    expect(result.stats.bytesScanned).toBe(10 * windows.length);
    expect(result.stats.warnings.join(' ')).toMatch(/split in halves/);
    expect(windows[0]).toEqual({ start: T0, end: T0 + 9 });
    expect(windows.slice(1, 3)).toEqual([
      { start: T0, end: T0 + 4 },
      { start: T0 + 5, end: T0 + 9 },
    ]);
  });

  it('takes exactly 10,000 rows for a truncated result even when the limit asked was higher (an ignored limit)', async () => {
    // Prepare: the endpoint (or an old SDK) drops `limit`: 10,000 rows come back for the whole window.
    const capped = Array.from({ length: 10_000 }, (_, i) =>
      flowAggregate({ serverPort: 1 + (i % 60_000), clientAddr: `10.9.${i >> 8}.${i & 255}` }),
    );
    const windows: { start: number; end: number }[] = [];
    logs.on(StartQueryCommand).callsFake((input: StartQueryRequest) => {
      windows.push({ start: input.startTime ?? 0, end: input.endTime ?? 0 });
      return { queryId: `q-${windows.length}` };
    });
    logs.on(GetQueryResultsCommand).callsFake((input: { queryId: string }) =>
      complete(input.queryId === 'q-1' ? capped : [flowAggregate()], {
        recordsMatched: 1,
        bytesScanned: 1,
      }),
    );

    // Act
    const result = await source({ limit: 100_000 }).aggregate({ window: WINDOW, eniIds: [] });

    // Assess: the window was split rather than the 10,000 rows taken as everything.
    expect(windows.length).toBeGreaterThan(1);
    expect(result.stats.warnings.join(' ')).toMatch(/split in halves/);
  });

  it('fails with FlowLogQueryTruncatedError when a truncated window may not be split further', async () => {
    // Prepare
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves(complete([flowAggregate(), flowAggregate({ serverPort: 80 })]));

    // Act
    const oneSecond = source({ limit: 2 }).aggregate({ window: { start: T0, end: T0 }, eniIds: [] });
    const noDepth = source({ limit: 2, maxSplitDepth: 0 }).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    await expect(oneSecond).rejects.toThrow(FlowLogQueryTruncatedError);
    await expect(noDepth).rejects.toThrow(/may not be split further \(depth 0\)/);
  });

  it.each(['Failed', 'Cancelled', 'Unknown'] as const)(
    'fails with FlowLogQueryFailedError when the query ends %s',
    async (status) => {
      // Prepare
      logs.on(StartQueryCommand).resolves({ queryId: 'q-9' });
      logs.on(GetQueryResultsCommand).resolves({ status, statistics: { bytesScanned: 5 } });

      // Act
      const error = await source()
        .aggregate({ window: WINDOW, eniIds: [] })
        .catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(FlowLogQueryFailedError);
      expect(error).toMatchObject({
        name: 'FlowLogQueryFailedError',
        queryId: 'q-9',
        status,
        logGroups: [GROUP],
      });
      expect(logs.commandCalls(StopQueryCommand)).toHaveLength(0);
    },
  );

  it('stops a query running past the timeout and fails with FlowLogQueryTimeoutError', async () => {
    // Prepare
    logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running', statistics: { bytesScanned: 77 } });
    logs.on(StopQueryCommand).resolves({ success: true });

    // Act
    const error = await source({ queryTimeoutMs: 5000 })
      .aggregate({ window: WINDOW, eniIds: [] })
      .catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(FlowLogQueryTimeoutError);
    expect(error).toMatchObject({ name: 'FlowLogQueryTimeoutError', queryId: 'q-slow' });
    expect(logs.commandCalls(StopQueryCommand).map((c) => c.args[0].input)).toEqual([{ queryId: 'q-slow' }]);
    expect(logs.commandCalls(GetQueryResultsCommand)).toHaveLength(5);
  });

  it("fails with FlowLogQueryTimeoutError when Logs Insights' own timeout ends the query", async () => {
    // Prepare
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Timeout' });

    // Act & Assess
    await expect(source().aggregate({ window: WINDOW, eniIds: [] })).rejects.toThrow(
      FlowLogQueryTimeoutError,
    );
  });

  it('sums bytesScanned over the queries of every log-group format', async () => {
    // Prepare: two formats cannot share a query; two groups of one format do.
    let started = 0;
    logs.on(StartQueryCommand).callsFake(() => {
      started += 1;
      return { queryId: `q-${started}` };
    });
    logs
      .on(GetQueryResultsCommand, { queryId: 'q-1' })
      .resolves(complete([flowAggregate()], { recordsMatched: 2, bytesScanned: 1000 }));
    logs
      .on(GetQueryResultsCommand, { queryId: 'q-2' })
      .resolves(complete([flowAggregate({ eniId: 'eni-9' })], { recordsMatched: 3, bytesScanned: 2500 }));
    const logGroups = [
      { name: '/vpc/a', fields: DEFAULT_FIELDS },
      { name: '/vpc/b', fields: DEFAULT_FIELDS },
      { name: '/vpc/custom', fields: CUSTOM_FIELDS },
      { name: '/vpc/broken', fields: ['srcaddr', 'dstaddr'] },
    ];

    // Act
    const result = await source({ logGroups }).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(result.stats).toMatchObject({
      queries: 2,
      bytesScanned: 3500,
      records: 5,
      sources: ['/vpc/a', '/vpc/b', '/vpc/custom'],
      enisWithRecords: ['eni-1', 'eni-9'],
    });
    expect(startRequests().map((r) => r.logGroupNames)).toEqual([['/vpc/a', '/vpc/b'], ['/vpc/custom']]);
    expect(startRequests()[1]?.queryString?.startsWith('parse @message')).toBe(true);
    expect(result.stats.warnings).toEqual([expect.stringMatching(/\/vpc\/broken: .*lacks interface-id/)]);
  });

  it('queries 2,000 ENIs in ONE scan per log group and filters the rows, instead of one scan per chunk', async () => {
    // Prepare: the ENI list needs several 10,000-character queries; Insights would bill the
    // whole window once per query, so the source drops the ENI filter and keeps the audited rows.
    const eniIds = Array.from({ length: 2000 }, (_, i) => `eni-${i.toString(16).padStart(17, '0')}`);
    const audited = flowAggregate({ eniId: eniIds[7] as string });
    const other = flowAggregate({ eniId: 'eni-0ffffffffffffffff' });
    logs.on(StartQueryCommand).resolves({ queryId: 'q' });
    logs.on(GetQueryResultsCommand).resolves(complete([audited, other]));

    // Act
    const result = await source().aggregate({ window: WINDOW, eniIds });

    // Assess
    const queries = startRequests().map((r) => r.queryString ?? '');
    expect(queries).toHaveLength(1);
    expect(queries[0]?.length).toBeLessThanOrEqual(MAX_INSIGHTS_QUERY_LENGTH);
    expect(queries[0]).not.toMatch(/interfaceId in/);
    expect(result.aggregates.map((a) => a.eniId)).toEqual([eniIds[7]]);
    expect(result.stats.queries).toBe(1);
    expect(result.stats.warnings.join(' ')).toMatch(/2000 ENIs do not fit one query's ENI filter/);
  });

  it('never runs more queries at once than maxConcurrentQueries', async () => {
    // Prepare: 10 log groups, one per query; each query runs for two polls.
    let active = 0;
    let peak = 0;
    let started = 0;
    const polls = new Map<string, number>();
    logs.on(StartQueryCommand).callsFake(() => {
      started += 1;
      active += 1;
      peak = Math.max(peak, active);
      return { queryId: `q-${started}` };
    });
    logs.on(GetQueryResultsCommand).callsFake((input: { queryId: string }): GetQueryResultsResponse => {
      const seen = (polls.get(input.queryId) ?? 0) + 1;
      polls.set(input.queryId, seen);
      if (seen < 3) return { status: 'Running' };
      active -= 1;
      return complete([]);
    });
    const logGroups = Array.from({ length: 10 }, (_, i) => ({ name: `/vpc/${i}`, fields: DEFAULT_FIELDS }));

    // Act
    const result = await source({
      logGroups,
      maxLogGroupsPerQuery: 1,
      maxConcurrentQueries: 3,
      sleep: () => new Promise((resolve) => setImmediate(resolve)),
    }).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(result.stats.queries).toBe(10);
    expect(peak).toBe(3);
  });

  it('stops the other running queries once one fails', async () => {
    // Prepare
    let started = 0;
    logs.on(StartQueryCommand).callsFake(() => {
      started += 1;
      return { queryId: `q-${started}` };
    });
    logs.on(GetQueryResultsCommand, { queryId: 'q-1' }).resolves({ status: 'Failed' });
    logs.on(GetQueryResultsCommand, { queryId: 'q-2' }).resolves({ status: 'Running' });
    logs.on(StopQueryCommand).resolves({ success: true });
    const logGroups = [
      { name: '/vpc/a', fields: DEFAULT_FIELDS },
      { name: '/vpc/b', fields: CUSTOM_FIELDS },
      { name: '/vpc/c', fields: [...DEFAULT_FIELDS, 'vpc-id'] },
    ];

    // Act
    const error = await source({
      logGroups,
      maxConcurrentQueries: 2,
      sleep: () => new Promise((resolve) => setImmediate(resolve)),
    })
      .aggregate({ window: WINDOW, eniIds: [] })
      .catch((e: unknown) => e);

    // Assess: the failure is reported, the running query stopped, the waiting one never started.
    expect(error).toMatchObject({ name: 'FlowLogQueryFailedError', queryId: 'q-1', status: 'Failed' });
    expect(logs.commandCalls(StopQueryCommand).map((c) => c.args[0].input.queryId)).toEqual(['q-2']);
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(2);
  });

  it('rejects rows that are not flow aggregates with FlowLogQueryFailedError', async () => {
    // Prepare
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(GetQueryResultsCommand)
      .resolves({ status: 'Complete', results: [[{ field: '@ptr', value: 'x' }]] });

    // Act & Assess
    await expect(source().aggregate({ window: WINDOW, eniIds: [] })).rejects.toThrow(
      /not flow aggregates: .*not an aggregate row/,
    );
  });

  it('rejects options beyond the API limits', () => {
    // Act & Assess
    expect(() => source({ limit: 100_001 })).toThrow(/limit/);
    expect(() => source({ maxConcurrentQueries: 101 })).toThrow(/maxConcurrentQueries/);
    expect(() => source({ maxLogGroupsPerQuery: 51 })).toThrow(/maxLogGroupsPerQuery/);
  });
});

describe('InsightsFlowSource polled as a job (start, check, stop)', () => {
  /** Through JSON, as the state machine hands it from one invocation to the next. */
  const viaState = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

  it('continues a job from its JSON in a fresh source, keeping the rows of finished halves outside the job', async () => {
    // Prepare: the whole window is truncated; its first half completes one check before the second.
    const raw = [22, 22, 80, 443, 443, 443].map((serverPort, i) =>
      flowAggregate({ serverPort, firstSeen: T0 + i, lastSeen: T0 + i + 30 }),
    );
    const windows = new Map<string, { start: number; end: number }>();
    const polls = new Map<string, number>();
    logs.on(StartQueryCommand).callsFake((input: StartQueryRequest) => {
      const queryId = `q-${windows.size + 1}`;
      windows.set(queryId, { start: input.startTime ?? 0, end: input.endTime ?? 0 });
      return { queryId };
    });
    logs.on(GetQueryResultsCommand).callsFake((input: { queryId: string }) => {
      const seen = (polls.get(input.queryId) ?? 0) + 1;
      polls.set(input.queryId, seen);
      // The second half (q-3) needs one poll more than the first (q-2).
      if (input.queryId === 'q-3' && seen < 2) return { status: 'Running' };
      const window = windows.get(input.queryId);
      const inWindow = raw.filter((r) => window && r.firstSeen >= window.start && r.firstSeen <= window.end);
      return complete(mergeFlowAggregates(inWindow).slice(0, 3), {
        recordsMatched: inWindow.length,
        bytesScanned: 7,
      });
    });
    const partials = new Map<string, readonly FlowAggregate[]>();
    const store = {
      put: async (jobId: string, part: number, rows: readonly FlowAggregate[]) => {
        partials.set(`${jobId}/${part}`, rows);
      },
      get: async (jobId: string, part: number) => [...(partials.get(`${jobId}/${part}`) ?? [])],
    };
    // A fresh source per call, as each Lambda invocation builds its own.
    const fresh = () => source({ limit: 3, partials: store });
    const query = { window: { start: T0, end: T0 + 5 }, eniIds: [] };

    // Act
    const first = await fresh().start(query, { jobId: 'insights-1' });
    const states = [viaState(first)];
    let poll = states[0];
    while (poll?.status === 'running') {
      poll = viaState(await fresh().check(query, poll.job));
      states.push(poll);
    }

    // Assess: the halves' rows merge to the truth; the job held ids and counters, never rows.
    expect(poll?.status).toBe('done');
    const result = poll?.status === 'done' ? poll.result : undefined;
    const byPort = (a: FlowAggregate, b: FlowAggregate) => (a.serverPort ?? 0) - (b.serverPort ?? 0);
    expect([...(result?.aggregates ?? [])].sort(byPort)).toEqual([...mergeFlowAggregates(raw)].sort(byPort));
    expect(result?.stats).toMatchObject({ queries: 3, bytesScanned: 21, records: 6 });
    expect([...partials.keys()]).toEqual(['insights-1/0']);
    const jobs = states.flatMap((s) => (s.status === 'running' ? [s.job] : []));
    expect(jobs.map((j) => j.parts)).toEqual([0, 0, 1]);
    for (const job of jobs) {
      expect(job.jobId).toBe('insights-1');
      expect(JSON.stringify(job)).not.toContain('serverPort');
      expect(JSON.stringify(job).length).toBeLessThan(1000);
    }
    expect(logs.commandCalls(StopQueryCommand)).toHaveLength(0);
  });

  it('treats a throttled GetQueryResults as a poll without news: the query is neither stopped nor started again', async () => {
    // Prepare
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(GetQueryResultsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }))
      .resolves(complete([flowAggregate()]));
    const insights = source();
    const query = { window: WINDOW, eniIds: [] };

    // Act
    const started = await insights.start(query);
    const throttled = started.status === 'running' ? await insights.check(query, started.job) : started;
    const done = throttled.status === 'running' ? await insights.check(query, throttled.job) : throttled;

    // Assess
    expect(throttled).toMatchObject({ status: 'running', job: { running: [{ queryId: 'q-1', polls: 1 }] } });
    expect(done).toMatchObject({ status: 'done', result: { aggregates: [flowAggregate()] } });
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(1);
    expect(logs.commandCalls(StopQueryCommand)).toHaveLength(0);
  });

  it("stops the running query and fails with FlowLogQueryTimeoutError once the job's deadline has passed", async () => {
    // Prepare
    logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running' });
    logs.on(StopQueryCommand).resolves({ success: true });
    const time = fakeTime();
    const insights = source({ now: time.now, sleep: time.sleep });
    const query = { window: WINDOW, eniIds: [] };
    const started = await insights.start(query, { deadline: time.now() + 1500 });
    if (started.status !== 'running') throw new Error('expected a running job');

    // Act
    const beforeDeadline = await insights.check(query, started.job);
    await time.sleep(2000);
    const error = await insights
      .check(query, beforeDeadline.status === 'running' ? beforeDeadline.job : started.job)
      .catch((e: unknown) => e);

    // Assess
    expect(beforeDeadline.status).toBe('running');
    expect(error).toBeInstanceOf(FlowLogQueryTimeoutError);
    expect(error).toMatchObject({ queryId: 'q-slow', logGroups: [GROUP] });
    expect((error as Error).message).toMatch(/at the job's deadline .* and was stopped/);
    expect(logs.commandCalls(StopQueryCommand).map((c) => c.args[0].input)).toEqual([{ queryId: 'q-slow' }]);
  });

  it('stop() stops every running query of a job', async () => {
    // Prepare
    let started = 0;
    logs.on(StartQueryCommand).callsFake(() => {
      started += 1;
      return { queryId: `q-${started}` };
    });
    logs.on(StopQueryCommand).resolves({ success: true });
    const logGroups = [
      { name: '/vpc/a', fields: DEFAULT_FIELDS },
      { name: '/vpc/b', fields: CUSTOM_FIELDS },
    ];
    const insights = source({ logGroups });
    const poll = await insights.start({ window: WINDOW, eniIds: [] });

    // Act
    if (poll.status === 'running') await insights.stop(poll.job);

    // Assess
    expect(logs.commandCalls(StopQueryCommand).map((c) => c.args[0].input.queryId)).toEqual(['q-1', 'q-2']);
  });
});
