import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ReportReadError, S3ReportSink } from '../../../adapters/aws/s3-report-sink';
import { renderOrgReport } from '../../../shared/render/org';
import { orgRun } from '../../shared/org/org-fixtures';

const BUCKET = 'audit-reports';
const s3 = new S3Client({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const s3Mock = mockClient(s3);
const presign = jest.fn(async (command: GetObjectCommand) => `https://signed.example/${command.input.Key}`);

function bodyOf(text: string) {
  return { Body: { transformToString: async () => text } } as never;
}

beforeEach(() => {
  s3Mock.reset();
  presign.mockClear();
});

describe('S3ReportSink organization reports', () => {
  it('writes the run under reports/org/<yyyy>/<mm>/<dd>/<run>/, then org/latest.json, and links report.html', async () => {
    // Prepare
    const { report, tables } = orgRun();
    const sink = new S3ReportSink({ s3, bucket: BUCKET, presign, kmsKeyId: 'alias/audit' });
    s3Mock.on(PutObjectCommand).resolves({});

    // Act
    const stored = await sink.writeOrg(
      report,
      renderOrgReport(report, tables, { reportRoot: '../../../../../' }),
    );

    // Assess
    const prefix = 'reports/org/2025/11/17/org-run-2/';
    const puts = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([
      ...['org-report.json', 'targets.csv', 'findings.csv', 'report.html', 'summary.md'].map(
        (n) => `${prefix}${n}`,
      ),
      'reports/org/latest.json',
    ]);
    expect(puts.every((p) => p.ServerSideEncryption === 'aws:kms' && p.SSEKMSKeyId === 'alias/audit')).toBe(
      true,
    );
    expect(JSON.parse(String(puts.at(-1)?.Body))).toMatchObject({
      runId: 'org-run-2',
      prefix,
      reportKey: `${prefix}org-report.json`,
    });
    expect(stored).toMatchObject({
      location: `s3://${BUCKET}/${prefix}`,
      htmlUrl: `https://signed.example/${prefix}report.html`,
    });
  });

  it('reads the previous organization report through org/latest.json, undefined on the first run', async () => {
    // Prepare
    const { report } = orgRun();
    const sink = new S3ReportSink({ s3, bucket: BUCKET, presign });
    s3Mock
      .on(GetObjectCommand, { Key: 'reports/org/latest.json' })
      .resolvesOnce(
        bodyOf(JSON.stringify({ runId: 'org-run-2', prefix: 'p/', reportKey: 'p/org-report.json' })),
      )
      .rejectsOnce(Object.assign(new Error('gone'), { name: 'NoSuchKey' }));
    s3Mock.on(GetObjectCommand, { Key: 'p/org-report.json' }).resolves(bodyOf(JSON.stringify(report)));

    // Act / Assess
    await expect(sink.readOrgLatest()).resolves.toEqual(JSON.parse(JSON.stringify(report)));
    await expect(sink.readOrgLatest()).resolves.toBeUndefined();
  });

  it('refuses an object that is not an organization report', async () => {
    const sink = new S3ReportSink({ s3, bucket: BUCKET, presign });
    s3Mock.on(GetObjectCommand).resolves(bodyOf('{"schemaVersion":"1.2.0","findings":[]}'));
    await expect(sink.readOrgReport('reports/x/org-report.json')).rejects.toThrow(S3ReportReadError);
  });
});
