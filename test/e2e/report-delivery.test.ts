/**
 * Report delivery against moto_server: the sample report rendered in every format, stored by the
 * S3 sink (keys, content types, encryption, latest.json, a presigned link that downloads), and the
 * e-mail alert published by the SNS publisher (read back from moto's recorded notifications).
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { S3ReportSink } from '../../adapters/aws/s3-report-sink';
import { SnsAlertPublisher } from '../../adapters/aws/sns-alert-publisher';
import { composeEmail } from '../../shared/alerts';
import type { AuditAlert, StoredReport } from '../../shared/model/ports';
import { OUTPUT_FORMATS, type RenderedFile, renderReport } from '../../shared/render';
import { sampleReport } from '../fixtures/report-fixture';
import { type MotoServer, motoClientConfig, resetMoto, startMoto } from '../support/moto';

const BUCKET = 'sg-audit-reports';
const RUN_PREFIX = 'reports/123456789012/ap-northeast-2/2025/11/17/2025-11-17T000512Z-7f3a9c/';
const LATEST_KEY = 'reports/123456789012/ap-northeast-2/latest.json';

/** One notification moto recorded on a topic: [message id, message, subject, attributes, group id]. */
type SentNotification = [string, string, string | null, Record<string, unknown> | null, string | null];

/** What moto's model dump says about SNS topics (only the fields read here). */
interface MotoModelData {
  readonly sns?: {
    readonly Topic?: readonly { readonly arn: string; readonly sent_notifications: SentNotification[] }[];
  };
}

async function sentNotifications(endpoint: string, topicArn: string): Promise<SentNotification[]> {
  const response = await fetch(`${endpoint}/moto-api/data.json`);
  const data = (await response.json()) as MotoModelData;
  return data.sns?.Topic?.find((topic) => topic.arn === topicArn)?.sent_notifications ?? [];
}

let moto: MotoServer;
let s3: S3Client;
let sns: SNSClient;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({ ...motoClientConfig(moto.endpoint), forcePathStyle: true });
  sns = new SNSClient(motoClientConfig(moto.endpoint));
});

afterAll(async () => {
  s3?.destroy();
  sns?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await resetMoto(moto.endpoint);
  await s3.send(
    new CreateBucketCommand({
      Bucket: BUCKET,
      CreateBucketConfiguration: { LocationConstraint: 'ap-northeast-2' },
    }),
  );
});

async function storeSampleReport(): Promise<{
  stored: StoredReport;
  files: RenderedFile[];
  sink: S3ReportSink;
}> {
  const report = sampleReport();
  const files = await renderReport(report, OUTPUT_FORMATS);
  const sink = new S3ReportSink({ s3, bucket: BUCKET, presignExpiresSeconds: 3_600 });
  return { stored: await sink.write(report, files), files, sink };
}

describe('report delivery (moto)', () => {
  it('stores every rendered file under the run prefix, with content types and encryption', async () => {
    // Prepare / Act
    const { stored, files } = await storeSampleReport();

    // Assess
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'reports/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
    expect(keys).toEqual([...files.map((f) => `${RUN_PREFIX}${f.name}`), LATEST_KEY].sort());
    expect(stored.location).toBe(`s3://${BUCKET}/${RUN_PREFIX}`);
    for (const file of files) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${RUN_PREFIX}${file.name}` }));
      expect(head.ContentType).toBe(file.contentType);
      expect(head.ServerSideEncryption).toBe('AES256');
      const download = file.name.endsWith('.csv') || file.name.endsWith('.xlsx');
      expect(head.ContentDisposition).toBe(download ? `attachment; filename="${file.name}"` : undefined);
    }
    const xlsx = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${RUN_PREFIX}report.xlsx` }));
    const xlsxBytes = await xlsx.Body?.transformToByteArray();
    expect(
      Buffer.from(xlsxBytes ?? [])
        .subarray(0, 2)
        .toString('latin1'),
    ).toBe('PK');
  });

  it('points latest.json at the run and reads the report back through it', async () => {
    // Prepare
    const { sink } = await storeSampleReport();

    // Act
    const latest = await sink.readLatest({ id: '123456789012', region: 'ap-northeast-2' });
    const report = await sink.readReport(latest?.reportKey ?? '');

    // Assess
    expect(latest).toMatchObject({ runId: '2025-11-17T000512Z-7f3a9c', prefix: RUN_PREFIX, bucket: BUCKET });
    expect(latest?.summary.findingsBySeverity).toEqual({ critical: 2, high: 1, medium: 2, low: 3, info: 3 });
    expect(report).toEqual(sampleReport());
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: LATEST_KEY }));
    expect(head.ContentType).toBe('application/json; charset=utf-8');
  });

  it('gives a presigned link that downloads the HTML report', async () => {
    // Prepare
    const { stored } = await storeSampleReport();

    // Act
    const response = await fetch(stored.htmlUrl ?? '');
    const html = await response.text();

    // Assess
    expect(new URL(stored.htmlUrl ?? '').searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(response.status).toBe(200);
    expect(html.startsWith('<!DOCTYPE html>') || html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('123456789012');
  });

  it('publishes the e-mail summary and a failure alert to the SNS topic', async () => {
    // Prepare
    const { stored } = await storeSampleReport();
    const topic = await sns.send(new CreateTopicCommand({ Name: 'sg-audit-alerts' }));
    const topicArn = topic.TopicArn ?? '';
    const publisher = new SnsAlertPublisher({ sns, topicArn });
    const reportAlert: AuditAlert = { kind: 'report', report: sampleReport(), stored };
    const failureAlert: AuditAlert = {
      kind: 'failure',
      runId: 'run-2',
      step: 'QueryFlows',
      error: { name: 'FlowLogQueryTimeoutError', message: 'query q-1 ran over 900 s' },
      account: { id: '123456789012', region: 'ap-northeast-2' },
    };

    // Act
    await publisher.publish(reportAlert);
    await publisher.publish(failureAlert);

    // Assess
    const sent = await sentNotifications(moto.endpoint, topicArn);
    expect(sent).toHaveLength(2);
    const [report, failure] = sent;
    const email = composeEmail(reportAlert);
    expect(report?.[2]).toBe('sg-audit 123456789012/ap-northeast-2: 2 critical, 1 high findings (+8 lower)');
    expect(report?.[1]).toBe(email.body);
    expect(report?.[1]).toContain(`HTML report: ${stored.htmlUrl}`);
    expect(failure?.[2]).toBe(
      'sg-audit FAILED 123456789012/ap-northeast-2: FlowLogQueryTimeoutError in QueryFlows',
    );
    expect(failure?.[1]).toContain('query q-1 ran over 900 s');
  });
});
