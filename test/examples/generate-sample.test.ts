import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { EXPORT_JSON_FILES, generateSampleAccount, type SampleSummary } from '../../examples/sample/generate';

interface TextRecord {
  readonly file: string;
  readonly line: number;
  readonly fields: Readonly<Record<string, string>>;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The files of `dir` whose bytes differ from the same file under `other`. */
function differingFiles(dir: string, other: string): string[] {
  return listFiles(dir).filter(
    (file) => !readFileSync(path.join(dir, file)).equals(readFileSync(path.join(other, file))),
  );
}

function textFlowLogFiles(dir: string): string[] {
  return listFiles(dir).filter((file) => file.endsWith('.log.gz'));
}

function readLines(dir: string, file: string): string[] {
  const text = gunzipSync(readFileSync(path.join(dir, file))).toString('utf8');
  return text.split('\n').slice(0, -1);
}

function malformedKeys(summary: SampleSummary): Set<string> {
  return new Set(summary.malformed.map((m) => `${m.file}:${m.line}`));
}

/** Every well-formed text record, keyed by its header's field names. */
function readTextRecords(dir: string, summary: SampleSummary): TextRecord[] {
  const skip = malformedKeys(summary);
  const records: TextRecord[] = [];
  for (const file of textFlowLogFiles(dir)) {
    const [header = '', ...lines] = readLines(dir, file);
    const names = header.split(' ');
    lines.forEach((text, i) => {
      const line = i + 2;
      if (skip.has(`${file}:${line}`)) return;
      const values = text.split(' ');
      records.push({
        file,
        line,
        fields: Object.fromEntries(names.map((name, k) => [name, values[k] ?? ''])),
      });
    });
  }
  return records;
}

describe('generateSampleAccount', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'sg-audit-sample-'));
  const first = path.join(root, 'first');
  const second = path.join(root, 'second');
  const otherSeed = path.join(root, 'other-seed');
  const doubled = path.join(root, 'doubled');
  let summary: SampleSummary;
  let doubledSummary: SampleSummary;
  let otherSummary: SampleSummary;

  beforeAll(async () => {
    summary = await generateSampleAccount({ outDir: first, seed: 'test-seed' });
    await generateSampleAccount({ outDir: second, seed: 'test-seed' });
    otherSummary = await generateSampleAccount({ outDir: otherSeed, seed: 'another-seed' });
    doubledSummary = await generateSampleAccount({ outDir: doubled, seed: 'test-seed', scale: 2 });
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('writes byte-identical files when run twice with the same seed', () => {
    // Prepare
    const files = listFiles(first);

    // Act
    const differing = differingFiles(first, second);

    // Assess
    expect(listFiles(second)).toEqual(files);
    expect(files.length).toBeGreaterThan(500);
    expect(differing).toEqual([]);
  });

  it('writes different traffic but the same inventory for another seed', () => {
    // Act
    const sameInventory = Object.keys(EXPORT_JSON_FILES).every((name) =>
      readFileSync(path.join(first, name)).equals(readFileSync(path.join(otherSeed, name))),
    );
    const firstLog = textFlowLogFiles(first)[0] ?? '';

    // Assess
    expect(sameInventory).toBe(true);
    expect(otherSummary.records).not.toBe(summary.records);
    expect(
      readFileSync(path.join(first, firstLog)).equals(readFileSync(path.join(otherSeed, firstLog))),
    ).toBe(false);
  });

  it('writes every JSON file with the top-level key of its AWS CLI command', () => {
    // Prepare
    const expectedKeys: Record<string, string> = {
      'security-groups.json': 'SecurityGroups',
      'network-interfaces.json': 'NetworkInterfaces',
      'flow-logs.json': 'FlowLogs',
      'vpcs.json': 'Vpcs',
      'subnets.json': 'Subnets',
      'network-acls.json': 'NetworkAcls',
      'prefix-lists.json': 'PrefixLists',
      'cloudtrail-events.json': 'Events',
    };

    // Act
    const parsed = Object.keys(expectedKeys).map((name) => [
      name,
      JSON.parse(readFileSync(path.join(first, name), 'utf8')) as Record<string, unknown>,
    ]);
    const manifest = JSON.parse(readFileSync(path.join(first, 'EXPECTED.json'), 'utf8')) as Record<
      string,
      unknown
    >;

    // Assess
    for (const [name, document] of parsed as [string, Record<string, unknown>][]) {
      const key = expectedKeys[name] ?? '';
      // cloudtrail-events.json also says which period it covers (sg-audit export writes it so).
      expect(Object.keys(document)).toEqual(
        name === 'cloudtrail-events.json' ? [key, 'StartTime', 'EndTime', 'Complete'] : [key],
      );
      expect(Array.isArray(document[key]) && (document[key] as unknown[]).length > 0).toBe(true);
    }
    expect(Object.keys(EXPORT_JSON_FILES).sort()).toEqual(Object.keys(expectedKeys).sort());
    expect(manifest).toHaveProperty('securityGroups');
    expect(manifest).toHaveProperty('malformed');
  });

  it('gives every text flow-log line as many fields as its header, except the malformed lines of the manifest', () => {
    // Prepare
    const skip = malformedKeys(summary);
    const flowLogs = (
      JSON.parse(readFileSync(path.join(first, 'flow-logs.json'), 'utf8')) as {
        FlowLogs: { FlowLogId: string; LogFormat: string }[];
      }
    ).FlowLogs;
    const wrongCount: string[] = [];
    const wrongHeader: string[] = [];
    let malformedSeen = 0;

    // Act
    for (const file of textFlowLogFiles(first)) {
      const [header = '', ...lines] = readLines(first, file);
      const flowLogId = path.basename(file).split('_')[3];
      const format = flowLogs.find((log) => log.FlowLogId === flowLogId)?.LogFormat ?? '';
      if (format.replaceAll(/\$\{([^}]+)\}/g, '$1') !== header) wrongHeader.push(file);
      const width = header.split(' ').length;
      lines.forEach((text, i) => {
        if (skip.has(`${file}:${i + 2}`)) {
          malformedSeen++;
          return;
        }
        if (text.split(' ').length !== width) wrongCount.push(`${file}:${i + 2}`);
      });
    }

    // Assess
    expect(wrongHeader).toEqual([]);
    expect(wrongCount).toEqual([]);
    expect(summary.malformed.length).toBeGreaterThanOrEqual(5);
    expect(malformedSeen).toBe(summary.malformed.length);
  });

  it('lists only lines that really are malformed (wrong field count or a non-numeric number)', () => {
    // Prepare
    const numeric = ['srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end'];

    // Act
    const verdicts = summary.malformed.map((entry) => {
      const [header = '', ...lines] = readLines(first, entry.file);
      const names = header.split(' ');
      const values = (lines[entry.line - 2] ?? '').split(' ');
      const badNumber = names.some((name, i) => numeric.includes(name) && !/^(\d+|-)$/.test(values[i] ?? ''));
      return values.length !== names.length || badNumber;
    });

    // Assess
    expect(verdicts.every(Boolean)).toBe(true);
  });

  it('records both directions of every accepted TCP connection on each ENI that sees it', () => {
    // Prepare
    const records = readTextRecords(first, summary).filter(
      (r) => r.fields['log-status'] === 'OK' && r.fields.action === 'ACCEPT' && r.fields.protocol === '6',
    );
    const seen = new Set(
      records.map((r) =>
        [
          r.fields['interface-id'],
          r.fields.srcaddr,
          r.fields.srcport,
          r.fields.dstaddr,
          r.fields.dstport,
          r.fields.start,
        ].join(' '),
      ),
    );

    // Act
    const withoutReply = records.filter(
      (r) =>
        !seen.has(
          [
            r.fields['interface-id'],
            r.fields.dstaddr,
            r.fields.dstport,
            r.fields.srcaddr,
            r.fields.srcport,
            r.fields.start,
          ].join(' '),
        ),
    );

    // Assess
    expect(records.length).toBeGreaterThan(20000);
    expect(withoutReply.map((r) => `${r.file}:${r.line}`)).toEqual([]);
  });

  it('marks the client SYN and the server SYN-ACK in formats with tcp-flags', () => {
    // Prepare
    const withFlags = readTextRecords(first, summary).filter(
      (r) => r.fields['tcp-flags'] !== undefined && r.fields.protocol === '6' && r.fields.action === 'ACCEPT',
    );

    // Act
    const flags = new Set(withFlags.map((r) => r.fields['tcp-flags']));
    const opening = withFlags.filter((r) => r.fields['tcp-flags'] === '2' || r.fields['tcp-flags'] === '3');
    const answered = opening.filter((r) =>
      withFlags.some(
        (reply) =>
          reply.fields['interface-id'] === r.fields['interface-id'] &&
          reply.fields.srcaddr === r.fields.dstaddr &&
          reply.fields.srcport === r.fields.dstport &&
          reply.fields.dstport === r.fields.srcport &&
          (reply.fields['tcp-flags'] === '18' || reply.fields['tcp-flags'] === '19'),
      ),
    );

    // Assess
    expect([...flags].every((flag) => ['0', '1', '2', '3', '18', '19'].includes(flag ?? ''))).toBe(true);
    expect(opening.length).toBeGreaterThan(100);
    expect(answered.length).toBe(opening.length);
  });

  it('keeps a REJECT-only log free of ACCEPT records and an ENI log free of records before its creation', () => {
    // Prepare
    const flowLogs = (
      JSON.parse(readFileSync(path.join(first, 'flow-logs.json'), 'utf8')) as {
        FlowLogs: { FlowLogId: string; TrafficType: string; ResourceId: string; CreationTime: string }[];
      }
    ).FlowLogs;
    const rejectOnly = flowLogs.find((log) => log.TrafficType === 'REJECT');
    const eniLevel = flowLogs.find((log) => log.ResourceId.startsWith('eni-'));
    const records = readTextRecords(first, summary).filter((r) => r.fields['log-status'] === 'OK');

    // Act
    const accepted = records.filter(
      (r) => r.file.includes(rejectOnly?.FlowLogId ?? '?') && r.fields.action !== 'REJECT',
    );
    const early = records.filter(
      (r) =>
        r.file.includes(eniLevel?.FlowLogId ?? '?') &&
        Number(r.fields.start) < Date.parse(eniLevel?.CreationTime ?? '') / 1000,
    );

    // Assess
    expect(rejectOnly).toBeDefined();
    expect(eniLevel).toBeDefined();
    expect(accepted).toEqual([]);
    expect(early).toEqual([]);
  });

  it('writes Parquet objects with the AWS column names under Hive partitions', async () => {
    // Prepare
    const parquet = listFiles(first).filter((file) => file.endsWith('.log.parquet'));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();

    // Act
    const glob = path.join(first, 'flowlogs', '**', '*.parquet').replaceAll("'", "''");
    const reader = await connection.runAndReadAll(
      `SELECT count(*) AS n, count(DISTINCT interface_id) AS enis, sum(CASE WHEN log_status = 'OK' THEN 1 ELSE 0 END) AS ok
       FROM read_parquet('${glob}', hive_partitioning = false)`,
    );
    const columns = await connection.runAndReadAll(
      `SELECT * FROM read_parquet('${glob}', hive_partitioning = false) LIMIT 1`,
    );
    const [row] = reader.getRowObjectsJson();
    const names = columns.columnNames();
    connection.closeSync();
    instance.closeSync();

    // Assess
    expect(parquet.length).toBeGreaterThan(0);
    expect(
      parquet.every((file) => /aws-account-id=\d{12}\/aws-service=vpcflowlogs\/.*\/hour=\d\d\//.test(file)),
    ).toBe(true);
    expect(names).toEqual(
      expect.arrayContaining(['interface_id', 'srcaddr', 'dstport', 'log_status', 'end']),
    );
    const parquetStats = summary.flowLogs.find((log) => parquet[0]?.includes(log.id));
    expect(Number(row?.ok)).toBe(parquetStats?.records);
    expect(Number(row?.n)).toBe(
      (parquetStats?.records ?? 0) + (parquetStats?.nodata ?? 0) + (parquetStats?.skipdata ?? 0),
    );
  });

  it('scales the number of records with --scale', () => {
    // Act
    const ratio = doubledSummary.records / summary.records;

    // Assess
    expect(summary.records).toBeGreaterThan(30000);
    expect(summary.records).toBeLessThan(42000);
    expect(ratio).toBeGreaterThan(1.85);
    expect(ratio).toBeLessThan(2.15);
  });

  it('rejects a scale that is not a positive number', async () => {
    // Act
    const attempt = generateSampleAccount({ outDir: path.join(root, 'never'), scale: 0 });

    // Assess
    await expect(attempt).rejects.toThrow(RangeError);
  });
});

describe('the bundled sample account (examples/sample-account)', () => {
  const committed = path.join(__dirname, '..', '..', 'examples', 'sample-account');
  let fresh = '';

  beforeAll(async () => {
    fresh = mkdtempSync(path.join(tmpdir(), 'sg-audit-sample-default-'));
    await generateSampleAccount({ outDir: fresh });
  });

  afterAll(() => {
    rmSync(fresh, { recursive: true, force: true });
  });

  it('is byte for byte what `npm run sample` writes with the locked dependencies (else run npm run sample)', () => {
    // Act: Parquet files record the DuckDB version that wrote them, so a DuckDB update shows here.
    const differing = differingFiles(fresh, committed);

    // Assess
    expect(listFiles(committed)).toEqual(listFiles(fresh));
    expect(differing).toEqual([]);
  });
});
