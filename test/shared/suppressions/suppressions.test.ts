import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../../shared/errors';
import type { Finding } from '../../../shared/model/analysis';
import {
  applySuppressions,
  isActivelySuppressed,
  parseSuppressions,
  SUPPRESSIONS_JSON_SCHEMA,
  type SuppressionContext,
  type SuppressionMatch,
  type SuppressionSet,
  suppressionNote,
} from '../../../shared/suppressions/suppressions';

const NOW = new Date('2026-06-01T12:00:00Z');

function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: 'sensitive-port-world:sg-1/ingress/tcp/22-22/0.0.0.0/0',
    check: 'sensitive-port-world',
    severity: 'high',
    sgId: 'sg-1',
    sgName: 'bastion',
    vpcId: 'vpc-1',
    ruleId: 'sg-1/ingress/tcp/22-22/0.0.0.0/0',
    direction: 'ingress',
    protocol: 'tcp',
    fromPort: 22,
    toPort: 22,
    peer: '0.0.0.0/0',
    reason: 'SSH open to the world',
    resources: { ec2: 1 },
    evidence: 'used: 3 connections',
    controls: ['EC2.13'],
    ...overrides,
  };
}

/** An SG-level finding (no rule). */
function sgFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: 'unused-sg:sg-1',
    check: 'unused-sg',
    severity: 'low',
    sgId: 'sg-1',
    sgName: 'bastion',
    vpcId: 'vpc-1',
    reason: 'no ENIs',
    resources: {},
    evidence: 'no ENIs',
    controls: [],
    ...overrides,
  };
}

function setOf(match: SuppressionMatch, expires = '2027-03-31', id = 's1'): SuppressionSet {
  return {
    file: 'test.yaml',
    version: 1,
    suppressions: [{ id, owner: 'team', reason: 'accepted', expires, match }],
  };
}

const TAGS: Record<string, Record<string, string>> = {
  'sg-1': { role: 'bastion' },
  'sg-2': { role: 'public-alb' },
};
const context: SuppressionContext = { now: NOW, sgTags: (sgId) => TAGS[sgId] };

/** Whether the suppression set marks the finding at all. */
function marks(match: SuppressionMatch, target: Finding): boolean {
  return applySuppressions([target], setOf(match), context).findings[0]?.suppression !== undefined;
}

function parseError(text: string, file = 'suppressions.yaml'): InputError {
  try {
    parseSuppressions(text, file);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected parseSuppressions to throw');
}

const VALID_ENTRY = `  - id: ok-entry
    owner: team
    reason: accepted
    expires: 2027-03-31
    match: { sgId: sg-1 }
`;

describe('applySuppressions selectors', () => {
  it.each<[string, SuppressionMatch, SuppressionMatch]>([
    ['sgId', { sgId: 'sg-1' }, { sgId: 'sg-2' }],
    [
      'sgTag with value',
      { sgTag: { key: 'role', value: 'bastion' } },
      { sgTag: { key: 'role', value: 'db' } },
    ],
    ['sgTag key only', { sgTag: { key: 'role' } }, { sgTag: { key: 'owner' } }],
    ['vpcId', { vpcId: 'vpc-1' }, { vpcId: 'vpc-2' }],
    ['check', { check: 'sensitive-port-world' }, { check: 'world-open-web' }],
    ['rule.direction', { rule: { direction: 'ingress' } }, { rule: { direction: 'egress' } }],
    ['rule.protocol by name', { rule: { protocol: 'tcp' } }, { rule: { protocol: 'udp' } }],
    ['rule.protocol by number', { rule: { protocol: '6' } }, { rule: { protocol: '-1' } }],
    ['rule.ports single', { rule: { ports: '22' } }, { rule: { ports: '23' } }],
    ['rule.ports range', { rule: { ports: '20-30' } }, { rule: { ports: '1000-2000' } }],
    ['rule.peer CIDR', { rule: { peer: '0.0.0.0/0' } }, { rule: { peer: '198.51.100.0/24' } }],
  ])('matches and mismatches by %s', (_name, matching, mismatching) => {
    // Prepare
    const target = finding();

    // Act
    const matched = marks(matching, target);
    const mismatched = marks(mismatching, target);

    // Assess
    expect(matched).toBe(true);
    expect(mismatched).toBe(false);
  });

  it('matches a narrower rule CIDR within the peer selector but not a wider one', () => {
    // Prepare
    const selector: SuppressionMatch = { rule: { peer: '198.51.100.0/24' } };
    const narrower = finding({ peer: '198.51.100.10/32' });
    const wider = finding({ peer: '198.51.0.0/16' });

    // Act
    const results = [marks(selector, narrower), marks(selector, wider)];

    // Assess
    expect(results).toEqual([true, false]);
  });

  it('matches sg- and pl- peers exactly and never a CIDR with them', () => {
    // Prepare
    const sgPeer = finding({ peer: 'sg-0abc' });
    const plPeer = finding({ peer: 'pl-0def' });

    // Act
    const results = [
      marks({ rule: { peer: 'sg-0abc' } }, sgPeer),
      marks({ rule: { peer: 'sg-0abd' } }, sgPeer),
      marks({ rule: { peer: 'pl-0def' } }, plPeer),
      marks({ rule: { peer: 'sg-0abc' } }, finding()),
    ];

    // Assess
    expect(results).toEqual([true, false, true, false]);
  });

  it('does not match a rule wider than the ports selector, nor all traffic with a protocol selector', () => {
    // Prepare
    const wideRange = finding({ fromPort: 0, toPort: 65535 });
    const allTraffic = finding({ protocol: '-1', fromPort: undefined, toPort: undefined });

    // Act
    const results = [
      marks({ rule: { ports: '22' } }, wideRange),
      marks({ rule: { ports: '22' } }, allTraffic),
      marks({ rule: { protocol: 'tcp' } }, allTraffic),
      marks({ rule: { ports: '0-65535' } }, allTraffic),
    ];

    // Assess
    expect(results).toEqual([false, false, false, true]);
  });

  it('does not match icmp type/code with a ports selector', () => {
    // Prepare
    const icmp = finding({ protocol: 'icmp', fromPort: 8, toPort: 0 });

    // Act
    const matched = marks({ rule: { ports: '0-65535' } }, icmp);

    // Assess
    expect(matched).toBe(false);
  });

  it('never matches an SG-level finding with a rule selector', () => {
    // Prepare
    const target = sgFinding();

    // Act
    const results = [marks({ rule: { direction: 'ingress' } }, target), marks({ sgId: 'sg-1' }, target)];

    // Assess
    expect(results).toEqual([false, true]);
  });

  it('does not match an SG whose tags are unknown', () => {
    // Prepare
    const target = finding({ sgId: 'sg-unknown' });

    // Act
    const matched = marks({ sgTag: { key: 'role' } }, target);

    // Assess
    expect(matched).toBe(false);
  });

  it('requires every given selector to match (AND)', () => {
    // Prepare
    const match: SuppressionMatch = {
      sgTag: { key: 'role', value: 'public-alb' },
      check: 'world-open-web',
      rule: { protocol: 'tcp', ports: '443' },
    };
    const alb443 = finding({ id: 'a', sgId: 'sg-2', check: 'world-open-web', fromPort: 443, toPort: 443 });
    const alb80 = finding({ id: 'b', sgId: 'sg-2', check: 'world-open-web', fromPort: 80, toPort: 80 });
    const bastion443 = finding({
      id: 'c',
      sgId: 'sg-1',
      check: 'world-open-web',
      fromPort: 443,
      toPort: 443,
    });
    const albOtherCheck = finding({
      id: 'd',
      sgId: 'sg-2',
      check: 'wide-public-cidr',
      fromPort: 443,
      toPort: 443,
    });

    // Act
    const result = applySuppressions([alb443, alb80, bastion443, albOtherCheck], setOf(match), context);

    // Assess
    expect(result.findings.map((f) => f.suppression !== undefined)).toEqual([true, false, false, false]);
  });
});

describe('applySuppressions', () => {
  it('marks an active suppression and keeps the finding in the report', () => {
    // Prepare
    const target = finding();

    // Act
    const result = applySuppressions([target], setOf({ sgId: 'sg-1' }), context);

    // Assess
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toEqual({
      ...target,
      suppression: { id: 's1', owner: 'team', reason: 'accepted', expires: '2027-03-31', status: 'active' },
    });
    expect(result.findings.map(isActivelySuppressed)).toEqual([true]);
    expect(result.unused).toEqual([]);
    expect(result.expired).toEqual([]);
  });

  it('marks an expired suppression without suppressing and reports it with its findings', () => {
    // Prepare
    const target = finding();

    // Act
    const result = applySuppressions([target], setOf({ sgId: 'sg-1' }, '2026-05-31'), context);

    // Assess
    expect(result.findings[0]?.suppression?.status).toBe('expired');
    expect(result.findings.map(isActivelySuppressed)).toEqual([false]);
    expect(result.expired).toEqual([
      { id: 's1', owner: 'team', reason: 'accepted', expires: '2026-05-31', findingIds: [target.id] },
    ]);
    expect(result.findings[0] && suppressionNote(result.findings[0])).toBe(
      'suppression s1 expired on 2026-05-31 (owner: team): accepted',
    );
  });

  it.each([
    ['the morning of the expiry day', '2027-03-31T00:00:00Z', 'active'],
    ['the last millisecond of the expiry day (UTC)', '2027-03-31T23:59:59.999Z', 'active'],
    ['the first instant after the expiry day', '2027-04-01T00:00:00Z', 'expired'],
  ])('treats the expiry day as inclusive: %s is %s', (_when, now, status) => {
    // Prepare
    const at: SuppressionContext = { ...context, now: new Date(now) };

    // Act
    const result = applySuppressions([finding()], setOf({ sgId: 'sg-1' }, '2027-03-31'), at);

    // Assess
    expect(result.findings[0]?.suppression?.status).toBe(status);
  });

  it('prefers an active suppression over an earlier expired one, else the first in file order', () => {
    // Prepare
    const set: SuppressionSet = {
      file: 't.yaml',
      version: 1,
      suppressions: [
        { id: 'old', owner: 'a', reason: 'r', expires: '2025-01-01', match: { sgId: 'sg-1' } },
        {
          id: 'current',
          owner: 'b',
          reason: 'r',
          expires: '2027-01-01',
          match: { check: 'sensitive-port-world' },
        },
        { id: 'also-current', owner: 'c', reason: 'r', expires: '2027-01-01', match: { vpcId: 'vpc-1' } },
      ],
    };

    // Act
    const result = applySuppressions([finding()], set, context);

    // Assess
    expect(result.findings[0]?.suppression?.id).toBe('current');
    expect(result.unused).toEqual([]);
    expect(result.expired.map((e) => e.id)).toEqual(['old']);
  });

  it('lists suppressions that matched nothing as unused and leaves unmatched findings unmarked', () => {
    // Prepare
    const other = finding({ id: 'x', sgId: 'sg-9' });

    // Act
    const result = applySuppressions([other], setOf({ sgId: 'sg-1' }), context);

    // Assess
    expect(result.unused).toEqual(['s1']);
    expect(result.findings).toEqual([other]);
  });

  it('drops a stale mark a finding carries from a previous report when nothing matches now', () => {
    // Prepare
    const stale = finding({
      sgId: 'sg-9',
      suppression: { id: 'gone', owner: 'o', reason: 'r', expires: '2027-01-01', status: 'active' },
    });

    // Act
    const result = applySuppressions([stale], setOf({ sgId: 'sg-1' }), context);

    // Assess
    expect(result.findings[0]?.suppression).toBeUndefined();
  });
});

describe('parseSuppressions', () => {
  it('reads a YAML file', () => {
    // Prepare
    const text = `version: 1\nsuppressions:\n${VALID_ENTRY}`;

    // Act
    const set = parseSuppressions(text, 'suppressions.yaml');

    // Assess
    expect(set).toEqual({
      file: 'suppressions.yaml',
      version: 1,
      suppressions: [
        { id: 'ok-entry', owner: 'team', reason: 'accepted', expires: '2027-03-31', match: { sgId: 'sg-1' } },
      ],
    });
  });

  it.each(['world-open-port', 'world-open-icmp'])('accepts the check id %s as a selector', (check) => {
    // Prepare
    const text = `version: 1\nsuppressions:\n  - id: s1\n    owner: team\n    reason: accepted\n    expires: 2027-03-31\n    match: { check: ${check} }\n`;

    // Act
    const set = parseSuppressions(text, 'suppressions.yaml');

    // Assess
    expect(set.suppressions[0]?.match).toEqual({ check });
  });

  it('reads a JSON file, by extension and by content, with numeric ports as text', () => {
    // Prepare
    const text = JSON.stringify({
      version: 1,
      suppressions: [
        {
          id: 'partner-cidr',
          owner: 'integrations',
          reason: 'partner range',
          expires: '2026-12-31',
          match: { rule: { protocol: 'tcp', ports: 443, peer: '198.51.100.0/24' } },
        },
      ],
    });

    // Act
    const byExtension = parseSuppressions(text, 's3://bucket/suppressions.json');
    const byContent = parseSuppressions(text, 'suppressions');

    // Assess
    expect(byExtension.suppressions[0]?.match.rule).toEqual({
      protocol: 'tcp',
      ports: '443',
      peer: '198.51.100.0/24',
    });
    expect(byContent.suppressions).toEqual(byExtension.suppressions);
  });

  it('reads the documented example file, whose suppressions match the findings they describe', () => {
    // Prepare
    const path = join(__dirname, '../../../docs/suppressions.example.yaml');
    const text = readFileSync(path, 'utf8');
    const bastion = finding({ sgId: 'sg-0b1a57105500000aa' });
    const partner = finding({
      id: 'p',
      check: 'wide-public-cidr',
      peer: '198.51.100.0/24',
      fromPort: 21,
      toPort: 21,
    });
    const alb = finding({ id: 'a', sgId: 'sg-2', check: 'world-open-web', fromPort: 443, toPort: 443 });

    // Act
    const set = parseSuppressions(text, 'docs/suppressions.example.yaml');
    const result = applySuppressions([bastion, partner, alb], set, context);

    // Assess
    expect(set.suppressions.map((s) => s.id)).toEqual(['bastion-ssh', 'partner-cidr', 'alb-https']);
    expect(result.findings.map((f) => f.suppression?.id)).toEqual([
      'bastion-ssh',
      'partner-cidr',
      'alb-https',
    ]);
  });

  it.each([
    [
      'a missing owner',
      `  - id: no-owner\n    reason: r\n    expires: 2027-03-31\n    match: { sgId: sg-1 }\n`,
      /suppressions\.yaml: line 8: suppressions\[1\] \(no-owner\): owner: required/,
    ],
    [
      'a bad date',
      `  - id: partner-cidr\n    owner: o\n    reason: r\n    expires: 2027-02-30\n    match: { sgId: sg-1 }\n`,
      /suppressions\.yaml: line 11: suppressions\[1\] \(partner-cidr\): expires: not a date/,
    ],
    [
      'an unknown check',
      `  - id: bad-check\n    owner: o\n    reason: r\n    expires: 2027-03-31\n    match: { check: ssh-open }\n`,
      /suppressions\[1\] \(bad-check\): match\.check: unknown value 'ssh-open' \(expected one of all-traffic-open/,
    ],
    [
      'no selector',
      `  - id: everything\n    owner: o\n    reason: r\n    expires: 2027-03-31\n    match: {}\n`,
      /suppressions\[1\] \(everything\): match: at least one selector is required/,
    ],
    [
      'an empty rule selector',
      `  - id: empty-rule\n    owner: o\n    reason: r\n    expires: 2027-03-31\n    match: { rule: {} }\n`,
      /suppressions\[1\] \(empty-rule\): match\.rule: rule needs at least one of/,
    ],
    [
      'a duplicate id',
      `  - id: ok-entry\n    owner: o\n    reason: r\n    expires: 2027-03-31\n    match: { vpcId: vpc-1 }\n`,
      /line 8: suppressions\[1\] \(ok-entry\): id: duplicate id \(also suppressions\[0\]\)/,
    ],
    [
      'an empty reason',
      `  - id: no-reason\n    owner: o\n    reason: '  '\n    expires: 2027-03-31\n    match: { sgId: sg-1 }\n`,
      /suppressions\[1\] \(no-reason\): reason: reason must not be empty/,
    ],
    [
      'a bad port range',
      `  - id: ports\n    owner: o\n    reason: r\n    expires: 2027-03-31\n    match: { rule: { ports: 2000-1000 } }\n`,
      /suppressions\[1\] \(ports\): match\.rule\.ports: not a port or port range/,
    ],
    [
      'a bad peer',
      `  - id: peer\n    owner: o\n    reason: r\n    expires: 2027-03-31\n    match: { rule: { peer: 10.0.0.300/8 } }\n`,
      /suppressions\[1\] \(peer\): match\.rule\.peer: not a CIDR, sg-… or pl-… id/,
    ],
    [
      'a misspelt field',
      `  - id: typo\n    owner: o\n    reason: r\n    expiry: 2027-03-31\n    expires: 2027-03-31\n    match: { sgId: sg-1 }\n`,
      /suppressions\[1\] \(typo\): unknown field 'expiry'/,
    ],
  ])('fails the whole file on %s, naming the entry and the field', (_what, entry, expected) => {
    // Prepare
    const text = `version: 1\nsuppressions:\n${VALID_ENTRY}${entry}`;

    // Act
    const error = parseError(text);

    // Assess
    expect(error.message).toMatch(expected);
    expect(error.file).toBe('suppressions.yaml');
  });

  it('names every problem of the file in one message', () => {
    // Prepare
    const text = `version: 1\nsuppressions:\n  - id: a\n    expires: soon\n    match: { sgId: sg-1 }\n`;

    // Act
    const error = parseError(text);

    // Assess
    expect(error.field).toBe('suppressions[0] (a): owner');
    expect(error.message).toContain('suppressions[0] (a): reason: required');
    expect(error.message).toContain('suppressions[0] (a): expires: not a date');
  });

  it('reports YAML syntax errors with their line', () => {
    // Prepare
    const text = `version: 1\nsuppressions:\n  - id: a\n    owner: "unterminated\n    reason: r\n`;

    // Act
    const error = parseError(text);

    // Assess
    expect(error.message).toMatch(/^suppressions\.yaml: line \d+: invalid YAML: /);
    expect(error.line).toBeGreaterThanOrEqual(4);
  });

  it('reports a duplicate key in YAML as a syntax error with its line', () => {
    // Prepare
    const text = `version: 1\nsuppressions:\n  - id: a\n    id: b\n`;

    // Act
    const error = parseError(text);

    // Assess
    expect(error.line).toBe(4);
    expect(error.message).toMatch(/invalid YAML/);
  });

  it('reports JSON syntax errors with their line', () => {
    // Prepare
    const text = `{\n  "version": 1,\n  "suppressions": [\n    }\n}\n`;

    // Act
    const error = parseError(text, 'suppressions.json');

    // Assess
    expect(error.message).toMatch(/^suppressions\.json: line 4: invalid JSON/);
  });

  it('rejects an unsupported version and an empty file', () => {
    // Prepare
    const versionTwo = '{"version": 2, "suppressions": []}';

    // Act
    const errors = [parseError(versionTwo, 's.json'), parseError('', 's.yaml')];

    // Assess
    expect(errors.map((e) => e.message)).toEqual([
      's.json: line 1: version: unsupported version (expected 1)',
      's.yaml: empty file (expected version: 1 and a suppressions list)',
    ]);
  });
});

describe('SUPPRESSIONS_JSON_SCHEMA', () => {
  it('describes version 1 and the required fields of an entry', () => {
    // Prepare
    const schema = SUPPRESSIONS_JSON_SCHEMA as {
      properties: { version: { const: number }; suppressions: { items: { required: string[] } } };
    };

    // Act
    const required = schema.properties.suppressions.items.required;

    // Assess
    expect(schema.properties.version.const).toBe(1);
    expect(required).toEqual(expect.arrayContaining(['id', 'owner', 'reason', 'expires', 'match']));
  });
});
