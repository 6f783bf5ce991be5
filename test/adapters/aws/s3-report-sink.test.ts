import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { HttpRequest } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DEFAULT_UNKNOWN_SESSION_LINK_SECONDS,
  type LatestReportPointer,
  type PresignGet,
  S3ReportReadError,
  S3ReportSink,
  S3ReportWriteError,
} from '../../../adapters/aws/s3-report-sink';
import { InvalidValueError } from '../../../shared/errors';
import type { ReportFile } from '../../../shared/model/ports';
import { OUTPUT_FORMATS, renderReport } from '../../../shared/render';
import { renderJson } from '../../../shared/render/json';
import type { AuditReport } from '../../../shared/report/model';
import { sampleReport } from '../../fixtures/report-fixture';

const BUCKET = 'audit-reports';
const RUN_PREFIX = 'reports/123456789012/ap-northeast-2/2025/11/17/2025-11-17T000512Z-7f3a9c/';
const LATEST_KEY = 'reports/123456789012/ap-northeast-2/latest.json';
const NOW = new Date('2025-11-17T00:06:00.000Z');
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

const s3 = new S3Client({ region: 'ap-northeast-2', credentials: CREDENTIALS });
/** Temporary credentials (a Lambda role's, say) that expire at 06:00. */
const SESSION_END = new Date('2025-11-17T06:00:00.000Z');
const temporaryS3 = new S3Client({
  region: 'ap-northeast-2',
  credentials: async () => ({ ...CREDENTIALS, sessionToken: 'token', expiration: SESSION_END }),
});
/** A Lambda role's credentials, from the environment: temporary, with no stated expiration. */
const lambdaS3 = new S3Client({
  region: 'ap-northeast-2',
  credentials: async () => ({ ...CREDENTIALS, sessionToken: 'lambda-token' }),
});
// The mocks wrap these instances only: the throttling test uses a client of its own.
const s3Mock = mockClient(s3);
const temporaryS3Mock = mockClient(temporaryS3);
const lambdaS3Mock = mockClient(lambdaS3);

function fakePresign(): jest.MockedFunction<PresignGet> {
  return jest.fn(
    async (command, expires) => `https://signed.example/${command.input.Key}?expires=${expires}`,
  );
}

function putInputs(): PutObjectCommandInput[] {
  return s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
}

function awsError(name: string): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: 404 } });
}

/** A GetObject output whose body reads as `text` (the SDK's stream mixin, reduced). */
function bodyOf(text: string) {
  return { Body: { transformToString: async () => text } } as never;
}

const SMALL_FILES: ReportFile[] = [
  { name: 'report.json', contentType: 'application/json; charset=utf-8', body: '{}' },
  { name: 'report.html', contentType: 'text/html; charset=utf-8', body: '<html></html>' },
];

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  temporaryS3Mock.reset();
  temporaryS3Mock.on(PutObjectCommand).resolves({});
  lambdaS3Mock.reset();
  lambdaS3Mock.on(PutObjectCommand).resolves({});
});

describe('S3ReportSink.write', () => {
  it('writes every rendered file under the dated run prefix with its content type', async () => {
    // Prepare
    const report = sampleReport();
    const files = await renderReport(report, OUTPUT_FORMATS);
    const sink = new S3ReportSink({
      s3: s3,
      bucket: BUCKET,
      presign: fakePresign(),
      now: () => NOW,
    });

    // Act
    const stored = await sink.write(report, files);

    // Assess
    const puts = putInputs();
    const fileKeys = files.map((f) => `${RUN_PREFIX}${f.name}`);
    expect(
      puts
        .slice(0, files.length)
        .map((p) => p.Key)
        .sort(),
    ).toEqual([...fileKeys].sort());
    for (const file of files) {
      const put = puts.find((p) => p.Key === `${RUN_PREFIX}${file.name}`);
      expect(put?.Bucket).toBe(BUCKET);
      expect(put?.ContentType).toBe(file.contentType);
      expect(put?.Body).toBe(file.body);
    }
    expect(stored.location).toBe(`s3://${BUCKET}/${RUN_PREFIX}`);
    expect(stored.keys).toEqual([...fileKeys, LATEST_KEY]);
  });

  it('encrypts with SSE-S3 by default and with the KMS key when one is given', async () => {
    // Prepare
    const plain = new S3ReportSink({ s3: s3, bucket: BUCKET, presign: fakePresign() });
    const kms = new S3ReportSink({
      s3: s3,
      bucket: BUCKET,
      presign: fakePresign(),
      kmsKeyId: 'alias/audit',
    });

    // Act
    await plain.write(sampleReport(), SMALL_FILES);
    const plainPuts = putInputs();
    s3Mock.resetHistory();
    await kms.write(sampleReport(), SMALL_FILES);
    const kmsPuts = putInputs();

    // Assess
    expect(plainPuts).toHaveLength(3);
    for (const put of plainPuts) {
      expect(put.ServerSideEncryption).toBe('AES256');
      expect(put.SSEKMSKeyId).toBeUndefined();
    }
    expect(kmsPuts).toHaveLength(3);
    for (const put of kmsPuts) {
      expect(put).toMatchObject({
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: 'alias/audit',
        BucketKeyEnabled: true,
      });
    }
  });

  it('marks CSV and XLSX files as downloads and nothing else', async () => {
    // Prepare
    const report = sampleReport();
    const files = await renderReport(report, ['csv', 'xlsx', 'html', 'json']);
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET, presign: fakePresign() });

    // Act
    await sink.write(report, files);

    // Assess
    const dispositions = Object.fromEntries(
      putInputs().map((p) => [p.Key?.slice(p.Key.lastIndexOf('/') + 1), p.ContentDisposition]),
    );
    expect(dispositions).toEqual({
      'findings.csv': 'attachment; filename="findings.csv"',
      'rules.csv': 'attachment; filename="rules.csv"',
      'recommendations.csv': 'attachment; filename="recommendations.csv"',
      'resources.csv': 'attachment; filename="resources.csv"',
      'delivery.csv': 'attachment; filename="delivery.csv"',
      'rejected.csv': 'attachment; filename="rejected.csv"',
      'egress.csv': 'attachment; filename="egress.csv"',
      'report.xlsx': 'attachment; filename="report.xlsx"',
      'report.html': undefined,
      'report.json': undefined,
      'latest.json': undefined,
    });
  });

  it('writes latest.json last, pointing at the run and its counts', async () => {
    // Prepare
    const report = sampleReport();
    const files = await renderReport(report, OUTPUT_FORMATS);
    const sink = new S3ReportSink({
      s3: s3,
      bucket: BUCKET,
      presign: fakePresign(),
      concurrency: 3,
    });

    // Act
    await sink.write(report, files);

    // Assess
    const puts = putInputs();
    expect(puts).toHaveLength(files.length + 1);
    const last = puts[puts.length - 1];
    expect(last?.Key).toBe(LATEST_KEY);
    expect(last?.ContentType).toBe('application/json; charset=utf-8');
    expect(last?.CacheControl).toBe('no-cache');
    const pointer = JSON.parse(String(last?.Body)) as LatestReportPointer;
    expect(pointer).toMatchObject({
      schemaVersion: 1,
      runId: '2025-11-17T000512Z-7f3a9c',
      generatedAt: '2025-11-17T00:05:12.000Z',
      bucket: BUCKET,
      prefix: RUN_PREFIX,
      reportKey: `${RUN_PREFIX}report.json`,
      keys: files.map((f) => `${RUN_PREFIX}${f.name}`),
    });
    expect(pointer.summary.findingsBySeverity).toEqual({ critical: 2, high: 1, medium: 2, low: 3, info: 3 });
    expect(pointer.summary.rulesByVerdict).toEqual(report.summary.rulesByVerdict);
  });

  it('returns a presigned GET URL of report.html and when it expires', async () => {
    // Prepare
    const presign = fakePresign();
    const sink = new S3ReportSink({
      s3: s3,
      bucket: BUCKET,
      presign,
      presignExpiresSeconds: 86_400,
      now: () => NOW,
    });

    // Act
    const stored = await sink.write(sampleReport(), SMALL_FILES);

    // Assess
    expect(presign).toHaveBeenCalledTimes(1);
    const [command, expires] = presign.mock.calls[0] ?? [];
    expect(command).toBeInstanceOf(GetObjectCommand);
    expect(command?.input).toEqual({ Bucket: BUCKET, Key: `${RUN_PREFIX}report.html` });
    expect(expires).toBe(86_400);
    expect(stored.htmlUrl).toBe(`https://signed.example/${RUN_PREFIX}report.html?expires=86400`);
    expect(stored.htmlUrlExpiresAt).toBe('2025-11-18T00:06:00.000Z');
  });

  it('presigns with the SDK presigner by default, for 7 days', async () => {
    // Prepare
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET, now: () => NOW });

    // Act
    const stored = await sink.write(sampleReport(), SMALL_FILES);

    // Assess
    const url = new URL(stored.htmlUrl ?? '');
    expect(url.pathname).toContain(`${RUN_PREFIX}report.html`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('604800');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.htmlUrlExpiresAt).toBe('2025-11-24T00:06:00.000Z');
  });

  it('states the earlier expiry of temporary signing credentials', async () => {
    // Prepare
    const sink = new S3ReportSink({
      s3: temporaryS3,
      bucket: BUCKET,
      now: () => NOW,
    });

    // Act
    const stored = await sink.write(sampleReport(), SMALL_FILES);

    // Assess
    expect(stored.htmlUrl).toContain('X-Amz-Security-Token=token');
    expect(stored.htmlUrlExpiresAt).toBe('2025-11-17T06:00:00.000Z');
  });

  it('signs the link for exactly what is left of expiring credentials, so the URL says what the alert says', async () => {
    // Prepare
    const sink = new S3ReportSink({ s3: temporaryS3, bucket: BUCKET, now: () => NOW });

    // Act
    const stored = await sink.write(sampleReport(), SMALL_FILES);

    // Assess: 00:06 → 06:00 is 21,240 s.
    expect(new URL(stored.htmlUrl ?? '').searchParams.get('X-Amz-Expires')).toBe('21240');
    expect(stored.htmlUrlExpiresAt).toBe('2025-11-17T06:00:00.000Z');
  });

  it("signs for an hour, and states it, with a Lambda role's credentials (temporary, no stated expiry)", async () => {
    // Prepare
    const warn = jest.fn();
    const sink = new S3ReportSink({
      s3: lambdaS3,
      bucket: BUCKET,
      now: () => NOW,
      logger: { debug: jest.fn(), warn },
    });

    // Act
    const stored = await sink.write(sampleReport(), SMALL_FILES);

    // Assess
    const url = new URL(stored.htmlUrl ?? '');
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(DEFAULT_UNKNOWN_SESSION_LINK_SECONDS));
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('lambda-token');
    expect(stored.htmlUrlExpiresAt).toBe('2025-11-17T01:06:00.000Z');
    expect(warn).toHaveBeenCalledWith('the report link is signed for less than the configured lifetime', {
      why: 'the signing credentials are temporary and state no expiration',
      lifetimeSeconds: 3600,
      configuredSeconds: 604_800,
    });
  });

  it('takes a configured lifetime for links signed by credentials of unknown expiry, never beyond the link lifetime', async () => {
    // Prepare
    const longer = new S3ReportSink({
      s3: lambdaS3,
      bucket: BUCKET,
      now: () => NOW,
      unknownSessionLinkSeconds: 4 * 3600,
    });
    const shorter = new S3ReportSink({
      s3: lambdaS3,
      bucket: BUCKET,
      now: () => NOW,
      presignExpiresSeconds: 600,
    });

    // Act
    const [four, ten] = [
      await longer.write(sampleReport(), SMALL_FILES),
      await shorter.write(sampleReport(), SMALL_FILES),
    ];

    // Assess
    expect(four.htmlUrlExpiresAt).toBe('2025-11-17T04:06:00.000Z');
    expect(ten.htmlUrlExpiresAt).toBe('2025-11-17T00:16:00.000Z');
    expect(() => new S3ReportSink({ s3, bucket: BUCKET, unknownSessionLinkSeconds: 0 })).toThrow(
      /unknownSessionLinkSeconds must be a positive integer/,
    );
  });

  it('gives no link when no HTML report was rendered', async () => {
    // Prepare
    const presign = fakePresign();
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET, presign });

    // Act
    const stored = await sink.write(sampleReport(), [SMALL_FILES[0] as ReportFile]);

    // Assess
    expect(presign).not.toHaveBeenCalled();
    expect(stored.htmlUrl).toBeUndefined();
    expect(stored.keys).toEqual([`${RUN_PREFIX}report.json`, LATEST_KEY]);
  });

  it('dates the run prefix by generatedAt in UTC under a custom prefix', async () => {
    // Prepare
    const report: AuditReport = { ...sampleReport(), generatedAt: '2025-12-31T21:30:00-05:00' };
    const sink = new S3ReportSink({
      s3: s3,
      bucket: BUCKET,
      prefix: '/audit/weekly/',
      presign: fakePresign(),
    });

    // Act
    const stored = await sink.write(report, SMALL_FILES);

    // Assess
    expect(stored.location).toBe(
      `s3://${BUCKET}/audit/weekly/123456789012/ap-northeast-2/2026/01/01/2025-11-17T000512Z-7f3a9c/`,
    );
    expect(stored.keys.at(-1)).toBe('audit/weekly/123456789012/ap-northeast-2/latest.json');
  });

  it('keeps account, region and run id from escaping their key segment', async () => {
    // Prepare
    const report: AuditReport = { ...sampleReport(), account: {}, runId: '../../etc/x y' };
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET, presign: fakePresign() });

    // Act
    const stored = await sink.write(report, SMALL_FILES);

    // Assess
    expect(stored.location).toBe(
      `s3://${BUCKET}/reports/unknown-account/unknown-region/2025/11/17/..-..-etc-x-y/`,
    );
  });

  it('rejects file names with a path and repeated names before writing anything', async () => {
    // Prepare
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET, presign: fakePresign() });
    const nested: ReportFile = { name: '../report.json', contentType: 'application/json', body: '{}' };
    const twice = [SMALL_FILES[0] as ReportFile, SMALL_FILES[0] as ReportFile];

    // Act / Assess
    await expect(sink.write(sampleReport(), [nested])).rejects.toThrow(InvalidValueError);
    await expect(sink.write(sampleReport(), twice)).rejects.toThrow(InvalidValueError);
    expect(putInputs()).toHaveLength(0);
  });

  it('rejects an empty file list instead of pointing latest.json at nothing', async () => {
    // Prepare
    const sink = new S3ReportSink({ s3, bucket: BUCKET, presign: fakePresign() });

    // Act / Assess
    await expect(sink.write(sampleReport(), [])).rejects.toThrow(InvalidValueError);
    expect(putInputs()).toHaveLength(0);
  });

  it('is retried by the SDK when S3 asks to slow down', async () => {
    // Prepare: a fake endpoint that answers the first PutObject with 503 SlowDown.
    const requests: string[] = [];
    const throttledS3 = new S3Client({
      region: 'ap-northeast-2',
      credentials: CREDENTIALS,
      retryStrategy: new ConfiguredRetryStrategy(3, 0),
      requestHandler: {
        handle: async (request: HttpRequest) => {
          requests.push(`${request.method} ${request.path}`);
          const slowDown = requests.length === 1;
          const body = slowDown
            ? '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
            : '';
          return {
            response: {
              statusCode: slowDown ? 503 : 200,
              headers: { 'content-type': 'application/xml', etag: '"e"' },
              body: Buffer.from(body),
            },
          };
        },
      } as never,
    });
    const sink = new S3ReportSink({
      s3: throttledS3,
      bucket: BUCKET,
      presign: fakePresign(),
      concurrency: 1,
    });

    // Act
    const stored = await sink.write(sampleReport(), [SMALL_FILES[0] as ReportFile]);

    // Assess
    expect(requests).toHaveLength(3);
    expect(requests.filter((r) => r.endsWith('/report.json'))).toHaveLength(2);
    expect(requests.at(-1)).toMatch(/latest\.json$/);
    expect(stored.keys).toEqual([`${RUN_PREFIX}report.json`, LATEST_KEY]);
  });

  it('rejects a report whose generatedAt is not a timestamp', async () => {
    // Prepare
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET, presign: fakePresign() });

    // Act / Assess
    await expect(sink.write({ ...sampleReport(), generatedAt: 'last tuesday' }, SMALL_FILES)).rejects.toThrow(
      InvalidValueError,
    );
  });

  it('surfaces a failed PutObject as S3ReportWriteError and leaves latest.json alone', async () => {
    // Prepare
    s3Mock
      .on(PutObjectCommand, { Key: `${RUN_PREFIX}report.html` })
      .rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: {} }));
    const sink = new S3ReportSink({
      s3: s3,
      bucket: BUCKET,
      presign: fakePresign(),
      concurrency: 1,
    });

    // Act
    const writing = sink.write(sampleReport(), SMALL_FILES);

    // Assess
    await expect(writing).rejects.toMatchObject({
      name: 'S3ReportWriteError',
      bucket: BUCKET,
      key: `${RUN_PREFIX}report.html`,
      message: `cannot write s3://${BUCKET}/${RUN_PREFIX}report.html: AccessDenied: Access Denied`,
    });
    await expect(writing).rejects.toBeInstanceOf(S3ReportWriteError);
    expect(putInputs().map((p) => p.Key)).not.toContain(LATEST_KEY);
  });

  it('rejects a presign lifetime beyond SigV4s 7 days and an empty bucket', () => {
    // Act / Assess
    expect(() => new S3ReportSink({ s3: s3, bucket: BUCKET, presignExpiresSeconds: 604_801 })).toThrow(
      InvalidValueError,
    );
    expect(() => new S3ReportSink({ s3: s3, bucket: BUCKET, presignExpiresSeconds: 0 })).toThrow(
      InvalidValueError,
    );
    expect(() => new S3ReportSink({ s3: s3, bucket: ' ' })).toThrow(InvalidValueError);
  });
});

describe('S3ReportSink.readLatest', () => {
  it('returns undefined when no run wrote a pointer', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand).rejects(awsError('NoSuchKey'));
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET });

    // Act
    const latest = await sink.readLatest({ id: '123456789012', region: 'ap-northeast-2' });

    // Assess
    expect(latest).toBeUndefined();
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: LATEST_KEY,
    });
  });

  it('reads back the pointer the last write left', async () => {
    // Prepare
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET, presign: fakePresign() });
    await sink.write(sampleReport(), SMALL_FILES);
    const written = String(putInputs().at(-1)?.Body);
    s3Mock.on(GetObjectCommand, { Key: LATEST_KEY }).resolves(bodyOf(written));

    // Act
    const latest = await sink.readLatest({ id: '123456789012', region: 'ap-northeast-2' });

    // Assess
    expect(latest?.runId).toBe('2025-11-17T000512Z-7f3a9c');
    expect(latest?.reportKey).toBe(`${RUN_PREFIX}report.json`);
  });

  it('throws S3ReportReadError on a malformed pointer or a denied read', async () => {
    // Prepare
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET });
    const account = { id: '123456789012', region: 'ap-northeast-2' };

    // Act / Assess
    s3Mock.on(GetObjectCommand).resolves(bodyOf('{"runId": 3}'));
    await expect(sink.readLatest(account)).rejects.toThrow(S3ReportReadError);
    s3Mock.on(GetObjectCommand).resolves(bodyOf('not json'));
    await expect(sink.readLatest(account)).rejects.toThrow(S3ReportReadError);
    s3Mock.on(GetObjectCommand).rejects(awsError('AccessDenied'));
    await expect(sink.readLatest(account)).rejects.toThrow(/AccessDenied/);
  });
});

describe('S3ReportSink.readReport', () => {
  it('reads and validates a stored report.json', async () => {
    // Prepare
    const report = sampleReport();
    s3Mock.on(GetObjectCommand).resolves(bodyOf(renderJson(report)));
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET });

    // Act
    const read = await sink.readReport(`${RUN_PREFIX}report.json`);

    // Assess
    expect(read).toEqual(report);
  });

  it('throws S3ReportReadError for a missing object or one that is not a report', async () => {
    // Prepare
    const sink = new S3ReportSink({ s3: s3, bucket: BUCKET });

    // Act / Assess
    s3Mock.on(GetObjectCommand).rejects(awsError('NoSuchKey'));
    await expect(sink.readReport('missing.json')).rejects.toThrow(S3ReportReadError);
    s3Mock.on(GetObjectCommand).resolves(bodyOf('{"schemaVersion": "1.0.0"}'));
    await expect(sink.readReport('x.json')).rejects.toThrow(/not a report/);
  });
});
