/**
 * The weekly trigger: an EventBridge Scheduler schedule (UTC) starting the state machine through a
 * role allowed `states:StartExecution` on it alone. The input carries the scheduled time as the
 * window's end, so a late or retried start still audits the intended week. A start that fails past
 * its retries (throttled, the state machine deleted, the role denied) lands in a dead-letter
 * queue, which {@link Monitoring} alarms on: a week without an audit is never silent.
 */
import { Duration } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface AuditScheduleProps {
  /** The state machine started. */
  readonly stateMachine: sfn.IStateMachine;
  /** A Scheduler `cron(…)` or `rate(…)` expression, UTC. */
  readonly expression: string;
  /** VPCs passed to the run; the discover function's VPC_IDS when empty. @default none */
  readonly vpcIds?: readonly string[];
  /** Attempts after a failed start. @default 3 */
  readonly retryAttempts?: number;
  /** How long a start is retried before it goes to the dead-letter queue. @default Duration.hours(6) */
  readonly maxEventAge?: Duration;
  /** How long an undelivered start is kept in the dead-letter queue. @default Duration.days(14) */
  readonly deadLetterRetention?: Duration;
}

/** The schedule that starts an audit run, and where its failed starts go. */
export class AuditSchedule extends Construct {
  public readonly schedule: scheduler.Schedule;
  /** Starts the schedule could not deliver after its retries (alarm on its depth). */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AuditScheduleProps) {
    super(scope, id);
    const input: Record<string, unknown> = { end: scheduler.ContextAttribute.scheduledTime };
    if (props.vpcIds && props.vpcIds.length > 0) input.vpcIds = [...props.vpcIds];
    // SQS-managed encryption: a dead letter holds the schedule's input (its scheduled time) and
    // the error, nothing of the audit; a customer key would add KMS actions to the scheduler role.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // SQS's longest retention: time to notice the alarm and start the missed week by hand.
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'sg-audit: start the security-group audit',
      schedule: scheduler.ScheduleExpression.expression(props.expression),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject(input),
        retryAttempts: props.retryAttempts ?? 3,
        maxEventAge: props.maxEventAge ?? Duration.hours(6),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
  }
}
