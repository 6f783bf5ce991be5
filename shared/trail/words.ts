/**
 * A rule change in people's words ("opened by assumed-role/Admin/alice via console on 2026-11-03
 * 09:12 UTC from 203.0.113.10") and in the three CSV cells of the contract (changed_by,
 * changed_at, change_source). One place, so every output says it alike.
 */
import type { ChangeChannel, RuleChange, RuleChangeKind } from '../model/rule-change';

/** The phrase for a rule older than the history read. */
export const OUTSIDE_HISTORY = "outside CloudTrail's 90-day event history";

/**
 * The principal as people read it: the ARN's resource part ('user/alice',
 * 'assumed-role/Admin/alice', 'root'), or the ARN itself when it is no IAM/STS ARN.
 *
 * @example principalLabel('arn:aws:sts::123456789012:assumed-role/Admin/alice') // 'assumed-role/Admin/alice'
 */
export function principalLabel(arn: string): string {
  const match = /^arn:[\w-]+:(?:iam|sts)::\d*:(.+)$/.exec(arn);
  return match?.[1] ?? arn;
}

/** The user agent's first product token ('aws-sdk-go/1.45.19'), for short labels. */
function firstToken(agent: string): string {
  return agent.split(/\s+/)[0]?.slice(0, 60) ?? '';
}

/**
 * How the change was made, in words: 'console', 'AWS CLI', 'SDK (aws-sdk-go/1.45.19)',
 * 'CloudFormation (stack web)', 'Terraform', 'AWS service ec2.amazonaws.com', or the user agent.
 *
 * @example channelWords({ channel: 'cloudformation', stackName: 'web' }) // 'CloudFormation (stack web)'
 */
export function channelWords(change: {
  readonly channel?: ChangeChannel;
  readonly userAgent?: string;
  readonly invokedBy?: string;
  readonly stackName?: string;
}): string {
  const agent = change.userAgent ?? '';
  switch (change.channel) {
    case 'console':
      return 'console';
    case 'aws-cli':
      return 'AWS CLI';
    case 'sdk':
      return agent === '' ? 'SDK' : `SDK (${firstToken(agent)})`;
    case 'cloudformation':
      return change.stackName ? `CloudFormation (stack ${change.stackName})` : 'CloudFormation';
    case 'terraform':
      return 'Terraform';
    case 'aws-service':
      return `AWS service ${change.invokedBy ?? firstToken(agent)}`;
    default:
      return agent === '' ? 'an unknown client' : firstToken(agent);
  }
}

const VERBS: Readonly<Record<RuleChangeKind, string>> = {
  created: 'opened by',
  widened: 'widened by',
  'created-with-group': 'created with its SG by',
  'group-created': 'SG created by',
  'before-history': '',
  unknown: '',
};

function minuteTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The change in one line.
 *
 * @example changeText({ kind: 'created', principalArn: 'arn:aws:iam::1:user/bob', channel: 'aws-cli', eventTime: '2026-11-03T09:12:44Z' })
 * // 'opened by user/bob via AWS CLI on 2026-11-03 09:12 UTC'
 */
export function changeText(change: Omit<RuleChange, 'text'>): string {
  switch (change.kind) {
    case 'before-history':
      return `before ${(change.historyStart ?? '').slice(0, 10)} (${OUTSIDE_HISTORY})`;
    case 'unknown':
      return `change history unknown: ${change.reason ?? 'not read'}`;
    default: {
      const who =
        change.principalArn !== undefined
          ? principalLabel(change.principalArn)
          : (change.invokedBy ?? 'an unknown principal');
      const when = change.eventTime !== undefined ? ` on ${minuteTime(change.eventTime)}` : '';
      const from = change.sourceIp !== undefined ? ` from ${change.sourceIp}` : '';
      return `${VERBS[change.kind]} ${who} via ${channelWords(change)}${when}${from}`;
    }
  }
}

/**
 * The CSV contract's three cells: changed_by (the principal ARN), changed_at (ISO time, or
 * 'before <date>'), change_source (how, or why there is no answer); empty without a change.
 *
 * @example changeCells(undefined) // ['', '', '']
 */
export function changeCells(change: RuleChange | undefined): [string, string, string] {
  if (change === undefined) return ['', '', ''];
  switch (change.kind) {
    case 'before-history':
      return ['', `before ${(change.historyStart ?? '').slice(0, 10)}`, OUTSIDE_HISTORY];
    case 'unknown':
      return ['', '', `unknown: ${change.reason ?? 'not read'}`];
    default:
      return [
        change.principalArn ?? change.invokedBy ?? '',
        change.eventTime ?? '',
        `${channelWords(change)}${change.kind === 'created' ? '' : ` (${change.eventName ?? change.kind})`}`,
      ];
  }
}
