import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import {
  emptyFlowResult,
  InvalidWorkKeyError,
  S3WorkStore,
  StoredAggregatesSource,
  WorkStoreError,
  workKeys,
} from '../../../adapters/aws/s3-work-store';
import type { FlowAggregate, FlowSourceStats } from '../../../shared/model/flow';
import { flowAggregate } from '../../support/flow-records';

const s3Mock = mockClient(S3Client);
const BUCKET = 'sg-audit-work';

/** A GetObject body (the part of the SDK stream the store reads). */
function body(bytes: Uint8Array | string) {
  return { transformToByteArray: async () => new Uint8Array(Buffer.from(bytes)) } as never;
}

/** What the store last wrote, keyed by object key. */
function written(): Map<string, { body: Buffer; input: PutObjectCommand['input'] }> {
  const objects = new Map<string, { body: Buffer; input: PutObjectCommand['input'] }>();
  for (const call of s3Mock.commandCalls(PutObjectCommand)) {
    const input = call.args[0].input;
    objects.set(input.Key ?? '', { body: Buffer.from(input.Body as Uint8Array | string), input });
  }
  return objects;
}

const HTTPS = flowAggregate({
  clientAddr: '10.0.1.20',
  serverAddr: '10.0.1.10',
  evidence: 'flags',
  synRecords: 1,
  packets: 12,
  bytes: 4800,
});
const DNS: FlowAggregate = {
  ...HTTPS,
  eniId: 'eni-2',
  protocol: 17,
  serverPort: 53,
  clientPort: 40001,
  evidence: 'undecided',
};

function stats(extra: Partial<FlowSourceStats> = {}): FlowSourceStats {
  return { ...emptyFlowResult('logs-insights', ['/vpc/flow']).stats, ...extra };
}

beforeEach(() => {
  s3Mock.reset();
});

describe('workKeys', () => {
  it('lays out a run under runs/<runId>/', () => {
    // Prepare / Act / Assess
    expect(workKeys.inventory('run-1')).toBe('runs/run-1/inventory.json.gz');
    expect(workKeys.queries('run-1')).toBe('runs/run-1/queries.json');
    expect(workKeys.changeHistory('run-1')).toBe('runs/run-1/change-history.json.gz');
    expect(workKeys.aggregates('run-1', 'athena-fl-1')).toBe('runs/run-1/aggregates/athena-fl-1.json.gz');
    expect(workKeys.partial('run-1', 'insights-1', 0)).toBe('runs/run-1/partials/insights-1/0.json.gz');
    expect(workKeys.error('run-1', 'insights-1')).toBe('runs/run-1/errors/insights-1.json');
    expect(workKeys.queryResults('run-1')).toBe('runs/run-1/query-results');
  });

  it('refuses ids that would escape their key segment', () => {
    // Prepare / Act / Assess
    expect(() => workKeys.inventory('../other')).toThrow(InvalidWorkKeyError);
    expect(() => workKeys.aggregates('run-1', 'a/b')).toThrow(/source id 'a\/b'/);
  });
});

describe('S3WorkStore.putJson', () => {
  it('gzips .gz keys with ContentEncoding and encrypts every object', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });

    // Act
    await store.putJson('runs/r/a.json.gz', { a: 1 });
    await store.putJson('runs/r/b.json', [1, 2]);

    // Assess
    const objects = written();
    expect(
      JSON.parse(gunzipSync(objects.get('runs/r/a.json.gz')?.body ?? Buffer.alloc(0)).toString()),
    ).toEqual({ a: 1 });
    expect(objects.get('runs/r/a.json.gz')?.input).toMatchObject({
      Bucket: BUCKET,
      ContentEncoding: 'gzip',
      ContentType: 'application/json; charset=utf-8',
      ServerSideEncryption: 'AES256',
    });
    expect(objects.get('runs/r/b.json')?.body.toString()).toBe('[1,2]');
    expect(objects.get('runs/r/b.json')?.input.ContentEncoding).toBeUndefined();
  });

  it('uses SSE-KMS when a key is given', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET, kmsKeyId: 'alias/audit' });

    // Act
    await store.putJson('runs/r/a.json', {});

    // Assess
    expect(written().get('runs/r/a.json')?.input).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'alias/audit',
    });
  });

  it('names the bucket and key when the write fails', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });

    // Act
    const run = store.putJson('runs/r/a.json', {});

    // Assess
    await expect(run).rejects.toThrow(WorkStoreError);
    await expect(run).rejects.toThrow(
      's3://sg-audit-work/runs/r/a.json: cannot write: AccessDenied: Access Denied',
    );
  });
});

describe('S3WorkStore.getJson', () => {
  it('reads gzipped and plain objects', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand, { Key: 'gz' }).resolves({ Body: body(gzipSync('{"x":[1]}')) });
    s3Mock.on(GetObjectCommand, { Key: 'plain' }).resolves({ Body: body('{"y":2}') });
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });

    // Act / Assess
    await expect(store.getJson('gz')).resolves.toEqual({ x: [1] });
    await expect(store.getJson('plain')).resolves.toEqual({ y: 2 });
  });

  it('fails with the key when the object is missing or not JSON', async () => {
    // Prepare
    s3Mock
      .on(GetObjectCommand, { Key: 'missing' })
      .rejects(Object.assign(new Error('gone'), { name: 'NoSuchKey' }));
    s3Mock.on(GetObjectCommand, { Key: 'text' }).resolves({ Body: body('not json') });
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });

    // Act / Assess
    await expect(store.getJson('missing')).rejects.toThrow(
      's3://sg-audit-work/missing: cannot read: NoSuchKey: gone',
    );
    await expect(store.getJson('text')).rejects.toThrow(/s3:\/\/sg-audit-work\/text: not \(gzipped\) JSON/);
  });
});

describe('S3WorkStore aggregates', () => {
  it('round-trips a source result through compact rows', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });
    const result = {
      aggregates: [HTTPS, DNS],
      stats: stats({ records: 3, queries: 1, bytesScanned: 42, newestRecord: 9 }),
    };

    // Act
    const key = await store.putAggregates('run-1', 'insights-1', result);
    const stored = written().get(key)?.body ?? Buffer.alloc(0);
    s3Mock.on(GetObjectCommand, { Key: key }).resolves({ Body: body(stored) });
    const read = await store.getAggregates(key);

    // Assess
    expect(key).toBe('runs/run-1/aggregates/insights-1.json.gz');
    expect(JSON.parse(gunzipSync(stored).toString()).rows[0]).toEqual([
      'eni-1',
      'ACCEPT',
      6,
      '10.0.1.20',
      '10.0.1.10',
      443,
      null,
      'flags',
      2,
      1,
      1,
      12,
      4800,
      1_700_000_000,
      1_700_000_060,
      1,
      null,
      null,
    ]);
    expect(read).toEqual({ sourceId: 'insights-1', ...result });
  });

  it('keeps the delivery evidence of the stats through the round trip (analyze proves delivery from it)', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });
    const evidence = {
      deliveries: [{ flowLogId: 'fl-1', eniId: 'eni-1', bucketStart: 1_699_920_000, records: 7 }],
      counters: [
        {
          kind: 's3-objects' as const,
          flowLogIds: ['fl-1'],
          subject: 's3://logs objects of fl-1 delivered 2023-11-14',
          bucketStart: 1_699_920_000,
          delivered: 3,
          read: 2,
        },
        {
          kind: 'incoming-log-events' as const,
          flowLogIds: ['fl-2'],
          subject: 'log group /vpc',
          delivered: 9,
          read: 9,
        },
      ],
      flowLogIds: ['fl-1', 'fl-2'],
      otherEnis: [{ eniId: 'eni-9', records: 4 }],
    };
    const result = { aggregates: [HTTPS], stats: { ...stats({ records: 1 }), ...evidence } };

    // Act
    const key = await store.putAggregates('run-1', 'athena-fl-1', result);
    s3Mock
      .on(GetObjectCommand, { Key: key })
      .resolves({ Body: body(written().get(key)?.body ?? Buffer.alloc(0)) });
    const read = await store.getAggregates(key);

    // Assess
    expect(read.stats).toEqual(result.stats);
  });

  it('keeps each row’s flow log through the round trip (the core reads one log per ENI)', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });
    const result = { aggregates: [{ ...HTTPS, flowLogId: 'fl-vpc' }, DNS], stats: stats({ records: 3 }) };

    // Act
    const key = await store.putAggregates('run-1', 'athena-fl-vpc', result);
    s3Mock
      .on(GetObjectCommand, { Key: key })
      .resolves({ Body: body(written().get(key)?.body ?? Buffer.alloc(0)) });
    const read = await store.getAggregates(key);

    // Assess
    expect(read.aggregates.map((a) => a.flowLogId)).toEqual(['fl-vpc', undefined]);
  });

  it('keeps the AWS service a row names for its server through the round trip (the egress view groups by it)', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });
    const result = {
      aggregates: [{ ...HTTPS, serverService: 'DYNAMODB' }, DNS],
      stats: stats({ records: 3 }),
    };

    // Act
    const key = await store.putAggregates('run-1', 'athena-fl-vpc', result);
    s3Mock
      .on(GetObjectCommand, { Key: key })
      .resolves({ Body: body(written().get(key)?.body ?? Buffer.alloc(0)) });
    const read = await store.getAggregates(key);

    // Assess
    expect(read.aggregates).toEqual(result.aggregates);
  });

  it('names the row that is not an aggregate', async () => {
    // Prepare
    const document = {
      schemaVersion: 3,
      runId: 'r',
      sourceId: 's',
      columns: [],
      rows: [['eni-1', 'DROP']],
      stats: {},
    };
    s3Mock.on(GetObjectCommand).resolves({ Body: body(gzipSync(JSON.stringify(document))) });
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });

    // Act / Assess
    await expect(store.getAggregates('k')).rejects.toThrow('s3://sg-audit-work/k: row 0 is not an aggregate');
  });

  it('refuses an object that is not stored aggregates', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).resolves({ Body: body('{"rows":[]}') });
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });

    // Act / Assess
    await expect(store.getAggregates('k')).rejects.toThrow('not stored aggregates (schema 3)');
    await expect(store.getInventory('k')).rejects.toThrow('not a stored inventory (schema 1)');
  });
});

describe('S3WorkStore partial aggregates', () => {
  it('round-trips the rows of a part under runs/<runId>/partials/<sourceId>/', async () => {
    // Prepare
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });
    s3Mock.on(PutObjectCommand).resolves({});

    // Act
    await store.putPartialAggregates('run-1', 'insights-1', 2, [HTTPS, DNS]);
    const object = written().get('runs/run-1/partials/insights-1/2.json.gz');
    s3Mock.on(GetObjectCommand).resolves({ Body: body(object?.body ?? '') });
    const rows = await store.getPartialAggregates('run-1', 'insights-1', 2);

    // Assess
    expect(object?.input.ContentEncoding).toBe('gzip');
    expect(rows).toEqual([HTTPS, DNS]);
  });
});

describe('S3WorkStore change history', () => {
  const HISTORY = {
    source: 'cloudtrail-lookup',
    events: [{ EventId: 'e-1', EventName: 'AuthorizeSecurityGroupIngress', CloudTrailEvent: '{}' }],
    start: 1_787_443_200,
    end: 1_795_219_200,
    complete: false,
    warnings: ['LookupEvents for CreateSecurityGroup failed (AccessDeniedException: denied): …'],
  };

  it('round-trips the events, period, completeness and warnings, encrypted under the run', async () => {
    // Prepare
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET, kmsKeyId: 'alias/sg-audit' });
    s3Mock.on(PutObjectCommand).resolves({});

    // Act
    const key = await store.putChangeHistory('run-1', HISTORY);
    const object = written().get(key);
    s3Mock.on(GetObjectCommand).resolves({ Body: body(object?.body ?? '') });
    const history = await store.getChangeHistory(key);

    // Assess
    expect(key).toBe('runs/run-1/change-history.json.gz');
    expect(object?.input).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/sg-audit' });
    expect(history).toEqual(HISTORY);
  });

  it('refuses an object that is not a stored change history', async () => {
    // Prepare
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });
    const stored = { schemaVersion: 1, runId: 'run-1', history: { ...HISTORY, complete: 'yes' } };
    s3Mock.on(GetObjectCommand).resolves({ Body: body(gzipSync(JSON.stringify(stored))) });

    // Act / Assess
    await expect(store.getChangeHistory('runs/run-1/change-history.json.gz')).rejects.toThrow(
      'not a stored change history (schema 1)',
    );
  });
});

describe('S3WorkStore.getMapResults', () => {
  it("returns each SUCCEEDED child's Output, parsed, from every result file of the manifest", async () => {
    // Prepare
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });
    const files = ['runs/r/query-results/m/SUCCEEDED_0.json', 'runs/r/query-results/m/SUCCEEDED_1.json'];
    s3Mock.on(GetObjectCommand, { Key: 'runs/r/query-results/m/manifest.json' }).resolves({
      Body: body(JSON.stringify({ ResultFiles: { SUCCEEDED: files.map((Key) => ({ Key, Size: 1 })) } })),
    });
    s3Mock.on(GetObjectCommand, { Key: files[0] }).resolves({
      Body: body(JSON.stringify([{ Output: '{"sourceId":"a"}' }, { Output: '{"sourceId":"b"}' }])),
    });
    s3Mock
      .on(GetObjectCommand, { Key: files[1] })
      .resolves({ Body: body(JSON.stringify([{ Output: '{"sourceId":"c"}' }])) });

    // Act
    const outputs = await store.getMapResults('runs/r/query-results/m/manifest.json');

    // Assess
    expect(outputs).toEqual([{ sourceId: 'a' }, { sourceId: 'b' }, { sourceId: 'c' }]);
  });

  it('refuses an object that is not a ResultWriter manifest', async () => {
    // Prepare
    const store = new S3WorkStore({ s3: new S3Client({}), bucket: BUCKET });
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ items: [] })) });

    // Act & Assess
    await expect(store.getMapResults('runs/r/x.json')).rejects.toThrow(
      /not a Distributed Map ResultWriter manifest/,
    );
  });
});

describe('StoredAggregatesSource', () => {
  it('serves the rows of the ENIs asked for, with the stats of each engine apart and their total', async () => {
    // Prepare
    const source = new StoredAggregatesSource([
      {
        aggregates: [HTTPS],
        stats: stats({ records: 2, queries: 1, bytesScanned: 100, enisWithRecords: ['eni-1'] }),
      },
      { aggregates: [], stats: stats({ sources: ['/vpc/other'], queries: 1, bytesScanned: 1 }) },
      {
        aggregates: [DNS],
        stats: stats({
          engine: 'athena',
          sources: ['fl-2'],
          records: 1,
          queries: 2,
          bytesScanned: 10,
          warnings: ['w'],
        }),
      },
    ]);

    // Act
    const result = await source.aggregate({ window: { start: 0, end: 1 }, eniIds: ['eni-2'] });
    const all = await source.aggregate({ window: { start: 0, end: 1 }, eniIds: [] });

    // Assess
    expect(result.aggregates).toEqual([DNS]);
    expect(all.aggregates).toEqual([HTTPS, DNS]);
    expect(result.sourceStats.map((s) => [s.engine, s.sources, s.queries, s.bytesScanned])).toEqual([
      ['logs-insights', ['/vpc/flow', '/vpc/other'], 2, 101],
      ['athena', ['fl-2'], 2, 10],
    ]);
    expect(result.stats).toMatchObject({
      engine: 'logs-insights+athena',
      records: 3,
      queries: 4,
      bytesScanned: 111,
      enisWithRecords: ['eni-1'],
      warnings: ['w'],
    });
  });
});
