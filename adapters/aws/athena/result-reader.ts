/**
 * Reading a finished query's result rows. The result CSV Athena wrote to S3 is read with ONE
 * GetObject, parsed by csv-parse as it streams in, instead of 1,000-row GetQueryResults pages;
 * when the CSV is missing (or no output location is known) the pages are read instead. Either
 * way each row reaches the caller as a record keyed by the result's column names.
 */
import { pipeline } from 'node:stream/promises';
import { type AthenaClient, GetQueryResultsCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CsvError, type Options as CsvParseOptions, parse } from 'csv-parse';
import type { ResultCell } from '../../../shared/flow/aggregate-sql';
import { AthenaResultFormatError } from './errors';
import type { AthenaFlowSourceLogger, AthenaQueryRunner, CompletedQuery } from './query-runner';

/** A CSV value: NULL (an unquoted empty field) or the text. */
export type CsvCell = string | null;

/** Called with each result row after the header as a record, and its number (from 1). */
export type ResultRecordHandler = (record: Record<string, ResultCell>, row: number) => void;

/** What a result body may be: the SDK's stream in Node, or any chunks of UTF-8 bytes or text. */
export type ResultCsvChunks = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** GetQueryResults page size (the API's maximum). */
const RESULT_PAGE_ROWS = 1000;
/** Bounds the page loop: 100M rows. */
const MAX_RESULT_PAGES = 100_000;
const S3_URL = /^s3:\/\/([^/]+)\/(.+)$/;

/**
 * How Athena writes its result CSV: every value quoted (`""` inside), NULL as an unquoted empty
 * field, rows ending in `\n`; quoted values may hold commas and newlines.
 */
const ATHENA_CSV: CsvParseOptions = {
  // An empty value is NULL only when unquoted: `""` is the empty string.
  cast: (value, context) => (value === '' && !context.quoting ? null : value),
  // Both line ends, whichever comes first: csv-parse's detection would fix the first one seen.
  record_delimiter: ['\r\n', '\n'],
  skip_empty_lines: true,
  // Field counts are checked against the header below, with the query and row in the message.
  relax_column_count: true,
};

/**
 * Parses Athena's result CSV as its chunks arrive (split anywhere, even inside a UTF-8
 * character), calling `onRow` with each row, the header row included.
 *
 * @throws AthenaResultFormatError (naming `where`) for text that is not a CSV, such as an
 *   unterminated quoted value; what `onRow` throws, as is.
 * @example
 * const rows: CsvCell[][] = [];
 * await parseResultCsv(['"a","b"\n"1",', '\n'], (row) => rows.push(row)); // [['a', 'b'], ['1', null]]
 */
export async function parseResultCsv(
  chunks: ResultCsvChunks,
  onRow: (cells: CsvCell[]) => void,
  where = 'result CSV',
): Promise<void> {
  try {
    await pipeline(chunks, parse(ATHENA_CSV), async (rows: AsyncIterable<CsvCell[]>) => {
      for await (const cells of rows) onRow(cells);
    });
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    throw new AthenaResultFormatError(`${where}: ${error.message}`, { cause: error });
  }
}

/** Numbers the rows after the header and keys their values by the header's names. */
class NamedRows {
  private names?: readonly string[];
  private row = 0;

  constructor(
    private readonly queryId: string,
    private readonly onRecord: ResultRecordHandler,
  ) {}

  get named(): boolean {
    return this.names !== undefined;
  }

  name(names: readonly string[]): void {
    this.names = names;
  }

  add(cells: readonly CsvCell[]): void {
    const names = this.names ?? [];
    this.row += 1;
    if (cells.length !== names.length) {
      throw new AthenaResultFormatError(
        `query ${this.queryId} result row ${this.row}: ${cells.length} values for ${names.length} columns`,
      );
    }
    const record: Record<string, ResultCell> = {};
    names.forEach((name, i) => {
      record[name] = cells[i];
    });
    this.onRecord(record, this.row);
  }
}

const isMissingObject = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'NoSuchKey' ||
    error.name === 'NotFound' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);

export interface AthenaResultReaderOptions {
  readonly athena: AthenaClient;
  readonly s3: S3Client;
  /** Retries the GetQueryResults pages when Athena throttles. */
  readonly runner: Pick<AthenaQueryRunner, 'retryThrottled'>;
  readonly logger?: AthenaFlowSourceLogger;
}

/**
 * Reads the result rows of succeeded queries.
 *
 * @example
 * const reader = new AthenaResultReader({ athena, s3, runner });
 * await reader.read(await runner.execute(sql, 'aggregate', { inDatabase: true }), (record, row) => rows.push(record));
 */
export class AthenaResultReader {
  constructor(private readonly options: AthenaResultReaderOptions) {}

  /** Reads a query's result rows: the CSV in one GET, else GetQueryResults pages. */
  async read(query: CompletedQuery, onRecord: ResultRecordHandler): Promise<void> {
    if (query.resultLocation !== undefined) {
      try {
        await this.readCsv(query, query.resultLocation, onRecord);
        return;
      } catch (error) {
        if (!isMissingObject(error)) throw error;
        this.options.logger?.warn('athena result CSV missing: reading GetQueryResults pages', {
          queryExecutionId: query.id,
          location: query.resultLocation,
        });
      }
    }
    await this.readPages(query.id, onRecord);
  }

  private async readCsv(
    query: CompletedQuery,
    location: string,
    onRecord: ResultRecordHandler,
  ): Promise<void> {
    const match = S3_URL.exec(location);
    if (match === null) {
      throw new AthenaResultFormatError(
        `query ${query.id}: result location '${location}' is not an s3:// URL`,
      );
    }
    const object = await this.options.s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
    const body = object.Body as unknown;
    let chunks: ResultCsvChunks;
    if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
      chunks = body as AsyncIterable<Uint8Array | string>;
    } else if (body !== null && typeof body === 'object' && 'transformToString' in body) {
      chunks = [await (body as { transformToString(): Promise<string> }).transformToString()];
    } else if (body !== undefined && body !== null) {
      throw new AthenaResultFormatError(`query ${query.id}: unreadable result body at ${location}`);
    } else {
      chunks = [];
    }
    const rows = new NamedRows(query.id, onRecord);
    await parseResultCsv(
      chunks,
      (cells) => (rows.named ? rows.add(cells) : rows.name(cells.map((c) => c ?? ''))),
      `query ${query.id} result CSV at ${location}`,
    );
  }

  private async readPages(id: string, onRecord: ResultRecordHandler): Promise<void> {
    const rows = new NamedRows(id, onRecord);
    let token: string | undefined;
    for (let page = 1; page <= MAX_RESULT_PAGES; page += 1) {
      const result = await this.options.runner.retryThrottled(`results ${id}`, () =>
        this.options.athena.send(
          new GetQueryResultsCommand({
            QueryExecutionId: id,
            MaxResults: RESULT_PAGE_ROWS,
            NextToken: token,
          }),
        ),
      );
      const cells = (result.ResultSet?.Rows ?? []).map((r) =>
        (r.Data ?? []).map((d) => d.VarCharValue ?? null),
      );
      let first = 0;
      if (!rows.named) {
        const declared = (result.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? '');
        const head = cells[0];
        // The first row of a SELECT's first page repeats the column names.
        if (
          declared.length === 0 ||
          (head !== undefined && head.join('\u0000') === declared.join('\u0000'))
        ) {
          rows.name((head ?? []).map((c) => c ?? ''));
          first = 1;
        } else {
          rows.name(declared);
        }
      }
      for (const row of cells.slice(first)) rows.add(row);
      if (result.NextToken === undefined || result.NextToken === '' || result.NextToken === token) return;
      token = result.NextToken;
    }
    throw new AthenaResultFormatError(`query ${id}: more than ${MAX_RESULT_PAGES} result pages`);
  }
}
