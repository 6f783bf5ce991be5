import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { HttpRequest } from '@smithy/types';
import { mockClient } from 'aws-sdk-client-mock';
import {
  SNS_ATTRIBUTE_KIND,
  SNS_ATTRIBUTE_WORST_SEVERITY,
  SnsAlertPublisher,
  SnsDeliveryError,
} from '../../../adapters/aws/sns-alert-publisher';
import { composeEmail } from '../../../shared/alerts';
import type { AuditAlert } from '../../../shared/model/ports';
import type { AuditReport } from '../../../shared/report/model';
import { sampleReport } from '../../fixtures/report-fixture';
import { reportAlert } from '../../shared/alerts/alert-fixtures';

const TOPIC_ARN = 'arn:aws:sns:ap-northeast-2:123456789012:sg-audit-alerts';
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const FAILURE: AuditAlert = {
  kind: 'failure',
  runId: 'run-1',
  step: 'Analyze',
  error: { name: 'EmptyWindowError', message: 'no flow-log records in the window' },
  account: { id: '123456789012', region: 'ap-northeast-2' },
};

// The mock wraps this instance only: the throttling test uses a client of its own.
const sns = new SNSClient({ region: 'ap-northeast-2', credentials: CREDENTIALS });
const snsMock = mockClient(sns);

beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('SnsAlertPublisher', () => {
  it('publishes the composed subject and body to the topic', async () => {
    // Prepare
    const alert = reportAlert();
    const publisher = new SnsAlertPublisher({ sns, topicArn: TOPIC_ARN });

    // Act
    await publisher.publish(alert);

    // Assess
    const calls = snsMock.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    const email = composeEmail(alert);
    expect(input?.TopicArn).toBe(TOPIC_ARN);
    expect(input?.Subject).toBe(email.subject);
    expect(input?.Message).toBe(email.body);
    expect(input?.MessageAttributes).toEqual({
      [SNS_ATTRIBUTE_KIND]: { DataType: 'String', StringValue: 'report' },
      [SNS_ATTRIBUTE_WORST_SEVERITY]: { DataType: 'String', StringValue: 'critical' },
    });
  });

  it('passes the e-mail options to the composer', async () => {
    // Prepare
    const publisher = new SnsAlertPublisher({ sns, topicArn: TOPIC_ARN, email: { topFindings: 1 } });

    // Act
    await publisher.publish(reportAlert());

    // Assess
    const message = snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('TOP FINDINGS (1 of 11, worst first)');
  });

  it('marks a clean report with worst severity none and a failed run with failure', async () => {
    // Prepare
    const base = sampleReport();
    const clean: AuditReport = {
      ...base,
      findings: [],
      summary: { ...base.summary, findingsBySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 } },
    };
    const publisher = new SnsAlertPublisher({ sns, topicArn: TOPIC_ARN });

    // Act
    await publisher.publish(reportAlert(clean));
    await publisher.publish(FAILURE);

    // Assess
    const [cleanCall, failureCall] = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(cleanCall?.MessageAttributes?.[SNS_ATTRIBUTE_WORST_SEVERITY]?.StringValue).toBe('none');
    expect(failureCall?.MessageAttributes?.[SNS_ATTRIBUTE_KIND]?.StringValue).toBe('failure');
    expect(failureCall?.MessageAttributes?.[SNS_ATTRIBUTE_WORST_SEVERITY]?.StringValue).toBe('failure');
    expect(failureCall?.Subject).toBe(
      'sg-audit FAILED 123456789012/ap-northeast-2: EmptyWindowError in Analyze',
    );
  });

  it('surfaces a failed Publish as SnsDeliveryError with the SDK error as cause', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized to publish'), {
      name: 'AuthorizationErrorException',
    });
    snsMock.on(PublishCommand).rejects(denied);
    const publisher = new SnsAlertPublisher({ sns, topicArn: TOPIC_ARN });

    // Act
    const publishing = publisher.publish(reportAlert());

    // Assess
    await expect(publishing).rejects.toBeInstanceOf(SnsDeliveryError);
    await expect(publishing).rejects.toMatchObject({
      name: 'SnsDeliveryError',
      topicArn: TOPIC_ARN,
      message: `cannot publish the alert to ${TOPIC_ARN}: AuthorizationErrorException: not authorized to publish`,
      cause: denied,
    });
  });

  it('is retried by the SDK when SNS throttles', async () => {
    // Prepare: a fake endpoint that throttles the first Publish.
    const requests: string[] = [];
    const throttledSns = new SNSClient({
      region: 'ap-northeast-2',
      credentials: CREDENTIALS,
      retryStrategy: new ConfiguredRetryStrategy(3, 0),
      requestHandler: {
        handle: async (request: HttpRequest) => {
          requests.push(String(request.body));
          const throttled = requests.length === 1;
          const body = throttled
            ? '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>'
            : '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-2</MessageId></PublishResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></PublishResponse>';
          return {
            response: {
              statusCode: throttled ? 400 : 200,
              headers: { 'content-type': 'text/xml' },
              body: Buffer.from(body),
            },
          };
        },
      } as never,
    });
    const publisher = new SnsAlertPublisher({ sns: throttledSns, topicArn: TOPIC_ARN });

    // Act
    await publisher.publish(reportAlert());

    // Assess
    expect(requests).toHaveLength(2);
    expect(new URLSearchParams(requests[1]).get('Action')).toBe('Publish');
    expect(new URLSearchParams(requests[1]).get('TopicArn')).toBe(TOPIC_ARN);
  });
});
