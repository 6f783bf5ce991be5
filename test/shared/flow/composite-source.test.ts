import { CompositeFlowSource, mergeFlowSourceStats } from '../../../shared/flow/composite-source';
import type {
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
} from '../../../shared/model/flow';
import { flowAggregate } from '../../support/flow-records';

const WINDOW = { start: 1_750_000_000, end: 1_750_604_800 };

function stats(engine: string, overrides: Partial<FlowSourceStats> = {}): FlowSourceStats {
  return {
    engine,
    sources: [`${engine}-source`],
    files: 0,
    records: 10,
    nodataRecords: 0,
    skipdataRecords: 0,
    malformedRecords: 0,
    malformedSamples: [],
    queries: 1,
    bytesScanned: 100,
    enisWithRecords: [],
    warnings: [],
    ...overrides,
  };
}

/** One aggregate of an ENI, seen at the window's start. */
function aggregate(eniId: string): FlowAggregate {
  return flowAggregate({ eniId, firstSeen: WINDOW.start, lastSeen: WINDOW.start + 60 });
}

/** A source answering with fixed rows and recording the queries it got. */
class FixedSource implements FlowAggregateSource {
  readonly queries: FlowQuery[] = [];
  closed = false;

  constructor(private readonly result: FlowAggregateResult | Error) {}

  async aggregate(query: FlowQuery): Promise<FlowAggregateResult> {
    this.queries.push(query);
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('mergeFlowSourceStats', () => {
  it('sums counts and costs, unites sources and ENIs and widens the record span', () => {
    // Prepare
    const a = stats('logs-insights', {
      enisWithRecords: ['eni-b', 'eni-a'],
      newestRecord: 200,
      oldestRecord: 50,
      warnings: ['split'],
    });
    const b = stats('athena', {
      sources: ['fl-1'],
      files: 3,
      enisWithRecords: ['eni-a', 'eni-c'],
      newestRecord: 300,
      oldestRecord: 100,
      malformedRecords: 2,
      malformedSamples: [{ file: 'x.log', line: 3, reason: 'bad port' }],
    });

    // Act
    const merged = mergeFlowSourceStats([a, b]);

    // Assess
    expect(merged).toEqual({
      engine: 'logs-insights+athena',
      sources: ['logs-insights-source', 'fl-1'],
      files: 3,
      records: 20,
      nodataRecords: 0,
      skipdataRecords: 0,
      malformedRecords: 2,
      malformedSamples: [{ file: 'x.log', line: 3, reason: 'bad port' }],
      queries: 2,
      bytesScanned: 200,
      newestRecord: 300,
      oldestRecord: 50,
      enisWithRecords: ['eni-a', 'eni-b', 'eni-c'],
      warnings: ['split'],
    });
  });

  it('joins the sources’ delivery evidence, naming the flow logs read only when every source names its own', () => {
    // Prepare
    const a = stats('athena', {
      deliveries: [{ flowLogId: 'fl-1', eniId: 'eni-1', bucketStart: 0, records: 3 }],
      flowLogIds: ['fl-1'],
      counters: [{ kind: 's3-objects', flowLogIds: ['fl-1'], subject: 's3://b/p/', delivered: 2, read: 2 }],
    });
    const b = stats('athena', {
      deliveries: [{ flowLogId: 'fl-2', eniId: 'eni-2', bucketStart: 0, records: 1 }],
      flowLogIds: ['fl-2'],
      otherEnis: [{ eniId: 'eni-9', records: 4 }],
    });

    // Act
    const both = mergeFlowSourceStats([a, b]);
    const oneUnnamed = mergeFlowSourceStats([a, stats('athena')]);

    // Assess
    expect(both.deliveries).toEqual([...(a.deliveries ?? []), ...(b.deliveries ?? [])]);
    expect(both.flowLogIds).toEqual(['fl-1', 'fl-2']);
    expect(both.counters).toEqual(a.counters);
    expect(both.otherEnis).toEqual([{ eniId: 'eni-9', records: 4 }]);
    expect(oneUnnamed.flowLogIds).toBeUndefined();
  });

  it('keeps at most the sample limit of malformed lines while counting them all', () => {
    // Prepare
    const sample = (line: number) => ({ file: 'f.log', line, reason: 'r' });
    const a = stats('duckdb-local', { malformedRecords: 5, malformedSamples: [1, 2, 3].map(sample) });
    const b = stats('duckdb-local', { malformedRecords: 4, malformedSamples: [4, 5].map(sample) });

    // Act
    const merged = mergeFlowSourceStats([a, b], 4);

    // Assess
    expect(merged.malformedRecords).toBe(9);
    expect(merged.malformedSamples.map((s) => s.line)).toEqual([1, 2, 3, 4]);
  });
});

describe('CompositeFlowSource', () => {
  it('sends the same query to every source and concatenates their aggregates', async () => {
    // Prepare
    const insights = new FixedSource({ aggregates: [aggregate('eni-a')], stats: stats('logs-insights') });
    const local = new FixedSource({ aggregates: [aggregate('eni-b')], stats: stats('duckdb-local') });
    const query: FlowQuery = { window: WINDOW, eniIds: ['eni-a', 'eni-b'], ports: [{ from: 443, to: 443 }] };

    // Act
    const result = await new CompositeFlowSource([insights, local]).aggregate(query);

    // Assess
    expect(insights.queries).toEqual([query]);
    expect(local.queries).toEqual([query]);
    expect(result.aggregates.map((a) => a.eniId)).toEqual(['eni-a', 'eni-b']);
  });

  it('keeps one statistics entry per engine, sources of one engine merged, and their total', async () => {
    // Prepare
    const first = new FixedSource({ aggregates: [], stats: stats('logs-insights', { bytesScanned: 5 }) });
    const second = new FixedSource({ aggregates: [], stats: stats('athena', { bytesScanned: 7 }) });
    const third = new FixedSource({ aggregates: [], stats: stats('logs-insights', { bytesScanned: 11 }) });

    // Act
    const result = await new CompositeFlowSource([first, second, third]).aggregate({
      window: WINDOW,
      eniIds: [],
    });

    // Assess
    expect(result.sourceStats.map((s) => [s.engine, s.bytesScanned, s.queries])).toEqual([
      ['logs-insights', 16, 2],
      ['athena', 7, 1],
    ]);
    expect(result.stats).toMatchObject({ engine: 'logs-insights+athena', bytesScanned: 23, queries: 3 });
  });

  it('adds its own warnings to the statistics, even without any source', async () => {
    // Prepare
    const warning = 'flow log fl-1 delivers to kinesis-data-firehose, which cannot be queried back';

    // Act
    const withSource = await new CompositeFlowSource(
      [new FixedSource({ aggregates: [], stats: stats('athena', { warnings: ['own'] }) })],
      { warnings: [warning] },
    ).aggregate({ window: WINDOW, eniIds: [] });
    const alone = await new CompositeFlowSource([], { warnings: [warning] }).aggregate({
      window: WINDOW,
      eniIds: [],
    });

    // Assess
    expect(withSource.sourceStats[0]?.warnings).toEqual(['own', warning]);
    expect(alone.aggregates).toEqual([]);
    expect(alone.sourceStats).toEqual([expect.objectContaining({ engine: 'none', warnings: [warning] })]);
  });

  it('fails the query when one source fails, rather than answering with part of the evidence', async () => {
    // Prepare
    const failing = new FixedSource(new Error('Athena query FAILED'));
    const working = new FixedSource({ aggregates: [aggregate('eni-a')], stats: stats('logs-insights') });

    // Act
    const run = new CompositeFlowSource([working, failing]).aggregate({ window: WINDOW, eniIds: [] });

    // Assess
    await expect(run).rejects.toThrow('Athena query FAILED');
  });

  it('closes every source that holds resources', async () => {
    // Prepare
    const closable = new FixedSource({ aggregates: [], stats: stats('duckdb-local') });
    const plain: FlowAggregateSource = {
      aggregate: async () => ({ aggregates: [], stats: stats('athena') }),
    };

    // Act
    await new CompositeFlowSource([plain, closable]).close();

    // Assess
    expect(closable.closed).toBe(true);
  });
});
