import fc from 'fast-check';
import {
  type CompactionOptions,
  type CompactionResult,
  compactToQuota,
  dropContainedEntries,
  type EntryPeer,
  mergeEntriesExactly,
  type RecommendedEntry,
} from '../../../shared/analysis/compact';
import type { RecommendationBasis } from '../../../shared/model/analysis';
import { type Cidr, cidrContains, cidrSize, formatIp, parseCidr } from '../../../shared/net/ip';
import { rangeContainsRange } from '../../../shared/net/ports';
import * as reference from './compact-reference';

// --- plain-data helpers ----------------------------------------------------------------------

/** Source rules the random entries name: a CIDR and ports each entry must stay inside (SG-like options). */
const RULES: Readonly<Record<string, { cidr: Cidr; from: number; to: number }>> = {
  'rule-a': { cidr: parseCidr('10.0.0.0/16'), from: 0, to: 65535 },
  'rule-b': { cidr: parseCidr('10.0.0.0/22'), from: 400, to: 500 },
  'rule-c': { cidr: parseCidr('10.0.2.0/24'), from: 443, to: 443 },
  'rule-d': { cidr: parseCidr('2001:db8::/120'), from: 0, to: 65535 },
};

const BASES: readonly RecommendationBasis[] = ['observed', 'port-group', 'summarised-/24', 'sg-reference'];

/** A CIDR peer in a small space (so merges interact): 10.0.0-3.x or 2001:db8::xx. */
const cidrArbitrary: fc.Arbitrary<Cidr> = fc
  .oneof(
    { weight: 5, arbitrary: fc.tuple(fc.integer({ min: 0, max: 1023 }), fc.integer({ min: 22, max: 32 })) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 120, max: 128 })) },
  )
  .map(([host, prefix]) =>
    prefix > 32
      ? parseCidr(`2001:db8::${host.toString(16)}/${prefix}`)
      : parseCidr(`10.0.${host >> 8}.${host & 255}/${prefix}`),
  );

const peerArbitrary: fc.Arbitrary<EntryPeer> = fc.oneof(
  { weight: 8, arbitrary: cidrArbitrary.map((cidr): EntryPeer => ({ kind: 'cidr', cidr })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('sg-1', 'sg-2').map((groupId): EntryPeer => ({ kind: 'sg', groupId })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('pl-1')
      .map((prefixListId): EntryPeer => ({ kind: 'prefix-list', prefixListId })),
  },
);

const portsArbitrary = fc
  .tuple(fc.constantFrom(22, 80, 400, 443, 444, 450, 500, 8080, 30000), fc.integer({ min: 0, max: 3 }))
  .map(([from, width]) => ({ from, to: from + ([0, 1, 60, 2000][width] as number) }));

const entryArbitrary: fc.Arbitrary<RecommendedEntry> = fc
  .record({
    peer: peerArbitrary,
    protocol: fc.constantFrom(6, 6, 6, 17, 1),
    ports: portsArbitrary,
    icmpType: fc.option(fc.constantFrom(0, 8), { nil: undefined }),
    connections: fc.integer({ min: 1, max: 9 }),
    sources: fc.subarray(Object.keys(RULES), { minLength: 1 }),
    basis: fc.constantFrom(...BASES),
    added: fc.constantFrom(0n, 0n, 3n, 250n),
    observed: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ peer, protocol, ports, icmpType, connections, sources, basis, added, observed }) => {
    const family = peer.kind === 'cidr' ? peer.cidr.family : 'ipv4';
    const addressCount = peer.kind === 'cidr' ? cidrSize(peer.cidr) : peer.kind === 'sg' ? 2n : 256n;
    const base = peer.kind === 'cidr' ? peer.cidr.network : 0n;
    const addrs = Array.from({ length: observed }, (_, i) =>
      formatIp(family, base + (BigInt(i) % (addressCount > 0n ? addressCount : 1n))),
    );
    return {
      family,
      protocol,
      ...(protocol === 1
        ? icmpType === undefined
          ? {}
          : { icmp: { type: icmpType, code: -1 } }
        : { ports }),
      peer,
      addressCount,
      connections,
      peerAddrs: new Set(peer.kind === 'cidr' ? addrs : [`10.9.0.${observed}`]),
      sourceRuleIds: [...sources].sort(),
      basis,
      addedAddresses: added,
    };
  });

/** SG-like options: a prefix list weighs 3, and a merge must stay inside one of its source rules. */
const SG_LIKE: CompactionOptions = {
  weightOf: (entry) => (entry.peer.kind === 'prefix-list' ? 3 : 1),
  withinSourceRule: (entry) =>
    entry.sourceRuleIds.some((id) => {
      const rule = RULES[id];
      if (rule === undefined) return false;
      const peerInside = entry.peer.kind !== 'cidr' || cidrContains(rule.cidr, entry.peer.cidr);
      const portsInside =
        entry.ports === undefined || rangeContainsRange({ from: rule.from, to: rule.to }, entry.ports);
      return peerInside && portsInside;
    }),
};

const ANY_MERGE: CompactionOptions = { weightOf: () => 1, withinSourceRule: () => true };

/** Entries as comparable plain data: observed peers as a sorted list, order kept. */
function plain(entries: readonly RecommendedEntry[]): unknown[] {
  return entries.map((entry) => ({ ...entry, peerAddrs: [...entry.peerAddrs].sort() }));
}

function plainResult(result: CompactionResult): unknown {
  return { ...result, entries: plain(result.entries) };
}

/** Fresh copies, so neither implementation can see what the other did to shared sets. */
function copies(entries: readonly RecommendedEntry[]): RecommendedEntry[] {
  return entries.map((entry) => ({ ...entry, peerAddrs: new Set(entry.peerAddrs) }));
}

// --- tests -----------------------------------------------------------------------------------

describe('compactToQuota', () => {
  it.each([
    ['any merge', ANY_MERGE],
    ['SG-like weights and source rules', SG_LIKE],
  ])('returns what the reference implementation returns (%s)', (_name, options) => {
    // Prepare
    const inputs = fc.tuple(fc.array(entryArbitrary, { maxLength: 60 }), fc.integer({ min: 1, max: 12 }));

    // Act / Assess
    fc.assert(
      fc.property(inputs, ([entries, limit]) => {
        const actual = compactToQuota(copies(entries), limit, options);
        const expected = reference.compactToQuota(copies(entries), limit, options);
        expect(plainResult(actual)).toEqual(plainResult(expected));
      }),
      { numRuns: 400 },
    );
  });

  it('returns what the reference returns after the exact merges, as recommendations run it', () => {
    // Prepare
    const inputs = fc.tuple(fc.array(entryArbitrary, { maxLength: 120 }), fc.integer({ min: 1, max: 20 }));

    // Act / Assess
    fc.assert(
      fc.property(inputs, ([entries, limit]) => {
        const actual = compactToQuota(
          dropContainedEntries(mergeEntriesExactly(copies(entries))),
          limit,
          SG_LIKE,
        );
        const expected = reference.compactToQuota(
          reference.dropContainedEntries(reference.mergeEntriesExactly(copies(entries))),
          limit,
          SG_LIKE,
        );
        expect(plainResult(actual)).toEqual(plainResult(expected));
      }),
      { numRuns: 200 },
    );
  });

  it('returns what the reference returns for thousands of single addresses', () => {
    // Prepare
    const entries = Array.from(
      { length: 3000 },
      (_, i): RecommendedEntry => ({
        family: 'ipv4',
        protocol: 6,
        ports: { from: 443 + (i % 3), to: 443 + (i % 3) },
        peer: { kind: 'cidr', cidr: parseCidr(`10.${(i * 7919) % 256}.${(i * 31) % 256}.${i % 256}/32`) },
        addressCount: 1n,
        connections: 1,
        peerAddrs: new Set([`10.${(i * 7919) % 256}.${(i * 31) % 256}.${i % 256}`]),
        sourceRuleIds: [`rule-${i % 4}`],
        basis: 'observed',
        addedAddresses: 0n,
      }),
    );

    // Act
    const actual = compactToQuota(copies(entries), 20, ANY_MERGE);

    // Assess
    expect(plainResult(actual)).toEqual(
      plainResult(reference.compactToQuota(copies(entries), 20, ANY_MERGE)),
    );
  });
});

describe('mergeEntriesExactly', () => {
  it('returns what the reference implementation returns', () => {
    // Prepare
    const inputs = fc.array(entryArbitrary, { maxLength: 80 });

    // Act / Assess
    fc.assert(
      fc.property(inputs, (entries) => {
        expect(plain(mergeEntriesExactly(copies(entries)))).toEqual(
          plain(reference.mergeEntriesExactly(copies(entries))),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('dropContainedEntries', () => {
  it('returns what the reference implementation returns', () => {
    // Prepare
    const inputs = fc.array(entryArbitrary, { maxLength: 80 });

    // Act / Assess
    fc.assert(
      fc.property(inputs, (entries) => {
        expect(plain(dropContainedEntries(copies(entries)))).toEqual(
          plain(reference.dropContainedEntries(copies(entries))),
        );
      }),
      { numRuns: 300 },
    );
  });
});
