/**
 * Several flow sources as one: a live account mixes flow-log destinations (Logs Insights over the
 * CloudWatch Logs groups, Athena or local files for S3 objects), and the core asks ONE
 * FlowAggregateSource. The composite sends the same query to every source, concatenates their
 * aggregates (each source covers its own flow logs) and keeps each engine's statistics apart, so
 * the report can state per engine what was read and what it cost.
 */
import type {
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateSource,
  FlowQuery,
  FlowSourceStats,
  MalformedRecord,
} from '../model/flow';

/** A flow source that holds resources (DuckDB, temp files) until closed. */
interface Closable {
  close(): Promise<void>;
}

export interface CompositeFlowSourceOptions {
  /** Facts about what is not queried (e.g. a Firehose flow log), added to the statistics' warnings. */
  readonly warnings?: readonly string[];
  /** Malformed samples kept per engine after merging. @default 20 */
  readonly malformedSampleLimit?: number;
}

/** The composite's result: `stats` is the total; `sourceStats` one entry per engine. */
export interface CompositeFlowAggregateResult extends FlowAggregateResult {
  readonly sourceStats: readonly FlowSourceStats[];
}

const DEFAULT_SAMPLE_LIMIT = 20;

const isClosable = (source: FlowAggregateSource): source is FlowAggregateSource & Closable =>
  typeof (source as Partial<Closable>).close === 'function';

/**
 * Merges the statistics of several sources into one (counts and costs summed, sources and ENIs
 * united, the record span widened). The engine is the sources' engines joined with '+'.
 *
 * @example mergeFlowSourceStats([insightsStats, athenaStats]).bytesScanned // the sum of both
 */
export function mergeFlowSourceStats(
  stats: readonly FlowSourceStats[],
  malformedSampleLimit = DEFAULT_SAMPLE_LIMIT,
): FlowSourceStats {
  const engines = [...new Set(stats.map((s) => s.engine))];
  const newest = stats.flatMap((s) => (s.newestRecord !== undefined ? [s.newestRecord] : []));
  const oldest = stats.flatMap((s) => (s.oldestRecord !== undefined ? [s.oldestRecord] : []));
  const sum = (pick: (s: FlowSourceStats) => number) => stats.reduce((total, s) => total + pick(s), 0);
  const samples: MalformedRecord[] = stats.flatMap((s) => s.malformedSamples).slice(0, malformedSampleLimit);
  return {
    engine: engines.length > 0 ? engines.join('+') : 'none',
    sources: [...new Set(stats.flatMap((s) => s.sources))],
    files: sum((s) => s.files),
    records: sum((s) => s.records),
    nodataRecords: sum((s) => s.nodataRecords),
    skipdataRecords: sum((s) => s.skipdataRecords),
    malformedRecords: sum((s) => s.malformedRecords),
    malformedSamples: samples,
    queries: sum((s) => s.queries),
    bytesScanned: sum((s) => s.bytesScanned),
    ...(newest.length > 0 ? { newestRecord: Math.max(...newest) } : {}),
    ...(oldest.length > 0 ? { oldestRecord: Math.min(...oldest) } : {}),
    enisWithRecords: [...new Set(stats.flatMap((s) => s.enisWithRecords))].sort(),
    warnings: stats.flatMap((s) => s.warnings),
    ...mergedDelivery(stats),
  };
}

/**
 * The delivery evidence of several sources as one: counts, counters and other ENIs' records
 * joined; the flow logs read named only when every source names its own (one that names none read
 * every flow log it was given, which the merge cannot tell apart).
 */
function mergedDelivery(stats: readonly FlowSourceStats[]): Partial<FlowSourceStats> {
  const deliveries = stats.flatMap((s) => s.deliveries ?? []);
  const counters = stats.flatMap((s) => s.counters ?? []);
  const otherEnis = stats.flatMap((s) => s.otherEnis ?? []);
  const named = stats.every((s) => s.flowLogIds !== undefined) && stats.length > 0;
  return {
    ...(stats.some((s) => s.deliveries !== undefined) ? { deliveries } : {}),
    ...(counters.length > 0 ? { counters } : {}),
    ...(named ? { flowLogIds: [...new Set(stats.flatMap((s) => s.flowLogIds ?? []))].sort() } : {}),
    ...(otherEnis.length > 0 ? { otherEnis } : {}),
  };
}

/**
 * Runs one flow query on several sources at once and returns their aggregates together.
 *
 * @example
 * const flowSource = new CompositeFlowSource([insightsSource, athenaSource]);
 * const { aggregates, sourceStats } = await flowSource.aggregate({ window, eniIds });
 */
export class CompositeFlowSource implements FlowAggregateSource {
  private readonly sources: readonly FlowAggregateSource[];
  private readonly warnings: readonly string[];
  private readonly sampleLimit: number;

  constructor(sources: readonly FlowAggregateSource[], options: CompositeFlowSourceOptions = {}) {
    this.sources = sources;
    this.warnings = options.warnings ?? [];
    this.sampleLimit = options.malformedSampleLimit ?? DEFAULT_SAMPLE_LIMIT;
  }

  /**
   * Every source's aggregates (concatenated, in source order) and statistics: one entry per engine
   * in `sourceStats` (sources of one engine merged), their total in `stats`. The composite's own
   * warnings go to the first engine's entry (or an engine 'none' entry when there is no source).
   * A failing source fails the whole query: a partial answer would read as unused rules.
   */
  async aggregate(query: FlowQuery): Promise<CompositeFlowAggregateResult> {
    const results = await Promise.all(this.sources.map((source) => source.aggregate(query)));
    const aggregates: FlowAggregate[] = results.flatMap((r) => r.aggregates);
    const byEngine = new Map<string, FlowSourceStats[]>();
    for (const { stats } of results) {
      const list = byEngine.get(stats.engine) ?? [];
      list.push(stats);
      byEngine.set(stats.engine, list);
    }
    const perEngine = [...byEngine.values()].map((list) => mergeFlowSourceStats(list, this.sampleLimit));
    const sourceStats = this.withOwnWarnings(perEngine);
    return { aggregates, stats: mergeFlowSourceStats(sourceStats, this.sampleLimit), sourceStats };
  }

  /** Closes every source that holds resources; all are attempted, the first failure is rethrown. */
  async close(): Promise<void> {
    const closing = await Promise.allSettled(this.sources.filter(isClosable).map((s) => s.close()));
    const failed = closing.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private withOwnWarnings(perEngine: FlowSourceStats[]): FlowSourceStats[] {
    if (this.warnings.length === 0) return perEngine;
    const [first, ...rest] = perEngine;
    if (first === undefined) {
      return [{ ...mergeFlowSourceStats([]), warnings: [...this.warnings] }];
    }
    return [{ ...first, warnings: [...first.warnings, ...this.warnings] }, ...rest];
  }
}
