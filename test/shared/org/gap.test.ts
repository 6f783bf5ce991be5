import { gapOfFailedRun } from '../../../shared/org/targets';

/** What a target's audit run states when a step fails (lib/audit-workflow.ts, target runs). */
function failedRunCause(step: string, error: { Error: string; Cause?: string }): string {
  return `failed in ${step}: ${error.Cause ?? ''}`;
}

describe('gapOfFailedRun', () => {
  it("unwraps a nested run's failure down to the step's Lambda error", () => {
    // Prepare: startExecution.sync's Cause describes the failed execution, whose cause names the step.
    const lambdaCause = JSON.stringify({
      errorType: 'MemberRoleError',
      errorMessage:
        'cannot assume arn:aws:iam::333333333333:role/SgAuditMember: AccessDenied: not authorized to perform: sts:AssumeRole',
      trace: ['MemberRoleError: …', '    at …'],
    });
    const error = {
      Error: 'States.TaskFailed',
      Cause: JSON.stringify({
        ExecutionArn: 'arn:aws:states:eu-west-1:999999999999:execution:audit:org-1-333333333333-eu-west-1',
        Status: 'FAILED',
        Error: 'MemberRoleError',
        Cause: failedRunCause('Discover', { Error: 'MemberRoleError', Cause: lambdaCause }),
      }),
    };

    // Act
    const gap = gapOfFailedRun(error);

    // Assess
    expect(gap).toEqual({
      kind: 'role-unavailable',
      step: 'Discover',
      error: {
        name: 'MemberRoleError',
        message:
          'cannot assume arn:aws:iam::333333333333:role/SgAuditMember: AccessDenied: not authorized to perform: sts:AssumeRole',
      },
    });
  });

  it('keeps a plain States error as it is (a timed-out target run)', () => {
    expect(gapOfFailedRun({ Error: 'States.Timeout', Cause: 'The execution timed out' })).toEqual({
      kind: 'failed',
      error: { name: 'States.Timeout', message: 'The execution timed out' },
    });
  });

  it("reads the execution description's lower-case fields too", () => {
    const gap = gapOfFailedRun({
      Error: 'States.TaskFailed',
      Cause: JSON.stringify({ error: 'OptInRequired', cause: 'region not enabled' }),
    });
    expect(gap).toMatchObject({
      kind: 'region-unavailable',
      error: { name: 'OptInRequired', message: 'region not enabled' },
    });
  });
});
