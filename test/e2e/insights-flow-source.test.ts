/**
 * The Logs Insights flow source against moto_server. Moto's Insights engine returns the raw events
 * of the time range and ignores filter and stats, so these tests assert the plumbing — the query
 * started on the right log groups, time range and text, its results read, its statistics recorded —
 * and the query's semantics are proven in test/shared/flow/insights-query.test.ts.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeQueriesCommand,
  GetQueryResultsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { FlowLogQueryFailedError, InsightsFlowSource } from '../../adapters/aws/insights-flow-source';
import { DEFAULT_FIELDS } from '../../shared/flow/format';
import { buildInsightsQuery, DEFAULT_INSIGHTS_LIMIT } from '../../shared/flow/insights-query';
import { type MotoServer, motoClientConfig, startMoto } from '../support/moto';

let moto: MotoServer;
let logs: CloudWatchLogsClient;

/** Recent whole seconds (CloudWatch Logs refuses events older than 14 days). */
const T0 = Math.floor(Date.now() / 1000) - 7200;
const WINDOW = { start: T0, end: T0 + 3599 };

beforeAll(async () => {
  moto = await startMoto();
  logs = new CloudWatchLogsClient(motoClientConfig(moto.endpoint));
});

afterAll(async () => {
  logs?.destroy();
  await moto?.stop();
});

/** A default-format flow-log line starting at `start`. */
function flowLine(eni: string, start: number, srcPort: number, dstPort: number): string {
  return `2 123456789012 ${eni} 10.0.0.1 10.0.0.2 ${srcPort} ${dstPort} 6 10 840 ${start} ${start + 60} ACCEPT OK`;
}

/** A log group with one stream per ENI, its events timestamped with the records' start (as AWS does). */
async function logGroupWith(name: string, records: readonly { eni: string; start: number; line: string }[]) {
  await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
  for (const eni of new Set(records.map((r) => r.eni))) {
    await logs.send(new CreateLogStreamCommand({ logGroupName: name, logStreamName: `${eni}-all` }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: name,
        logStreamName: `${eni}-all`,
        logEvents: records
          .filter((r) => r.eni === eni)
          .sort((a, b) => a.start - b.start)
          .map((r) => ({ timestamp: r.start * 1000, message: r.line })),
      }),
    );
  }
}

function source(logGroups: readonly string[]): InsightsFlowSource {
  return new InsightsFlowSource({
    logs,
    logGroups: logGroups.map((name) => ({ name, fields: DEFAULT_FIELDS })),
    pollIntervalMs: 10,
    queryTimeoutMs: 30_000,
  });
}

describe('InsightsFlowSource against moto', () => {
  it('starts one query on the log group over the window and reads its rows', async () => {
    // Prepare: two records in the window, one before it and one after it.
    const group = '/sg-audit/e2e/one-group';
    const records = [
      { eni: 'eni-1', start: T0 - 60 },
      { eni: 'eni-1', start: T0 },
      { eni: 'eni-2', start: T0 + 1800 },
      { eni: 'eni-2', start: T0 + 3600 },
    ].map((r) => ({ ...r, line: flowLine(r.eni, r.start, 49152, 443) }));
    await logGroupWith(group, records);

    // Act: moto ignores stats and returns raw events, which are not aggregate rows.
    const run = source([group]).aggregate({ window: WINDOW, eniIds: ['eni-1', 'eni-2'] });

    // Assess
    await expect(run).rejects.toThrow(FlowLogQueryFailedError);
    await expect(run).rejects.toThrow(/not an aggregate row/);
    const { queries } = await logs.send(new DescribeQueriesCommand({ logGroupName: group }));
    expect(queries).toHaveLength(1);
    expect(queries?.[0]).toMatchObject({
      status: 'Complete',
      queryString: buildInsightsQuery({
        fields: DEFAULT_FIELDS,
        eniIds: ['eni-1', 'eni-2'],
        window: WINDOW,
        limit: DEFAULT_INSIGHTS_LIMIT,
      }),
    });
    const results = await logs.send(new GetQueryResultsCommand({ queryId: queries?.[0]?.queryId }));
    // Only the two events inside the (inclusive) time range came back.
    expect(results.results).toHaveLength(2);
  });

  it('records the query and its statistics for a window without events', async () => {
    // Prepare
    const group = '/sg-audit/e2e/quiet';
    await logGroupWith(group, [
      { eni: 'eni-3', start: T0 - 600, line: flowLine('eni-3', T0 - 600, 40000, 22) },
    ]);

    // Act
    const result = await source([group]).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    expect(result.aggregates).toEqual([]);
    expect(result.stats).toMatchObject({
      engine: 'logs-insights',
      sources: [group],
      queries: 1,
      records: 0,
      bytesScanned: 0,
      enisWithRecords: [],
      warnings: [],
    });
  });

  it('queries log groups of one format together, in one query', async () => {
    // Prepare
    const groups = ['/sg-audit/e2e/a', '/sg-audit/e2e/b'];
    for (const group of groups) await logGroupWith(group, []);

    // Act
    const result = await source(groups).aggregate({ window: WINDOW, eniIds: ['eni-1'] });

    // Assess
    expect(result.stats.queries).toBe(1);
    const [first, second] = await Promise.all(
      groups.map((g) => logs.send(new DescribeQueriesCommand({ logGroupName: g }))),
    );
    expect(first?.queries).toHaveLength(1);
    expect(second?.queries?.map((q) => q.queryId)).toEqual(first?.queries?.map((q) => q.queryId));
  });
});
