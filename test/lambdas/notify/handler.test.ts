import { reviewReport } from '../../../shared/history/review';
import type { AuditReport } from '../../../shared/report/model';
import { parseSuppressions } from '../../../shared/suppressions/suppressions';
import { SG_APP, sampleReport } from '../../fixtures/report-fixture';
import { handlerColdStart } from '../../support/handler-cold-start';

const TOPIC_ARN = 'arn:aws:sns:ap-northeast-2:123456789012:sg-audit-alerts';
const REPORT_KEY = 'reports/123456789012/ap-northeast-2/2025/11/17/run-1/report.json';
const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/SECRET';

const coldStart = handlerColdStart({ REPORT_BUCKET: 'sg-audit-reports', ALERT_TOPIC_ARN: TOPIC_ARN });

/** Imports the handler afresh with `env` set first, its SDK clients mocked in the same module registry. */
async function loadNotify(env: Record<string, string> = {}, report: AuditReport = sampleReport()) {
  coldStart(env);
  const { mockClient } = await import('aws-sdk-client-mock');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const snsSdk = await import('@aws-sdk/client-sns');
  const secretsSdk = await import('@aws-sdk/client-secrets-manager');
  const s3 = mockClient(s3Sdk.S3Client);
  const sns = mockClient(snsSdk.SNSClient);
  const secrets = mockClient(secretsSdk.SecretsManagerClient);
  s3.on(s3Sdk.GetObjectCommand, { Key: REPORT_KEY }).resolves({
    Body: { transformToString: async () => JSON.stringify(report) } as never,
  });
  sns.on(snsSdk.PublishCommand).resolves({ MessageId: 'm-1' });
  const { handler } = await import('../../../lambdas/notify/handler');
  const published = () => sns.commandCalls(snsSdk.PublishCommand).map((c) => c.args[0].input);
  return { handler, sns, snsSdk, secrets, secretsSdk, published };
}

afterEach(() => {
  jest.restoreAllMocks();
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
    expect(result).toEqual({
      runId: 'run-1',
      kind: 'report',
      reason: 'the report was not compared with a previous one',
      published: ['sns'],
      failed: [],
    });
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

const SSH_FINDING = `sensitive-port-world:${SG_APP}/ingress/tcp/22-22/0.0.0.0/0`;
const LAST_WEEK = sampleReport();

/** This week's report as analyze stores it: the same findings, reviewed against last week. */
function thisWeek(): AuditReport {
  const current = { ...sampleReport(), runId: 'run-2', generatedAt: '2025-11-24T00:05:07.000Z' };
  return reviewReport(current, {
    previous: LAST_WEEK,
    compare: true,
    now: new Date('2025-11-24T00:05:07.000Z'),
  }).report;
}

const withoutSsh = (r: AuditReport): AuditReport => ({
  ...r,
  findings: r.findings.filter((f) => f.id !== SSH_FINDING),
});

describe('notify handler week over week', () => {
  it('alerts on the first run', async () => {
    // Prepare
    const first = reviewReport(sampleReport(), { compare: true, now: new Date() }).report;
    const { handler, published } = await loadNotify({}, first);

    // Act
    const result = await handler({ runId: 'run-1', reportJsonKey: REPORT_KEY });

    // Assess
    expect(result).toMatchObject({ kind: 'report', reason: 'first run: no previous report' });
    expect(published()).toHaveLength(1);
  });

  it('publishes nothing and returns skipped when nothing is new or worse', async () => {
    // Prepare
    const { handler, published } = await loadNotify({}, thisWeek());

    // Act
    const result = await handler({ runId: 'run-2', reportJsonKey: REPORT_KEY });

    // Assess
    expect(result).toEqual({
      runId: 'run-2',
      kind: 'skipped',
      reason: expect.stringContaining('nothing new or worse since run 2025-11-17T000512Z-7f3a9c'),
      published: [],
      failed: [],
    });
    expect(published()).toHaveLength(0);
  });

  it('sends the no-change digest when NO_CHANGE_DIGEST is on', async () => {
    // Prepare
    const { handler, published } = await loadNotify({ NO_CHANGE_DIGEST: 'true' }, thisWeek());

    // Act
    const result = await handler({ runId: 'run-2', reportJsonKey: REPORT_KEY });

    // Assess
    expect(result).toMatchObject({ kind: 'report', digest: true, published: ['sns'] });
    expect(published()).toHaveLength(1);
    expect(published()[0]?.Subject).toContain('weekly digest: no new or worse findings');
  });

  it('alerts on every run with ALERT_ON always', async () => {
    // Prepare
    const { handler, published } = await loadNotify({ ALERT_ON: 'always' }, thisWeek());

    // Act
    const result = await handler({ runId: 'run-2', reportJsonKey: REPORT_KEY });

    // Assess
    expect(result).toMatchObject({ kind: 'report', reason: 'ALERT_ON is always' });
    expect(result.digest).toBeUndefined();
    expect(published()).toHaveLength(1);
  });

  it('alerts on a new finding', async () => {
    // Prepare: last week had no SSH finding.
    const previous = withoutSsh(LAST_WEEK);
    const report = reviewReport(
      { ...sampleReport(), runId: 'run-2', generatedAt: '2025-11-24T00:05:07.000Z' },
      { previous, compare: true, now: new Date('2025-11-24T00:05:07.000Z') },
    ).report;
    const { handler, published } = await loadNotify({}, report);

    // Act
    const result = await handler({ runId: 'run-2', reportJsonKey: REPORT_KEY });

    // Assess
    expect(result).toMatchObject({
      kind: 'report',
      reason: 'findings 1 new, 0 worse, 0 with an expired suppression',
    });
    expect(published()).toHaveLength(1);
  });

  it('alerts on a finding whose severity rose', async () => {
    // Prepare: last week the SSH finding was low.
    const raised = reviewReport(
      { ...sampleReport(), runId: 'run-2', generatedAt: '2025-11-24T00:05:07.000Z' },
      {
        previous: {
          ...LAST_WEEK,
          findings: LAST_WEEK.findings.map((f) => (f.id === SSH_FINDING ? { ...f, severity: 'low' } : f)),
        },
        compare: true,
        now: new Date('2025-11-24T00:05:07.000Z'),
      },
    ).report;
    const { handler } = await loadNotify({}, raised);

    // Act
    const result = await handler({ runId: 'run-2', reportJsonKey: REPORT_KEY });

    // Assess
    expect(result).toMatchObject({
      kind: 'report',
      reason: 'findings 0 new, 1 worse, 0 with an expired suppression',
    });
  });

  it('does not alert when the only new finding is an accepted risk', async () => {
    // Prepare: the SSH finding is new this week and suppressed.
    const yaml = [
      'version: 1',
      'suppressions:',
      '  - id: bastion-ssh',
      '    owner: platform-team',
      '    reason: bastion by design',
      '    expires: 2099-12-31',
      '    match:',
      `      sgId: ${SG_APP}`,
      '      check: sensitive-port-world',
    ].join('\n');
    const report = reviewReport(
      { ...sampleReport(), runId: 'run-2', generatedAt: '2025-11-24T00:05:07.000Z' },
      {
        previous: withoutSsh(LAST_WEEK),
        compare: true,
        suppressions: parseSuppressions(yaml, 'suppressions.yaml'),
        now: new Date('2025-11-24T00:05:07.000Z'),
      },
    ).report;
    const { handler, published } = await loadNotify({}, report);

    // Act
    const result = await handler({ runId: 'run-2', reportJsonKey: REPORT_KEY });

    // Assess
    expect(report.changes?.worsened).toBe(true);
    expect(result.kind).toBe('skipped');
    expect(published()).toHaveLength(0);
  });

  it('sends a failure alert whatever ALERT_ON says', async () => {
    // Prepare
    const { handler, published } = await loadNotify({ ALERT_ON: 'changes' }, thisWeek());

    // Act
    const result = await handler({ runId: 'run-2', error: { Error: 'InputError', Cause: 'bad entry' } });

    // Assess
    expect(result.kind).toBe('failure');
    expect(published()).toHaveLength(1);
  });

  it('fails at cold start on an unknown ALERT_ON', async () => {
    // Prepare / Act
    const load = loadNotify({ ALERT_ON: 'sometimes', NO_CHANGE_DIGEST: 'yes' });

    // Assess
    await expect(load).rejects.toMatchObject({
      name: 'ConfigError',
      variables: ['ALERT_ON', 'NO_CHANGE_DIGEST'],
    });
  });
});
