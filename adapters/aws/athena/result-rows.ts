/**
 * The rows of one table's single-pass result (buildFlowSinglePassSql, athena dialect) folded
 * into that table's share of an aggregation: the aggregate rows as FlowAggregates, and the
 * statistics rows (one per ENI with records, one of totals) told apart by `row_kind`.
 */
import { InvalidValueError } from '../../../shared/errors';
import {
  deliveryCountFromRow,
  flowAggregateFromRow,
  type ResultCell,
  type SourceFileRead,
  sourceFileFromRow,
} from '../../../shared/flow/aggregate-sql';
import type { DeliveryCount } from '../../../shared/model/delivery';
import type { FlowAggregate } from '../../../shared/model/flow';
import { AthenaResultFormatError } from './errors';

/** The statistics columns a table's result sums (totals or an ENI's share). */
const COUNT_COLUMNS = ['records', 'nodata_records', 'skipdata_records', 'incomplete_records'] as const;
export type CountColumn = (typeof COUNT_COLUMNS)[number];
export type Counts = Record<CountColumn, number>;

/** One table's share of an aggregation. */
export interface TableResult {
  readonly aggregates: FlowAggregate[];
  readonly counts: Counts;
  readonly oldestStart?: number;
  readonly newestEnd?: number;
  readonly enis: string[];
  /** Records per ENI and bucket of the window: the table's flow log delivered then. */
  readonly deliveries: DeliveryCount[];
  /** Records in the window of ENIs outside the scope. */
  readonly otherEnis: { eniId: string; records: number }[];
  /** The objects the query read, with their records (its `file` rows). */
  readonly files: SourceFileRead[];
}

function zeroCounts(): Counts {
  return { records: 0, nodata_records: 0, skipdata_records: 0, incomplete_records: 0 };
}

/** A count or bound cell: NULL (or empty) is none; anything else must be a whole number. */
function optionalNumber(record: Readonly<Record<string, ResultCell>>, column: string): number | undefined {
  const value = record[column];
  if (value === null || value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new InvalidValueError(`expected an integer, got ${String(value)}`, { field: column });
  }
  return n;
}

/** Adds a statistics row's counts (NULL: none, as a sum over no records) to `into`. */
function addCounts(into: Counts, record: Readonly<Record<string, ResultCell>>): void {
  for (const column of COUNT_COLUMNS) into[column] += optionalNumber(record, column) ?? 0;
}

/**
 * Folds the result rows of one table's single-pass query, in any order. With `inScope` (an ENI
 * scope too long for the query's SQL, applied to its results instead), only the rows of those
 * ENIs count, and the counts are the sum of their ENI rows rather than the totals row.
 *
 * @example
 * const rows = new SinglePassRows();
 * await reader.read(done, (record, row) => rows.add(record, row, done.id));
 * const { aggregates, counts } = rows.result();
 */
export class SinglePassRows {
  private readonly aggregates: FlowAggregate[] = [];
  private readonly enis: string[] = [];
  private readonly deliveries: DeliveryCount[] = [];
  private readonly otherEnis: { eniId: string; records: number }[] = [];
  private readonly files: SourceFileRead[] = [];
  private readonly totalCounts = zeroCounts();
  private readonly scopedCounts = zeroCounts();
  private oldestStart?: number;
  private newestEnd?: number;

  constructor(private readonly inScope?: ReadonlySet<string>) {}

  /** @throws AthenaResultFormatError naming the query and row of a row that is not one of the query's. */
  add(record: Readonly<Record<string, ResultCell>>, row: number, queryId: string): void {
    const { inScope } = this;
    try {
      const kind = record.row_kind;
      if (kind === 'aggregate') {
        const aggregate = flowAggregateFromRow(record);
        if (inScope === undefined || inScope.has(aggregate.eniId)) this.aggregates.push(aggregate);
      } else if (kind === 'eni') {
        const eni = String(record.eni_id ?? '');
        if (eni !== '' && (inScope === undefined || inScope.has(eni))) {
          this.enis.push(eni);
          addCounts(this.scopedCounts, record);
        }
      } else if (kind === 'delivery') {
        this.deliveries.push(deliveryCountFromRow(record));
      } else if (kind === 'file') {
        this.files.push(sourceFileFromRow(record));
      } else if (kind === 'other-eni') {
        const eni = String(record.eni_id ?? '');
        if (eni !== '')
          this.otherEnis.push({ eniId: eni, records: optionalNumber(record, 'other_records') ?? 0 });
      } else if (kind === 'totals') {
        addCounts(this.totalCounts, record);
        this.oldestStart = optionalNumber(record, 'oldest_start');
        this.newestEnd = optionalNumber(record, 'newest_end');
      } else {
        throw new InvalidValueError(`unknown row kind '${String(kind)}'`, { field: 'row_kind' });
      }
    } catch (error) {
      throw new AthenaResultFormatError(
        `query ${queryId} result row ${row}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  result(): TableResult {
    return {
      aggregates: this.aggregates,
      counts: this.inScope === undefined ? this.totalCounts : this.scopedCounts,
      oldestStart: this.oldestStart,
      newestEnd: this.newestEnd,
      enis: this.enis,
      deliveries: this.deliveries,
      otherEnis: this.otherEnis,
      files: this.files,
    };
  }
}
