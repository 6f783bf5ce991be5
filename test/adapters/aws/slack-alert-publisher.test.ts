import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import {
  retryAfterSeconds,
  SlackAlertPublisher,
  SlackDeliveryError,
  SlackWebhookSecretError,
  type WebhookFetch,
  type WebhookResponse,
} from '../../../adapters/aws/slack-alert-publisher';
import { composeSlack } from '../../../shared/alerts';
import type { AuditAlert } from '../../../shared/model/ports';
import { reportAlert } from '../../shared/alerts/alert-fixtures';

const SECRET_ID = 'sg-audit/slack-webhook';
const WEBHOOK_URL = 'https://hooks.slack.com/services/T0000/B0000/XXXXSECRETXXXX';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const FAILURE: AuditAlert = {
  kind: 'failure',
  runId: 'run-1',
  error: { name: 'States.Timeout', message: 'the state timed out' },
};

const secrets = new SecretsManagerClient({ region: 'ap-northeast-2', credentials: CREDENTIALS });
const secretsMock = mockClient(secrets);

beforeEach(() => {
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: WEBHOOK_URL });
});

function response(status: number, text = 'ok', headers: Record<string, string> = {}): WebhookResponse {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { status, headers: { get: (name) => lower[name.toLowerCase()] ?? null }, text: async () => text };
}

/** A fetch answering with the given responses in turn (the last one repeats). */
function fetchAnswering(...responses: WebhookResponse[]): jest.MockedFunction<WebhookFetch> {
  let call = 0;
  return jest.fn<ReturnType<WebhookFetch>, Parameters<WebhookFetch>>(async () => {
    const answer = responses[Math.min(call, responses.length - 1)] as WebhookResponse;
    call += 1;
    return answer;
  });
}

function noSleep(): jest.Mock<Promise<void>, [number]> {
  return jest.fn(async (_ms: number) => {});
}

describe('SlackAlertPublisher', () => {
  it('posts the composed blocks and text as JSON to the webhook', async () => {
    // Prepare
    const fetch = fetchAnswering(response(200));
    const alert = reportAlert();
    const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch });

    // Act
    await publisher.publish(alert);

    // Assess
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0] ?? [];
    expect(url).toBe(WEBHOOK_URL);
    expect(init?.method).toBe('POST');
    expect(init?.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    const expected = composeSlack(alert);
    expect(JSON.parse(init?.body ?? '')).toEqual({
      text: expected.text,
      blocks: expected.blocks,
      unfurl_links: false,
    });
    expect(secretsMock.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: SECRET_ID,
    });
  });

  it('reads the secret once for several alerts', async () => {
    // Prepare
    const fetch = fetchAnswering(response(200));
    const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch });

    // Act
    await publisher.publish(reportAlert());
    await publisher.publish(FAILURE);

    // Assess
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('takes the URL from a JSON secret', async () => {
    // Prepare
    secretsMock
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ webhookUrl: WEBHOOK_URL }) });
    const fetch = fetchAnswering(response(200));
    const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch });

    // Act
    await publisher.publish(FAILURE);

    // Assess
    expect(fetch.mock.calls[0]?.[0]).toBe(WEBHOOK_URL);
  });

  it('waits out a 429 for its Retry-After, then delivers', async () => {
    // Prepare
    const fetch = fetchAnswering(response(429, 'rate_limited', { 'Retry-After': '2' }), response(200));
    const sleep = noSleep();
    const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch, sleep });

    // Act
    await publisher.publish(reportAlert());

    // Assess
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(sleep.mock.calls).toEqual([[2_000]]);
  });

  it('gives up with SlackDeliveryError after the bounded number of 429 retries', async () => {
    // Prepare
    const fetch = fetchAnswering(response(429, 'rate_limited', { 'retry-after': '1' }));
    const sleep = noSleep();
    const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch, sleep, maxRetries: 2 });

    // Act
    const publishing = publisher.publish(reportAlert());

    // Assess
    await expect(publishing).rejects.toBeInstanceOf(SlackDeliveryError);
    await expect(publishing).rejects.toMatchObject({ status: 429, retryAfterSeconds: 1 });
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it('fails at once when Slack asks to wait longer than the bound', async () => {
    // Prepare
    const fetch = fetchAnswering(response(429, 'rate_limited', { 'retry-after': '600' }), response(200));
    const sleep = noSleep();
    const publisher = new SlackAlertPublisher({
      secrets,
      secretId: SECRET_ID,
      fetch,
      sleep,
      maxRetryAfterSeconds: 30,
    });

    // Act
    const publishing = publisher.publish(reportAlert());

    // Assess
    await expect(publishing).rejects.toMatchObject({
      name: 'SlackDeliveryError',
      status: 429,
      retryAfterSeconds: 600,
    });
    expect(sleep).not.toHaveBeenCalled();
  });

  it('surfaces a 500 as SlackDeliveryError with Slack’s answer and without the URL', async () => {
    // Prepare
    const fetch = fetchAnswering(response(500, 'rollup_error'));
    const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch, sleep: noSleep() });

    // Act
    const publishing = publisher.publish(reportAlert());

    // Assess
    await expect(publishing).rejects.toBeInstanceOf(SlackDeliveryError);
    const error = (await publishing.catch((e: unknown) => e)) as SlackDeliveryError;
    expect(error).toMatchObject({ name: 'SlackDeliveryError', status: 500, responseText: 'rollup_error' });
    expect(error.message).toBe('Slack webhook answered HTTP 500: rollup_error');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('XXXXSECRETXXXX');
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('surfaces a network failure as SlackDeliveryError without the URL', async () => {
    // Prepare
    const fetch: WebhookFetch = jest.fn(async () => {
      throw Object.assign(new TypeError('fetch failed'), { name: 'TypeError' });
    });
    const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch });

    // Act
    const publishing = publisher.publish(FAILURE);

    // Assess
    await expect(publishing).rejects.toMatchObject({
      name: 'SlackDeliveryError',
      message: 'no answer from the Slack webhook (TypeError)',
    });
  });

  it.each([
    ['a URL that is not https', 'http://hooks.slack.com/services/T0/B0/XXXXSECRETXXXX', /not https/],
    ['malformed JSON', '{"webhookUrl": ', /malformed JSON/],
    ['JSON without webhookUrl', '{"url": "https://hooks.slack.com/x"}', /no "webhookUrl"/],
    ['no URL at all', 'XXXXSECRETXXXX', /does not hold a URL/],
  ])(
    'rejects a secret holding %s with SlackWebhookSecretError that does not echo it',
    async (_what, secret, problem) => {
      // Prepare
      secretsMock.on(GetSecretValueCommand).resolves({ SecretString: secret });
      const fetch = fetchAnswering(response(200));
      const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch });

      // Act
      const publishing = publisher.publish(FAILURE);

      // Assess
      await expect(publishing).rejects.toBeInstanceOf(SlackWebhookSecretError);
      await expect(publishing).rejects.toThrow(problem);
      const error = (await publishing.catch((e: unknown) => e)) as Error;
      expect(error.message).not.toContain('XXXXSECRETXXXX');
      expect(fetch).not.toHaveBeenCalled();
    },
  );

  it('rejects a binary secret and an unreadable one, and reads again on the next alert', async () => {
    // Prepare
    const fetch = fetchAnswering(response(200));
    const publisher = new SlackAlertPublisher({ secrets, secretId: SECRET_ID, fetch });
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(
        Object.assign(new Error('Secrets Manager can’t find the secret'), {
          name: 'ResourceNotFoundException',
        }),
      )
      .resolvesOnce({ SecretBinary: new Uint8Array([1]) })
      .resolves({ SecretString: WEBHOOK_URL });

    // Act
    const first = publisher.publish(FAILURE).catch((e: unknown) => e);
    const firstError = await first;
    const secondError = await publisher.publish(FAILURE).catch((e: unknown) => e);
    await publisher.publish(FAILURE);

    // Assess
    expect(firstError).toMatchObject({ name: 'SlackWebhookSecretError', secretId: SECRET_ID });
    expect((firstError as Error).message).toContain('ResourceNotFoundException');
    expect(secondError).toMatchObject({
      name: 'SlackWebhookSecretError',
      message: expect.stringContaining('no SecretString'),
    });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });
});

describe('retryAfterSeconds', () => {
  it('reads delta-seconds and HTTP dates, and nothing else', () => {
    // Prepare
    const now = Date.parse('2025-11-17T00:00:00Z');

    // Act / Assess
    expect(retryAfterSeconds('5', now)).toBe(5);
    expect(retryAfterSeconds('Mon, 17 Nov 2025 00:00:03 GMT', now)).toBe(3);
    expect(retryAfterSeconds('Mon, 16 Nov 2025 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds(null, now)).toBeUndefined();
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
  });
});
