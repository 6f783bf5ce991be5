/**
 * The deployed remediation's alerts, by e-mail and Slack: the plan awaiting a decision (its
 * summary, when it expires, the exact approve/reject commands, the SGs left out for want of the
 * opt-in tag), and how it ended (applied, partly refused for drift, stopped at an SG and step,
 * rejected, expired, failed). Pure: the publishers in adapters/aws send them.
 */
import type { RemediationAlert, RemediationOutcome } from '../model/ports';
import type { AppliedRecord } from '../remediation/model';
import { ALERT_TOOL_NAME, accountLabel, clip, singleLine } from './digest';
import { type EmailMessage, emailSubject, fitBytes, SNS_MESSAGE_MAX_BYTES } from './email';
import { escapeMrkdwn, mrkdwnText, SLACK_HEADER_TEXT_MAX, type SlackBlock, type SlackMessage } from './slack';

type ApprovalAlert = Extract<RemediationAlert, { kind: 'remediation-approval' }>;
type OutcomeAlert = Extract<RemediationAlert, { kind: 'remediation-outcome' }>;

/** SGs listed one line each in an alert; the rest are counted (the record has them all). */
const LISTED = 20;
const BODY_MAX_BYTES = SNS_MESSAGE_MAX_BYTES - 4_096;
/** Slack section text ≤ 3000: the plan summary is cut before that. */
const SLACK_SUMMARY_MAX = 2_800;

const OUTCOME_TEXT: Readonly<Record<RemediationOutcome, string>> = {
  applied: 'remediation applied',
  'partly-refused': 'remediation applied, some SGs refused (drift)',
  stopped: 'remediation STOPPED',
  rejected: 'remediation plan rejected',
  expired: 'remediation plan expired (not approved in time)',
  failed: 'remediation FAILED',
};

/**
 * How an apply ended, from its record: stopped by a failure, done with SGs refused for drift, or
 * applied.
 *
 * @example outcomeOfApplied(record) // 'applied'
 */
export function outcomeOfApplied(record: AppliedRecord): RemediationOutcome {
  if (record.status !== 'complete') return 'stopped';
  return record.securityGroups.some((sg) => sg.status === 'refused-drift') ? 'partly-refused' : 'applied';
}

/**
 * The outcome alert's SG lines and stop point, from an applied record.
 *
 * @example outcomeDetails(record).stoppedAt // 'sg-0a1b, step 2 of 4: RemediationCallError: …'
 */
export function outcomeDetails(
  record: AppliedRecord,
): Pick<OutcomeAlert, 'securityGroups'> & { stoppedAt?: string } {
  const securityGroups = record.securityGroups.map((sg) => ({
    sgId: sg.sgId,
    status: sg.status,
    message: sg.message ?? `${sg.stepsDone} of ${sg.steps.length} steps`,
  }));
  const s = record.stoppedAt;
  return {
    securityGroups,
    ...(s ? { stoppedAt: `${s.target}, step ${s.step} of ${s.of}: ${s.error}` } : {}),
  };
}

function subjectOf(alert: RemediationAlert): string {
  const label = accountLabel(alert.account);
  if (alert.kind === 'remediation-approval') {
    const first = singleLine(alert.summary.split('\n')[0] ?? '');
    const counts = /(\d+) SG\(s\) to change \((\d+) adds, (\d+) revokes/.exec(first);
    const what = counts ? `: ${counts[1]} SG(s), ${counts[2]} adds, ${counts[3]} revokes` : '';
    return emailSubject(`${ALERT_TOOL_NAME} ${label}: remediation plan awaits approval${what}`);
  }
  return emailSubject(`${ALERT_TOOL_NAME} ${label}: ${OUTCOME_TEXT[alert.outcome]}`);
}

function sgLines(alert: OutcomeAlert): string[] {
  const lines = alert.securityGroups
    .slice(0, LISTED)
    .map((sg) => `  ${sg.status.padEnd(18)} ${sg.sgId.padEnd(22)} ${clip(singleLine(sg.message), 500)}`);
  const more = alert.securityGroups.length - LISTED;
  if (more > 0) lines.push(`  … ${more} more in the record`);
  return lines;
}

function approvalBody(alert: ApprovalAlert): string[] {
  const lines = [
    `A remediation plan of run ${alert.runId} (${accountLabel(alert.account)}) awaits a decision.`,
    `It expires at ${alert.expiresAt}: not approved by then, it is taken as rejected and nothing changes.`,
    '',
    'PLAN',
    ...alert.summary.trimEnd().split('\n'),
    '',
    `Plan files (plan.md, plan.json, apply.sh): ${alert.planLocation}`,
    '',
    'DECIDE, with your own AWS credentials:',
    `  ${alert.commands.approve}`,
    `  ${alert.commands.reject}`,
    '',
    `Only security groups tagged ${alert.tag.key}=${alert.tag.value} are planned; the apply function's IAM policy allows changes to those only.`,
  ];
  if (alert.notOptedIn.length > 0) {
    lines.push(
      `Not opted in (proven changes, no tag; not planned): ${alert.notOptedIn
        .slice(0, LISTED)
        .map((sg) => `${sg.sgId} (${singleLine(sg.sgName)})`)
        .join(
          ', ',
        )}${alert.notOptedIn.length > LISTED ? ` and ${alert.notOptedIn.length - LISTED} more` : ''}`,
    );
  }
  return lines;
}

function outcomeLead(alert: OutcomeAlert): string {
  const by = alert.decidedBy ? ` by ${singleLine(alert.decidedBy)}` : '';
  switch (alert.outcome) {
    case 'applied':
      return `The approved${by} remediation plan of run ${alert.runId} was applied; each SG was verified with a describe afterwards.`;
    case 'partly-refused':
      return `The approved${by} remediation plan of run ${alert.runId} was applied, except to the SGs refused because their rules changed since the plan (drift): make a new plan from a fresh audit.`;
    case 'stopped':
      return `The approved${by} remediation plan of run ${alert.runId} STOPPED at ${alert.stoppedAt ?? 'an SG'}. The SGs listed as applied are done and verified; the failing one keeps only the steps it made (adds come first, so its access is intact); those not reached are unchanged.`;
    case 'rejected':
      return `The remediation plan of run ${alert.runId} was rejected${by}: nothing was changed.${alert.reason ? ` Reason: ${singleLine(alert.reason)}` : ''}`;
    case 'expired':
      return `The remediation plan of run ${alert.runId} was not approved in time: it expired and nothing was changed.`;
    case 'failed':
      return `A remediation step of run ${alert.runId} failed: ${singleLine(alert.reason ?? 'unknown error')}. ${alert.recordLocation ? 'See the record for what was done.' : 'Nothing was changed by this run.'}`;
  }
}

function outcomeBody(alert: OutcomeAlert): string[] {
  const lines = [outcomeLead(alert)];
  if (alert.securityGroups.length > 0) lines.push('', 'SECURITY GROUPS', ...sgLines(alert));
  if (alert.recordLocation) {
    lines.push(
      '',
      `Record (before and after of every SG): ${alert.recordLocation}`,
      'Undo: download it, then sg-audit rollback --applied <file>',
    );
  }
  return lines;
}

/**
 * The e-mail (SNS) form of a remediation alert: an ASCII subject under 100 characters, a
 * plain-text body within SNS's size.
 *
 * @example composeRemediationEmail(alert).subject // 'sg-audit 123456789012/ap-northeast-2: remediation plan awaits approval: 1 SG(s), 2 adds, 2 revokes'
 */
export function composeRemediationEmail(alert: RemediationAlert): EmailMessage {
  const lines = alert.kind === 'remediation-approval' ? approvalBody(alert) : outcomeBody(alert);
  lines.push('', '--', `${ALERT_TOOL_NAME}: security group remediation, run ${alert.runId}`);
  const note = '\n\n[Message truncated: the plan files and the record have everything.]\n';
  return { subject: subjectOf(alert), body: fitBytes(`${lines.join('\n')}\n`, BODY_MAX_BYTES, note) };
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, 2_990) } };
}

/**
 * The Slack form of a remediation alert: a header, the plan summary (or the outcome and the SGs)
 * and the commands as code, user text escaped.
 *
 * @example composeRemediationSlack(alert).blocks[0] // { type: 'header', … }
 */
export function composeRemediationSlack(alert: RemediationAlert): SlackMessage {
  const label = accountLabel(alert.account);
  const headline =
    alert.kind === 'remediation-approval'
      ? `:raised_hand: ${ALERT_TOOL_NAME} ${label}: remediation plan awaits approval`
      : `${alert.outcome === 'applied' ? ':white_check_mark:' : alert.outcome === 'rejected' || alert.outcome === 'expired' ? ':no_entry_sign:' : ':warning:'} ${ALERT_TOOL_NAME} ${label}: ${OUTCOME_TEXT[alert.outcome]}`;
  const header: SlackBlock = {
    type: 'header',
    text: { type: 'plain_text', text: clip(singleLine(headline), SLACK_HEADER_TEXT_MAX), emoji: true },
  };
  const code = (text: string) => `\`\`\`${escapeMrkdwn(text.replace(/`{3,}/g, "'''"))}\`\`\``;
  const blocks: SlackBlock[] = [header];
  if (alert.kind === 'remediation-approval') {
    blocks.push(
      section(
        `Run ${code(alert.runId).replace(/```/g, '`')} · expires *${mrkdwnText(alert.expiresAt, 40)}* (then taken as rejected)`,
      ),
      section(code(clip(alert.summary.trimEnd(), SLACK_SUMMARY_MAX))),
      section(
        `*Decide with your own AWS credentials:*\n${code(`${alert.commands.approve}\n${alert.commands.reject}`)}`,
      ),
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `Plan files: ${mrkdwnText(alert.planLocation, 400)}` },
          {
            type: 'mrkdwn',
            text: `Only SGs tagged ${mrkdwnText(`${alert.tag.key}=${alert.tag.value}`, 300)} are planned and may be changed${alert.notOptedIn.length > 0 ? `; ${alert.notOptedIn.length} SG(s) with proven changes are not opted in` : ''}.`,
          },
        ],
      },
    );
  } else {
    blocks.push(section(mrkdwnText(outcomeLead(alert), 2_900)));
    if (alert.securityGroups.length > 0) blocks.push(section(code(sgLines(alert).join('\n'))));
    if (alert.recordLocation) {
      blocks.push({
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `Record (before/after): ${mrkdwnText(alert.recordLocation, 400)}` },
        ],
      });
    }
  }
  return { blocks, text: mrkdwnText(headline.replace(/^:[a-z_]+: /, ''), 300) };
}
