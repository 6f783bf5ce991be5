import fc from 'fast-check';
import type { CloudTrailLookupEvent, RuleChangeHistory } from '../../../shared/model/rule-change';
import { attributeRuleChanges } from '../../../shared/trail/attribute';
import { changeChannel, parseSgChangeEvent, specKey } from '../../../shared/trail/cloudtrail-event';
import { changeCells, changeText, principalLabel } from '../../../shared/trail/words';
import {
  authorizeEvent,
  CALLERS,
  createGroupEvent,
  type EventBase,
  modifyEvent,
  revokeEvent,
} from '../../../testkit/cloudtrail-events';
import { epoch, ruleEntry, securityGroup } from '../../../testkit/inventory-builder';

const ALICE = 'arn:aws:sts::123456789012:assumed-role/Admin/alice';
const ADMIN_ROLE = 'arn:aws:iam::123456789012:role/Admin';
const BOB = 'arn:aws:iam::123456789012:user/bob';
const DEPLOYER = 'arn:aws:sts::123456789012:assumed-role/cfn-exec/AWSCloudFormation';

const START = epoch('2026-08-19T00:00:00Z');
const END = epoch('2026-11-17T00:00:00Z');

function base(
  id: string,
  time: string,
  caller = CALLERS.console(ALICE, '203.0.113.10', ADMIN_ROLE),
): EventBase {
  return { id, time, caller };
}

function history(events: readonly CloudTrailLookupEvent[], extra: Partial<RuleChangeHistory> = {}) {
  return {
    source: 'cloudtrail-lookup',
    events,
    start: START,
    end: END,
    complete: true,
    warnings: [],
    ...extra,
  };
}

const ssh = ruleEntry('sg-1', 'ingress', 'tcp', 22, '0.0.0.0/0');
const rdp = ruleEntry('sg-1', 'ingress', 'tcp', 3389, '::/0');
const egressAll = ruleEntry('sg-1', 'egress', '-1', undefined, '0.0.0.0/0');
const web = securityGroup('sg-1', { name: 'web', rules: [ssh, rdp, egressAll] });

describe('parseSgChangeEvent', () => {
  it('reads an Authorize event: the SG, each entry by spec and sgr- id, and who, from where, through what', () => {
    // Prepare
    const event = authorizeEvent(base('e1', '2026-11-03T09:12:44Z'), 'ingress', 'sg-1', [
      { protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0', ruleId: 'sgr-1' },
    ]);

    // Act
    const parsed = parseSgChangeEvent(event);

    // Assess
    expect(parsed).toMatchObject({
      eventName: 'AuthorizeSecurityGroupIngress',
      kind: 'authorize',
      groupId: 'sg-1',
      failed: false,
      time: epoch('2026-11-03T09:12:44Z'),
      entries: [{ direction: 'ingress', spec: '6|22-22|0.0.0.0/0', ruleId: 'sgr-1' }],
      actor: {
        principalArn: ALICE,
        sessionIssuer: ADMIN_ROLE,
        sourceIp: '203.0.113.10',
        channel: 'console',
      },
    });
  });

  it('reads the request when the response names no rules, one entry per peer', () => {
    // Prepare
    const event = authorizeEvent(base('e1', '2026-11-03T09:12:44Z'), 'egress', 'sg-1', [
      { protocol: '6', fromPort: 443, toPort: 443, peer: 'pl-78a54011' },
      { protocol: 'tcp', fromPort: 443, toPort: 443, peer: '2001:DB8::/32' },
    ]);

    // Act
    const parsed = parseSgChangeEvent(event);

    // Assess
    expect(parsed?.entries).toEqual([
      { direction: 'egress', spec: '6|443-443|pl-78a54011' },
      { direction: 'egress', spec: '6|443-443|2001:db8::/32' },
    ]);
  });

  it('reads ModifySecurityGroupRules (PascalCase, no direction) and a revoke by rule id', () => {
    // Prepare
    const modify = modifyEvent(base('e2', '2026-11-04T00:00:00Z'), 'sg-1', {
      protocol: 'tcp',
      fromPort: 0,
      toPort: 65535,
      peer: '0.0.0.0/0',
      ruleId: 'sgr-1',
    });
    const revoke = revokeEvent(base('e3', '2026-11-05T00:00:00Z'), 'ingress', 'sg-1', [], ['sgr-1']);

    // Act
    const [m, r] = [parseSgChangeEvent(modify), parseSgChangeEvent(revoke)];

    // Assess
    expect(m).toMatchObject({
      kind: 'modify',
      groupId: 'sg-1',
      entries: [{ spec: '6|0-65535|0.0.0.0/0', ruleId: 'sgr-1' }],
    });
    expect(m?.entries[0]?.direction).toBeUndefined();
    expect(r).toMatchObject({ kind: 'revoke', ruleIds: ['sgr-1'], entries: [] });
  });

  it('marks failed calls and leaves out events that are no SG change or cannot be read', () => {
    // Prepare
    const failed = authorizeEvent(
      { ...base('e1', '2026-11-03T09:12:44Z'), errorCode: 'InvalidPermission.Duplicate' },
      'ingress',
      'sg-1',
      [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
    );

    // Act
    const parsed = parseSgChangeEvent(failed);

    // Assess
    expect(parsed?.failed).toBe(true);
    expect(
      parseSgChangeEvent({
        EventName: 'DescribeInstances',
        CloudTrailEvent: '{"eventName":"DescribeInstances"}',
      }),
    ).toBeUndefined();
    expect(
      parseSgChangeEvent({ EventName: 'AuthorizeSecurityGroupIngress', CloudTrailEvent: '{not json' }),
    ).toBeUndefined();
  });
});

describe('changeChannel', () => {
  it.each([
    [{ userAgent: 'AWS Internal' }, 'other'],
    [{ userAgent: 'AWS Internal', fromConsole: true }, 'console'],
    [{ userAgent: 'console.ec2.amazonaws.com' }, 'console'],
    [{ userAgent: CALLERS.cli(BOB, '1.2.3.4').userAgent }, 'aws-cli'],
    [{ userAgent: CALLERS.terraform(BOB, '1.2.3.4').userAgent }, 'terraform'],
    [
      { userAgent: 'cloudformation.amazonaws.com', invokedBy: 'cloudformation.amazonaws.com' },
      'cloudformation',
    ],
    [{ userAgent: CALLERS.sdk(BOB, '1.2.3.4').userAgent }, 'sdk'],
    [{ userAgent: 'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux' }, 'sdk'],
    [{ userAgent: 'autoscaling.amazonaws.com', invokedBy: 'autoscaling.amazonaws.com' }, 'aws-service'],
  ] as const)('calls %j %s', (call, channel) => {
    // Act / Assess
    expect(changeChannel(call)).toBe(channel);
  });
});

describe('attributeRuleChanges', () => {
  it('names the last call that created each rule, the SG creation for the default egress rule and the SG', () => {
    // Prepare
    const events = [
      createGroupEvent(
        base('c1', '2026-10-01T08:00:00Z', CALLERS.cli(BOB, '198.51.100.7')),
        'sg-1',
        'web',
        'vpc-1',
      ),
      authorizeEvent(
        base('a1', '2026-10-01T08:01:00Z', CALLERS.cli(BOB, '198.51.100.7')),
        'ingress',
        'sg-1',
        [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
      ),
      // Revoked, then opened again by someone else: the second call is the one to name.
      revokeEvent(base('r1', '2026-10-02T00:00:00Z'), 'ingress', 'sg-1', [
        { protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' },
      ]),
      authorizeEvent(base('a2', '2026-11-03T09:12:44Z'), 'ingress', 'sg-1', [
        { protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' },
        { protocol: 'tcp', fromPort: 3389, toPort: 3389, peer: '::/0' },
      ]),
    ];

    // Act
    const { rules, groups, summary } = attributeRuleChanges([web], history(events));

    // Assess
    expect(rules.get(ssh.id)).toMatchObject({
      kind: 'created',
      eventId: 'a2',
      principalArn: ALICE,
      sessionIssuer: ADMIN_ROLE,
      channel: 'console',
      sourceIp: '203.0.113.10',
      eventTime: '2026-11-03T09:12:44Z',
      text: 'opened by assumed-role/Admin/alice via console on 2026-11-03 09:12 UTC from 203.0.113.10',
    });
    expect(rules.get(rdp.id)?.eventId).toBe('a2');
    expect(rules.get(egressAll.id)).toMatchObject({
      kind: 'created-with-group',
      eventId: 'c1',
      channel: 'aws-cli',
    });
    expect(groups.get('sg-1')).toMatchObject({ kind: 'group-created', principalArn: BOB });
    expect(summary).toMatchObject({
      events: 4,
      attributedRules: 3,
      olderRules: 0,
      unknownRules: 0,
      complete: true,
    });
  });

  it('matches by sgr- id first, and credits a modification that set the rule to what it is', () => {
    // Prepare: sgr-9 was opened for 10.0.0.0/8, then widened to the world; another rule keeps 10.0.0.0/8.
    const wide = ruleEntry('sg-1', 'ingress', 'tcp', 22, '0.0.0.0/0', { securityGroupRuleId: 'sgr-9' });
    const sg = securityGroup('sg-1', { rules: [wide] });
    const events = [
      authorizeEvent(
        base('a1', '2026-10-01T00:00:00Z', CALLERS.terraform(DEPLOYER, '10.0.0.5')),
        'ingress',
        'sg-1',
        [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '10.0.0.0/8', ruleId: 'sgr-9' }],
      ),
      modifyEvent(base('m1', '2026-11-01T00:00:00Z', CALLERS.cli(BOB, '198.51.100.7')), 'sg-1', {
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: '0.0.0.0/0',
        ruleId: 'sgr-9',
      }),
    ];

    // Act
    const change = attributeRuleChanges([sg], history(events)).rules.get(wide.id);

    // Assess
    expect(change).toMatchObject({ kind: 'widened', eventId: 'm1', principalArn: BOB, channel: 'aws-cli' });
    expect(change?.text).toBe('widened by user/bob via AWS CLI on 2026-11-01 00:00 UTC from 198.51.100.7');
    expect(changeCells(change)).toEqual([BOB, '2026-11-01T00:00:00Z', 'AWS CLI (ModifySecurityGroupRules)']);
  });

  it('never credits the creator of a rule that was modified away to a rule of the old spec', () => {
    // Prepare
    const narrow = ruleEntry('sg-1', 'ingress', 'tcp', 22, '10.0.0.0/8');
    const sg = securityGroup('sg-1', { rules: [narrow] });
    const events = [
      authorizeEvent(base('a1', '2026-10-01T00:00:00Z'), 'ingress', 'sg-1', [
        { protocol: 'tcp', fromPort: 22, toPort: 22, peer: '10.0.0.0/8', ruleId: 'sgr-9' },
      ]),
      modifyEvent(base('m1', '2026-11-01T00:00:00Z'), 'sg-1', {
        protocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        peer: '0.0.0.0/0',
        ruleId: 'sgr-9',
      }),
    ];

    // Act
    const change = attributeRuleChanges([sg], history(events)).rules.get(narrow.id);

    // Assess
    expect(change).toMatchObject({ kind: 'before-history' });
  });

  it('names CloudFormation with the stack of the SG, and skips failed calls', () => {
    // Prepare
    const sg = securityGroup('sg-1', {
      tags: { 'aws:cloudformation:stack-name': 'web-stack' },
      rules: [ssh],
    });
    const events = [
      authorizeEvent(
        base('a1', '2026-10-01T00:00:00Z', CALLERS.cloudformation(DEPLOYER)),
        'ingress',
        'sg-1',
        [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
      ),
      authorizeEvent(
        { ...base('a2', '2026-11-01T00:00:00Z'), errorCode: 'InvalidPermission.Duplicate' },
        'ingress',
        'sg-1',
        [{ protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' }],
      ),
    ];

    // Act
    const change = attributeRuleChanges([sg], history(events)).rules.get(ssh.id);

    // Assess
    expect(change).toMatchObject({
      kind: 'created',
      eventId: 'a1',
      channel: 'cloudformation',
      stackName: 'web-stack',
    });
    expect(change?.text).toBe(
      'opened by assumed-role/cfn-exec/AWSCloudFormation via CloudFormation (stack web-stack) on 2026-10-01 00:00 UTC from cloudformation.amazonaws.com',
    );
  });

  it('says "before <date>" for rules no event names when the history is whole and its start known', () => {
    // Act
    const { rules, groups } = attributeRuleChanges([web], history([]));

    // Assess
    expect(rules.get(ssh.id)?.text).toBe("before 2026-08-19 (outside CloudTrail's 90-day event history)");
    expect(changeCells(rules.get(ssh.id))).toEqual([
      '',
      'before 2026-08-19',
      "outside CloudTrail's 90-day event history",
    ]);
    expect(groups.get('sg-1')?.kind).toBe('before-history');
  });

  it('keeps silence from becoming evidence: an unknown period or an incomplete read names no date', () => {
    // Act
    const noStart = attributeRuleChanges([web], history([], { start: undefined })).rules.get(ssh.id);
    const partial = attributeRuleChanges([web], history([], { complete: false })).rules.get(ssh.id);

    // Assess
    expect(noStart).toMatchObject({ kind: 'unknown' });
    expect(noStart?.text).toContain('does not say which period it covers');
    expect(partial?.text).toContain('was not read whole');
  });

  it('says unknown for a rule that was revoked and exists again, or is absent from an SG created in the history', () => {
    // Prepare
    const events = [
      createGroupEvent(base('c1', '2026-10-01T00:00:00Z'), 'sg-1', 'web', 'vpc-1'),
      revokeEvent(base('r1', '2026-10-05T00:00:00Z'), 'ingress', 'sg-1', [
        { protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' },
      ]),
    ];

    // Act
    const { rules } = attributeRuleChanges([web], history(events));

    // Assess
    expect(rules.get(ssh.id)?.text).toContain(
      'RevokeSecurityGroupIngress removed it on 2026-10-05, yet it exists',
    );
    expect(rules.get(rdp.id)?.text).toContain('the SG was created on 2026-10-01, within the history');
  });

  it('credits every rule of a random history to an event of its own SG that added its exact spec (property)', () => {
    // Prepare: random authorize/revoke sequences over a few specs of two SGs.
    const specs = [
      { protocol: 'tcp', fromPort: 22, toPort: 22, peer: '0.0.0.0/0' },
      { protocol: 'tcp', fromPort: 443, toPort: 443, peer: '10.0.0.0/8' },
      { protocol: 'udp', fromPort: 53, toPort: 53, peer: 'sg-9' },
    ];
    const step = fc.record({
      group: fc.constantFrom('sg-1', 'sg-2'),
      spec: fc.integer({ min: 0, max: specs.length - 1 }),
      revoke: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        const present = new Map<string, Set<number>>([
          ['sg-1', new Set()],
          ['sg-2', new Set()],
        ]);
        const events = steps.map((s, i) => {
          const time = new Date(Date.UTC(2026, 9, 1, 0, i)).toISOString();
          const spec = specs[s.spec] as (typeof specs)[number];
          if (s.revoke) present.get(s.group)?.delete(s.spec);
          else present.get(s.group)?.add(s.spec);
          return s.revoke
            ? revokeEvent(base(`e${i}`, time), 'ingress', s.group, [spec])
            : authorizeEvent(base(`e${i}`, time), 'ingress', s.group, [spec]);
        });
        const groups = ['sg-1', 'sg-2'].map((id) =>
          securityGroup(id, {
            rules: [...(present.get(id) ?? [])].map((n) => {
              const spec = specs[n] as (typeof specs)[number];
              return ruleEntry(id, 'ingress', spec.protocol, spec.fromPort, spec.peer);
            }),
          }),
        );
        const { rules } = attributeRuleChanges(groups, history(events));
        for (const sg of groups) {
          for (const rule of sg.rules) {
            const change = rules.get(rule.id);
            const index = Number(change?.eventId?.slice(1));
            const s = steps[index];
            // The named event is the last authorize of that spec on that SG.
            expect(change?.kind).toBe('created');
            expect(s?.group).toBe(sg.id);
            expect(s?.revoke).toBe(false);
            const spec = specs[s?.spec ?? -1];
            expect(specKey(rule.protocol, rule.fromPort, rule.toPort, spec?.peer ?? '')).toBe(
              specKey(spec?.protocol ?? '', spec?.fromPort, spec?.toPort, spec?.peer ?? ''),
            );
            expect(
              steps.slice(index + 1).some((later) => later.group === sg.id && later.spec === s?.spec),
            ).toBe(false);
          }
        }
      }),
    );
  });
});

describe('words', () => {
  it('labels principals by their ARN resource', () => {
    // Act / Assess
    expect(principalLabel(ALICE)).toBe('assumed-role/Admin/alice');
    expect(principalLabel('arn:aws:iam::123456789012:root')).toBe('root');
    expect(principalLabel('arn:aws:iam::123456789012:user/bob')).toBe('user/bob');
  });

  it('words every kind of change', () => {
    // Act / Assess
    expect(
      changeText({
        kind: 'group-created',
        principalArn: BOB,
        channel: 'terraform',
        eventTime: '2026-10-01T00:00:00Z',
      }),
    ).toBe('SG created by user/bob via Terraform on 2026-10-01 00:00 UTC');
    expect(changeText({ kind: 'unknown', reason: 'CloudTrail was not read' })).toBe(
      'change history unknown: CloudTrail was not read',
    );
    expect(changeCells({ kind: 'unknown', reason: 'denied', text: '' })).toEqual(['', '', 'unknown: denied']);
  });
});
