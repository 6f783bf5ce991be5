/**
 * A log group's own count of what it received: CloudWatch's `IncomingLogEvents` (namespace
 * `AWS/Logs`, dimension `LogGroupName`), summed over a window with GetMetricData. The Logs
 * Insights source holds it against the events its queries scanned (the `incoming-log-events`
 * delivery counter); `sg-audit doctor` reads the last 24 h of it as a flow-log group's delivery.
 *
 * CloudWatch publishes the metric only for periods with events: a group without datapoints
 * received nothing. One GetMetricData call carries up to 500 metric queries and pages by
 * NextToken. Periods follow CloudWatch's retention of finer data: 5 minutes for windows that
 * start within the last 63 days, an hour before that (a window's edges are then approximate by
 * up to one period, which a week's comparison absorbs within its tolerance).
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { TimeWindow } from '../../shared/model/flow';

/** Reads IncomingLogEvents; the Insights source and doctor take it as this interface. */
export interface LogGroupIncomingEvents {
  /** Each group's IncomingLogEvents summed over the window (a group without datapoints: 0). */
  incomingLogEvents(logGroups: readonly string[], window: TimeWindow): Promise<ReadonlyMap<string, number>>;
}

export interface LogGroupMetricsOptions {
  readonly cloudwatch: CloudWatchClient;
  /** Epoch milliseconds (decides the period CloudWatch still holds). @default Date.now */
  readonly now?: () => number;
}

/** What reading the metric takes (the query function's grant, lib/audited-account.ts). */
export const LOG_GROUP_METRICS_ACTIONS = ['cloudwatch:GetMetricData'] as const;

/** GetMetricData's limit of metric queries per call. */
const QUERIES_PER_CALL = 500;
/** Pages one call may take: a bound against a NextToken that never ends. */
const MAX_PAGES = 1000;
/** CloudWatch keeps 5-minute data for 63 days, hourly data for 455. */
const FIVE_MINUTE_DATA_SECONDS = 63 * 86_400;

/**
 * IncomingLogEvents of log groups through GetMetricData.
 *
 * @example
 * const metrics = new LogGroupMetrics({ cloudwatch: new CloudWatchClient({}) });
 * (await metrics.incomingLogEvents(['/vpc/flow'], window)).get('/vpc/flow') // 123456
 */
export class LogGroupMetrics implements LogGroupIncomingEvents {
  private readonly cloudwatch: CloudWatchClient;
  private readonly now: () => number;

  constructor(options: LogGroupMetricsOptions) {
    this.cloudwatch = options.cloudwatch;
    this.now = options.now ?? Date.now;
  }

  /** @throws what GetMetricData throws (AccessDenied, throttling after the SDK's retries …). */
  async incomingLogEvents(
    logGroups: readonly string[],
    window: TimeWindow,
  ): Promise<ReadonlyMap<string, number>> {
    const groups = [...new Set(logGroups)];
    const sums = new Map<string, number>(groups.map((g) => [g, 0]));
    const recent = this.now() / 1000 - window.start <= FIVE_MINUTE_DATA_SECONDS;
    const period = recent ? 300 : 3600;
    for (let i = 0; i < groups.length; i += QUERIES_PER_CALL) {
      const batch = groups.slice(i, i + QUERIES_PER_CALL);
      const queries: MetricDataQuery[] = batch.map((group, j) => ({
        Id: `g${j}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/Logs',
            MetricName: 'IncomingLogEvents',
            Dimensions: [{ Name: 'LogGroupName', Value: group }],
          },
          Period: period,
          Stat: 'Sum',
        },
        ReturnData: true,
      }));
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const response = await this.cloudwatch.send(
          new GetMetricDataCommand({
            MetricDataQueries: queries,
            StartTime: new Date(window.start * 1000),
            // Inclusive window end: the period holding it counts.
            EndTime: new Date((window.end + 1) * 1000),
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const result of response.MetricDataResults ?? []) {
          const group = batch[Number(result.Id?.slice(1))];
          if (group === undefined) continue;
          const total = (result.Values ?? []).reduce((sum, v) => sum + v, 0);
          sums.set(group, (sums.get(group) ?? 0) + total);
        }
        token = response.NextToken;
        if (!token) break;
      }
    }
    return sums;
  }
}
