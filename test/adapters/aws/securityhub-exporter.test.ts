import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import {
  isThrottling,
  SecurityHubExportError,
  SecurityHubExporter,
} from '../../../adapters/aws/securityhub-exporter';
import { InvalidValueError } from '../../../shared/errors';
import { asffFindingId, defaultProductArn, toAsffFindings } from '../../../shared/export/asff';
import type { Finding } from '../../../shared/model/analysis';
import type { AuditReport } from '../../../shared/report/model';
import { ACCOUNT_ID, reportChanges, sampleReport } from '../../fixtures/report-fixture';

const TARGET = { accountId: ACCOUNT_ID, region: 'ap-northeast-2' };
const CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

const securityHub = new SecurityHubClient({ region: 'ap-northeast-2', credentials: CREDENTIALS });
const hubMock = mockClient(securityHub);

beforeEach(() => {
  hubMock.reset();
  hubMock.on(BatchImportFindingsCommand).callsFake((input: { Findings?: unknown[] }) => ({
    SuccessCount: input.Findings?.length ?? 0,
    FailedCount: 0,
    FailedFindings: [],
  }));
  hubMock.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
});

function sentIds(call: number): string[] {
  const input = hubMock.commandCalls(BatchImportFindingsCommand)[call]?.args[0].input;
  return (input?.Findings ?? []).map((f) => f.Id ?? '');
}

/** The sample report with `count` distinct findings and `resolved` resolved ones. */
function reportWith(count: number, resolved = 0): AuditReport {
  const base = sampleReport();
  const template = base.findings[0] as Finding;
  const findings = Array.from({ length: count }, (_, i) => ({ ...template, id: `${template.id}#${i}` }));
  const gone = Array.from({ length: resolved }, (_, i) => ({ ...template, id: `${template.id}#gone-${i}` }));
  return {
    ...base,
    findings,
    changes: reportChanges({ resolvedFindings: gone, unchangedFindings: count }),
  };
}

function throttled(name = 'TooManyRequestsException'): Error {
  return Object.assign(new Error('Rate exceeded'), { name, $metadata: { httpStatusCode: 429 } });
}

const noSleep = async (): Promise<void> => {};

describe('SecurityHubExporter', () => {
  it('sends 250 findings in 3 batches of at most 100 and counts them imported', async () => {
    // Prepare
    const report = reportWith(250);
    const exporter = new SecurityHubExporter({ securityHub, sleep: noSleep });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    const calls = hubMock.commandCalls(BatchImportFindingsCommand);
    expect(calls.map((c) => c.args[0].input.Findings?.length)).toEqual([100, 100, 50]);
    expect(result).toEqual({ imported: 250, archived: 0, failed: [], batches: 3, workflowUpdates: 0 });
    expect(new Set([0, 1, 2].flatMap(sentIds)).size).toBe(250);
  });

  it('sends the resolved findings ARCHIVED after the current ones and counts them apart', async () => {
    // Prepare
    const report = reportWith(3, 2);
    const exporter = new SecurityHubExporter({ securityHub });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    const input = hubMock.commandCalls(BatchImportFindingsCommand)[0]?.args[0].input;
    expect(input?.Findings?.map((f) => f.RecordState)).toEqual([
      'ACTIVE',
      'ACTIVE',
      'ACTIVE',
      'ARCHIVED',
      'ARCHIVED',
    ]);
    expect(input?.Findings?.[0]?.ProductArn).toBe(
      `arn:aws:securityhub:ap-northeast-2:${ACCOUNT_ID}:product/${ACCOUNT_ID}/default`,
    );
    expect(result).toEqual({ imported: 3, archived: 2, failed: [], batches: 1, workflowUpdates: 0 });
  });

  it('makes no call for a report without findings or resolved findings', async () => {
    // Prepare
    const report = reportWith(0);
    const exporter = new SecurityHubExporter({ securityHub });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    expect(hubMock.calls()).toHaveLength(0);
    expect(result).toEqual({ imported: 0, archived: 0, failed: [], batches: 0, workflowUpdates: 0 });
  });

  it('retries a throttled batch after a jittered, growing backoff', async () => {
    // Prepare
    hubMock
      .on(BatchImportFindingsCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled('LimitExceededException'))
      .resolves({ SuccessCount: 5, FailedCount: 0, FailedFindings: [] });
    const delays: number[] = [];
    const warnings: string[] = [];
    const exporter = new SecurityHubExporter({
      securityHub,
      sleep: async (ms) => {
        delays.push(ms);
      },
      random: () => 0.5,
      logger: { info: () => {}, warn: (message) => warnings.push(message) },
    });

    // Act
    const result = await exporter.exportReport(reportWith(5), TARGET);

    // Assess
    expect(hubMock.commandCalls(BatchImportFindingsCommand)).toHaveLength(3);
    expect(delays).toEqual([250, 500]);
    expect(warnings.filter((w) => /throttled/.test(w))).toHaveLength(2);
    expect(result.imported).toBe(5);
  });

  it('gives up after maxAttempts throttled calls with an error naming the batch', async () => {
    // Prepare
    hubMock.on(BatchImportFindingsCommand).rejects(throttled());
    const exporter = new SecurityHubExporter({ securityHub, sleep: noSleep, maxAttempts: 3 });

    // Act
    const run = exporter.exportReport(reportWith(5), TARGET);

    // Assess
    await expect(run).rejects.toThrow(SecurityHubExportError);
    await expect(run).rejects.toThrow(
      /batch 1 of 1 \(5 findings from sg-audit\/123456789012\/.*TooManyRequestsException/,
    );
    expect(hubMock.commandCalls(BatchImportFindingsCommand)).toHaveLength(3);
  });

  it('stops on a non-throttling error without retrying, saying what was already imported', async () => {
    // Prepare
    hubMock
      .on(BatchImportFindingsCommand)
      .resolvesOnce({ SuccessCount: 100, FailedCount: 0, FailedFindings: [] })
      .rejectsOnce(Object.assign(new Error('not subscribed'), { name: 'InvalidAccessException' }));
    const exporter = new SecurityHubExporter({ securityHub, sleep: noSleep });

    // Act
    const error = await exporter.exportReport(reportWith(250), TARGET).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(SecurityHubExportError);
    const exportError = error as SecurityHubExportError;
    expect(exportError.name).toBe('SecurityHubExportError');
    expect([exportError.batch, exportError.batches, exportError.imported]).toEqual([2, 3, 100]);
    expect(exportError.findingIds).toHaveLength(100);
    expect(exportError.message).toMatch(/InvalidAccessException: not subscribed/);
    expect((exportError.cause as Error).name).toBe('InvalidAccessException');
    expect(hubMock.commandCalls(BatchImportFindingsCommand)).toHaveLength(2);
  });

  it('returns the findings Security Hub refused one by one and does not count them', async () => {
    // Prepare
    const report = reportWith(4, 1);
    hubMock.on(BatchImportFindingsCommand).callsFake((input: { Findings?: { Id?: string }[] }) => ({
      SuccessCount: 3,
      FailedCount: 2,
      FailedFindings: [
        {
          Id: input.Findings?.[1]?.Id,
          ErrorCode: 'InvalidInput',
          ErrorMessage: 'Finding does not adhere to ASFF',
        },
        { Id: input.Findings?.[4]?.Id, ErrorCode: 'FindingSizeExceeded', ErrorMessage: 'too large' },
      ],
    }));
    const warn = jest.fn();
    const exporter = new SecurityHubExporter({ securityHub, logger: { info: () => {}, warn } });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    const ids = sentIds(0);
    expect(result.failed).toEqual([
      { id: ids[1], code: 'InvalidInput', message: 'Finding does not adhere to ASFF' },
      { id: ids[4], code: 'FindingSizeExceeded', message: 'too large' },
    ]);
    expect([result.imported, result.archived]).toEqual([3, 0]);
    expect(warn).toHaveBeenCalledWith(
      'Security Hub refused some findings',
      expect.objectContaining({ failed: 2 }),
    );
  });

  it('splits a batch whose request exceeds the size limit, keeping every finding once and in order', async () => {
    // Prepare
    const report = reportWith(40);
    const exporter = new SecurityHubExporter({ securityHub, maxBatchBytes: 40_000 });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    const calls = hubMock.commandCalls(BatchImportFindingsCommand);
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) {
      expect(
        Buffer.byteLength(JSON.stringify({ Findings: call.args[0].input.Findings })),
      ).toBeLessThanOrEqual(40_000);
    }
    const all = calls.flatMap((_, i) => sentIds(i));
    expect(all).toEqual(toAsffFindings(report, TARGET).active.map((f) => f.Id));
    expect(result).toMatchObject({ imported: 40, batches: calls.length });
  });

  it.each([0, 101, 2.5])('rejects batchSize %p', (batchSize) => {
    // Act
    const create = () => new SecurityHubExporter({ securityHub, batchSize });

    // Assess
    expect(create).toThrow(InvalidValueError);
    expect(create).toThrow(/batchSize/);
  });

  it('honours a smaller batchSize', async () => {
    // Prepare
    const exporter = new SecurityHubExporter({ securityHub, batchSize: 10 });

    // Act
    const result = await exporter.exportReport(reportWith(25), TARGET);

    // Assess
    expect(
      hubMock.commandCalls(BatchImportFindingsCommand).map((c) => c.args[0].input.Findings?.length),
    ).toEqual([10, 10, 5]);
    expect(result.batches).toBe(3);
  });
});

describe('isThrottling', () => {
  it.each([
    [throttled(), true],
    [throttled('ThrottlingException'), true],
    [Object.assign(new Error('x'), { name: 'Other', $retryable: { throttling: true } }), true],
    [Object.assign(new Error('x'), { name: 'InvalidInputException' }), false],
    ['TooManyRequestsException', false],
  ])('classifies %p as %p', (error, expected) => {
    // Act
    const result = isThrottling(error);

    // Assess
    expect(result).toBe(expected);
  });
});

describe('SecurityHubExporter (accepted risks)', () => {
  /** The sample report whose first findings carry an acceptance: active for `active`, expired for `expired`. */
  function acceptedReport(active: number, expired: number): AuditReport {
    const report = reportWith(active + expired + 2);
    const findings = report.findings.map((f, i) => {
      if (i >= active + expired) return f;
      const status = i < active ? ('active' as const) : ('expired' as const);
      return {
        ...f,
        suppression: {
          id: i < active ? 'bastion-ssh' : 'partner-cidr',
          owner: 'sec-team',
          reason: 'jump host',
          expires: '2027-01-31',
          status,
        },
      };
    });
    return { ...report, findings };
  }

  it('sets accepted risks SUPPRESSED and expired ones back to NEW, one call per entry, with the acceptance as the note', async () => {
    // Prepare
    const report = acceptedReport(3, 1);
    const exporter = new SecurityHubExporter({ securityHub, sleep: noSleep });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    const updates = hubMock.commandCalls(BatchUpdateFindingsCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(2);
    const suppressed = updates.find((u) => u.Workflow?.Status === 'SUPPRESSED');
    expect(suppressed?.FindingIdentifiers).toEqual(
      report.findings
        .slice(0, 3)
        .map((f) => ({ Id: asffFindingId(TARGET, f), ProductArn: defaultProductArn(TARGET) })),
    );
    expect(suppressed?.Note).toEqual({
      Text: expect.stringMatching(
        /^Accepted risk bastion-ssh \(owner sec-team, expires 2027-01-31\): jump host/,
      ),
      UpdatedBy: 'sg-audit',
    });
    const reopened = updates.find((u) => u.Workflow?.Status === 'NEW');
    expect(reopened?.FindingIdentifiers?.map((f) => f.Id)).toEqual([
      asffFindingId(TARGET, report.findings[3] as Finding),
    ]);
    expect(result.workflowUpdates).toBe(4);
  });

  it('updates at most 100 findings per call and reports the ones Security Hub did not process', async () => {
    // Prepare
    const report = acceptedReport(150, 0);
    const notProcessed = asffFindingId(TARGET, report.findings[120] as Finding);
    hubMock.on(BatchUpdateFindingsCommand).callsFake((input: { FindingIdentifiers?: { Id?: string }[] }) => ({
      ProcessedFindings: [],
      UnprocessedFindings: (input.FindingIdentifiers ?? [])
        .filter((f) => f.Id === notProcessed)
        .map((f) => ({ FindingIdentifier: f, ErrorCode: 'FindingNotFound', ErrorMessage: 'not found' })),
    }));
    const exporter = new SecurityHubExporter({ securityHub, sleep: noSleep });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    const sizes = hubMock
      .commandCalls(BatchUpdateFindingsCommand)
      .map((c) => c.args[0].input.FindingIdentifiers?.length);
    expect(sizes).toEqual([100, 50]);
    expect(result.workflowUpdates).toBe(149);
    expect(result.failed).toEqual([{ id: notProcessed, code: 'FindingNotFound', message: 'not found' }]);
  });

  it('retries a throttled update and leaves findings without an acceptance alone', async () => {
    // Prepare
    const report = acceptedReport(1, 0);
    hubMock
      .on(BatchUpdateFindingsCommand)
      .rejectsOnce(throttled())
      .resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
    const exporter = new SecurityHubExporter({ securityHub, sleep: noSleep });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    const calls = hubMock.commandCalls(BatchUpdateFindingsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.FindingIdentifiers).toHaveLength(1);
    expect(result.workflowUpdates).toBe(1);
  });

  it('reports the findings whose workflow could not be set, keeping what was imported', async () => {
    // Prepare
    const report = acceptedReport(2, 0);
    hubMock
      .on(BatchUpdateFindingsCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const exporter = new SecurityHubExporter({ securityHub, sleep: noSleep });

    // Act
    const result = await exporter.exportReport(report, TARGET);

    // Assess
    expect(result.imported).toBe(4);
    expect(result.workflowUpdates).toBe(0);
    expect(result.failed).toEqual(
      report.findings.slice(0, 2).map((f) => ({
        id: asffFindingId(TARGET, f),
        code: 'AccessDeniedException',
        message: 'workflow not set: not authorized',
      })),
    );
  });
});
