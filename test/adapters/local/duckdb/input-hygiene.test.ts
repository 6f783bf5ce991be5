/**
 * Bad input through the real DuckDB source, from files in a temp directory: implausible record
 * times, a line with a field too many, gzip objects cut short. Each is counted and named with its
 * file (and line), never fatal, never silently dropped.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  DuckDbFlowSource,
  type DuckDbFlowSourceOptions,
} from '../../../../adapters/local/duckdb/flow-source';
import type { FlowQuery } from '../../../../shared/model/flow';
import { gzipLines, HEADER, line, objectName, T0, write } from './flow-log-objects';

const ALL: FlowQuery = { window: { start: T0, end: T0 + 3600 }, eniIds: [] };
/** 2100-01-01T00:00:00Z: a record end no clock should write today. */
const YEAR_2100 = 4_102_444_800;

let root: string;
const sources: DuckDbFlowSource[] = [];

function sourceFor(directory: string, options: Partial<DuckDbFlowSourceOptions> = {}): DuckDbFlowSource {
  const source = new DuckDbFlowSource({ directory, threads: 1, scratchDirectory: root, ...options });
  sources.push(source);
  return source;
}

/** A default-format record line with its own start and end. */
function timed(start: number | string, end: number | string, srcport: number | string = 40000): string {
  return `2 123456789012 eni-1 10.0.0.1 10.0.0.2 ${srcport} 22 6 10 1000 ${start} ${end} ACCEPT OK`;
}

/** The records a source's delivery counts hold, over every flow log, ENI and bucket. */
function delivered(stats: { deliveries?: readonly { records: number }[] }): number {
  return (stats.deliveries ?? []).reduce((sum, d) => sum + d.records, 0);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'duckdb-input-hygiene-test-'));
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('DuckDbFlowSource (implausible record times)', () => {
  it('leaves a record ending after its object was delivered out of the window, the counts and the statistics, and names its line', async () => {
    // Prepare: an object delivered at 00:10Z whose third line ends in 2100.
    const directory = join(root, 'future');
    const file = objectName(T0 + 600);
    write(
      directory,
      file,
      gzipLines([HEADER, timed(T0, T0 + 60), timed(T0, YEAR_2100), timed(T0 + 120, T0 + 180)]),
    );
    const source = sourceFor(directory);

    // Act
    const probe = await source.probe();
    const { aggregates, stats } = await source.aggregate(ALL);

    // Assess: the default window ends at the newest plausible record.
    expect(probe.newestRecord).toBe(T0 + 180);
    expect(stats).toMatchObject({ records: 2, newestRecord: T0 + 180, malformedRecords: 1 });
    expect(aggregates.reduce((sum, a) => sum + a.records, 0)).toBe(2);
    expect(delivered(stats)).toBe(2);
    expect(stats.malformedSamples).toEqual([
      {
        file,
        line: 3,
        reason: "end 2100-01-01T00:00:00Z is after the object's delivery 2024-06-01T00:10Z (+1 h)",
      },
    ]);
    expect(stats.warnings.join('\n')).not.toMatch(/after the newest record/);
  });

  it('reads the files no second time when the aggregation left no record out', async () => {
    // Prepare: the same object with and without a record ending in 2100.
    const clean = join(root, 'clean');
    const dirty = join(root, 'dirty');
    const file = objectName(T0 + 600);
    write(clean, file, gzipLines([HEADER, timed(T0, T0 + 60)]));
    write(dirty, file, gzipLines([HEADER, timed(T0, T0 + 60), timed(T0, YEAR_2100)]));

    // Act
    const plain = (await sourceFor(clean).aggregate(ALL)).stats;
    const counted = (await sourceFor(dirty).aggregate(ALL)).stats;

    // Assess: the probe and the aggregation read the files once each; counting the implausible
    // record per file, then reading its file's every value, take two more reads.
    expect(plain).toMatchObject({ records: 1, malformedRecords: 0, queries: 2 });
    expect(counted).toMatchObject({ records: 1, malformedRecords: 1, queries: 4 });
  });

  it("holds a file named otherwise to the run's time", async () => {
    // Prepare: the run happens at 00:30Z; a record of a file without an S3 name ends after it.
    const directory = join(root, 'after-now');
    write(
      directory,
      'flows.log',
      `${[HEADER, timed(T0, T0 + 60), timed(T0 + 1900, T0 + 2000)].join('\n')}\n`,
    );
    const source = sourceFor(directory, { now: T0 + 1800 });

    // Act
    const probe = await source.probe();
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(probe.newestRecord).toBe(T0 + 60);
    expect(stats.records).toBe(1);
    expect(stats.malformedSamples).toEqual([
      {
        file: 'flows.log',
        line: 3,
        reason: "end 2024-06-01T00:33:20Z is after the run's time 2024-06-01T00:30:00Z",
      },
    ]);
  });

  it('counts a record that ends before it starts', async () => {
    // Prepare
    const directory = join(root, 'backwards');
    const file = objectName(T0 + 600);
    write(directory, file, gzipLines([HEADER, timed(T0 + 120, T0 + 60), timed(T0, T0 + 60)]));
    const source = sourceFor(directory);

    // Act
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(stats.records).toBe(1);
    expect(stats.malformedRecords).toBe(1);
    expect(stats.malformedSamples).toEqual([
      { file, line: 2, reason: 'start 2024-06-01T00:02:00Z is after end 2024-06-01T00:01:00Z' },
    ]);
  });

  it('counts a line that is both unreadable and implausible once, as the unreadable line it is', async () => {
    // Prepare: line 2 has a port that is no number and an end in 2100.
    const directory = join(root, 'both');
    const file = objectName(T0 + 600);
    write(
      directory,
      file,
      gzipLines([HEADER, timed(T0, YEAR_2100, 'ssh'), timed(T0, YEAR_2100), timed(T0, T0 + 60)]),
    );
    const source = sourceFor(directory);

    // Act
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(stats.records).toBe(1);
    expect(stats.malformedRecords).toBe(2);
    expect(stats.malformedSamples).toEqual([
      { file, line: 2, reason: "srcport: 'ssh' is not a port (0–65535)" },
      {
        file,
        line: 3,
        reason: expect.stringMatching(/^end 2100-01-01T00:00:00Z is after the object's delivery/),
      },
    ]);
  });

  it('names the row of an implausible Parquet record', async () => {
    // Prepare: a Parquet object delivered at 00:10Z whose second row ends in 2100.
    const directory = join(root, 'parquet');
    const file = objectName(T0 + 600).replace(/\.log\.gz$/, '.log.parquet');
    await writeParquet(join(directory, file), [
      [T0, T0 + 60],
      [T0, YEAR_2100],
    ]);
    const source = sourceFor(directory);

    // Act
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(stats.records).toBe(1);
    expect(stats.malformedSamples).toEqual([
      {
        file,
        line: 2,
        reason: expect.stringMatching(/^end 2100-01-01T00:00:00Z is after the object's delivery/),
      },
    ]);
  });
});

describe('DuckDbFlowSource (malformed-line reasons)', () => {
  it('reports a line with an extra field in the middle by its field count, not by the value it shifts', async () => {
    // Prepare: the AWS docs' default-format record with a v3 `type` value (IPv4) before srcaddr,
    // read under a default-format header — srcport then reads an address.
    const directory = join(root, 'extra-field');
    const record =
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
    const withType = record.replace('eni-1235b8ca123456789 ', 'eni-1235b8ca123456789 IPv4 ');
    write(directory, 'flows.log', `${[HEADER, record, withType].join('\n')}\n`);
    const source = sourceFor(directory);

    // Act
    const { stats } = await source.aggregate({ window: { start: 1418530000, end: 1418533600 }, eniIds: [] });

    // Assess
    expect(stats.records).toBe(1);
    expect(stats.malformedSamples).toEqual([
      { file: 'flows.log', line: 3, reason: 'wrong field count: 15 fields, header has 14' },
    ]);
  });
});

describe('DuckDbFlowSource (gzip objects cut short)', () => {
  it('reads the records before the cut and names the object as truncated, not its cut line as a field count', async () => {
    // Prepare: varied lines compress poorly, so half of the object holds about half of them.
    const directory = join(root, 'cut-in-middle');
    const lines = Array.from({ length: 2000 }, (_, i) =>
      line('eni-2', `10.0.${i % 250}.${(i * 7) % 250}`, '10.0.0.2', 1024 + i, 22),
    );
    const whole = gzipLines([HEADER, ...lines]);
    const cut = whole.subarray(0, Math.floor(whole.length / 2));
    write(directory, 'cut.log.gz', cut);
    write(directory, 'good.log', `${HEADER}\n${line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22)}\n`);
    const before = linesBeforeCut(cut) - 1;
    const source = sourceFor(directory);

    // Act
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(before).toBeGreaterThan(500);
    expect(stats.records).toBe(before + 1);
    expect(stats.warnings).toContain(
      `cut.log.gz: truncated gzip object: ${before} records read before the cut`,
    );
    expect(stats.malformedRecords).toBe(1);
    expect(stats.malformedSamples).toEqual([
      {
        file: 'cut.log.gz',
        line: before + 2,
        reason: `truncated gzip object: ${before} records read before the cut`,
      },
    ]);
  });

  it('skips an object cut inside its header line as truncated, and reads a whole one-line object', async () => {
    // Prepare: the longest prefix of the object that inflates to part of the header line alone,
    // and a whole object of just a header line without a line end.
    const directory = join(root, 'cut-in-header');
    const whole = gzipLines([
      HEADER,
      ...Array.from({ length: 20 }, () => line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22)),
    ]);
    let length = whole.length;
    while (length > 0 && linesBeforeCut(whole.subarray(0, length)) > 0) length -= 1;
    write(directory, 'head-cut.log.gz', whole.subarray(0, length));
    write(directory, 'header-only.log.gz', gzipSync(HEADER));
    write(directory, 'good.log', `${HEADER}\n${line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22)}\n`);
    const source = sourceFor(directory);

    // Act
    const probe = await source.probe();
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(inflated(whole.subarray(0, length)).length).toBeGreaterThan(0);
    expect(probe.unreadableFiles).toEqual(['head-cut.log.gz']);
    expect(probe.warnings).toContain(
      'head-cut.log.gz: truncated gzip object: its header line is incomplete; file skipped',
    );
    expect(stats.malformedSamples).toEqual([
      { file: 'head-cut.log.gz', line: 1, reason: 'truncated gzip object: its header line is incomplete' },
    ]);
    expect(stats).toMatchObject({ files: 2, records: 1, malformedRecords: 1 });
  });
});

/** The text a gzip prefix inflates to, as far as it goes. */
function inflated(prefix: Buffer): string {
  return gunzipSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8');
}

/** The line ends a gzip prefix inflates to. */
function linesBeforeCut(prefix: Buffer): number {
  return inflated(prefix).split('\n').length - 1;
}

/** A Parquet flow-log object (AWS's column names and types) with one connection's records at these times. */
async function writeParquet(path: string, times: readonly (readonly [number, number])[]): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const rows = times.map(
    ([start, end]) =>
      `(5, '123456789012', 'eni-1', '10.0.0.1', '10.0.0.2', 40000, 22, 6, 4, 400, ${start}, ${end}, 'ACCEPT', 'OK')`,
  );
  await connection.run(
    `COPY (
       SELECT CAST(version AS INTEGER) AS version, account_id, interface_id, srcaddr, dstaddr,
         CAST(srcport AS INTEGER) AS srcport, CAST(dstport AS INTEGER) AS dstport, CAST(protocol AS INTEGER) AS protocol,
         CAST(packets AS BIGINT) AS packets, CAST(bytes AS BIGINT) AS bytes, CAST(start AS BIGINT) AS start,
         CAST("end" AS BIGINT) AS "end", action, log_status
       FROM (VALUES ${rows.join(', ')})
         AS v(version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, "end", action, log_status)
     ) TO '${path}' (FORMAT parquet)`,
  );
  connection.closeSync();
  instance.closeSync();
}
