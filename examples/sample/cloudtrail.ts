/**
 * The sample account's CloudTrail history of security-group changes (cloudtrail-events.json, as
 * `sg-audit export` writes it): who opened the risky rules, when and through what — the console,
 * the AWS CLI, an SDK script, CloudFormation, Terraform — over the 90 days before the window ends.
 * Rules no event names are older than the history. Each change is declared with the attribution
 * the audit must give it (EXPECTED.json "ruleChanges").
 */
import type { CloudTrailLookupEvent } from '../../shared/model/rule-change';
import {
  authorizeEvent,
  CALLERS,
  createGroupEvent,
  type EventBase,
  type EventCaller,
  type EventRule,
  modifyEvent,
  revokeEvent,
} from '../../testkit/cloudtrail-events';
import { ACCOUNT_ID, peerText, REGION, type RuleSpec, sgIdOf, sgSpec, vpcIdOf, WINDOW_END } from './account';
import { awsId, nameUuid } from './ids';

/** The export was taken when the window ended; CloudTrail's event history reaches 90 days back. */
export const HISTORY_END = WINDOW_END;
export const HISTORY_START = WINDOW_END - 90 * 86400;

const role = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
const session = (roleName: string, sessionName: string) =>
  `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/${sessionName}`;
const user = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:user/${name}`;

const CALLER = {
  jiwoo: CALLERS.console(session('Admin', 'jiwoo.park'), '203.0.113.45', role('Admin')),
  hana: CALLERS.console(session('Admin', 'hana.yoon'), '203.0.113.12', role('Admin')),
  minsu: CALLERS.console(session('Admin', 'minsu.choi'), '211.234.5.9', role('Admin')),
  opsKim: CALLERS.cli(user('ops-kim'), '198.51.100.7'),
  dbaLee: CALLERS.cli(user('dba-lee'), '203.0.113.77'),
  terraform: CALLERS.terraform(
    session('terraform-ci', 'github-actions'),
    '140.82.112.3',
    role('terraform-ci'),
  ),
  vpnScript: {
    ...CALLERS.sdk(session('network-automation', 'vpn-provisioner'), '3.35.1.10'),
    sessionIssuer: role('network-automation'),
    userAgent: 'Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.213 md/arch#x86_64 lang/python#3.12.2',
  },
  cloudformation: CALLERS.cloudformation(
    session('cfn-prod-web-exec', 'AWSCloudFormation'),
    role('cfn-prod-web-exec'),
  ),
} satisfies Record<string, EventCaller>;

/** What the audit must say about a rule: the event that last created or widened it. */
export interface ExpectedRuleChange {
  readonly sg: string;
  /** Index into the SG's declared rules. */
  readonly rule: number;
  readonly kind: 'created' | 'widened';
  readonly principalArn: string;
  readonly channel: 'console' | 'aws-cli' | 'sdk' | 'cloudformation' | 'terraform';
  readonly eventTime: string;
  readonly story: string;
}

/** One call of the history. */
interface SampleCall {
  readonly name: string;
  readonly time: string;
  readonly caller: EventCaller;
  readonly event: (base: EventBase) => CloudTrailLookupEvent;
}

function eventRule(
  sg: string,
  index: number,
  ruleId?: string,
): EventRule & { direction: RuleSpec['direction'] } {
  const rule = sgSpec(sg).rules[index];
  if (rule === undefined) throw new Error(`sample account: ${sg} has no rule ${index}`);
  return {
    direction: rule.direction,
    protocol: rule.protocol,
    ...(rule.fromPort !== undefined ? { fromPort: rule.fromPort } : {}),
    ...(rule.toPort !== undefined ? { toPort: rule.toPort } : {}),
    peer: peerText(rule.peer),
    ...(ruleId ? { ruleId } : {}),
  };
}

/** Authorizes declared rules of one SG and direction, each with its sgr- id in the response. */
function authorize(sg: string, indexes: readonly number[]): SampleCall['event'] {
  const rules = indexes.map((i) => eventRule(sg, i, awsId('sgr', `${sg}#${i}`)));
  const direction = rules[0]?.direction ?? 'ingress';
  return (base) => authorizeEvent(base, direction, sgIdOf(sg), rules);
}

const CALLS: readonly SampleCall[] = [
  {
    name: 'monitoring 443 opened by Terraform',
    time: '2026-09-01T03:20:11Z',
    caller: CALLER.terraform,
    event: (base) =>
      authorizeEvent(base, 'ingress', sgIdOf('shared-monitoring'), [
        {
          protocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          peer: '0.0.0.0/0',
          ruleId: awsId('sgr', 'monitoring-443'),
        },
      ]),
  },
  {
    name: 'ALB port 80 for IPv6 added by a stack update',
    time: '2026-09-05T01:02:33Z',
    caller: CALLER.cloudformation,
    event: authorize('prod-alb', [3]),
  },
  {
    name: 'VPN gateway opened to the world by the provisioning script',
    time: '2026-09-12T11:45:09Z',
    caller: CALLER.vpnScript,
    event: authorize('prod-vpn', [0, 1, 2, 3]),
  },
  {
    name: 'a scratch SG, deleted since',
    time: '2026-09-20T09:00:00Z',
    caller: CALLER.opsKim,
    event: (base) => createGroupEvent(base, awsId('sg', 'scratch-deleted'), 'scratch', vpcIdOf('prod')),
  },
  {
    name: 'RDP on IPv6 opened from the AWS CLI',
    time: '2026-09-30T14:03:22Z',
    caller: CALLER.opsKim,
    event: authorize('prod-bastion', [1]),
  },
  {
    name: 'ingest NLB range opened by Terraform',
    time: '2026-10-02T05:30:48Z',
    caller: CALLER.terraform,
    event: authorize('prod-nlb', [0]),
  },
  {
    name: 'a world-open 8080 on the app tier, cleaned up',
    time: '2026-10-15T02:11:00Z',
    caller: CALLER.hana,
    event: (base) =>
      revokeEvent(base, 'ingress', sgIdOf('prod-app'), [
        { protocol: 'tcp', fromPort: 8080, toPort: 8080, peer: '0.0.0.0/0' },
      ]),
  },
  {
    name: 'SSH to the world on the bastion, from the console',
    time: '2026-10-21T06:42:10Z',
    caller: CALLER.jiwoo,
    event: authorize('prod-bastion', [0]),
  },
  {
    name: 'the same rule again the next day: a duplicate, refused',
    time: '2026-10-22T00:15:00Z',
    caller: CALLER.opsKim,
    event: (base) =>
      authorizeEvent(
        { ...base, errorCode: 'InvalidPermission.Duplicate' },
        'ingress',
        sgIdOf('prod-bastion'),
        [eventRule('prod-bastion', 0)],
      ),
  },
  {
    name: 'PostgreSQL opened to a vendor /8, from the console',
    time: '2026-10-28T07:55:31Z',
    caller: CALLER.hana,
    event: authorize('prod-db', [3]),
  },
  {
    name: 'the migration SG created from the AWS CLI',
    time: '2026-11-02T08:00:04Z',
    caller: CALLER.dbaLee,
    event: (base) =>
      createGroupEvent(
        base,
        sgIdOf('prod-temp-migration'),
        sgSpec('prod-temp-migration').name,
        vpcIdOf('prod'),
      ),
  },
  {
    name: 'its default egress removed',
    time: '2026-11-02T08:01:12Z',
    caller: CALLER.dbaLee,
    event: (base) =>
      revokeEvent(base, 'egress', sgIdOf('prod-temp-migration'), [{ protocol: '-1', peer: '0.0.0.0/0' }]),
  },
  {
    name: 'Oracle and MySQL opened for the migration',
    time: '2026-11-02T08:02:40Z',
    caller: CALLER.dbaLee,
    event: authorize('prod-temp-migration', [0, 1]),
  },
  {
    name: 'monitoring widened from 443 to every port, from the console',
    time: '2026-11-10T02:13:05Z',
    caller: CALLER.minsu,
    event: (base) =>
      modifyEvent(base, sgIdOf('shared-monitoring'), {
        ...eventRule('shared-monitoring', 0),
        ruleId: awsId('sgr', 'monitoring-443'),
      }),
  },
];

/** The attributions the audit must give (the rest of the rules are older than the history). */
export const EXPECTED_RULE_CHANGES: readonly ExpectedRuleChange[] = [
  {
    sg: 'shared-monitoring',
    rule: 0,
    kind: 'widened',
    principalArn: CALLER.minsu.arn,
    channel: 'console',
    eventTime: '2026-11-10T02:13:05Z',
    story: 'opened for 443 by Terraform, widened to every port from the console (ModifySecurityGroupRules)',
  },
  {
    sg: 'prod-alb',
    rule: 3,
    kind: 'created',
    principalArn: CALLER.cloudformation.arn,
    channel: 'cloudformation',
    eventTime: '2026-09-05T01:02:33Z',
    story: 'a CloudFormation stack update (the SG carries the stack tag)',
  },
  ...[0, 1, 2, 3].map(
    (rule): ExpectedRuleChange => ({
      sg: 'prod-vpn',
      rule,
      kind: 'created',
      principalArn: CALLER.vpnScript.arn,
      channel: 'sdk',
      eventTime: '2026-09-12T11:45:09Z',
      story: 'a boto3 provisioning script, one call for the four rules',
    }),
  ),
  {
    sg: 'prod-bastion',
    rule: 1,
    kind: 'created',
    principalArn: CALLER.opsKim.arn,
    channel: 'aws-cli',
    eventTime: '2026-09-30T14:03:22Z',
    story: 'RDP on ::/0 from the AWS CLI',
  },
  {
    sg: 'prod-nlb',
    rule: 0,
    kind: 'created',
    principalArn: CALLER.terraform.arn,
    channel: 'terraform',
    eventTime: '2026-10-02T05:30:48Z',
    story: 'Terraform from a CI runner',
  },
  {
    sg: 'prod-bastion',
    rule: 0,
    kind: 'created',
    principalArn: CALLER.jiwoo.arn,
    channel: 'console',
    eventTime: '2026-10-21T06:42:10Z',
    story: 'SSH to the world from the console; the refused duplicate of the next day changes nothing',
  },
  {
    sg: 'prod-db',
    rule: 3,
    kind: 'created',
    principalArn: CALLER.hana.arn,
    channel: 'console',
    eventTime: '2026-10-28T07:55:31Z',
    story: 'PostgreSQL to a /8, from the console',
  },
  ...[0, 1].map(
    (rule): ExpectedRuleChange => ({
      sg: 'prod-temp-migration',
      rule,
      kind: 'created',
      principalArn: CALLER.dbaLee.arn,
      channel: 'aws-cli',
      eventTime: '2026-11-02T08:02:40Z',
      story: 'the migration SG, created, emptied of its default egress and opened from the AWS CLI',
    }),
  ),
];

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/**
 * cloudtrail-events.json: the events as LookupEvents pages give them (newest first), with the
 * period scanned.
 *
 * @example describeCloudTrailEvents().Events.length // 14
 */
export function describeCloudTrailEvents(): Record<string, unknown> {
  const events = CALLS.map((call) =>
    call.event({
      id: nameUuid(`cloudtrail:${call.name}`),
      time: call.time,
      caller: call.caller,
      region: REGION,
    }),
  ).reverse();
  return { Events: events, StartTime: iso(HISTORY_START), EndTime: iso(HISTORY_END), Complete: true };
}
