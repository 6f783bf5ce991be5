import { AlertDeliveryError, CompositeAlertPublisher } from '../../../adapters/aws/composite-alert-publisher';
import type { AlertPublisher, AuditAlert } from '../../../shared/model/ports';
import { reportAlert } from '../../shared/alerts/alert-fixtures';

/** A channel that records what it was given and succeeds, or fails with `error`. */
function channel(error?: Error): AlertPublisher & { received: AuditAlert[] } {
  const received: AuditAlert[] = [];
  return {
    received,
    publish: async (alert) => {
      received.push(alert);
      if (error) throw error;
    },
  };
}

describe('CompositeAlertPublisher', () => {
  it('publishes the alert to every channel', async () => {
    // Prepare
    const sns = channel();
    const slack = channel();
    const alerts = new CompositeAlertPublisher([
      { name: 'sns', publisher: sns },
      { name: 'slack', publisher: slack },
    ]);
    const alert = reportAlert();

    // Act
    await alerts.publish(alert);

    // Assess
    expect(sns.received).toEqual([alert]);
    expect(slack.received).toEqual([alert]);
  });

  it('tries every channel and names the ones that failed', async () => {
    // Prepare
    const slackError = Object.assign(new Error('Slack webhook answered HTTP 500: rollup_error'), {
      name: 'SlackDeliveryError',
    });
    const sns = channel();
    const slack = channel(slackError);
    const logger = { error: jest.fn() };
    const alerts = new CompositeAlertPublisher(
      [
        { name: 'slack', publisher: slack },
        { name: 'sns', publisher: sns },
      ],
      { logger },
    );

    // Act
    const publishing = alerts.publish(reportAlert());

    // Assess
    await expect(publishing).rejects.toBeInstanceOf(AlertDeliveryError);
    const error = (await publishing.catch((e: unknown) => e)) as AlertDeliveryError;
    expect(error.name).toBe('AlertDeliveryError');
    expect(error.failures).toEqual([{ name: 'slack', error: slackError }]);
    expect(error.delivered).toEqual(['sns']);
    expect(error.errors).toEqual([slackError]);
    expect(error.message).toBe(
      'alert not delivered to slack (SlackDeliveryError: Slack webhook answered HTTP 500: rollup_error); delivered to sns',
    );
    expect(sns.received).toHaveLength(1);
    expect(logger.error).toHaveBeenCalledWith(
      'alert channel failed',
      expect.objectContaining({ channel: 'slack' }),
    );
  });

  it('reports each channel outcome in order without throwing', async () => {
    // Prepare
    const alerts = new CompositeAlertPublisher([
      { name: 'sns', publisher: { publish: async () => Promise.reject('not an Error') } },
      { name: 'slack', publisher: channel() },
    ]);

    // Act
    const outcomes = await alerts.publishAll(reportAlert());

    // Assess
    expect(outcomes).toEqual([
      { name: 'sns', delivered: false, error: new Error('not an Error') },
      { name: 'slack', delivered: true },
    ]);
  });

  it('succeeds with no channels', async () => {
    // Act / Assess
    await expect(new CompositeAlertPublisher([]).publish(reportAlert())).resolves.toBeUndefined();
  });
});
