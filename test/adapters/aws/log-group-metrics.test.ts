import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { LogGroupMetrics } from '../../../adapters/aws/log-group-metrics';

const cloudwatch = mockClient(CloudWatchClient);
const NOW = Date.parse('2026-11-21T00:00:00Z');
const WINDOW = { start: NOW / 1000 - 7 * 86_400, end: NOW / 1000 - 900 };

function metrics(): LogGroupMetrics {
  return new LogGroupMetrics({
    cloudwatch: new CloudWatchClient({
      region: 'ap-northeast-2',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    }),
    now: () => NOW,
  });
}

beforeEach(() => cloudwatch.reset());

describe('LogGroupMetrics.incomingLogEvents', () => {
  it('sums each group’s IncomingLogEvents over the window, across pages, in 5-minute periods', async () => {
    // Prepare
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'g0', Values: [10, 5] }], NextToken: 'next' })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'g0', Values: [1] },
          { Id: 'g1', Values: [7] },
        ],
      });

    // Act
    const sums = await metrics().incomingLogEvents(['/vpc/a', '/vpc/b', '/vpc/a'], WINDOW);

    // Assess
    expect([...sums]).toEqual([
      ['/vpc/a', 16],
      ['/vpc/b', 7],
    ]);
    const [first, second] = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({
      StartTime: new Date(WINDOW.start * 1000),
      EndTime: new Date((WINDOW.end + 1) * 1000),
      MetricDataQueries: [
        {
          Id: 'g0',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Logs',
              MetricName: 'IncomingLogEvents',
              Dimensions: [{ Name: 'LogGroupName', Value: '/vpc/a' }],
            },
            Period: 300,
            Stat: 'Sum',
          },
        },
        { Id: 'g1' },
      ],
    });
    expect(second?.NextToken).toBe('next');
  });

  it('counts 0 for a group without datapoints and asks hourly data for an old window', async () => {
    // Prepare
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'g0', Values: [] }] });

    // Act
    const sums = await metrics().incomingLogEvents(['/vpc/quiet'], {
      start: NOW / 1000 - 100 * 86_400,
      end: NOW / 1000 - 93 * 86_400,
    });

    // Assess
    expect(sums.get('/vpc/quiet')).toBe(0);
    expect(
      cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.[0]?.MetricStat
        ?.Period,
    ).toBe(3600);
  });

  it.each([
    ['throttled', 'ThrottlingException'],
    ['denied', 'AccessDeniedException'],
  ])('throws what GetMetricData throws when %s', async (_what, name) => {
    // Prepare
    cloudwatch.on(GetMetricDataCommand).rejects(Object.assign(new Error('no'), { name }));

    // Act & Assess
    await expect(metrics().incomingLogEvents(['/vpc/a'], WINDOW)).rejects.toMatchObject({ name });
  });
});
