/**
 * Alerts to a Slack channel through an incoming webhook: composeSlack's Block Kit digest, POSTed
 * as JSON. The webhook URL is a credential (anyone holding it can post): it lives in Secrets
 * Manager, is read once per container, and never appears in a log line or an error message.
 * Slack rate-limits webhooks (~1 message/s per channel) with HTTP 429 and Retry-After; those are
 * waited out within a bound, anything else non-2xx is a SlackDeliveryError.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { composeSlack, type SlackOptions } from '../../shared/alerts';
import { composeOrgSlack } from '../../shared/alerts/org';
import { composeRemediationSlack } from '../../shared/alerts/remediation';
import { integerOption } from '../../shared/errors';
import type { AlertPublisher, AnyAlert } from '../../shared/model/ports';
import type { AdapterLogger } from './logger';

/** The part of a fetch Response the publisher reads. */
export interface WebhookResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The fetch the publisher calls (global fetch satisfies it; tests inject one). */
export type WebhookFetch = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<WebhookResponse>;

export type SlackAlertPublisherLogger = Pick<AdapterLogger, 'info' | 'warn'>;

export interface SlackAlertPublisherOptions {
  readonly secrets: SecretsManagerClient;
  /** The secret holding the webhook URL: the URL itself, or JSON {"webhookUrl": "…"}. */
  readonly secretId: string;
  /** @default globalThis.fetch */
  readonly fetch?: WebhookFetch;
  /** Retries after HTTP 429. @default 3 */
  readonly maxRetries?: number;
  /** Longest Retry-After waited out; a longer one fails at once (a Lambda should not idle). @default 30 */
  readonly maxRetryAfterSeconds?: number;
  /** Wait when a 429 carries no Retry-After. @default 1 */
  readonly defaultRetryAfterSeconds?: number;
  /** Per-request timeout. @default 10000 */
  readonly timeoutMs?: number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** How the digest is composed (top findings, size budget). */
  readonly slack?: SlackOptions;
  readonly logger?: SlackAlertPublisherLogger;
}

/** The webhook secret is missing, unreadable, or holds no https URL. */
export class SlackWebhookSecretError extends Error {
  override readonly name = 'SlackWebhookSecretError';
  readonly secretId: string;

  constructor(secretId: string, problem: string, options?: ErrorOptions) {
    super(`Slack webhook secret '${secretId}': ${problem}`, options);
    this.secretId = secretId;
  }
}

/** Slack did not take the message: a non-2xx answer, 429s beyond the bound, or no answer. */
export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
  /** HTTP status, when Slack answered. */
  readonly status?: number;
  /** Slack's error text ('invalid_payload', 'channel_not_found' …), bounded. */
  readonly responseText?: string;
  /** Seconds Slack asked to wait, on a 429. */
  readonly retryAfterSeconds?: number;

  constructor(
    message: string,
    details: { status?: number; responseText?: string; retryAfterSeconds?: number } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = details.status;
    this.responseText = details.responseText;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

const RESPONSE_TEXT_MAX = 200;

/**
 * Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; undefined when absent
 * or unreadable.
 *
 * @example retryAfterSeconds('3', Date.now()) // 3
 */
export function retryAfterSeconds(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function webhookUrlFrom(secretId: string, secret: string): string {
  const text = secret.trim();
  let candidate: unknown = text;
  if (text.startsWith('{')) {
    try {
      candidate = (JSON.parse(text) as { webhookUrl?: unknown }).webhookUrl;
    } catch {
      throw new SlackWebhookSecretError(
        secretId,
        'holds malformed JSON (expected {"webhookUrl": "https://…"})',
      );
    }
  }
  if (typeof candidate !== 'string') {
    throw new SlackWebhookSecretError(secretId, 'has no "webhookUrl" string');
  }
  let url: URL;
  try {
    url = new URL(candidate.trim());
  } catch {
    // Do not echo the value: it may be a mangled URL, i.e. the credential.
    throw new SlackWebhookSecretError(secretId, 'does not hold a URL');
  }
  if (url.protocol !== 'https:') throw new SlackWebhookSecretError(secretId, 'holds a URL that is not https');
  return url.toString();
}

/**
 * Posts alerts to a Slack incoming webhook whose URL is kept in Secrets Manager.
 *
 * @example
 * const slack = new SlackAlertPublisher({ secrets, secretId: 'sg-audit/slack-webhook' });
 * await slack.publish({ kind: 'report', report, stored });
 */
export class SlackAlertPublisher implements AlertPublisher<AnyAlert> {
  private readonly secrets: SecretsManagerClient;
  private readonly secretId: string;
  private readonly fetch: WebhookFetch;
  private readonly maxRetries: number;
  private readonly maxRetryAfterSeconds: number;
  private readonly defaultRetryAfterSeconds: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly slack: SlackOptions;
  private readonly logger?: SlackAlertPublisherLogger;
  private webhookUrl?: Promise<string>;

  constructor(options: SlackAlertPublisherOptions) {
    const maxRetries = integerOption('maxRetries', options.maxRetries ?? 3, 0, 10);
    this.secrets = options.secrets;
    this.secretId = options.secretId;
    this.fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.maxRetries = maxRetries;
    this.maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 30;
    this.defaultRetryAfterSeconds = options.defaultRetryAfterSeconds ?? 1;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.slack = options.slack ?? {};
    this.logger = options.logger;
  }

  /**
   * @throws SlackWebhookSecretError when the secret cannot give a webhook URL.
   * @throws SlackDeliveryError when Slack does not accept the message.
   */
  async publish(alert: AnyAlert): Promise<void> {
    const message =
      alert.kind === 'organization'
        ? composeOrgSlack(alert, this.slack)
        : alert.kind === 'remediation-approval' || alert.kind === 'remediation-outcome'
          ? composeRemediationSlack(alert)
          : composeSlack(alert, this.slack);
    const body = JSON.stringify({ text: message.text, blocks: message.blocks, unfurl_links: false });
    const url = await this.resolveWebhookUrl();
    for (let attempt = 0; ; attempt += 1) {
      const response = await this.post(url, body);
      if (response.status >= 200 && response.status < 300) {
        this.logger?.info('alert posted to Slack', { kind: alert.kind, attempts: attempt + 1 });
        return;
      }
      const responseText = await this.responseText(response);
      if (response.status !== 429) {
        throw new SlackDeliveryError(`Slack webhook answered HTTP ${response.status}: ${responseText}`, {
          status: response.status,
          responseText,
        });
      }
      const wait =
        retryAfterSeconds(response.headers.get('retry-after'), Date.now()) ?? this.defaultRetryAfterSeconds;
      if (attempt >= this.maxRetries || wait > this.maxRetryAfterSeconds) {
        throw new SlackDeliveryError(
          `Slack webhook rate-limited the message (HTTP 429, Retry-After ${wait} s) after ${attempt + 1} attempts`,
          { status: 429, responseText, retryAfterSeconds: wait },
        );
      }
      this.logger?.warn('Slack rate-limited the alert; waiting', {
        retryAfterSeconds: wait,
        attempt: attempt + 1,
      });
      await this.sleep(wait * 1000);
    }
  }

  /** The webhook URL, read once and cached; a failed read is retried on the next publish. */
  private resolveWebhookUrl(): Promise<string> {
    this.webhookUrl ??= this.readWebhookUrl().catch((error: unknown) => {
      this.webhookUrl = undefined;
      throw error;
    });
    return this.webhookUrl;
  }

  private async readWebhookUrl(): Promise<string> {
    let secret: string | undefined;
    try {
      const response = await this.secrets.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      secret = response.SecretString;
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SlackWebhookSecretError(this.secretId, `cannot be read (${reason})`, { cause: error });
    }
    if (secret === undefined || secret.trim() === '') {
      throw new SlackWebhookSecretError(this.secretId, 'has no SecretString');
    }
    return webhookUrlFrom(this.secretId, secret);
  }

  private async post(url: string, body: string): Promise<WebhookResponse> {
    try {
      return await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      // The cause is kept for its kind (timeout, DNS); the message never names the URL.
      const kind = error instanceof Error ? error.name : 'unknown error';
      throw new SlackDeliveryError(`no answer from the Slack webhook (${kind})`, {}, { cause: error });
    }
  }

  private async responseText(response: WebhookResponse): Promise<string> {
    try {
      return (await response.text()).replace(/\s+/g, ' ').trim().slice(0, RESPONSE_TEXT_MAX);
    } catch {
      return '';
    }
  }
}
