/**
 * `sg-audit approve --run ID` and `sg-audit reject --run ID [--reason TEXT]`: the human decision
 * the deployed remediation waits for. With the caller's own AWS credentials, reads the run's
 * approval record from the work bucket (approvals/<runId>.json: the plan summary and the waiting
 * task's token), shows the plan, then answers Step Functions: SendTaskSuccess (the workflow applies
 * the plan shown: the apply step refuses any other) or SendTaskFailure (SgAudit.Rejected, nothing
 * changes). CloudTrail records who called. Loaded only when the command runs.
 */
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  type SFNClientConfig,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import type { AwsConnectionOptions } from '../adapters/aws/clients';
import { S3ApprovalStore } from '../adapters/aws/s3-approvals';
import { InputError } from '../shared/errors';
import {
  type ApprovalDecision,
  type ApprovalRecord,
  approvalKey,
  isRunId,
  REJECTED_ERROR,
  type RejectionCause,
} from '../shared/remediation/approval';
import { type AwsFlags, awsClientsOf } from './command-context';
import { EXIT_OK } from './exit-codes';
import type { CliIo } from './main';

export interface DecisionFlags extends AwsFlags {
  run: string;
  workBucket?: string;
  reason?: string;
}

/** Step Functions' client of the decision, from the same options as the other clients. */
export type StepFunctionsClientFactory = (options: AwsConnectionOptions) => SFNClient;

/** SendTaskFailure's cause is at most 32,768 characters; a reason is a sentence or two. */
const REASON_MAX_CHARS = 1_000;

const createStepFunctionsClient: StepFunctionsClientFactory = (options) => {
  const config: SFNClientConfig = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { credentials: fromIni({ profile: options.profile }) } : {}),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
  };
  return new SFNClient(config);
};

/** The record's lines the approver sees before the decision is sent. */
function recordText(record: ApprovalRecord, bucket: string): string {
  const account = [record.account.id, record.account.region].filter(Boolean).join('/') || 'unknown account';
  const lines = [
    `run ${record.runId} (${account}): remediation plan requested ${record.requestedAt}, expires ${record.expiresAt}`,
    `approval record: s3://${bucket}/${approvalKey(record.runId)}`,
    `plan files:      ${record.planLocation}`,
    '',
    record.summary.trimEnd(),
  ];
  if (record.notOptedIn.length > 0) {
    lines.push(
      '',
      `not opted in (no ${record.tag.key}=${record.tag.value} tag, not planned): ${record.notOptedIn.map((sg) => sg.sgId).join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}

/** The pending record of a run, or an InputError saying why there is nothing to decide. */
async function pendingRecord(flags: DecisionFlags, io: CliIo, store: S3ApprovalStore, now: Date) {
  const record = await store.read(flags.run);
  if (record === undefined) {
    throw new InputError(
      `no approval for run '${flags.run}' in s3://${store.bucket}/approvals/: an unknown run id, another bucket, or a run whose plan changed no opted-in SG (nothing to approve)`,
      { field: '--run' },
    );
  }
  io.stdout.write(recordText(record, store.bucket));
  if (record.status !== 'pending' || record.taskToken === undefined) {
    const when = record.decidedAt ? ` at ${record.decidedAt}` : '';
    const by = record.decision?.by ? ` by ${record.decision.by}` : '';
    throw new InputError(
      `run '${flags.run}' is no longer waiting for a decision: ${record.status}${when}${by}`,
      {
        field: '--run',
      },
    );
  }
  if (Date.parse(record.expiresAt) <= now.getTime()) {
    throw new InputError(
      `the approval of run '${flags.run}' expired at ${record.expiresAt}: the plan is taken as rejected and nothing changes; a later run plans again`,
      { field: '--run' },
    );
  }
  return { ...record, taskToken: record.taskToken };
}

/** Step Functions' answers for a token it no longer waits on, in the approver's words. */
function tokenError(error: unknown, runId: string): Error {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TaskTimedOut') {
    return new InputError(
      `the approval of run '${runId}' timed out in Step Functions: the plan was taken as rejected and nothing was changed`,
      { field: '--run' },
    );
  }
  if (name === 'TaskDoesNotExist' || name === 'InvalidToken') {
    return new InputError(
      `run '${runId}' is no longer waiting for a decision (already decided, or the run ended): nothing was sent`,
      { field: '--run' },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

async function decide(flags: DecisionFlags, io: CliIo, decision: 'approve' | 'reject'): Promise<number> {
  if (!isRunId(flags.run)) {
    throw new InputError(
      `'${flags.run}' is not a run id (A-Z a-z 0-9 . _ = -, as the approval alert gives it)`,
      {
        field: '--run',
      },
    );
  }
  if (!flags.workBucket) {
    throw new InputError(
      "the work bucket is needed: pass --work-bucket NAME (the stack's ApprovalBucket output; the approval alert's command names it)",
      { field: '--work-bucket' },
    );
  }
  if (flags.reason !== undefined && flags.reason.length > REASON_MAX_CHARS) {
    throw new InputError(`at most ${REASON_MAX_CHARS} characters`, { field: '--reason' });
  }
  const options = {
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.profile ? { profile: flags.profile } : {}),
  };
  const clients = awsClientsOf(flags, io);
  const sfn = (io.stepFunctions ?? createStepFunctionsClient)(options);
  try {
    const now = io.now?.() ?? new Date();
    const store = new S3ApprovalStore({ s3: clients.s3, bucket: flags.workBucket });
    const record = await pendingRecord(flags, io, store, now);
    // Who decides, for the alert and the record (CloudTrail has the call itself).
    const by = await clients.sts
      .send(new GetCallerIdentityCommand({}))
      .then((identity) => identity.Arn)
      .catch(() => undefined);
    try {
      if (decision === 'approve') {
        const output: ApprovalDecision = {
          approved: true,
          planId: record.planId,
          ...(by ? { by } : {}),
          at: now.toISOString(),
        };
        await sfn.send(
          new SendTaskSuccessCommand({ taskToken: record.taskToken, output: JSON.stringify(output) }),
        );
      } else {
        const cause: RejectionCause = {
          ...(flags.reason ? { reason: flags.reason } : {}),
          ...(by ? { by } : {}),
        };
        await sfn.send(
          new SendTaskFailureCommand({
            taskToken: record.taskToken,
            error: REJECTED_ERROR,
            cause: JSON.stringify(cause),
          }),
        );
      }
    } catch (error) {
      throw tokenError(error, flags.run);
    }
    io.stdout.write(
      decision === 'approve'
        ? `approved plan ${record.planId.slice(0, 19)}…: the workflow applies it now (drift check, DryRun, adds before revokes, verify); the outcome alert follows\n`
        : 'rejected: nothing will be changed; the rejection alert follows\n',
    );
    return EXIT_OK;
  } finally {
    sfn.destroy();
    clients.destroy();
  }
}

/** Runs `sg-audit approve` with parsed flags; returns the exit code. */
export function runApproveCommand(flags: DecisionFlags, io: CliIo): Promise<number> {
  return decide(flags, io, 'approve');
}

/** Runs `sg-audit reject` with parsed flags; returns the exit code. */
export function runRejectCommand(flags: DecisionFlags, io: CliIo): Promise<number> {
  return decide(flags, io, 'reject');
}
