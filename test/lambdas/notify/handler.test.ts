import { sampleReport } from '../../fixtures/report-fixture';

const BASE_ENV = { ...process.env };
const TOPIC_ARN = 'arn:aws:sns:ap-northeast-2:123456789012:sg-audit-alerts';
const REPORT_KEY = 'reports/123456789012/ap-northeast-2/2025/11/17/run-1/report.json';
const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/SECRET';

/** Imports the handler afresh with `env` set first, its SDK clients mocked in the same module registry. */
async function loadNotify(env: Record<string, string> = {}) {
  jest.resetModules();
  process.env = {
    ...BASE_ENV,
    AWS_REGION: 'ap-northeast-2',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    REPORT_BUCKET: 'sg-audit-reports',
    ALERT_TOPIC_ARN: TOPIC_ARN,
    LOG_LEVEL: 'SILENT',
    ...env,
  };
  const { mockClient } = await import('aws-sdk-client-mock');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const snsSdk = await import('@aws-sdk/client-sns');
  const secretsSdk = await import('@aws-sdk/client-secrets-manager');
  const s3 = mockClient(s3Sdk.S3Client);
  const sns = mockClient(snsSdk.SNSClient);
  const secrets = mockClient(secretsSdk.SecretsManagerClient);
  s3.on(s3Sdk.GetObjectCommand, { Key: REPORT_KEY }).resolves({
    Body: { transformToString: async () => JSON.stringify(sampleReport()) } as never,
  });
  sns.on(snsSdk.PublishCommand).resolves({ MessageId: 'm-1' });
  const { handler } = await import('../../../lambdas/notify/handler');
  const published = () => sns.commandCalls(snsSdk.PublishCommand).map((c) => c.args[0].input);
  return { handler, sns, snsSdk, secrets, secretsSdk, published };
}

afterEach(() => {
  jest.restoreAllMocks();
});

afterAll(() => {
  process.env = BASE_ENV;
});

describe('notify handler', () => {
  it('e-mails the summary of the stored report with its link', async () => {
    // Prepare
    const { handler, published } = await loadNotify();

    // Act
    const result = await handler({
      runId: 'run-1',
      reportJsonKey: REPORT_KEY,
      htmlUrl: 'https://example.com/r.html',
    });

    // Assess
    expect(result).toEqual({ runId: 'run-1', kind: 'report', published: ['sns'], failed: [] });
    const [message] = published();
    expect(message?.TopicArn).toBe(TOPIC_ARN);
    expect(message?.Subject).toBe(
      'sg-audit 123456789012/ap-northeast-2: 2 critical, 1 high findings (+8 lower)',
    );
    expect(message?.Message).toContain('HTML report: https://example.com/r.html');
  });

  it('publishes a failure alert from the Catch result, with the Lambda error message', async () => {
    // Prepare
    const { handler, published } = await loadNotify();
    const cause = JSON.stringify({
      errorType: 'ConfigError',
      errorMessage: 'WORK_BUCKET is required',
      trace: ['at x'],
    });

    // Act
    const result = await handler({
      runId: 'run-2',
      step: 'Discover',
      error: { Error: 'ConfigError', Cause: cause },
    });

    // Assess
    expect(result).toEqual({ runId: 'run-2', kind: 'failure', published: ['sns'], failed: [] });
    const [message] = published();
    expect(message?.Subject).toContain('FAILED');
    expect(message?.Subject).toContain('ConfigError in Discover');
    expect(message?.Message).toContain('WORK_BUCKET is required');
    expect(message?.Message).not.toContain('at x');
  });

  it('reports a channel that failed while another delivered, without throwing', async () => {
    // Prepare
    const { handler, secrets, secretsSdk } = await loadNotify({ SLACK_SECRET_ID: 'sg-audit/slack' });
    secrets.on(secretsSdk.GetSecretValueCommand).resolves({ SecretString: WEBHOOK });
    const fetchSpy = jest
      .spyOn(globalThis, 'fetch')
      .mockResolvedValue(new Response('invalid_payload', { status: 400 }));

    // Act
    const result = await handler({ runId: 'run-3', error: { Error: 'States.Timeout' } });

    // Assess
    expect(fetchSpy).toHaveBeenCalledWith(WEBHOOK, expect.objectContaining({ method: 'POST' }));
    expect(result.published).toEqual(['sns']);
    expect(result.failed).toEqual([
      { channel: 'slack', error: expect.stringMatching(/^SlackDeliveryError: /) },
    ]);
    expect(JSON.stringify(result)).not.toContain('SECRET');
  });

  it('throws AlertDeliveryError when no channel took the alert', async () => {
    // Prepare
    const { handler, sns, snsSdk } = await loadNotify();
    sns
      .on(snsSdk.PublishCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AuthorizationError', $metadata: {} }));

    // Act
    const run = handler({ runId: 'run-4', error: { Error: 'States.TaskFailed', Cause: 'boom' } });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'AlertDeliveryError' });
  });

  it('rejects an event that is neither a report nor an error', async () => {
    // Prepare
    const { handler, published } = await loadNotify();

    // Act
    const run = handler({ runId: 'run-5' });

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(published()).toHaveLength(0);
  });

  it('fails at cold start without any alert channel', async () => {
    // Prepare / Act
    const load = loadNotify({ ALERT_TOPIC_ARN: '' });

    // Assess
    await expect(load).rejects.toMatchObject({ name: 'ConfigError', variables: ['ALERT_TOPIC_ARN'] });
  });
});
