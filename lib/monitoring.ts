/**
 * Alarms that page through the alert topic: a failed or timed-out execution of the state machine
 * (the workflow's own Catch alerts with the cause; the alarm covers what the Catch cannot — a
 * failed notify step, a timeout of the whole run), errors of each function, and a start the
 * schedule could not deliver (its dead-letter queue is not empty: no run at all).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AlertTopic } from './alert-topic';

export interface MonitoringProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Functions whose Errors metric is alarmed, by a short name used in the alarm's id. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Where alarms are sent (its topic policy lets CloudWatch publish for these alarms). */
  readonly alerts: AlertTopic;
  /** The schedule's dead-letter queue: a message there is a run that never started. @default none */
  readonly scheduleDeadLetterQueue?: sqs.IQueue;
  /** Period the metrics are summed over. @default Duration.hours(1) */
  readonly period?: Duration;
}

/** CloudWatch alarms of the audit, all with an action to the alert topic. */
export class Monitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const period = props.period ?? Duration.hours(1);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string): void => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      props.alerts.notifyOnAlarm(created);
      this.alarms.push(created);
    };
    alarm(
      'ExecutionsFailed',
      props.stateMachine.metricFailed({ period, statistic: 'Sum' }),
      'An sg-audit run failed',
    );
    alarm(
      'ExecutionsTimedOut',
      props.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      'An sg-audit run timed out',
    );
    if (props.scheduleDeadLetterQueue) {
      alarm(
        'ScheduleDeadLetters',
        props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        'The schedule could not start an sg-audit run (see its dead-letter queue)',
      );
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period, statistic: 'Sum' }),
        `The sg-audit ${name} function raised errors`,
      );
    }
  }
}
