import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbFlowSource } from '../../../../adapters/local/duckdb/flow-source';
import { runAudit } from '../../../../shared/audit';
import { DEFAULT_CONFIG } from '../../../../shared/config';
import { FlowLogFormatError } from '../../../../shared/errors';
import type { FlowAggregate, FlowQuery } from '../../../../shared/model/flow';
import {
  flowLog,
  inventoryOf,
  networkInterface,
  ruleEntry,
  securityGroup,
  vpc,
} from '../../../../testkit/inventory-builder';
import { gzipLines, HEADER, line, objectName, S3_DIR, T0, write } from './flow-log-objects';

const WINDOW = { start: T0, end: T0 + 3600 };
const ALL: FlowQuery = { window: WINDOW, eniIds: [] };
/** Delivered (named) after its records end, the latest at T0 + 7260 (plausibility.ts). */
const S3_FILE = `${S3_DIR}/123456789012_vpcflowlogs_ap-northeast-2_fl-0abc123_20240601T0205Z_1a2b3c.log.gz`;
const CUSTOM_FILE =
  'aws-account-id=123456789012/aws-service=vpcflowlogs/year=2024/month=06/day=01/custom.log';
const PARQUET_FILE = 'parquet/2024/06/01/flows.parquet';

let root: string;
const sources: DuckDbFlowSource[] = [];

function sourceFor(
  directory: string,
  options: { malformedSampleLimit?: number; deliverySlackSeconds?: number } = {},
): DuckDbFlowSource {
  const source = new DuckDbFlowSource({ directory, threads: 1, scratchDirectory: root, ...options });
  sources.push(source);
  return source;
}

function find(rows: readonly FlowAggregate[], eniId: string): FlowAggregate[] {
  return rows.filter((r) => r.eniId === eniId);
}

/** An export directory with every kind of file: S3 gzip text, a custom format, Parquet, bad lines, a bad header. */
async function writeExport(directory: string): Promise<void> {
  write(
    directory,
    S3_FILE,
    gzipLines([
      HEADER,
      line('eni-text', '203.0.113.10', '10.0.0.5', 50123, 443),
      line('eni-text', '10.0.0.5', '203.0.113.10', 443, 50123),
      `2 123456789012 eni-idle - - - - - - - ${T0} ${T0 + 60} - NODATA`,
      `2 123456789012 eni-text - - - - - - - ${T0 + 60} ${T0 + 120} - SKIPDATA`,
      line('eni-text', '10.0.0.5', '198.51.100.1', 40000, 443, T0 + 7200),
    ]),
  );
  write(
    directory,
    CUSTOM_FILE,
    [
      'interface-id srcaddr pkt-srcaddr dstaddr pkt-dstaddr srcport dstport protocol tcp-flags packets bytes start end action log-status',
      // Traffic of 100.64.0.9 through the ENI (10.0.0.7): the packet-level address is read, '-' falls back.
      `eni-custom 10.0.0.7 100.64.0.9 10.0.0.8 - 80 50000 6 2 3 180 ${T0} ${T0 + 60} ACCEPT OK`,
      `eni-custom 10.0.0.8 - 10.0.0.7 100.64.0.9 50000 80 6 18 2 120 ${T0} ${T0 + 60} ACCEPT OK`,
      '',
    ].join('\n'),
  );
  write(
    directory,
    'malformed/flows.log.gz',
    gzipLines([
      HEADER,
      line('eni-bad', '10.0.0.1', '10.0.0.2', 40000, 22),
      '2 123456789012 eni-bad 10.0.0.1 10.0.0.2 ssh 22 6 10 1000 1717200000 1717200060 ACCEPT OK',
      '2 123456789012 eni-bad 10.0.0.1 10.0.0.2 40000',
      line('eni-bad', '10.0.0.2', '10.0.0.1', 22, 40000),
    ]),
  );
  write(directory, 'broken/no-header.log.gz', gzipLines([line('eni-x', '10.0.0.1', '10.0.0.2', 40000, 22)]));
  write(directory, 'notes/README.md', 'not a flow log');

  await writeParquet(join(directory, PARQUET_FILE), 'eni-parquet');
}

/** A Parquet flow-log object as AWS writes it: underscore column names, AWS's types, one connection. */
async function writeParquet(path: string, eni: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const row = (
    src: string,
    dst: string,
    sport: number,
    dport: number,
    bytes: number,
    flags: number,
    direction: string,
  ) =>
    `(5, '123456789012', '${eni}', '${src}', '${dst}', ${sport}, ${dport}, 6, 4, ${bytes}, ${T0}, ${T0 + 60}, 'ACCEPT', 'OK', ${flags}, '${direction}')`;
  await connection.run(
    `COPY (
       SELECT CAST(version AS INTEGER) AS version, account_id, interface_id, srcaddr, dstaddr,
         CAST(srcport AS INTEGER) AS srcport, CAST(dstport AS INTEGER) AS dstport, CAST(protocol AS INTEGER) AS protocol,
         CAST(packets AS BIGINT) AS packets, CAST(bytes AS BIGINT) AS bytes, CAST(start AS BIGINT) AS start,
         CAST("end" AS BIGINT) AS "end", action, log_status, CAST(tcp_flags AS INTEGER) AS tcp_flags, flow_direction
       FROM (VALUES ${row('10.1.0.1', '10.1.0.2', 45000, 5432, 400, 2, 'egress')},
                    ${row('10.1.0.2', '10.1.0.1', 5432, 45000, 5_000_000_000, 18, 'ingress')})
         AS v(version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, "end",
              action, log_status, tcp_flags, flow_direction)
     ) TO '${path}' (FORMAT parquet)`,
  );
  connection.closeSync();
  instance.closeSync();
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'duckdb-flow-source-test-'));
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('DuckDbFlowSource.probe', () => {
  it('finds every flow-log file at any depth and reads each format', async () => {
    // Prepare
    const directory = join(root, 'probe');
    await writeExport(directory);
    const source = sourceFor(directory);

    // Act
    const probe = await source.probe();

    // Assess
    expect(probe.files).toBe(4);
    expect(probe.fieldsByFile[S3_FILE]).toEqual(HEADER.split(' '));
    expect(probe.fieldsByFile[CUSTOM_FILE]).toContain('pkt-srcaddr');
    expect(probe.fieldsByFile[PARQUET_FILE]).toEqual(
      expect.arrayContaining(['interface-id', 'tcp-flags', 'end']),
    );
    expect(probe.newestRecord).toBe(T0 + 7260);
    expect(await source.span()).toEqual({ oldestRecord: T0, newestRecord: T0 + 7260 });
  });

  it('skips a file whose first line is not a header, with a warning naming it, and counts it', async () => {
    // Prepare
    const directory = join(root, 'bad-header');
    await writeExport(directory);
    const source = sourceFor(directory);

    // Act
    const probe = await source.probe();

    // Assess
    expect(probe.unreadableFiles).toEqual(['broken/no-header.log.gz']);
    expect(probe.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^broken\/no-header\.log\.gz: unrecognised flow-log header/),
      ]),
    );
    expect(probe.malformedSamples).toEqual(
      expect.arrayContaining([expect.objectContaining({ file: 'broken/no-header.log.gz', line: 1 })]),
    );
  });

  it('counts every malformed line and samples it with its file and line number', async () => {
    // Prepare
    const directory = join(root, 'malformed');
    await writeExport(directory);
    const source = sourceFor(directory);

    // Act
    const probe = await source.probe();
    const { stats } = await source.aggregate(ALL);

    // Assess: the probe reads headers only; the aggregation reads every line.
    expect(probe.malformedRecords).toBe(1);
    expect(stats.malformedRecords).toBe(3);
    const lines = stats.malformedSamples.filter((s) => s.file === 'malformed/flows.log.gz');
    expect(lines.map((s) => s.line)).toEqual([3, 4]);
    expect(lines.map((s) => s.reason)).toEqual([
      "srcport: 'ssh' is not a port (0–65535)",
      'wrong field count: 6 fields, header has 14',
    ]);
  });

  it('keeps the count complete when samples are limited', async () => {
    // Prepare
    const directory = join(root, 'sample-limit');
    await writeExport(directory);
    const source = sourceFor(directory, { malformedSampleLimit: 1 });

    // Act
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(stats.malformedRecords).toBe(3);
    expect(stats.malformedSamples).toEqual([
      expect.objectContaining({ file: 'broken/no-header.log.gz', line: 1 }),
    ]);
  });

  it('skips files lacking a needed field or whose gzip or Parquet cannot be read, and reads the rest', async () => {
    // Prepare
    const directory = join(root, 'unusable');
    write(directory, 'good.log', `${HEADER}\n${line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22)}\n`);
    write(directory, 'no-ports.log', 'interface-id srcaddr dstaddr\neni-1 10.0.0.1 10.0.0.2\n');
    const gzipHeader = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03]);
    write(directory, 'broken.log.gz', Buffer.concat([gzipHeader, Buffer.alloc(64, 0xff)]));
    await writeParquet(join(directory, 'good.parquet'), 'eni-3');
    write(directory, 'corrupt.parquet', 'PAR1 this is not parquet');
    const source = sourceFor(directory);

    // Act
    const probe = await source.probe();

    // Assess
    expect(probe.files).toBe(2);
    expect([...probe.unreadableFiles].sort()).toEqual(['broken.log.gz', 'corrupt.parquet', 'no-ports.log']);
    const warnings = probe.warnings.join('\n');
    expect(warnings).toContain('no-ports.log: flow-log format lacks srcport, dstport');
    expect(warnings).toMatch(/broken\.log\.gz: cannot read/);
    expect(warnings).toMatch(/corrupt\.parquet: DuckDB cannot read it/);
    expect((await source.aggregate(ALL)).stats.records).toBe(3);
  });

  it('counts the garbled lines of a damaged gzip stream as malformed and keeps times in range', async () => {
    // Prepare: varied lines compress poorly, so the damage lands well past the header.
    const directory = join(root, 'damaged');
    const lines = Array.from({ length: 3000 }, (_, i) =>
      line('eni-2', `10.0.${i % 250}.${(i * 7) % 250}`, '10.0.0.2', 1024 + ((i * 7919) % 60000), 22),
    );
    const damaged = gzipLines([HEADER, ...lines]);
    damaged.fill(0xff, Math.floor(damaged.length * 0.6), Math.floor(damaged.length * 0.6) + 64);
    write(directory, 'damaged.log.gz', damaged);
    const source = sourceFor(directory);

    // Act
    const probe = await source.probe();
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(probe.files).toBe(1);
    expect(probe.newestRecord).toBeLessThanOrEqual(2 ** 32 - 1);
    expect(stats.malformedRecords).toBeGreaterThan(0);
    expect(stats.malformedSamples[0]?.file).toBe('damaged.log.gz');
  });

  it('fails with FlowLogFormatError naming the files when none can be read', async () => {
    // Prepare
    const directory = join(root, 'nothing-readable');
    write(directory, 'a.log', `${line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22)}\n`);
    const source = sourceFor(directory);

    // Act
    const probing = source.probe();

    // Assess
    await expect(probing).rejects.toThrow(FlowLogFormatError);
    await expect(probing).rejects.toThrow(/a\.log/);
  });

  it('reports no files and no records for a missing directory', async () => {
    // Prepare
    const source = sourceFor(join(root, 'does-not-exist'));

    // Act
    const probe = await source.probe();

    // Assess
    expect(probe).toMatchObject({ files: 0, malformedRecords: 0 });
    expect(probe.newestRecord).toBeUndefined();
    expect(probe.warnings).toEqual([expect.stringContaining('no flow-log files')]);
  });
});

describe('DuckDbFlowSource.probe (newest record)', () => {
  it('reads only the newest objects by name when their records prove the newest record', async () => {
    // Prepare: an object named 10 hours before the newest one holds a record that (against how
    // S3 delivers) ends after the newest — the probe does not read it, the aggregation notices.
    // The probe trusts the names to an hour; a source that admits records half a day after their
    // object's name (deliverySlackSeconds) keeps the record, so the aggregation sees it.
    const directory = join(root, 'newest-by-name');
    const late = T0 + 10 * 3600;
    write(
      directory,
      objectName(T0),
      gzipLines([HEADER, line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22, late + 600)]),
    );
    write(
      directory,
      objectName(late),
      gzipLines([HEADER, line('eni-1', '10.0.0.1', '10.0.0.2', 40001, 22, late - 120)]),
    );
    const source = sourceFor(directory, { deliverySlackSeconds: 12 * 3600 });

    // Act
    const probe = await source.probe();
    const { stats } = await source.aggregate({ window: { start: T0, end: late + 3600 }, eniIds: [] });

    // Assess
    expect(probe.newestRecord).toBe(late - 60);
    expect(stats.newestRecord).toBe(late + 660);
    expect(stats.warnings.join('\n')).toMatch(/after the newest record the object names pointed to/);
  });

  it('reads every object when the newest objects do not prove the newest record', async () => {
    // Prepare: the newest object holds only an old record; an older object holds the newest one.
    const directory = join(root, 'newest-full-read');
    const named = T0 + 10 * 3600;
    write(
      directory,
      objectName(T0 + 3600),
      gzipLines([HEADER, line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22, T0 + 3000)]),
    );
    write(
      directory,
      objectName(named),
      gzipLines([HEADER, line('eni-1', '10.0.0.1', '10.0.0.2', 40001, 22, T0)]),
    );
    const source = sourceFor(directory);

    // Act
    const probe = await source.probe();

    // Assess
    expect(probe.newestRecord).toBe(T0 + 3060);
  });
});

describe('DuckDbFlowSource.aggregate (unreadable files)', () => {
  it('skips a file DuckDB cannot read mid-way, with a warning naming it, and aggregates the rest', async () => {
    // Prepare: a gzip stream cut short after its header line inflates for the probe, not for DuckDB.
    const directory = join(root, 'truncated');
    write(directory, 'good.log', `${HEADER}\n${line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22)}\n`);
    const lines = Array.from({ length: 2000 }, (_, i) =>
      line('eni-2', `10.0.${i % 250}.${(i * 7) % 250}`, '10.0.0.2', 1024 + i, 22),
    );
    const whole = gzipLines([HEADER, ...lines]);
    write(directory, 'cut.log.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    const source = sourceFor(directory);

    // Act
    const { aggregates, stats } = await source.aggregate(ALL);

    // Assess
    expect(aggregates.map((a) => a.eniId)).toContain('eni-1');
    expect(stats.malformedRecords).toBeGreaterThan(0);
    expect(stats.malformedSamples.map((s) => s.file)).toContain('cut.log.gz');
  });
});

describe('DuckDbFlowSource.aggregate', () => {
  it('folds each connection of text, custom-format and Parquet files into one row', async () => {
    // Prepare
    const directory = join(root, 'aggregate');
    await writeExport(directory);
    const source = sourceFor(directory);

    // Act
    const { aggregates } = await source.aggregate(ALL);

    // Assess
    expect(find(aggregates, 'eni-text')).toEqual([
      expect.objectContaining({
        clientAddr: '203.0.113.10',
        serverAddr: '10.0.0.5',
        serverPort: 443,
        evidence: 'well-known',
        records: 2,
        requestRecords: 1,
      }),
    ]);
    expect(find(aggregates, 'eni-custom')).toEqual([
      expect.objectContaining({
        clientAddr: '100.64.0.9',
        serverAddr: '10.0.0.8',
        serverPort: 50000,
        evidence: 'flags',
        synRecords: 1,
        bytes: 300,
      }),
    ]);
    expect(find(aggregates, 'eni-parquet')).toEqual([
      expect.objectContaining({
        clientAddr: '10.1.0.1',
        serverPort: 5432,
        evidence: 'flags',
        packets: 8,
        bytes: 5_000_000_400, // past 2^31: read whole, not as a 32-bit integer
      }),
    ]);
    expect(find(aggregates, 'eni-bad')).toEqual([expect.objectContaining({ serverPort: 22, records: 2 })]);
  });

  it('states what was read: files, records, NODATA, SKIPDATA, bytes, ENIs and sources', async () => {
    // Prepare
    const directory = join(root, 'stats');
    await writeExport(directory);
    const source = sourceFor(directory);
    const readable = [S3_FILE, CUSTOM_FILE, PARQUET_FILE, 'malformed/flows.log.gz'];

    // Act
    const { stats } = await source.aggregate(ALL);

    // Assess
    expect(stats).toMatchObject({
      engine: 'duckdb-local',
      files: 4,
      records: 8,
      nodataRecords: 1,
      skipdataRecords: 1,
      malformedRecords: 3,
      bytesScanned: readable.reduce((sum, f) => sum + statSync(join(directory, f)).size, 0),
      newestRecord: T0 + 7260,
      oldestRecord: T0,
      enisWithRecords: ['eni-bad', 'eni-custom', 'eni-idle', 'eni-parquet', 'eni-text'],
    });
    expect(stats.sources).toEqual(['fl-0abc123', directory]);
    expect(stats.queries).toBeGreaterThan(0);
    // The counts are the statement: the audit words them (malformed-records, skipdata), once.
    expect(stats.warnings.join('\n')).not.toMatch(/SKIPDATA|malformed/);
  });

  it('applies the window and the ENI scope', async () => {
    // Prepare
    const directory = join(root, 'scoped');
    await writeExport(directory);
    const source = sourceFor(directory);

    // Act
    const later = await source.aggregate({ window: { start: T0 + 3600, end: T0 + 9000 }, eniIds: [] });
    const scoped = await source.aggregate({ window: WINDOW, eniIds: ['eni-custom'] });

    // Assess
    expect(later.aggregates).toEqual([
      expect.objectContaining({ eniId: 'eni-text', serverAddr: '198.51.100.1' }),
    ]);
    expect(later.stats.records).toBe(1);
    expect(scoped.aggregates.map((a) => a.eniId)).toEqual(['eni-custom']);
    expect(scoped.stats.enisWithRecords).toEqual(['eni-custom']);
  });

  it('keeps only the server ports asked for', async () => {
    // Prepare
    const directory = join(root, 'ports');
    await writeExport(directory);
    const source = sourceFor(directory);

    // Act
    const { aggregates } = await source.aggregate({ ...ALL, ports: [{ from: 5000, to: 5500 }] });

    // Assess
    expect(aggregates.map((a) => a.eniId)).toEqual(['eni-parquet']);
  });
});

describe('DuckDbFlowSource.aggregate (in an audit)', () => {
  it('leaves the report stating the malformed lines and the SKIPDATA records once each', async () => {
    // Prepare: eni-text (SKIPDATA in the window) carries an audited SG; the export has bad lines.
    const directory = join(root, 'audit');
    await writeExport(directory);
    const source = sourceFor(directory);
    const inventory = inventoryOf({
      vpcs: [vpc('vpc-1', { cidrs: ['10.0.0.0/16'] })],
      securityGroups: [
        securityGroup('sg-web', {
          vpcId: 'vpc-1',
          rules: [ruleEntry('sg-web', 'ingress', 'tcp', 443, '0.0.0.0/0')],
        }),
      ],
      networkInterfaces: [
        networkInterface('eni-text', { vpcId: 'vpc-1', privateIpv4: ['10.0.0.5'], sgIds: ['sg-web'] }),
      ],
      flowLogs: [flowLog('fl-0abc123', { resourceId: 'vpc-1', creationTime: '2020-01-01T00:00:00Z' })],
    });

    // Act
    const report = await runAudit({
      inventory,
      flowSource: source,
      window: WINDOW,
      scope: { vpcIds: [], sgIds: [] },
      config: DEFAULT_CONFIG,
      mode: 'offline',
      runId: 'run-1',
      generatedAt: new Date('2026-11-21T00:00:00Z'),
      toolVersion: '0.0.0-test',
    });

    // Assess
    const statements = report.warnings.filter((w) => w.code !== 'malformed-record');
    expect(statements.filter((w) => /malformed|could not be parsed/.test(w.message))).toEqual([
      expect.objectContaining({
        code: 'malformed-records',
        message: expect.stringMatching(/^3 flow-log line/),
      }),
    ]);
    expect(statements.filter((w) => /SKIPDATA/.test(w.message))).toEqual([
      expect.objectContaining({ code: 'skipdata', message: expect.stringMatching(/^1 SKIPDATA record/) }),
    ]);
  });
});

describe('DuckDbFlowSource.aggregate (concurrent)', () => {
  it('answers two aggregations asked at once, each with its own rows', async () => {
    // Prepare
    const directory = join(root, 'concurrent');
    await writeExport(directory);
    const source = sourceFor(directory);

    // Act
    const [custom, parquet] = await Promise.all([
      source.aggregate({ window: WINDOW, eniIds: ['eni-custom'] }),
      source.aggregate({ window: WINDOW, eniIds: ['eni-parquet'] }),
    ]);

    // Assess
    expect(custom.aggregates.map((a) => a.eniId)).toEqual(['eni-custom']);
    expect(parquet.aggregates.map((a) => a.eniId)).toEqual(['eni-parquet']);
  });
});

describe('DuckDbFlowSource.aggregate (beforeAggregation)', () => {
  it('calls it as each aggregation starts, once, before DuckDB aggregates', async () => {
    // Prepare: the hook and the progress lines in one sequence.
    const directory = join(root, 'hook');
    await writeExport(directory);
    const events: string[] = [];
    const source = new DuckDbFlowSource({
      directory,
      threads: 1,
      scratchDirectory: root,
      progress: (message) =>
        events.push(message.replace(/^flow logs: (aggregating|\d+ aggregate rows).*/, '$1')),
      beforeAggregation: () => events.push('before aggregation'),
    });
    sources.push(source);

    // Act
    await source.probe();
    const probed = events.length;
    const [first, second] = await Promise.all([source.aggregate(ALL), source.aggregate(ALL)]);

    // Assess
    expect(events.slice(0, probed)).not.toContain('before aggregation');
    expect(events.slice(probed)).toEqual([
      'aggregating',
      'before aggregation',
      '4 aggregate rows',
      'aggregating',
      'before aggregation',
      '4 aggregate rows',
    ]);
    expect(second.aggregates).toEqual(first.aggregates);
    expect(first.aggregates.length).toBeGreaterThan(0);
  });
});

describe('DuckDbFlowSource.close', () => {
  it('removes its spill directory and refuses further work', async () => {
    // Prepare
    const scratch = join(root, 'scratch');
    mkdirSync(scratch);
    const directory = join(root, 'close');
    write(directory, 'a.log', `${HEADER}\n${line('eni-1', '10.0.0.1', '10.0.0.2', 40000, 22)}\n`);
    const source = new DuckDbFlowSource({ directory, scratchDirectory: scratch });
    await source.probe();

    // Act
    await source.close();
    await source.close();

    // Assess
    expect(readdirSync(scratch)).toEqual([]);
    expect(existsSync(scratch)).toBe(true);
    await expect(source.aggregate(ALL)).rejects.toThrow(/closed/);
  });
});
