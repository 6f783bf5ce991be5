/**
 * The weekly trigger: an EventBridge Scheduler schedule (UTC) starting the state machine through a
 * role allowed `states:StartExecution` on it alone. The input carries the scheduled time as the
 * window's end, so a late or retried start still audits the intended week.
 */
import { Duration } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface AuditScheduleProps {
  /** The state machine started. */
  readonly stateMachine: sfn.IStateMachine;
  /** A Scheduler `cron(…)` or `rate(…)` expression, UTC. */
  readonly expression: string;
  /** VPCs passed to the run; the discover function's VPC_IDS when empty. @default none */
  readonly vpcIds?: readonly string[];
}

/** The schedule that starts an audit run. */
export class AuditSchedule extends Construct {
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: AuditScheduleProps) {
    super(scope, id);
    const input: Record<string, unknown> = { end: scheduler.ContextAttribute.scheduledTime };
    if (props.vpcIds && props.vpcIds.length > 0) input.vpcIds = [...props.vpcIds];
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'sg-audit: start the security-group audit',
      schedule: scheduler.ScheduleExpression.expression(props.expression),
      target: new targets.StepFunctionsStartExecution(props.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject(input),
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
      }),
    });
  }
}
