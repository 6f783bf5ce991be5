import { Readable } from 'node:stream';
import { AthenaClient, GetQueryResultsCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { AthenaResultFormatError } from '../../../../adapters/aws/athena/errors';
import {
  AthenaResultReader,
  type CsvCell,
  parseResultCsv,
} from '../../../../adapters/aws/athena/result-reader';
import type { ResultCell } from '../../../../shared/flow/aggregate-sql';

const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const athenaMock = mockClient(AthenaClient);
const s3Mock = mockClient(S3Client);

beforeEach(() => {
  athenaMock.reset();
  s3Mock.reset();
});

/** Athena's CSV quoting: every value quoted, NULL as nothing. */
function csvLine(values: readonly (string | number | null)[]): string {
  return values.map((v) => (v === null ? '' : `"${String(v).replaceAll('"', '""')}"`)).join(',');
}

/** The UTF-8 bytes of `text` cut at the given byte offsets (inside characters too). */
function bytesCut(text: string, cuts: readonly number[]): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  return [0, ...points].map((p, i) => bytes.subarray(p, [...points, bytes.length][i]));
}

async function read(chunks: readonly (string | Uint8Array)[]): Promise<CsvCell[][]> {
  const rows: CsvCell[][] = [];
  await parseResultCsv(chunks, (row) => rows.push(row));
  return rows;
}

describe('parseResultCsv', () => {
  it('reads quoted values with commas, newlines and doubled quotes, and NULL as an empty field', async () => {
    // Prepare
    const text = '"a","b,c","d"\r\n"x ""y""",,"line\nbreak"\n"",plain,\n';

    // Act
    const rows = await read([text]);

    // Assess
    expect(rows).toEqual([
      ['a', 'b,c', 'd'],
      ['x "y"', null, 'line\nbreak'],
      ['', 'plain', null],
    ]);
  });

  it('skips blank lines and reads a last row without a line end', async () => {
    // Act
    const rows = await read(['"a","b"\n\n\n"1",']);

    // Assess
    expect(rows).toEqual([
      ['a', 'b'],
      ['1', null],
    ]);
  });

  it('reads the same rows however the text is split into chunks, even inside a character', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.option(fc.string({ unit: 'grapheme' }), { nil: null }), { minLength: 1, maxLength: 4 }),
          {
            maxLength: 6,
          },
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (rows, cuts) => {
          // Prepare: Athena's quoting of the rows (a NULL-only single-column row is a blank line: not written).
          const kept = rows.filter((r) => !(r.length === 1 && r[0] === null));
          const text = kept.map((r) => csvLine(r)).join('\n');

          // Act
          const read1 = await read(bytesCut(text, cuts));

          // Assess
          expect(read1).toEqual(kept);
        },
      ),
    );
  });

  it.each([
    ['an unterminated quoted value', '"a","b\n', /Quote Not Closed/],
    ['text after a closing quote', '"a"x,"b"\n', /Invalid Closing Quote/],
  ])('rejects %s, naming where', async (_what, text, message) => {
    // Act
    const act = parseResultCsv([text], () => {}, 'query q-1 result CSV');

    // Assess
    await expect(act).rejects.toThrow(AthenaResultFormatError);
    await expect(parseResultCsv([text], () => {}, 'query q-1 result CSV')).rejects.toThrow(
      /^query q-1 result CSV: /,
    );
    await expect(parseResultCsv([text], () => {})).rejects.toThrow(message);
  });

  it('passes on what the row handler throws, as it is', async () => {
    // Prepare
    const refused = new Error('not a flow row');

    // Act
    const act = parseResultCsv(['"a"\n"b"\n'], () => {
      throw refused;
    });

    // Assess
    await expect(act).rejects.toBe(refused);
  });
});

describe('AthenaResultReader.read', () => {
  const runner = { retryThrottled: <T>(_what: string, call: () => Promise<T>) => call() };
  const reader = () =>
    new AthenaResultReader({
      athena: new AthenaClient({ region: 'ap-northeast-2', credentials: CREDENTIALS }),
      s3: new S3Client({ region: 'ap-northeast-2', credentials: CREDENTIALS }),
      runner,
    });
  const query = { id: 'q-1', dataScannedInBytes: 0, resultLocation: 's3://results/athena/q-1.csv' };

  it('keys each row after the header by the column names and numbers it from 1', async () => {
    // Prepare
    const text = `${csvLine(['row_kind', 'eni_id'])}\n${csvLine(['eni', 'eni-a'])}\n${csvLine(['totals', null])}\n`;
    s3Mock.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.from(text)]) } as never);
    const records: [Record<string, ResultCell>, number][] = [];

    // Act
    await reader().read(query, (record, row) => records.push([record, row]));

    // Assess
    expect(records).toEqual([
      [{ row_kind: 'eni', eni_id: 'eni-a' }, 1],
      [{ row_kind: 'totals', eni_id: null }, 2],
    ]);
    expect(s3Mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'results', Key: 'athena/q-1.csv' },
    ]);
    expect(athenaMock.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  it('rejects a CSV row with more or fewer values than the header has names, naming the query and row', async () => {
    // Prepare
    const text = `${csvLine(['row_kind', 'eni_id'])}\n${csvLine(['eni', 'eni-a'])}\n${csvLine(['totals'])}\n`;
    s3Mock.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.from(text)]) } as never);

    // Act
    const act = reader().read(query, () => {});

    // Assess
    await expect(act).rejects.toThrow(
      new AthenaResultFormatError('query q-1 result row 2: 1 values for 2 columns'),
    );
  });

  it('rejects a result CSV that does not parse, naming the query and the object', async () => {
    // Prepare
    s3Mock
      .on(GetObjectCommand)
      .callsFake(() => ({ Body: Readable.from([Buffer.from('"row_kind"\n"eni\n')]) }) as never);

    // Act
    const act = reader().read(query, () => {});

    // Assess
    await expect(act).rejects.toThrow(AthenaResultFormatError);
    await expect(reader().read(query, () => {})).rejects.toThrow(
      /^query q-1 result CSV at s3:\/\/results\/athena\/q-1\.csv: Quote Not Closed/,
    );
  });
});
