import {
  CloudTrailClient,
  LookupEventsCommand,
  type LookupEventsCommandInput,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CloudTrailLookupSource,
  EVENT_HISTORY_DAYS,
  eventHistoryPeriod,
  LOOKUP_PAGE_SIZE,
} from '../../../adapters/aws/cloudtrail-lookup';
import type { CloudTrailLookupEvent } from '../../../shared/model/rule-change';
import { SG_CHANGE_EVENT_NAMES } from '../../../shared/model/rule-change';
import { attributeRuleChanges } from '../../../shared/trail/attribute';
import { authorizeEvent, CALLERS, createGroupEvent, modifyEvent } from '../../../testkit/cloudtrail-events';
import { epoch, ruleEntry, securityGroup } from '../../../testkit/inventory-builder';

const cloudtrail = new CloudTrailClient({
  region: 'ap-northeast-2',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const trailMock = mockClient(cloudtrail);

const PERIOD = { start: epoch('2026-08-23T00:00:00Z'), end: epoch('2026-11-21T00:00:00Z') };
const ALICE = 'arn:aws:sts::123456789012:assumed-role/Admin/alice';
const DEPLOY = 'arn:aws:sts::123456789012:assumed-role/deploy/ci';

/** A source whose sleeps are recorded, on a clock that they advance. */
function source(options: { maxAttempts?: number; maxPages?: number; deadline?: number } = {}) {
  let now = 0;
  const sleeps: number[] = [];
  const lookup = new CloudTrailLookupSource({
    cloudtrail,
    ...options,
    clock: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0.5,
  });
  return { lookup, sleeps };
}

function eventNameOf(input: LookupEventsCommandInput): string | undefined {
  return input.LookupAttributes?.[0]?.AttributeValue;
}

function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
}

/** SDK-shaped events: EventTime as a Date, as the client returns it. */
function sdk(events: readonly CloudTrailLookupEvent[]) {
  return events.map((e) => ({ ...e, EventTime: new Date(String(e.EventTime)) }));
}

beforeEach(() => {
  trailMock.reset();
  trailMock.on(LookupEventsCommand).resolves({ Events: [] });
});

describe('CloudTrailLookupSource', () => {
  it('scans each SG event name once over the period, 50 a page, paging with NextToken', async () => {
    // Prepare
    const page1 = Array.from({ length: LOOKUP_PAGE_SIZE }, (_, i) =>
      authorizeEvent(
        { id: `a${i}`, time: '2026-11-01T00:00:00Z', caller: CALLERS.cli(ALICE, '1.2.3.4') },
        'ingress',
        `sg-${i}`,
        [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
      ),
    );
    const page2 = [
      authorizeEvent(
        { id: 'last', time: '2026-10-01T00:00:00Z', caller: CALLERS.cli(ALICE, '1.2.3.4') },
        'ingress',
        'sg-x',
        [{ protocol: 'tcp', fromPort: 443, toPort: 443, peer: '0.0.0.0/0' }],
      ),
    ];
    trailMock
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'AuthorizeSecurityGroupIngress' }],
      })
      .resolvesOnce({ Events: sdk(page1), NextToken: 't1' })
      .resolvesOnce({ Events: sdk(page2) });
    const { lookup } = source();

    // Act
    const history = await lookup.read(PERIOD);

    // Assess
    const calls = trailMock.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    expect(calls.map(eventNameOf)).toEqual([
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupIngress',
      ...SG_CHANGE_EVENT_NAMES.filter((n) => n !== 'AuthorizeSecurityGroupIngress'),
    ]);
    expect(calls[0]).toMatchObject({
      MaxResults: 50,
      StartTime: new Date('2026-08-23T00:00:00Z'),
      EndTime: new Date('2026-11-21T00:00:00Z'),
    });
    expect(calls[0]?.NextToken).toBeUndefined();
    expect(calls[1]?.NextToken).toBe('t1');
    expect(history).toMatchObject({ source: 'cloudtrail-lookup', complete: true, warnings: [], ...PERIOD });
    expect(history.events).toHaveLength(51);
    // EventTime is kept as ISO text, as `aws cloudtrail lookup-events` prints it.
    expect(history.events[50]?.EventTime).toBe('2026-10-01T00:00:00.000Z');
  });

  it('spaces requests to 2 per second', async () => {
    // Prepare
    const { lookup, sleeps } = source();

    // Act
    await lookup.read(PERIOD);

    // Assess: six scans of one page each; every request after the first waits 500 ms.
    expect(trailMock.commandCalls(LookupEventsCommand)).toHaveLength(6);
    expect(sleeps).toEqual([500, 500, 500, 500, 500]);
  });

  it('retries a throttled page with growing backoff and reads on', async () => {
    // Prepare
    trailMock
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ModifySecurityGroupRules' }],
      })
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ Events: [] });
    const { lookup, sleeps } = source();

    // Act
    const history = await lookup.read(PERIOD);

    // Assess: backoff of half (the jitter) a cap of 1 s, then of 2 s, which outlast the spacing.
    expect(history.complete).toBe(true);
    expect(trailMock.commandCalls(LookupEventsCommand)).toHaveLength(8);
    expect(sleeps).toEqual([500, 500, /* throttled */ 500, /* throttled */ 1000, 500, 500, 500]);
  });

  it('stops a scan that never ends, and leaves the history incomplete', async () => {
    // Prepare
    trailMock
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'RevokeSecurityGroupEgress' }],
      })
      .resolves({ Events: [], NextToken: 'more' });
    const { lookup } = source({ maxPages: 2 });

    // Act
    const history = await lookup.read(PERIOD);

    // Assess
    expect(history.complete).toBe(false);
    expect(history.warnings).toEqual([
      'LookupEvents for RevokeSecurityGroupEgress stopped after 2 pages: older changes of that kind were not read',
    ]);
  });

  it('leaves the history incomplete when throttling outlasts the retries, and stops at a denial', async () => {
    // Prepare
    trailMock
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ModifySecurityGroupRules' }],
      })
      .rejects(throttled())
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateSecurityGroup' }],
      })
      .rejects(
        Object.assign(new Error('not authorized to perform cloudtrail:LookupEvents'), {
          name: 'AccessDeniedException',
        }),
      );
    const { lookup } = source({ maxAttempts: 3 });

    // Act
    const history = await lookup.read(PERIOD);

    // Assess
    expect(history.complete).toBe(false);
    expect(trailMock.commandCalls(LookupEventsCommand).map((c) => eventNameOf(c.args[0].input))).toEqual([
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupEgress',
      'ModifySecurityGroupRules',
      'ModifySecurityGroupRules',
      'ModifySecurityGroupRules',
      'CreateSecurityGroup',
    ]);
    expect(history.warnings).toEqual([
      'LookupEvents for ModifySecurityGroupRules failed (ThrottlingException: Rate exceeded): rules it may have changed are not attributed',
      'LookupEvents for CreateSecurityGroup failed (AccessDeniedException: not authorized to perform cloudtrail:LookupEvents): rules it may have changed are not attributed',
      'LookupEvents was not tried for RevokeSecurityGroupIngress, RevokeSecurityGroupEgress after that failure',
    ]);
  });

  it('stops at the deadline, keeping the pages read, and names the scans cut short and not tried', async () => {
    // Prepare: every scan pages on; at 500 ms a request, the deadline allows five.
    trailMock.on(LookupEventsCommand).resolves({ Events: [], NextToken: 'more' });
    trailMock
      .on(LookupEventsCommand, {
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'AuthorizeSecurityGroupIngress' }],
      })
      .resolvesOnce({ Events: [], NextToken: 't1' })
      .resolves({
        Events: sdk([
          authorizeEvent(
            { id: 'a1', time: '2026-11-01T00:00:00Z', caller: CALLERS.cli(ALICE, '1.2.3.4') },
            'ingress',
            'sg-1',
            [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
          ),
        ]),
      });
    const { lookup } = source({ deadline: 2_000 });

    // Act
    const history = await lookup.read(PERIOD);

    // Assess
    expect(trailMock.commandCalls(LookupEventsCommand).map((c) => eventNameOf(c.args[0].input))).toEqual([
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupEgress',
      'AuthorizeSecurityGroupEgress',
      'AuthorizeSecurityGroupEgress',
    ]);
    expect(history.complete).toBe(false);
    expect(history.events.map((e) => e.EventId)).toEqual(['a1']);
    expect(history.warnings).toEqual([
      'LookupEvents for AuthorizeSecurityGroupEgress stopped at the time allowed after 3 pages: older changes of that kind were not read',
      'LookupEvents was not tried for ModifySecurityGroupRules, CreateSecurityGroup, RevokeSecurityGroupIngress, RevokeSecurityGroupEgress: the time allowed for reading the history ran out',
    ]);
  });

  it('tries nothing past the deadline, and gives up a backoff that would outlast it', async () => {
    // Prepare
    trailMock.on(LookupEventsCommand).rejects(throttled());
    const late = source({ deadline: -1 });
    const throttledOnce = source({ deadline: 600 });

    // Act
    const none = await late.lookup.read(PERIOD);
    const cut = await throttledOnce.lookup.read(PERIOD);

    // Assess: no request past the deadline; the first backoff (500 ms, the jitter) ends before it,
    // the second (1 s) would not, so the scan fails then rather than sleep into it.
    expect(none.complete).toBe(false);
    expect(none.warnings).toEqual([
      `LookupEvents was not tried for ${SG_CHANGE_EVENT_NAMES.join(', ')}: the time allowed for reading the history ran out`,
    ]);
    expect(trailMock.commandCalls(LookupEventsCommand).map((c) => eventNameOf(c.args[0].input))).toEqual([
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupIngress',
    ]);
    expect(throttledOnce.sleeps).toEqual([500]);
    expect(cut.warnings).toEqual([
      'LookupEvents for AuthorizeSecurityGroupIngress failed (ThrottlingException: Rate exceeded): rules it may have changed are not attributed',
      `LookupEvents was not tried for ${SG_CHANGE_EVENT_NAMES.slice(1).join(', ')}: the time allowed for reading the history ran out`,
    ]);
  });

  it('feeds attribution: by rule id and by spec, naming console, CloudFormation and Terraform', async () => {
    // Prepare
    const ssh = ruleEntry('sg-1', 'ingress', 'tcp', 22, '0.0.0.0/0', { securityGroupRuleId: 'sgr-22' });
    const https = ruleEntry('sg-1', 'ingress', 'tcp', 443, '0.0.0.0/0');
    const egress = ruleEntry('sg-2', 'egress', '-1', undefined, '0.0.0.0/0');
    const db = ruleEntry('sg-2', 'ingress', 'tcp', 5432, '10.0.0.0/16');
    const groups = [
      securityGroup('sg-1', { tags: { 'aws:cloudformation:stack-name': 'web' }, rules: [ssh, https] }),
      securityGroup('sg-2', { rules: [egress, db] }),
    ];
    const byName = (name: string, events: CloudTrailLookupEvent[]) =>
      trailMock
        .on(LookupEventsCommand, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }] })
        .resolves({ Events: sdk(events) });
    byName('AuthorizeSecurityGroupIngress', [
      authorizeEvent(
        { id: 'cfn', time: '2026-09-01T00:00:00Z', caller: CALLERS.cloudformation(DEPLOY) },
        'ingress',
        'sg-1',
        [
          { protocol: 'tcp', fromPort: 443, toPort: 443, peer: '0.0.0.0/0' },
          { protocol: 'tcp', fromPort: 22, toPort: 22, peer: '10.0.0.0/8', ruleId: 'sgr-22' },
        ],
      ),
      authorizeEvent(
        { id: 'tf', time: '2026-09-02T00:00:00Z', caller: CALLERS.terraform(DEPLOY, '10.9.9.9') },
        'ingress',
        'sg-2',
        [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, peer: '10.0.0.0/16' }],
      ),
    ]);
    byName('ModifySecurityGroupRules', [
      modifyEvent(
        { id: 'console', time: '2026-11-03T09:12:44Z', caller: CALLERS.console(ALICE, '203.0.113.10') },
        'sg-1',
        {
          protocol: 'tcp',
          fromPort: 22,
          toPort: 22,
          peer: '0.0.0.0/0',
          ruleId: 'sgr-22',
        },
      ),
    ]);
    byName('CreateSecurityGroup', [
      createGroupEvent(
        { id: 'create', time: '2026-09-02T00:00:00Z', caller: CALLERS.terraform(DEPLOY, '10.9.9.9') },
        'sg-2',
        'db',
        'vpc-1',
      ),
    ]);
    const { lookup } = source();

    // Act
    const { rules } = attributeRuleChanges(groups, await lookup.read(PERIOD));

    // Assess
    expect(rules.get(ssh.id)).toMatchObject({ kind: 'widened', eventId: 'console', channel: 'console' });
    expect(rules.get(https.id)).toMatchObject({
      kind: 'created',
      eventId: 'cfn',
      channel: 'cloudformation',
      stackName: 'web',
    });
    expect(rules.get(db.id)).toMatchObject({ kind: 'created', eventId: 'tf', channel: 'terraform' });
    expect(rules.get(egress.id)).toMatchObject({
      kind: 'created-with-group',
      eventId: 'create',
      channel: 'terraform',
    });
  });
});

describe('eventHistoryPeriod', () => {
  it('is the 90 days of the event history up to now, in epoch seconds', () => {
    expect(eventHistoryPeriod(new Date('2026-11-21T00:00:00.700Z'))).toEqual({
      start: epoch('2026-11-21T00:00:00Z') - EVENT_HISTORY_DAYS * 86_400,
      end: epoch('2026-11-21T00:00:00Z'),
    });
  });
});
