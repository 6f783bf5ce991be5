/**
 * Alarms that page through the alert topic: a failed or timed-out execution of the state machine
 * (the workflow's own Catch alerts with the cause; the alarm covers what the Catch cannot — a
 * failed notify step, a timeout of the whole run), errors of each function, and a start the
 * schedule could not deliver (its dead-letter queue is not empty: no run at all). And, per run, an
 * EventBridge rule on the state machine's execution status changes that the workflow cannot
 * announce itself — TIMED_OUT (the run's time limit), ABORTED, and FAILED with an error other than
 * the workflow's own AuditFailed (which NotifyFailure has announced): States.DataLimitExceeded,
 * a history over 25,000 events, a failed failure alert — sent to the topic with the run id.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
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

/** The error of the workflow's own Fail state: its failure was announced by NotifyFailure. */
export const ANNOUNCED_FAILURE = 'AuditFailed';

/** CloudWatch alarms of the audit, all with an action to the alert topic, and the unannounced-end rule. */
export class Monitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Runs that ended without the workflow's own alert (timed out, aborted, failed past the Catch). */
  public readonly unannouncedEnds: events.Rule;

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
    this.unannouncedEnds = new events.Rule(this, 'UnannouncedRunEnds', {
      description:
        'sg-audit runs that ended without their own alert: timed out, aborted, or failed past the Catch',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [props.stateMachine.stateMachineArn],
          $or: [
            { status: ['TIMED_OUT', 'ABORTED'] },
            { status: ['FAILED'], error: [{ 'anything-but': [ANNOUNCED_FAILURE] }] },
          ],
        },
      },
    });
    const field = (path: string) => events.EventField.fromPath(path);
    this.unannouncedEnds.addTarget(
      new targets.SnsTopic(props.alerts.topic, {
        // A role of the rule (sns:Publish and the topic key's use), not the topic's policy.
        authorizeUsingRole: true,
        message: events.RuleTargetInput.fromText(
          `sg-audit run ${field('$.detail.name')} ended ${field('$.detail.status')} ` +
            `(${field('$.detail.error')}) without the workflow's own alert: no report was stored for it. ` +
            `A run's time limit derives from the query budget and concurrency (lib/audit-workflow.ts). ` +
            `Execution: ${field('$.detail.executionArn')}`,
        ),
      }),
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ period, statistic: 'Sum' }),
        `The sg-audit ${name} function raised errors`,
      );
    }
  }
}
