/**
 * Week over week against moto_server: the workflow's four handlers run in the state machine's
 * order (discover → query each source → analyze → notify) three times on one account, as three
 * weekly runs would. The first run alerts; an unchanged second run sends nothing (or, with
 * NO_CHANGE_DIGEST, the short digest); a third run after someone opened RDP to the world alerts
 * about exactly that rule. A suppressions file in the report bucket accepts the web tier's SSH:
 * the finding stays in report.json, marked, and never reaches an alert.
 *
 * The handlers build their clients and read their configuration at import, so the environment
 * points them at moto first; the digest variant of notify is imported again in its own registry.
 */
import { AuthorizeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AnalyzeResult } from '../../lambdas/analyze/contract';
import { severityRank } from '../../shared/model/analysis';
import type { AuditReport } from '../../shared/report/model';
import { objectText, type SeededAccount, type SeedOptions, sentNotifications } from '../support/moto-account';
import { motoWorkflowSuite, queryEachSource, type WorkflowHandlers } from '../support/moto-workflow';

const ACCOUNT = '123456789012';
const REGION = 'ap-northeast-2';
const NOW = Math.floor(Date.now() / 1000);
/** The window's end: a little ahead, so the flow log moto creates during the test lies inside it. */
const END = NOW + 600;
const SEED: SeedOptions = {
  account: ACCOUNT,
  region: REGION,
  network: '10.40',
  workBucket: 'sg-audit-wow-work',
  reportBucket: 'sg-audit-wow-reports',
  topicName: 'sg-audit-wow-alerts',
  logGroup: '/sg-audit/e2e/wow-flow',
  now: NOW,
};
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${SEED.topicName}`;
const SUPPRESSIONS_KEY = 'config/suppressions.yaml';

const suite = motoWorkflowSuite({ seed: SEED, settings: { SUPPRESSIONS_KEY } });
/** notify with NO_CHANGE_DIGEST=true. */
let digestNotify: WorkflowHandlers['notify'];

beforeAll(async () => {
  process.env.NO_CHANGE_DIGEST = 'true';
  await jest.isolateModulesAsync(async () => {
    digestNotify = (await import('../../lambdas/notify/handler')).handler;
  });
  delete process.env.NO_CHANGE_DIGEST;
});

/** Accepts the web tier's world-open SSH (a bastion), until long after the test. */
async function putSuppressions(account: SeededAccount): Promise<void> {
  const yaml = [
    'version: 1',
    'suppressions:',
    '  - id: bastion-ssh',
    '    owner: platform-team',
    '    reason: Bastion host; SSH open to the world by design.',
    '    expires: 2099-12-31',
    '    match:',
    `      sgId: ${account.web}`,
    '      check: sensitive-port-world',
    '      rule: { direction: ingress, protocol: tcp, ports: "22" }',
  ].join('\n');
  await suite.clients.s3.send(
    new PutObjectCommand({ Bucket: SEED.reportBucket, Key: SUPPRESSIONS_KEY, Body: yaml }),
  );
}

/** discover → query (each item, failures caught as the Map does) → analyze. */
async function analyzeRun(runId: string): Promise<AnalyzeResult> {
  const discovered = await suite.handlers.discover({ runId, end: END });
  const { aggregateKeys, failedSources } = await queryEachSource(suite.handlers, discovered);
  expect(failedSources).toEqual([]);
  // Through JSON, as the state carries it.
  const result = await suite.handlers.analyze({
    runId,
    inventoryKey: discovered.inventoryKey,
    aggregateKeys,
    failedSources,
  });
  return JSON.parse(JSON.stringify(result)) as AnalyzeResult;
}

async function storedReport(result: AnalyzeResult): Promise<AuditReport> {
  return JSON.parse(
    await objectText(suite.clients.s3, SEED.reportBucket, result.reportJsonKey),
  ) as AuditReport;
}

const sshRuleId = (account: SeededAccount) => `${account.web}/ingress/tcp/22-22/0.0.0.0/0`;
/** How the alerts print the web tier's SSH rule. */
const SSH_RULE_TEXT = 'ingress tcp 22 from 0.0.0.0/0';

describe('week over week (moto)', () => {
  it('alerts on the first run, not on an unchanged second, and about exactly the new rule on the third', async () => {
    // Prepare
    const account = await suite.seed();
    await putSuppressions(account);

    // Act: run 1.
    const first = await analyzeRun('wow-run-1');
    const notified1 = await suite.handlers.notify(first);
    const sentAfter1 = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);

    // Assess: the first run alerts; the accepted SSH finding is marked in the report, not alerted.
    const report1 = await storedReport(first);
    const ssh = report1.findings.filter((f) => f.ruleId === sshRuleId(account));
    expect(ssh.length).toBeGreaterThan(0);
    for (const finding of ssh) {
      expect(finding.suppression).toMatchObject({
        id: 'bastion-ssh',
        owner: 'platform-team',
        status: 'active',
      });
    }
    expect(report1.changes).toMatchObject({ firstRun: true });
    expect(first.changes).toMatchObject({ firstRun: true, worsened: true });
    expect(first.actionableFindingsBySeverity).not.toEqual(first.findingsBySeverity);
    expect(notified1).toMatchObject({
      kind: 'report',
      reason: 'first run: no previous report',
      published: ['sns'],
    });
    expect(sentAfter1).toHaveLength(1);
    expect(sentAfter1[0]?.[1]).toContain('1 accepted risk (suppressed finding) is left out of this alert');
    expect(sentAfter1[0]?.[1]).not.toContain(SSH_RULE_TEXT);

    // Act: run 2, nothing changed.
    const second = await analyzeRun('wow-run-2');
    const notified2 = await suite.handlers.notify(second);
    const sentAfter2 = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);

    // Assess: compared with run 1, nothing new: no alert.
    const report2 = await storedReport(second);
    expect(report2.changes).toMatchObject({ firstRun: false, previousRunId: 'wow-run-1', newFindingIds: [] });
    expect(second.changes).toMatchObject({
      firstRun: false,
      worsened: false,
      newFindings: 0,
      worseFindings: 0,
    });
    expect(notified2).toMatchObject({ kind: 'skipped', published: [] });
    expect(notified2.reason).toContain('nothing new or worse since run wow-run-1');
    expect(sentAfter2).toHaveLength(1);

    // Act: someone opens RDP to the world on the app tier; run 3.
    await suite.clients.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: account.app,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        ],
      }),
    );
    const third = await analyzeRun('wow-run-3');
    const notified3 = await suite.handlers.notify(third);
    const sentAfter3 = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);

    // Assess: the alert is about the RDP rule and nothing else new.
    const rdpRuleId = `${account.app}/ingress/tcp/3389-3389/0.0.0.0/0`;
    const report3 = await storedReport(third);
    const newFindings = report3.findings.filter((f) => report3.changes?.newFindingIds.includes(f.id));
    expect(newFindings.length).toBeGreaterThan(0);
    expect(newFindings.map((f) => f.ruleId)).toEqual(newFindings.map(() => rdpRuleId));
    expect(third.changes).toMatchObject({
      worsened: true,
      newFindings: newFindings.length,
      worseFindings: 0,
    });
    expect(notified3).toMatchObject({ kind: 'report', published: ['sns'] });
    expect(sentAfter3).toHaveLength(2);
    const message = sentAfter3[1]?.[1] ?? '';
    const newSection = message.slice(
      message.indexOf('NEW OR WORSE FINDINGS'),
      message.indexOf('RESOLVED SINCE'),
    );
    // One rule change counts once, at the worst severity of its findings.
    const worst = [...newFindings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity))[0];
    expect(sentAfter3[1]?.[2]).toBe(`sg-audit: 1 new ${worst?.severity} finding in ${ACCOUNT}/${REGION}`);
    expect(newSection).toMatch(new RegExp(`\\(new[^)]*\\)  ${account.app} \\(app\\)`));
    expect(newSection).toContain('Rule:      ingress tcp 3389 from 0.0.0.0/0');
    expect(newSection.match(/\(new[;)]/g)).toHaveLength(1);
    expect(newSection).not.toContain(account.web);
    expect(message).not.toContain(SSH_RULE_TEXT);
    const listed = await suite.clients.s3.send(
      new ListObjectsV2Command({ Bucket: SEED.reportBucket, Prefix: third.reportPrefix }),
    );
    expect((listed.Contents ?? []).map((o) => o.Key)).toContain(`${third.reportPrefix}changes.csv`);
    const changesCsv = await objectText(
      suite.clients.s3,
      SEED.reportBucket,
      `${third.reportPrefix}changes.csv`,
    );
    expect(changesCsv.split(/\r?\n/).filter((line) => line.startsWith('new,'))).toHaveLength(
      newFindings.length,
    );
  });

  it('sends the no-change digest for an unchanged run when NO_CHANGE_DIGEST is on', async () => {
    // Prepare
    const account = await suite.seed();
    await putSuppressions(account);
    await suite.handlers.notify(await analyzeRun('wow-digest-1'));

    // Act
    const second = await analyzeRun('wow-digest-2');
    const notified = await digestNotify(second);

    // Assess
    expect(notified).toMatchObject({ kind: 'report', digest: true, published: ['sns'] });
    const sent = await sentNotifications(suite.moto.endpoint, TOPIC_ARN);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.[1]).toContain('no new or worse findings since');
    expect(sent[1]?.[2]).toContain('weekly digest: no new or worse findings');
    expect(sent[1]?.[1]).not.toContain(SSH_RULE_TEXT);
  });

  it('fails the run, naming the entry, when the suppressions file is malformed', async () => {
    // Prepare
    await suite.seed();
    const yaml =
      'version: 1\nsuppressions:\n  - id: partner-cidr\n    owner: integrations\n    reason: partner\n    expires: someday\n    match: { vpcId: vpc-0a1b2c3d }\n';
    await suite.clients.s3.send(
      new PutObjectCommand({ Bucket: SEED.reportBucket, Key: SUPPRESSIONS_KEY, Body: yaml }),
    );

    // Act
    const run = analyzeRun('wow-bad-suppressions');

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(
        new RegExp(
          `^s3://${SEED.reportBucket}/${SUPPRESSIONS_KEY}: line \\d+: suppressions\\[0\\] \\(partner-cidr\\): expires`,
        ),
      ),
    });
  });
});
