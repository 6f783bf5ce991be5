import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../../shared/errors';
import { parseIpOrThrow } from '../../../shared/net/ip';
import {
  EGRESS_ALLOWLIST_JSON_SCHEMA,
  EgressAllowMatcher,
  type EgressCandidate,
  parseEgressAllowList,
} from '../../../shared/suppressions/egress-allowlist';

const FILE = `version: 1
destinations:
  - id: partner
    owner: integrations-team
    reason: Partner API (contract C-2291)
    expires: 2026-12-31
    match:
      cidr: 211.115.106.0/24
      protocol: tcp
      ports: 443
  - id: s3
    owner: platform-team
    reason: S3 through the gateway endpoint
    expires: 2027-06-30
    match:
      awsService: S3
  - id: office-list
    owner: network-team
    reason: Office networks
    expires: 2027-06-30
    match:
      prefixList: pl-0abc
      sgId: sg-app
  - id: expired
    owner: ops-team
    reason: Old SaaS
    expires: 2025-01-31
    match:
      cidr: 185.31.16.0/22
`;

function candidate(addr: string, extra: Partial<EgressCandidate> = {}): EgressCandidate {
  return {
    sgId: 'sg-app',
    vpcId: 'vpc-1',
    protocol: 6,
    port: 443,
    addr: parseIpOrThrow(addr),
    prefixListIds: [],
    ...extra,
  };
}

function parseError(text: string): InputError {
  try {
    parseEgressAllowList(text, 'allow.yaml');
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('parseEgressAllowList', () => {
  it('reads each entry with its owner, reason, expiry and destination', () => {
    // Act
    const list = parseEgressAllowList(FILE, 'allow.yaml');

    // Assess
    expect(list.file).toBe('allow.yaml');
    expect(list.entries[0]).toEqual({
      id: 'partner',
      owner: 'integrations-team',
      reason: 'Partner API (contract C-2291)',
      expires: '2026-12-31',
      match: { cidr: '211.115.106.0/24', protocol: 'tcp', ports: '443' },
    });
    expect(list.entries.map((e) => e.id)).toEqual(['partner', 's3', 'office-list', 'expired']);
  });

  it('fails the whole file on a malformed entry, naming the line, the entry and the field', () => {
    // Prepare
    const twoDestinations = FILE.replace('      protocol: tcp\n', '      awsService: s3\n');
    const badDate = FILE.replace('2026-12-31', '2026-02-30');
    const missingOwner = FILE.replace('    owner: platform-team\n', '');
    const duplicate = FILE.replace('- id: s3', '- id: partner');

    // Act / Assess
    expect(parseError(twoDestinations).message).toContain(
      'destinations[0] (partner): match: exactly one of cidr, prefixList, awsService is required',
    );
    expect(parseError(badDate).message).toMatch(/line 6: destinations\[0\] \(partner\): expires: not a date/);
    expect(parseError(missingOwner).message).toContain('destinations[1] (s3): owner: required');
    expect(parseError(duplicate).message).toContain('duplicate id (also destinations[0])');
    expect(parseError('version: 2\ndestinations: []\n').message).toContain('unsupported version');
  });
});

describe('EgressAllowMatcher', () => {
  it('expects a destination by CIDR, AWS service (any case) or prefix list, narrowed by protocol, ports and SG', () => {
    // Prepare
    const matcher = new EgressAllowMatcher(
      parseEgressAllowList(FILE, 'allow.yaml'),
      new Date('2026-12-31T23:59:59Z'),
    );

    // Act / Assess
    expect(matcher.match(candidate('211.115.106.10'))?.id).toBe('partner');
    expect(matcher.match(candidate('211.115.106.10', { port: 8443 }))).toBeUndefined();
    expect(matcher.match(candidate('211.115.106.10', { protocol: 17 }))).toBeUndefined();
    expect(matcher.match(candidate('52.219.57.1', { service: 's3' }))?.id).toBe('s3');
    expect(matcher.match(candidate('198.51.100.7', { prefixListIds: ['pl-0abc'] }))?.id).toBe('office-list');
    expect(
      matcher.match(candidate('198.51.100.7', { prefixListIds: ['pl-0abc'], sgId: 'sg-db' })),
    ).toBeUndefined();
  });

  it('expects nothing once an entry has expired (its expiry day included), and tells expired and unused entries', () => {
    // Prepare
    const list = parseEgressAllowList(FILE, 'allow.yaml');
    const lastDay = new EgressAllowMatcher(list, new Date('2026-12-31T12:00:00Z'));
    const dayAfter = new EgressAllowMatcher(list, new Date('2027-01-01T00:00:00Z'));

    // Act
    const onLastDay = lastDay.match(candidate('211.115.106.10'))?.id;
    const afterwards = dayAfter.match(candidate('211.115.106.10'));
    dayAfter.match(candidate('185.31.17.1'));

    // Assess
    expect(onLastDay).toBe('partner');
    expect(afterwards).toBeUndefined();
    expect(dayAfter.expired().map((e) => e.id)).toEqual(['partner', 'expired']);
    expect(dayAfter.unused().map((e) => e.id)).toEqual(['s3', 'office-list']);
  });
});

describe('EGRESS_ALLOWLIST_JSON_SCHEMA', () => {
  it('is published as committed in docs/egress-allowlist.schema.json (npm run schema)', () => {
    // Prepare
    const committed = JSON.parse(
      readFileSync(path.join(__dirname, '../../../docs/egress-allowlist.schema.json'), 'utf8'),
    );

    // Act / Assess
    expect(JSON.parse(JSON.stringify(EGRESS_ALLOWLIST_JSON_SCHEMA))).toEqual(committed);
  });
});
