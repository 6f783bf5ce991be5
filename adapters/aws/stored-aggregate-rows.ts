/**
 * The analyze step's flow source over the query steps' stored results, with its memory bounded:
 * the stored objects are read one at a time, and while their rows add up to at most
 * `inMemoryRows` they are held and handed over as they always were (StoredAggregatesSource). Past
 * that the rows are not held at all: the result streams them (FlowAggregateRows), each read of
 * the fold fetching the objects again one at a time, so the step holds one object's rows at most
 * whatever the number of objects and rows.
 *
 * Sizing (the analyze function has 3,008 MB): a held FlowAggregate costs about 0.3 KB (measured
 * on stored tuples), so the default 2,000,000 held rows take some 0.6 GB; one stored object is
 * parsed whole, so each must stay within V8's largest string (about 512 MiB of JSON: some 3.8
 * million rows at 139 characters a row).
 */
import type { CompositeFlowAggregateResult } from '../../shared/flow/composite-source';
import type {
  FlowAggregate,
  FlowAggregateResult,
  FlowAggregateRows,
  FlowAggregateSource,
  FlowQuery,
  FlowRowReader,
} from '../../shared/model/flow';
import { type S3WorkStore, StoredAggregatesSource } from './s3-work-store';

/** Rows held in memory at most before the stored results are streamed instead. */
export const IN_MEMORY_ROWS = 2_000_000;
/** Rows per chunk handed to the fold. */
const CHUNK_ROWS = 8192;

type StoredResult = FlowAggregateResult & { sourceId: string };

/** The stored results of a run: held when small, streamed from the work bucket when not. */
export interface StoredResults {
  /** The source ids of every stored result, in key order. */
  readonly sourceIds: readonly string[];
  /** Whether the rows are streamed (more than `inMemoryRows`). */
  readonly streamed: boolean;
  readonly source: FlowAggregateSource;
}

/**
 * Reads the stored results at `keys` one at a time, holding their rows only while they add up to
 * at most `inMemoryRows`.
 *
 * @example const { source, sourceIds } = await openStoredResults(store, aggregateKeys);
 */
export async function openStoredResults(
  store: Pick<S3WorkStore, 'getAggregates'>,
  keys: readonly string[],
  inMemoryRows: number = IN_MEMORY_ROWS,
): Promise<StoredResults> {
  const held: StoredResult[] = [];
  let rows = 0;
  let streamed = false;
  const readers = new Map<string, FlowRowReader>();
  for (const key of keys) {
    const result = await store.getAggregates(key);
    rows += result.aggregates.length;
    streamed ||= rows > inMemoryRows;
    for (const row of result.aggregates) {
      readers.set(`${row.eniId}|${row.action}|${row.flowLogId ?? ''}`, {
        eniId: row.eniId,
        action: row.action,
        ...(row.flowLogId === undefined ? {} : { flowLogId: row.flowLogId }),
      });
    }
    held.push(result);
    // Past the bound, keep the statistics only: the rows are read again when the fold asks.
    if (streamed) {
      for (const [i, h] of held.entries()) held[i] = { ...h, aggregates: [] };
    }
  }
  const sourceIds = held.map((r) => r.sourceId);
  if (!streamed) return { sourceIds, streamed, source: new StoredAggregatesSource(held) };
  return {
    sourceIds,
    streamed,
    source: new StreamedStoredAggregates(store, keys, held, [...readers.values()]),
  };
}

/** Stored results whose rows are fetched again, one object at a time, at each read. */
class StreamedStoredAggregates implements FlowAggregateSource {
  constructor(
    private readonly store: Pick<S3WorkStore, 'getAggregates'>,
    private readonly keys: readonly string[],
    private readonly statistics: readonly StoredResult[],
    private readonly readerList: readonly FlowRowReader[],
  ) {}

  async aggregate(query: FlowQuery): Promise<CompositeFlowAggregateResult> {
    // The statistics as StoredAggregatesSource gives them (one entry per engine), no rows.
    const merged = await new StoredAggregatesSource(this.statistics).aggregate(query);
    const wanted = new Set(query.eniIds);
    const inScope = (row: FlowAggregate) => wanted.size === 0 || wanted.has(row.eniId);
    const { store, keys, readerList } = this;
    const rows: FlowAggregateRows = {
      async *read() {
        for (const key of keys) {
          const { aggregates } = await store.getAggregates(key);
          const kept = aggregates.filter(inScope);
          for (let i = 0; i < kept.length; i += CHUNK_ROWS) yield kept.slice(i, i + CHUNK_ROWS);
        }
      },
      async readers() {
        return readerList.filter((r) => wanted.size === 0 || wanted.has(r.eniId));
      },
    };
    return { ...merged, aggregates: [], rows };
  }
}
