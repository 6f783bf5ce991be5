import fc from 'fast-check';
import type { NaclRecommendation } from '../../../shared/model/analysis';
import type { NaclEntrySpec, NaclStep } from '../../../shared/remediation/model';
import {
  applyNaclSteps,
  describeNaclEntry,
  naclFingerprint,
  naclTransition,
  planNacl,
} from '../../../shared/remediation/nacl-plan';
import type { ReportNetworkAcl } from '../../../shared/report/model';

function acl(entries: NaclEntrySpec[]): ReportNetworkAcl {
  return {
    id: 'acl-1',
    vpcId: 'vpc-1',
    isDefault: true,
    subnetIds: ['subnet-1'],
    entries: [
      ...entries,
      { ruleNumber: 32767, egress: false, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
      { ruleNumber: 32767, egress: true, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
    ],
  };
}

const ALLOW_ALL: NaclEntrySpec[] = [
  { ruleNumber: 100, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
  { ruleNumber: 101, egress: false, protocol: '-1', action: 'allow', cidr: '::/0' },
  { ruleNumber: 100, egress: true, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
  { ruleNumber: 101, egress: true, protocol: '-1', action: 'allow', cidr: '::/0' },
];

function rec(
  direction: 'inbound' | 'outbound',
  protocol: string,
  ports: [number, number] | undefined,
  cidr: string,
  purpose: NaclRecommendation['purpose'] = 'service',
): NaclRecommendation {
  return {
    naclId: 'acl-1',
    subnetIds: ['subnet-1'],
    direction,
    ruleNumber: 100,
    protocol,
    ...(ports ? { fromPort: ports[0], toPort: ports[1] } : {}),
    cidr,
    action: 'allow',
    purpose,
    reason: 'observed',
  };
}

const WEB: NaclRecommendation[] = [
  rec('inbound', '6', [443, 443], '0.0.0.0/0'),
  rec('inbound', '6', [443, 443], '2001:db8::/32'),
  rec('outbound', '6', [1024, 65535], '0.0.0.0/0', 'return-traffic'),
  rec('outbound', '6', [1024, 65535], '2001:db8::/32', 'return-traffic'),
];

describe('planNacl', () => {
  it('numbers new entries on free numbers with gaps, adds them all, then deletes the old allows', () => {
    // Act
    const plan = planNacl(acl(ALLOW_ALL), WEB, { quota: 20 });
    // Assess
    expect(plan.action).toBe('apply');
    expect(plan.steps.map((s) => `${s.action} ${describeNaclEntry(s.entry)}`)).toEqual([
      'create 110 inbound allow tcp 443 0.0.0.0/0',
      'create 120 inbound allow tcp 443 2001:db8::/32',
      'delete 100 inbound allow all 0.0.0.0/0',
      'delete 101 inbound allow all ::/0',
      'create 110 outbound allow tcp 1024-65535 0.0.0.0/0',
      'create 120 outbound allow tcp 1024-65535 2001:db8::/32',
      'delete 100 outbound allow all 0.0.0.0/0',
      'delete 101 outbound allow all ::/0',
    ]);
    expect(naclFingerprint(applyNaclSteps(plan.expected.entries, plan.steps))).toBe(plan.afterFingerprint);
  });

  it('replaces a fully replaced old entry in place when the quota is full', () => {
    // Prepare: 2 old entries and 4 new ones at a quota of 4.
    const recs = [
      rec('inbound', '6', [22, 22], '198.51.100.7/32'),
      rec('inbound', '6', [443, 443], '0.0.0.0/0'),
      rec('inbound', '6', [80, 80], '0.0.0.0/0'),
      rec('inbound', '6', [443, 443], '2001:db8::/32'),
    ];
    // Act
    const plan = planNacl(acl(ALLOW_ALL.filter((e) => !e.egress)), recs, { quota: 4 });
    // Assess
    expect(plan.action).toBe('apply');
    expect(plan.steps.map((s) => `${s.action} ${describeNaclEntry(s.entry)}`)).toEqual([
      'create 110 inbound allow tcp 443 2001:db8::/32',
      'create 120 inbound allow tcp 22 198.51.100.7/32',
      'replace 101 inbound allow tcp 443 0.0.0.0/0',
      'replace 100 inbound allow tcp 80 0.0.0.0/0',
    ]);
    expect(plan.quota[0]).toMatchObject({ before: 2, peak: 4, after: 4, limit: 4 });
  });

  it('numbers an entry below a deny it overlaps, and leaves the deny where it is', () => {
    // Prepare: the deny at 105 comes after the allow at 100 that admits the observed traffic.
    const entries: NaclEntrySpec[] = [
      {
        ruleNumber: 100,
        egress: false,
        protocol: '6',
        action: 'allow',
        cidr: '10.0.0.0/8',
        portRange: { from: 0, to: 65535 },
      },
      { ruleNumber: 105, egress: false, protocol: '-1', action: 'deny', cidr: '10.0.0.0/8' },
    ];
    // Act
    const plan = planNacl(acl(entries), [rec('inbound', '6', [5432, 5432], '10.0.1.0/24')], { quota: 20 });
    // Assess
    expect(plan.target.map(describeNaclEntry)).toEqual([
      '1 inbound allow tcp 5432 10.0.1.0/24',
      '105 inbound deny all 10.0.0.0/8',
    ]);
  });

  it('does not keep an identical allow that a deny shadows: it admits nothing, so the traffic gets a new entry below the deny', () => {
    // Prepare: 1 admits everything; the allow at 3 matches the recommendation but the deny at 2 hides it.
    const entries: NaclEntrySpec[] = [
      { ruleNumber: 1, egress: false, protocol: '-1', action: 'allow', cidr: '0.0.0.0/0' },
      { ruleNumber: 2, egress: false, protocol: '-1', action: 'deny', cidr: '0.0.0.0/0' },
      {
        ruleNumber: 3,
        egress: false,
        protocol: '6',
        action: 'allow',
        cidr: '10.0.0.0/16',
        portRange: { from: 0, to: 65535 },
      },
    ];
    // Act
    const plan = planNacl(acl(entries), [rec('inbound', '6', [0, 65535], '10.0.0.0/16')], { quota: 4 });
    // Assess: the traffic 1 admitted is admitted by an entry numbered before the deny.
    expect(plan.action).toBe('apply');
    expect(plan.target.map(describeNaclEntry)).toEqual([
      '1 inbound allow tcp 0-65535 10.0.0.0/16',
      '2 inbound deny all 0.0.0.0/0',
    ]);
  });

  it('refuses an entry a deny before its allow would have stopped: the NACL is never widened', () => {
    // Prepare
    const entries: NaclEntrySpec[] = [
      {
        ruleNumber: 90,
        egress: false,
        protocol: '6',
        action: 'deny',
        cidr: '203.0.113.0/24',
        portRange: { from: 22, to: 22 },
      },
      ...ALLOW_ALL,
    ];
    // Act
    const plan = planNacl(acl(entries), [rec('inbound', '6', [22, 22], '203.0.113.5/32')], { quota: 20 });
    // Assess
    expect(plan.action).toBe('blocked');
    expect(plan.blockedReason).toMatch(/is not inside what acl-1 allows today/);
    expect(plan.steps).toEqual([]);
  });

  it('rolls back to the entries before, at their numbers', () => {
    // Prepare
    const plan = planNacl(acl(ALLOW_ALL), WEB, { quota: 20 });
    // Act
    const back = naclTransition(plan.target, plan.expected.entries, { quota: 20, renumber: false });
    // Assess
    expect(naclFingerprint(applyNaclSteps(plan.target, back.steps))).toBe(plan.expected.fingerprint);
  });
});

/** The first entry (lowest number) matching a packet decides; none: the default deny. */
function evaluate(entries: readonly NaclEntrySpec[], packet: Packet): boolean {
  const sorted = [...entries]
    .filter((e) => e.egress === packet.egress)
    .sort((a, b) => a.ruleNumber - b.ruleNumber);
  for (const e of sorted) {
    if (e.protocol !== '-1' && e.protocol !== packet.protocol) continue;
    if (e.portRange && (packet.port < e.portRange.from || packet.port > e.portRange.to)) continue;
    if (!inCidr(packet.addr, e.cidr)) continue;
    return e.action === 'allow';
  }
  return false;
}

interface Packet {
  readonly egress: boolean;
  readonly protocol: string;
  readonly port: number;
  readonly addr: number;
}

/** IPv4 only in the generated NACLs: CIDR as [network, prefix]. */
function inCidr(addr: number, cidr: string): boolean {
  const [net, prefix] = cidr.split('/');
  const octets = (net ?? '').split('.').map(Number);
  const base =
    (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0;
  const size = 2 ** (32 - Number(prefix));
  return addr >= base && addr < base + size;
}

const CIDRS = [
  '0.0.0.0/0',
  '10.0.0.0/8',
  '10.0.0.0/16',
  '10.0.1.0/24',
  '10.0.1.8/29',
  '203.0.113.0/24',
  '203.0.113.5/32',
];
const RANGES: [number, number][] = [
  [22, 22],
  [443, 443],
  [1024, 65535],
  [0, 65535],
  [440, 450],
];
const entryArb = fc.record({
  egress: fc.boolean(),
  protocol: fc.constantFrom('-1', '6', '17'),
  action: fc.constantFrom('allow' as const, 'allow' as const, 'deny' as const),
  cidr: fc.constantFrom(...CIDRS),
  ports: fc.constantFrom(...RANGES),
  ruleNumber: fc.integer({ min: 1, max: 300 }),
});
const recArb = fc.record({
  egress: fc.boolean(),
  protocol: fc.constantFrom('6', '17'),
  cidr: fc.constantFrom(...CIDRS),
  ports: fc.constantFrom(...RANGES),
});

function entryOf(e: {
  egress: boolean;
  protocol: string;
  action: 'allow' | 'deny';
  cidr: string;
  ports: [number, number];
  ruleNumber: number;
}): NaclEntrySpec {
  return {
    ruleNumber: e.ruleNumber,
    egress: e.egress,
    protocol: e.protocol,
    action: e.action,
    cidr: e.cidr,
    ...(e.protocol === '-1' ? {} : { portRange: { from: e.ports[0], to: e.ports[1] } }),
  };
}

const PACKETS: Packet[] = [false, true].flatMap((egress) =>
  ['6', '17', '1'].flatMap((protocol) =>
    [0, 21, 22, 23, 439, 440, 443, 450, 451, 1023, 1024, 65535].flatMap((port) =>
      [
        0, 0x0a000000, 0x0a000100, 0x0a000108, 0x0a00010f, 0x0a000110, 0x0a0001ff, 0x0a00ffff, 0x0affffff,
        0xcb007104, 0xcb007105, 0xcb007106, 0xffffffff,
      ].map((addr) => ({ egress, protocol, port, addr })),
    ),
  ),
);

function packetsOf(entry: NaclEntrySpec): Packet[] {
  return PACKETS.filter(
    (p) =>
      p.egress === entry.egress &&
      p.protocol === entry.protocol &&
      (!entry.portRange || (p.port >= entry.portRange.from && p.port <= entry.portRange.to)) &&
      inCidr(p.addr, entry.cidr),
  );
}

describe('planNacl (properties)', () => {
  const scenario = fc.record({
    entries: fc.uniqueArray(entryArb, { maxLength: 8, selector: (e) => `${e.egress}/${e.ruleNumber}` }),
    recs: fc.array(recArb, { minLength: 1, maxLength: 8 }),
    quota: fc.integer({ min: 4, max: 20 }),
    allowAll: fc.boolean(),
  });

  it('never widens a NACL, never cuts recommended traffic it admitted at any step, and rolls back exactly', () => {
    let applied = 0;
    let rolledBack = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        // Prepare
        // Most NACLs end in an allow-all (the default NACL's, or a catch-all), some do not.
        const catchAll = s.allowAll
          ? [false, true].map((egress) =>
              entryOf({
                egress,
                protocol: '-1',
                action: 'allow',
                cidr: '0.0.0.0/0',
                ports: [0, 65535],
                ruleNumber: 301,
              }),
            )
          : [];
        const current = [...s.entries.map(entryOf), ...catchAll];
        const recommendations = s.recs.map((r) =>
          rec(r.egress ? 'outbound' : 'inbound', r.protocol, r.ports, r.cidr),
        );
        // Act
        const plan = planNacl(acl(current), recommendations, { quota: s.quota });
        if (plan.action !== 'apply') return;
        applied++;
        // Assess: the result is the target, reached within the quota.
        const states: NaclEntrySpec[][] = [current];
        plan.steps.forEach((_, i) => {
          states.push(applyNaclSteps(current, plan.steps.slice(0, i + 1) as NaclStep[]));
        });
        const final = states[states.length - 1] as NaclEntrySpec[];
        expect(naclFingerprint(final)).toBe(plan.afterFingerprint);
        for (const state of states) {
          for (const egress of [false, true]) {
            const count = state.filter((e) => e.egress === egress).length;
            const before = current.filter((e) => e.egress === egress).length;
            expect(count).toBeLessThanOrEqual(Math.max(s.quota, before));
          }
        }
        // Never admits what it did not.
        for (const p of PACKETS) if (evaluate(final, p)) expect(evaluate(current, p)).toBe(true);
        // Recommended traffic admitted before stays admitted at every step.
        const wanted = recommendations.map((r) => ({
          ruleNumber: 1,
          egress: r.direction === 'outbound',
          protocol: r.protocol,
          action: 'allow' as const,
          cidr: r.cidr,
          ...(r.fromPort === undefined
            ? {}
            : { portRange: { from: r.fromPort, to: r.toPort ?? r.fromPort } }),
        }));
        for (const p of wanted.flatMap(packetsOf)) {
          if (!evaluate(current, p)) continue;
          for (const state of states) expect(evaluate(state, p)).toBe(true);
        }
        // Rollback.
        const back = naclTransition(final, current, { quota: s.quota, renumber: false });
        if (back.blocked === undefined) {
          rolledBack++;
          expect(naclFingerprint(applyNaclSteps(final, back.steps))).toBe(naclFingerprint(current));
        }
      }),
      { numRuns: 200 },
    );
    // The generated NACLs exercise real plans, not only refusals.
    expect(applied).toBeGreaterThan(40);
    expect(rolledBack).toBeGreaterThan(applied * 0.8);
  });
});
