import type { ApprovalRecord } from '../../../shared/remediation/approval';
import type { AppliedRecord } from '../../../shared/remediation/model';
import type { AuditReport } from '../../../shared/report/model';
import { remediationReport } from '../../fixtures/remediation-fixture';
import { handlerColdStart } from '../../support/handler-cold-start';

const TOPIC_ARN = 'arn:aws:sns:ap-northeast-2:123456789012:sg-audit-alerts';
const PREFIX = 'reports/123456789012/ap-northeast-2/2026/11/17/run-1/';
const KMS = 'arn:aws:kms:ap-northeast-2:123456789012:key/0c1d2e3f-1111-2222-3333-444455556666';

const coldStart = handlerColdStart({
  WORK_BUCKET: 'sg-audit-work',
  REPORT_BUCKET: 'sg-audit-reports',
  ALERT_TOPIC_ARN: TOPIC_ARN,
  KMS_KEY_ID: KMS,
  REMEDIATION_TAG_KEY: 'sg-audit:remediate',
  REMEDIATION_TAG_VALUE: 'true',
  APPROVAL_TIMEOUT_SECONDS: '3600',
});

/** The fixture's report with the bastion opted in by tag. */
async function taggedReport(): Promise<AuditReport> {
  const report = await remediationReport();
  return {
    ...report,
    account: { id: '123456789012', region: 'ap-northeast-2' },
    securityGroups: report.securityGroups.map((sg) =>
      sg.id === 'sg-bastion' ? { ...sg, tags: { ...sg.tags, 'sg-audit:remediate': 'true' } } : sg,
    ),
  };
}

/** The handler with S3 (objects kept in memory) and SNS mocked. */
async function loadRemediate(objects: Map<string, string> = new Map()) {
  coldStart();
  const { mockClient } = await import('aws-sdk-client-mock');
  const s3Sdk = await import('@aws-sdk/client-s3');
  const snsSdk = await import('@aws-sdk/client-sns');
  const s3 = mockClient(s3Sdk.S3Client);
  const sns = mockClient(snsSdk.SNSClient);
  s3.on(s3Sdk.GetObjectCommand).callsFake(async (input: { Bucket: string; Key: string }) => {
    const text = objects.get(`${input.Bucket}/${input.Key}`);
    if (text === undefined) throw Object.assign(new Error('missing'), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => text } };
  });
  s3.on(s3Sdk.PutObjectCommand).callsFake(async (input: { Bucket: string; Key: string; Body: string }) => {
    objects.set(`${input.Bucket}/${input.Key}`, input.Body);
    return {};
  });
  sns.on(snsSdk.PublishCommand).resolves({ MessageId: 'm-1' });
  const { handler } = await import('../../../lambdas/remediate/handler');
  const puts = () => s3.commandCalls(s3Sdk.PutObjectCommand).map((c) => c.args[0].input);
  const published = () => sns.commandCalls(snsSdk.PublishCommand).map((c) => c.args[0].input);
  return { handler, objects, puts, published, sns, snsSdk };
}

/** Objects holding the report, then the plan step's files. */
async function planned() {
  const objects = new Map([[`sg-audit-reports/${PREFIX}report.json`, JSON.stringify(await taggedReport())]]);
  const loaded = await loadRemediate(objects);
  const plan = await loaded.handler({
    action: 'plan',
    runId: 'run-1',
    reportJsonKey: `${PREFIX}report.json`,
    reportPrefix: PREFIX,
  });
  return { ...loaded, plan };
}

const approvalOf = (objects: Map<string, string>) =>
  JSON.parse(objects.get('sg-audit-work/approvals/run-1.json') ?? '{}') as ApprovalRecord;

afterEach(() => {
  jest.restoreAllMocks();
});

describe('remediate handler', () => {
  it('plans only the SGs carrying the opt-in tag and lists the others, writing the plan files encrypted beside the report', async () => {
    // Act
    const { plan, puts, objects } = await planned();
    // Assess
    expect(plan).toMatchObject({
      runId: 'run-1',
      awaitApproval: true,
      planKey: `${PREFIX}plan.json`,
      toApply: 1,
      notOptedIn: 1,
    });
    const written = puts();
    expect(written.map((p) => p.Key?.replace(PREFIX, ''))).toEqual(
      expect.arrayContaining(['plan.json', 'plan.md', 'apply.sh', 'rollback.sh', 'not-opted-in.json']),
    );
    expect(written.every((p) => p.ServerSideEncryption === 'aws:kms' && p.SSEKMSKeyId === KMS)).toBe(true);
    const stored = JSON.parse(objects.get(`sg-audit-reports/${PREFIX}plan.json`) ?? '{}');
    expect(stored.securityGroups.map((sg: { sgId: string }) => sg.sgId)).toEqual(['sg-bastion']);
    expect(stored.nacls).toEqual([]);
    expect(JSON.parse(objects.get(`sg-audit-reports/${PREFIX}not-opted-in.json`) ?? '[]')).toEqual([
      expect.objectContaining({ sgId: 'sg-app' }),
    ]);
  });

  it('asks for no approval and writes nothing when no SG has a proven change', async () => {
    // Prepare
    const report = await remediationReport();
    const unchanged = {
      ...report,
      securityGroups: report.securityGroups.filter((sg) => sg.id === 'sg-dark'),
    };
    const { handler, puts } = await loadRemediate(
      new Map([[`sg-audit-reports/${PREFIX}report.json`, JSON.stringify(unchanged)]]),
    );
    // Act
    const result = await handler({
      action: 'plan',
      runId: 'run-1',
      reportJsonKey: `${PREFIX}report.json`,
      reportPrefix: PREFIX,
    });
    // Assess
    expect(result).toEqual({
      runId: 'run-1',
      awaitApproval: false,
      toApply: 0,
      adds: 0,
      revokes: 0,
      notOptedIn: 0,
    });
    expect(puts()).toEqual([]);
  });

  it('stores the task token with the plan summary and alerts the exact approve and reject commands', async () => {
    // Prepare
    const { handler, objects, published, puts } = await planned();
    // Act
    await handler({
      action: 'request-approval',
      runId: 'run-1',
      planKey: `${PREFIX}plan.json`,
      taskToken: 'token-1',
    });
    // Assess
    const record = approvalOf(objects);
    expect(record).toMatchObject({
      kind: 'sg-audit-approval',
      runId: 'run-1',
      status: 'pending',
      taskToken: 'token-1',
      planLocation: `s3://sg-audit-reports/${PREFIX}`,
      notOptedIn: [{ sgId: 'sg-app' }],
    });
    expect(Date.parse(record.expiresAt) - Date.parse(record.requestedAt)).toBe(3_600_000);
    expect(puts().find((p) => p.Key === 'approvals/run-1.json')?.ServerSideEncryption).toBe('aws:kms');
    const [alert] = published();
    expect(alert?.Subject).toBe(
      'sg-audit 123456789012/ap-northeast-2: remediation plan awaits approval: 1 SG(s), 3 adds, 3 revokes',
    );
    expect(alert?.Message).toContain(
      'sg-audit approve --run run-1 --work-bucket sg-audit-work --region ap-northeast-2',
    );
    expect(alert?.Message).toContain('sg-audit reject --run run-1 --work-bucket sg-audit-work');
    expect(alert?.Message).toContain('apply   sg-bastion');
    expect(alert?.Message).not.toContain('token-1');
  });

  it('fails the request (the workflow then alerts and changes nothing) when no channel takes the alert', async () => {
    // Prepare
    const { handler, sns, snsSdk } = await planned();
    sns.on(snsSdk.PublishCommand).rejects(Object.assign(new Error('denied'), { name: 'AuthorizationError' }));
    // Act / Assess
    await expect(
      handler({ action: 'request-approval', runId: 'run-1', planKey: `${PREFIX}plan.json`, taskToken: 't' }),
    ).rejects.toThrow(/alert not delivered to sns/);
  });

  it('ends a rejected approval: the record keeps who and why and drops the token; the alert says nothing changed', async () => {
    // Prepare
    const { handler, objects, published } = await planned();
    await handler({
      action: 'request-approval',
      runId: 'run-1',
      planKey: `${PREFIX}plan.json`,
      taskToken: 'token-1',
    });
    // Act
    const result = await handler({
      action: 'outcome',
      runId: 'run-1',
      decision: {
        status: 'rejected',
        planKey: `${PREFIX}plan.json`,
        error: {
          Error: 'SgAudit.Rejected',
          Cause: JSON.stringify({ reason: 'change freeze', by: 'arn:aws:iam::1:user/kim' }),
        },
      },
    });
    // Assess
    expect(result).toEqual({ runId: 'run-1', outcome: 'rejected', published: ['sns'], failed: [] });
    const record = approvalOf(objects);
    expect(record).toMatchObject({
      status: 'rejected',
      decision: { by: 'arn:aws:iam::1:user/kim', reason: 'change freeze' },
    });
    expect(record.taskToken).toBeUndefined();
    const alert = published().at(-1);
    expect(alert?.Subject).toBe('sg-audit 123456789012/ap-northeast-2: remediation plan rejected');
    expect(alert?.Message).toContain(
      'rejected by arn:aws:iam::1:user/kim: nothing was changed. Reason: change freeze',
    );
  });

  it('alerts where a stopped apply stopped, from its record, with the record location', async () => {
    // Prepare
    const { handler, objects, published } = await planned();
    const record: AppliedRecord = {
      schemaVersion: '1.0.0',
      kind: 'sg-audit-applied',
      operation: 'apply',
      planId: 'sha256:x',
      startedAt: '2026-11-18T00:00:00Z',
      finishedAt: '2026-11-18T00:00:05Z',
      account: { id: '123456789012', region: 'ap-northeast-2' },
      status: 'stopped',
      stoppedAt: {
        target: 'sg-bastion',
        step: 2,
        of: 4,
        error: 'RemediationCallError: UnauthorizedOperation',
      },
      securityGroups: [
        { sgId: 'sg-bastion', status: 'failed', message: 'stopped at step 2 of 4', steps: [], stepsDone: 1 },
      ],
      nacls: [],
    };
    objects.set(`sg-audit-reports/${PREFIX}applied-1.json`, JSON.stringify(record));
    // Act
    const result = await handler({
      action: 'outcome',
      runId: 'run-1',
      decision: {
        status: 'applied',
        planKey: `${PREFIX}plan.json`,
        appliedKey: `${PREFIX}applied-1.json`,
        approval: null,
      },
    });
    // Assess
    expect(result).toMatchObject({ outcome: 'stopped' });
    const alert = published().at(-1);
    expect(alert?.Subject).toBe('sg-audit 123456789012/ap-northeast-2: remediation STOPPED');
    expect(alert?.Message).toContain(
      'STOPPED at sg-bastion, step 2 of 4: RemediationCallError: UnauthorizedOperation',
    );
    expect(alert?.Message).toContain(`s3://sg-audit-reports/${PREFIX}applied-1.json`);
  });

  it('refuses an event that names a key out of the report prefix, naming the field', async () => {
    const { handler } = await loadRemediate();
    await expect(
      handler({ action: 'plan', runId: 'run-1', reportJsonKey: '../x/report.json', reportPrefix: PREFIX }),
    ).rejects.toThrow(/reportJsonKey: must be an object key without \.\./);
  });
});
