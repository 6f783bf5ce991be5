import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { awsClientsFrom } from '../../adapters/aws/clients';
import { EXIT_ERROR, EXIT_OK } from '../../cli/main';
import type { ApprovalRecord } from '../../shared/remediation/approval';
import { runCli } from '../support/cli-run';

const CONFIG = {
  region: 'ap-northeast-2',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
};
const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const sfn = mockClient(SFNClient);
const NOW = new Date('2026-11-18T02:00:00Z');

const PENDING: ApprovalRecord = {
  schemaVersion: '1.0.0',
  kind: 'sg-audit-approval',
  runId: 'run-1',
  planId: 'sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  account: { id: '123456789012', region: 'ap-northeast-2' },
  status: 'pending',
  requestedAt: '2026-11-18T00:00:00Z',
  expiresAt: '2026-11-21T00:00:00Z',
  planLocation: 's3://reports/reports/123456789012/ap-northeast-2/2026/11/17/run-1/',
  summary:
    'plan sha256:0a1b2c3d4e5f…  1 SG(s) to change (2 adds, 2 revokes in all)\n  apply   sg-bastion  bastion  2 add(s), 2 revoke(s)\n',
  notOptedIn: [{ sgId: 'sg-jump', sgName: 'jump', adds: 1, revokes: 1 }],
  tag: { key: 'sg-audit:remediate', value: 'true' },
  taskToken: 'token-1',
};

function storing(record: ApprovalRecord | undefined): void {
  s3.reset();
  const get = s3.on(GetObjectCommand, { Bucket: 'work', Key: 'approvals/run-1.json' });
  if (record === undefined) get.rejects(Object.assign(new Error('no such key'), { name: 'NoSuchKey' }));
  else get.resolves({ Body: { transformToString: async () => JSON.stringify(record) } as never });
}

function cli(args: string[]) {
  return runCli(args, {
    now: () => NOW,
    awsClients: () => awsClientsFrom(CONFIG),
    stepFunctions: () => new SFNClient(CONFIG),
  });
}

beforeEach(() => {
  sts.reset();
  sfn.reset();
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Arn: 'arn:aws:iam::123456789012:user/kim', Account: '123456789012' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

describe('sg-audit approve | reject', () => {
  it('shows the plan, then approves it with the plan id and the caller, from the stored token', async () => {
    // Prepare
    storing(PENDING);
    // Act
    const result = await cli(['approve', '--run', 'run-1', '--work-bucket', 'work']);
    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toContain('run run-1 (123456789012/ap-northeast-2): remediation plan requested');
    expect(result.stdout).toContain('apply   sg-bastion');
    expect(result.stdout).toContain('not opted in (no sg-audit:remediate=true tag, not planned): sg-jump');
    expect(result.stdout).toContain('approved plan sha256:0a1b2c3d4e5f…');
    const [call] = sfn.commandCalls(SendTaskSuccessCommand);
    expect(call?.args[0].input.taskToken).toBe('token-1');
    expect(JSON.parse(call?.args[0].input.output ?? '{}')).toEqual({
      approved: true,
      planId: PENDING.planId,
      by: 'arn:aws:iam::123456789012:user/kim',
      at: NOW.toISOString(),
    });
  });

  it('rejects with SgAudit.Rejected and the reason', async () => {
    storing(PENDING);
    const result = await cli([
      'reject',
      '--run',
      'run-1',
      '--work-bucket',
      'work',
      '--reason',
      'change freeze',
    ]);
    expect(result.code).toBe(EXIT_OK);
    const [call] = sfn.commandCalls(SendTaskFailureCommand);
    expect(call?.args[0].input).toEqual({
      taskToken: 'token-1',
      error: 'SgAudit.Rejected',
      cause: JSON.stringify({ reason: 'change freeze', by: 'arn:aws:iam::123456789012:user/kim' }),
    });
  });

  it.each([
    [['approve', '--run', 'run-1'], '--work-bucket: the work bucket is needed'],
    [['approve', '--run', '../x', '--work-bucket', 'work'], "--run: '../x' is not a run id"],
    [
      ['reject', '--run', 'run-1', '--work-bucket', 'work', '--reason', 'x'.repeat(1001)],
      '--reason: at most 1000',
    ],
  ])('refuses %j before reading anything', async (args, message) => {
    storing(PENDING);
    const result = await cli(args);
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toContain(message);
    expect(s3.commandCalls(GetObjectCommand)).toEqual([]);
  });

  it('says so for an unknown run, a decided one and an expired one, sending nothing', async () => {
    storing(undefined);
    const unknown = await cli(['approve', '--run', 'run-1', '--work-bucket', 'work']);
    storing({
      ...PENDING,
      status: 'rejected',
      taskToken: undefined,
      decidedAt: '2026-11-18T01:00:00Z',
    } as ApprovalRecord);
    const decided = await cli(['approve', '--run', 'run-1', '--work-bucket', 'work']);
    storing({ ...PENDING, expiresAt: '2026-11-18T01:59:59Z' });
    const expired = await cli(['approve', '--run', 'run-1', '--work-bucket', 'work']);
    expect([unknown.code, decided.code, expired.code]).toEqual([EXIT_ERROR, EXIT_ERROR, EXIT_ERROR]);
    expect(unknown.stderr).toContain(
      "no approval for run 'run-1' in s3://work/approvals/: an unknown run id",
    );
    expect(decided.stderr).toContain(
      "run 'run-1' is no longer waiting for a decision: rejected at 2026-11-18T01:00:00Z",
    );
    expect(expired.stderr).toContain("the approval of run 'run-1' expired at 2026-11-18T01:59:59Z");
    expect(sfn.calls()).toEqual([]);
  });

  it.each([
    ['TaskTimedOut', "the approval of run 'run-1' timed out in Step Functions"],
    [
      'TaskDoesNotExist',
      "run 'run-1' is no longer waiting for a decision (already decided, or the run ended)",
    ],
  ])('explains the token error %s of Step Functions', async (name, message) => {
    storing(PENDING);
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('token'), { name }));
    const result = await cli(['approve', '--run', 'run-1', '--work-bucket', 'work']);
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toContain(message);
  });

  it('names the object that cannot be read', async () => {
    s3.reset();
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const result = await cli(['approve', '--run', 'run-1', '--work-bucket', 'work']);
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toContain(
      'ApprovalStoreError: s3://work/approvals/run-1.json: cannot read: AccessDenied: Access Denied',
    );
  });
});
