/**
 * One alert to several channels (e-mail and Slack): every channel is tried even when another
 * fails, and the outcome says which failed, so a broken webhook never silences the e-mail.
 */
import type { AlertPublisher, AnyAlert } from '../../shared/model/ports';

export interface NamedAlertPublisher {
  /** How reports and errors name the channel ('sns', 'slack'). */
  readonly name: string;
  readonly publisher: AlertPublisher<AnyAlert>;
}

export type AlertDeliveryOutcome =
  | { readonly name: string; readonly delivered: true }
  | { readonly name: string; readonly delivered: false; readonly error: Error };

export interface CompositeAlertPublisherLogger {
  error(message: string, extra?: object): void;
}

/** Some channels did not take the alert; `failures` names them, `delivered` the others. */
export class AlertDeliveryError extends AggregateError {
  override readonly name = 'AlertDeliveryError';
  readonly failures: readonly { readonly name: string; readonly error: Error }[];
  readonly delivered: readonly string[];

  constructor(
    failures: readonly { readonly name: string; readonly error: Error }[],
    delivered: readonly string[],
  ) {
    const list = failures.map((f) => `${f.name} (${f.error.name}: ${f.error.message})`).join('; ');
    const sent = delivered.length > 0 ? `; delivered to ${delivered.join(', ')}` : '';
    super(
      failures.map((f) => f.error),
      `alert not delivered to ${list}${sent}`,
    );
    this.failures = failures;
    this.delivered = delivered;
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Publishes to every channel concurrently.
 *
 * @example
 * const alerts = new CompositeAlertPublisher([
 *   { name: 'sns', publisher: new SnsAlertPublisher({ sns, topicArn }) },
 *   { name: 'slack', publisher: new SlackAlertPublisher({ secrets, secretId }) },
 * ]);
 * await alerts.publish(alert); // throws AlertDeliveryError naming the channels that failed
 */
export class CompositeAlertPublisher implements AlertPublisher<AnyAlert> {
  private readonly publishers: readonly NamedAlertPublisher[];
  private readonly logger?: CompositeAlertPublisherLogger;

  constructor(
    publishers: readonly NamedAlertPublisher[],
    options: { logger?: CompositeAlertPublisherLogger } = {},
  ) {
    this.publishers = publishers;
    this.logger = options.logger;
  }

  /**
   * Tries every channel and reports each one's outcome, in the order given; never throws. A caller
   * that retries can then retry only the channels that failed (a blind retry would repeat the
   * others' messages).
   */
  async publishAll(alert: AnyAlert): Promise<AlertDeliveryOutcome[]> {
    const settled = await Promise.allSettled(this.publishers.map((p) => p.publisher.publish(alert)));
    return settled.map((result, i): AlertDeliveryOutcome => {
      const name = this.publishers[i]?.name ?? `#${i}`;
      if (result.status === 'fulfilled') return { name, delivered: true };
      const error = asError(result.reason);
      this.logger?.error('alert channel failed', {
        channel: name,
        error: error.name,
        message: error.message,
      });
      return { name, delivered: false, error };
    });
  }

  /** @throws AlertDeliveryError when any channel failed (after every channel was tried). */
  async publish(alert: AnyAlert): Promise<void> {
    const outcomes = await this.publishAll(alert);
    const failures = outcomes.flatMap((o) => (o.delivered ? [] : [{ name: o.name, error: o.error }]));
    if (failures.length > 0) {
      const delivered = outcomes.filter((o) => o.delivered).map((o) => o.name);
      throw new AlertDeliveryError(failures, delivered);
    }
  }
}
