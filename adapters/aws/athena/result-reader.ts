/**
 * Reading a finished query's result rows. The result CSV Athena wrote to S3 is read with ONE
 * GetObject, parsed as it streams in, instead of 1,000-row GetQueryResults pages;
 * when the CSV is missing (or no output location is known) the pages are read instead. Either
 * way each row reaches the caller as a record keyed by the result's column names.
 */
import { type AthenaClient, GetQueryResultsCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ResultCell } from '../../../shared/flow/aggregate-sql';
import { AthenaResultFormatError } from './errors';
import type { AthenaFlowSourceLogger, AthenaQueryRunner, CompletedQuery } from './query-runner';

/** A CSV value: NULL (an unquoted empty field) or the text. */
export type CsvCell = string | null;

/** Called with each result row after the header as a record, and its number (from 1). */
export type ResultRecordHandler = (record: Record<string, ResultCell>, row: number) => void;

/** GetQueryResults page size (the API's maximum). */
const RESULT_PAGE_ROWS = 1000;
/** Bounds the page loop: 100M rows. */
const MAX_RESULT_PAGES = 100_000;
const S3_URL = /^s3:\/\/([^/]+)\/(.+)$/;

/**
 * An incremental CSV reader for Athena's result files: every value quoted (`""` inside), NULL as
 * an unquoted empty field, rows ending in `\n` (or `\r\n`); quoted values may hold newlines and
 * commas. Fed in chunks of any size, it calls `onRow` per complete row.
 *
 * @example
 * const rows: (string | null)[][] = [];
 * const csv = new CsvRowReader((row) => rows.push(row));
 * csv.push('"a","b"\n"1",'); csv.push('\n'); csv.end(); // rows: [['a','b'], ['1', null]]
 */
export class CsvRowReader {
  private row: CsvCell[] = [];
  private field = '';
  /** start: before a field; plain: in an unquoted field; quoted: inside quotes; closing: after a quote inside quotes. */
  private state: 'start' | 'plain' | 'quoted' | 'closing' = 'start';
  private rows = 0;

  constructor(private readonly onRow: (row: CsvCell[]) => void) {}

  push(text: string): void {
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (this.state === 'quoted') {
        // Fast path: Athena quotes every value, so most text is read here in slices.
        const quote = text.indexOf('"', i);
        if (quote === -1) {
          this.field += text.slice(i);
          return;
        }
        this.field += text.slice(i, quote);
        this.state = 'closing';
        i = quote + 1;
        continue;
      }
      const c = text[i] as string;
      i += 1;
      if (this.state === 'closing') {
        if (c === '"') {
          this.field += '"';
          this.state = 'quoted';
        } else if (c === ',') {
          this.endField(this.field);
        } else if (c === '\n') {
          this.endField(this.field);
          this.endRow();
        } else if (c !== '\r') {
          throw new AthenaResultFormatError(`result CSV row ${this.rows + 1}: '${c}' after a closing quote`);
        }
      } else if (c === '"' && this.state === 'start') {
        this.state = 'quoted';
      } else if (c === ',') {
        this.endField(this.state === 'start' ? null : this.field);
      } else if (c === '\n') {
        if (this.state === 'start' && this.row.length === 0) continue; // a blank line
        this.endField(this.state === 'start' ? null : this.field);
        this.endRow();
      } else if (c !== '\r') {
        this.field += c;
        this.state = 'plain';
      }
    }
  }

  /** Flushes the last row (a file need not end in a newline). */
  end(): void {
    if (this.state === 'quoted') {
      throw new AthenaResultFormatError(`result CSV row ${this.rows + 1}: unterminated quoted value`);
    }
    if (this.state !== 'start' || this.row.length > 0) {
      this.endField(this.state === 'start' ? null : this.field);
      this.endRow();
    }
  }

  private endField(value: CsvCell): void {
    this.row.push(value);
    this.field = '';
    this.state = 'start';
  }

  private endRow(): void {
    const row = this.row;
    this.row = [];
    this.rows += 1;
    this.onRow(row);
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
    const rows = new NamedRows(query.id, onRecord);
    const reader = new CsvRowReader((cells) =>
      rows.named ? rows.add(cells) : rows.name(cells.map((c) => c ?? '')),
    );
    const decoder = new TextDecoder('utf-8');
    const body = object.Body as unknown;
    if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
      for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
        reader.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      }
      reader.push(decoder.decode());
    } else if (body !== null && typeof body === 'object' && 'transformToString' in body) {
      reader.push(await (body as { transformToString(): Promise<string> }).transformToString());
    } else if (body !== undefined && body !== null) {
      throw new AthenaResultFormatError(`query ${query.id}: unreadable result body at ${location}`);
    }
    reader.end();
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
