/**
 * Rule matching: which rule entries, across all SGs on an ENI, admit a connection.
 *
 * Everything that can be resolved once is resolved in {@link RuleIndex.build}: rule CIDRs are
 * parsed, SG references become the address set of every ENI carrying the referenced group,
 * prefix lists become their entries, and ENIs sharing the same SGs share one compiled rule list.
 * A match is then O(rules on the ENI) with bigint interval checks and no parsing of rule text.
 *
 * ICMP: flow logs carry no ICMP type or code, so an icmp/icmpv6 rule matches every connection of
 * its protocol whatever types/codes it names (it may be narrower than that in reality).
 */
import { InvalidValueError } from '../errors';
import type {
  Direction,
  Inventory,
  IpFamily,
  NetworkInterface,
  RuleEntry,
  SecurityGroup,
} from '../model/inventory';
import { AddressSet } from '../net/address-set';
import {
  type Cidr,
  cidrFirst,
  cidrLast,
  compareCidrs,
  familyBits,
  formatIp,
  type IpAddress,
  parseCidr,
  parseIp,
} from '../net/ip';
import { MAX_PORT, MIN_PORT } from '../net/ports';
import { protocolHasPorts } from '../net/protocol';

/**
 * A rule entry with everything matching needs, resolved once. Every instance has the same shape
 * (no optional fields) so the matching loop stays monomorphic.
 */
interface CompiledRule {
  readonly rule: RuleEntry;
  /** IANA number, or ANY_PROTOCOL for '-1'. */
  readonly protocol: number;
  /** Inclusive port bounds; 0..65535 when the rule admits any port (-1, icmp, portless protocols). */
  readonly fromPort: number;
  readonly toPort: number;
  /** A CIDR peer (the common case: two bigint comparisons), family undefined otherwise … */
  readonly family: IpFamily | undefined;
  readonly first: bigint;
  readonly last: bigint;
  /** … or the resolved addresses of an SG reference or prefix list. */
  readonly addresses: AddressSet | undefined;
}

interface CompiledRules {
  readonly ingress: readonly CompiledRule[];
  readonly egress: readonly CompiledRule[];
  readonly ingressEntries: readonly RuleEntry[];
  readonly egressEntries: readonly RuleEntry[];
}

interface DelegatedPrefix {
  readonly family: IpFamily;
  readonly first: bigint;
  readonly last: bigint;
  readonly eni: NetworkInterface;
}

/** IPv4 before IPv6, then by first address. */
function compareDelegated(
  a: Pick<DelegatedPrefix, 'family' | 'first'>,
  b: Pick<DelegatedPrefix, 'family' | 'first'>,
): number {
  if (a.family !== b.family) return a.family === 'ipv4' ? -1 : 1;
  return a.first < b.first ? -1 : a.first > b.first ? 1 : 0;
}

const NO_RULES: CompiledRules = { ingress: [], egress: [], ingressEntries: [], egressEntries: [] };
const NO_ADDRESSES: ReadonlySet<string> = new Set();
/** '-1' as a number, so protocol checks compare numbers only. */
const ANY_PROTOCOL = -1;
/** Parsed peer addresses kept between calls; flow data repeats the same peers many times. */
const ADDRESS_CACHE_LIMIT = 100_000;

export class RuleIndex {
  private readonly sgs = new Map<string, SecurityGroup>();
  private readonly rules = new Map<string, RuleEntry>();
  private readonly enis = new Map<string, NetworkInterface>();
  private readonly sgEnis = new Map<string, NetworkInterface[]>();
  private readonly sgReferrers = new Map<string, Set<string>>();
  private readonly eniAddressSets = new Map<string, ReadonlySet<string>>();
  /** Exact private addresses → ENI, per family (bigint Map keys compare by value). */
  private readonly addressEni: Record<IpFamily, Map<bigint, NetworkInterface>> = {
    ipv4: new Map(),
    ipv6: new Map(),
  };
  /**
   * Delegated prefixes (EKS prefix delegation) → ENI, for addresses not in `addressEni`: sorted by
   * family and first address for binary search (AWS never delegates one prefix to two ENIs).
   */
  private readonly delegatedPrefixes: DelegatedPrefix[] = [];
  /** Per SG: the host and delegated-prefix CIDRs of the ENIs carrying it. */
  private readonly sgCidrs = new Map<string, Cidr[]>();
  private readonly sgAddressSets = new Map<string, AddressSet>();
  private readonly prefixListCidrs = new Map<string, Cidr[]>();
  private readonly prefixListSets = new Map<string, AddressSet>();
  private readonly unresolvedLists = new Set<string>();
  private readonly compiledBySg = new Map<string, { ingress: CompiledRule[]; egress: CompiledRule[] }>();
  private readonly compiledByEni = new Map<string, CompiledRules>();
  private readonly compiledBySgList = new Map<string, CompiledRules>();
  private readonly addressCache = new Map<string, IpAddress>();

  private constructor() {}

  /**
   * Indexes an inventory: SGs, rule entries, ENIs and their addresses, resolved peers, and the
   * compiled rules of every ENI.
   *
   * @throws InvalidValueError for a rule CIDR, ENI address, delegated prefix or prefix-list entry
   *   that does not parse, naming where it is.
   * @example const index = RuleIndex.build(inventory);
   */
  static build(inventory: Inventory): RuleIndex {
    const index = new RuleIndex();
    index.indexGroups(inventory.securityGroups);
    index.indexInterfaces(inventory.networkInterfaces);
    index.indexPrefixLists(inventory);
    for (const sg of inventory.securityGroups) index.compileGroup(sg);
    for (const eni of inventory.networkInterfaces) index.compileInterface(eni);
    return index;
  }

  private indexGroups(groups: readonly SecurityGroup[]): void {
    for (const sg of groups) {
      this.sgs.set(sg.id, sg);
      for (const rule of sg.rules) {
        this.rules.set(rule.id, rule);
        if (rule.peer.kind !== 'sg') continue;
        let referrers = this.sgReferrers.get(rule.peer.groupId);
        if (referrers === undefined) {
          referrers = new Set();
          this.sgReferrers.set(rule.peer.groupId, referrers);
        }
        referrers.add(sg.id);
      }
    }
  }

  private indexInterfaces(interfaces: readonly NetworkInterface[]): void {
    for (const eni of interfaces) {
      this.enis.set(eni.id, eni);
      const hosts: Cidr[] = [];
      const addresses = new Set<string>();
      const addressFields = [
        ['privateIpv4', eni.privateIpv4],
        ['ipv6', eni.ipv6],
      ] as const;
      for (const [field, list] of addressFields) {
        for (const text of list) {
          const cidr = parseCidr(text, { field: `${eni.id}.${field}` });
          if (cidr.prefix !== familyBits(cidr.family)) {
            throw new InvalidValueError(`'${text}' is not a single address`, { field: `${eni.id}.${field}` });
          }
          const canonical = formatIp(cidr.family, cidr.network);
          addresses.add(canonical);
          const owners = this.addressEni[cidr.family];
          if (!owners.has(cidr.network)) owners.set(cidr.network, eni);
          hosts.push(cidr);
        }
      }
      const prefixFields = [
        ['ipv4Prefixes', eni.ipv4Prefixes ?? []],
        ['ipv6Prefixes', eni.ipv6Prefixes ?? []],
      ] as const;
      for (const [field, list] of prefixFields) {
        for (const text of list) {
          const cidr = parseCidr(text, { field: `${eni.id}.${field}` });
          this.delegatedPrefixes.push({
            family: cidr.family,
            first: cidrFirst(cidr),
            last: cidrLast(cidr),
            eni,
          });
          hosts.push(cidr);
        }
      }
      this.eniAddressSets.set(eni.id, addresses);
      for (const sgId of new Set(eni.sgIds)) {
        let carriers = this.sgEnis.get(sgId);
        if (carriers === undefined) {
          carriers = [];
          this.sgEnis.set(sgId, carriers);
        }
        carriers.push(eni);
        let cidrs = this.sgCidrs.get(sgId);
        if (cidrs === undefined) {
          cidrs = [];
          this.sgCidrs.set(sgId, cidrs);
        }
        cidrs.push(...hosts);
      }
    }
    this.delegatedPrefixes.sort(compareDelegated);
  }

  private indexPrefixLists(inventory: Inventory): void {
    for (const list of inventory.prefixLists) {
      const cidrs = list.entries.map((entry) => parseCidr(entry.cidr, { field: `${list.id}.entries` }));
      this.prefixListCidrs.set(list.id, cidrs.sort(compareCidrs));
      this.prefixListSets.set(list.id, AddressSet.of(cidrs));
    }
    for (const sg of inventory.securityGroups) {
      for (const rule of sg.rules) {
        if (rule.peer.kind === 'prefix-list' && !this.prefixListSets.has(rule.peer.prefixListId)) {
          this.unresolvedLists.add(rule.peer.prefixListId);
        }
      }
    }
  }

  private sgAddresses(sgId: string): AddressSet {
    let set = this.sgAddressSets.get(sgId);
    if (set === undefined) {
      set = AddressSet.of(this.sgCidrs.get(sgId) ?? []);
      this.sgAddressSets.set(sgId, set);
    }
    return set;
  }

  private compileRule(rule: RuleEntry): CompiledRule {
    const protocol = rule.protocolNumber === 'all' ? ANY_PROTOCOL : rule.protocolNumber;
    // Missing tcp/udp bounds admit every port; -1, icmp and other protocols ignore the fields.
    const hasPorts = protocolHasPorts(protocol) && rule.fromPort !== undefined && rule.toPort !== undefined;
    const compiled = {
      rule,
      protocol,
      fromPort: hasPorts ? (rule.fromPort as number) : MIN_PORT,
      toPort: hasPorts ? (rule.toPort as number) : MAX_PORT,
      family: undefined as IpFamily | undefined,
      first: 0n,
      last: 0n,
      addresses: undefined as AddressSet | undefined,
    };
    const peer = rule.peer;
    switch (peer.kind) {
      case 'cidr': {
        const cidr = parseCidr(peer.cidr, { field: `rule ${rule.id}` });
        compiled.family = cidr.family;
        compiled.first = cidrFirst(cidr);
        compiled.last = cidrLast(cidr);
        break;
      }
      case 'sg':
        compiled.addresses = this.sgAddresses(peer.groupId);
        break;
      case 'prefix-list':
        compiled.addresses = this.prefixListSets.get(peer.prefixListId) ?? AddressSet.EMPTY;
        break;
    }
    return compiled;
  }

  private compileGroup(sg: SecurityGroup): void {
    const compiled = { ingress: [] as CompiledRule[], egress: [] as CompiledRule[] };
    for (const rule of sg.rules) compiled[rule.direction].push(this.compileRule(rule));
    this.compiledBySg.set(sg.id, compiled);
  }

  private compileInterface(eni: NetworkInterface): void {
    const sgIds = [...new Set(eni.sgIds)];
    // ENIs with the same SGs (an autoscaling group, a Lambda's ENIs) share one compiled list.
    const key = sgIds.join(',');
    let rules = this.compiledBySgList.get(key);
    if (rules === undefined) {
      const groups = sgIds.flatMap((sgId) => {
        const compiled = this.compiledBySg.get(sgId);
        return compiled === undefined ? [] : [compiled];
      });
      const ingress = groups.flatMap((g) => g.ingress);
      const egress = groups.flatMap((g) => g.egress);
      rules = {
        ingress,
        egress,
        ingressEntries: ingress.map((c) => c.rule),
        egressEntries: egress.map((c) => c.rule),
      };
      this.compiledBySgList.set(key, rules);
    }
    this.compiledByEni.set(eni.id, rules);
  }

  private compiledFor(eniId: string): CompiledRules {
    return this.compiledByEni.get(eniId) ?? NO_RULES;
  }

  private address(peerAddr: string | IpAddress): IpAddress {
    const ip = typeof peerAddr === 'string' ? this.cachedIp(peerAddr) : peerAddr;
    if (ip === undefined) throw new InvalidValueError(`invalid peer address '${peerAddr}'`);
    return ip;
  }

  /** parseIp with a bounded cache of the addresses that parsed. */
  private cachedIp(text: string): IpAddress | undefined {
    let ip = this.addressCache.get(text);
    if (ip !== undefined) return ip;
    ip = parseIp(text);
    if (ip === undefined) return undefined;
    // Start over when full: evicting one entry at a time walks the Map's deleted slots (V8),
    // which grows quadratic over hundreds of thousands of distinct addresses.
    if (this.addressCache.size >= ADDRESS_CACHE_LIMIT) this.addressCache.clear();
    this.addressCache.set(text, ip);
    return ip;
  }

  /**
   * The rule entries of every SG on the ENI in one direction (SGs in the ENI's order); empty for
   * an unknown ENI.
   *
   * @example index.rulesForEni('eni-1', 'ingress').length
   */
  rulesForEni(eniId: string, direction: Direction): readonly RuleEntry[] {
    const compiled = this.compiledFor(eniId);
    return direction === 'ingress' ? compiled.ingressEntries : compiled.egressEntries;
  }

  /**
   * Every rule entry (across all SGs on the ENI, in the direction) whose protocol, port range and
   * peer contain the connection. Protocol '-1' matches anything; tcp/udp rules need the port in
   * [fromPort, toPort]; icmp/icmpv6 rules match every connection of that protocol (flow logs carry
   * no type/code); other protocols match by number. A connection without a port (null) matches the
   * rules of its protocol and '-1'. The peer must be of the rule peer's family.
   *
   * @param peerAddr the connection's remote address (any text form; canonicalised here).
   * @throws InvalidValueError when `peerAddr` is not an address.
   * @example index.matching('eni-1', 'ingress', 6, 443, '203.0.113.10') // [rule entries]
   */
  matching(
    eniId: string,
    direction: Direction,
    protocol: number,
    port: number | null,
    peerAddr: string | IpAddress,
  ): RuleEntry[] {
    const compiled = this.compiledFor(eniId);
    const candidates = direction === 'ingress' ? compiled.ingress : compiled.egress;
    const peer = this.address(peerAddr);
    const matched: RuleEntry[] = [];
    for (const candidate of candidates) {
      if (admitsTraffic(candidate, protocol, port) && admitsPeer(candidate, peer))
        matched.push(candidate.rule);
    }
    return matched;
  }

  /**
   * Whether any rule on the ENI admits the protocol and port from/to `peerAddr`; without a peer,
   * whether any rule admits the protocol and port at all, whatever its peer resolves to (a rule
   * that references an SG outside the inventory still says the ENI serves that port).
   *
   * @example index.admits('eni-1', 'ingress', 6, 22) // true when some rule opens tcp/22
   */
  admits(
    eniId: string,
    direction: Direction,
    protocol: number,
    port: number | null,
    peerAddr?: string | IpAddress,
  ): boolean {
    const compiled = this.compiledFor(eniId);
    const candidates = direction === 'ingress' ? compiled.ingress : compiled.egress;
    const peer = peerAddr === undefined ? undefined : this.address(peerAddr);
    return candidates.some(
      (candidate) =>
        admitsTraffic(candidate, protocol, port) && (peer === undefined || admitsPeer(candidate, peer)),
    );
  }

  /**
   * The CIDRs a rule's peer stands for: the CIDR itself; for an SG reference the /32 and /128 of
   * every private address and the delegated prefixes of every ENI carrying that SG; for a prefix
   * list its entries. Empty for an unknown prefix list or an SG without ENIs in the inventory.
   * Sorted, IPv4 first; not merged (see mergeCidrs).
   *
   * @example index.peerCidrs(rule).map(formatCidr) // ['10.0.1.5/32', '10.0.2.9/32']
   */
  peerCidrs(rule: RuleEntry): Cidr[] {
    const peer = rule.peer;
    switch (peer.kind) {
      case 'cidr':
        return [parseCidr(peer.cidr, { field: `rule ${rule.id}` })];
      case 'sg': {
        const unique = new Map<string, Cidr>();
        for (const cidr of this.sgCidrs.get(peer.groupId) ?? []) {
          unique.set(`${cidr.family}/${cidr.network}/${cidr.prefix}`, cidr);
        }
        return [...unique.values()].sort(compareCidrs);
      }
      case 'prefix-list':
        return [...(this.prefixListCidrs.get(peer.prefixListId) ?? [])];
    }
  }

  /**
   * The ENIs carrying the SG.
   *
   * @example index.enisOfSg('sg-1').map((eni) => eni.id)
   */
  enisOfSg(sgId: string): readonly NetworkInterface[] {
    return this.sgEnis.get(sgId) ?? [];
  }

  /**
   * Ids of the SGs whose rules reference `sgId` (itself included when it references itself), sorted.
   *
   * @example index.referencingSgs('sg-db') // ['sg-app']
   */
  referencingSgs(sgId: string): string[] {
    return [...(this.sgReferrers.get(sgId) ?? [])].sort();
  }

  /**
   * Referenced SG ids that are not in the inventory (other accounts, peered VPCs, deleted
   * groups): their rules match nothing here, which is not evidence of disuse. Sorted.
   *
   * @example index.unresolvedSgReferences() // ['sg-0peer']
   */
  unresolvedSgReferences(): string[] {
    return [...this.sgReferrers.keys()].filter((id) => !this.sgs.has(id)).sort();
  }

  /**
   * Prefix-list ids referenced by rules but absent from the inventory (their rules match nothing). Sorted.
   *
   * @example index.unresolvedPrefixLists() // ['pl-0missing']
   */
  unresolvedPrefixLists(): string[] {
    return [...this.unresolvedLists].sort();
  }

  /**
   * The ENI owning a private IPv4 or IPv6 address (any text form), or whose delegated prefix
   * contains it; undefined otherwise (and for text that is not an address).
   *
   * @example index.eniByAddress('10.0.1.5')?.id // 'eni-1'
   */
  eniByAddress(addr: string): NetworkInterface | undefined {
    const ip = this.cachedIp(addr);
    return ip === undefined ? undefined : this.eniByIp(ip);
  }

  /**
   * {@link eniByAddress} of an address already parsed.
   *
   * @example index.eniByIp(parseIpOrThrow('10.0.1.5'))?.id // 'eni-1'
   */
  eniByIp(ip: IpAddress): NetworkInterface | undefined {
    const exact = this.addressEni[ip.family].get(ip.value);
    if (exact !== undefined) return exact;
    // The last delegated prefix starting at or before the address is the only one that can hold it.
    const prefixes = this.delegatedPrefixes;
    let low = 0;
    let high = prefixes.length - 1;
    let found: DelegatedPrefix | undefined;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const entry = prefixes[mid] as DelegatedPrefix;
      if (compareDelegated(entry, { family: ip.family, first: ip.value }) <= 0) {
        found = entry;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found !== undefined && found.family === ip.family && ip.value <= found.last
      ? found.eni
      : undefined;
  }

  /**
   * The ENI's private IPv4 and IPv6 addresses as canonical text (delegated prefixes excluded);
   * empty for an unknown ENI.
   *
   * @example index.eniAddresses('eni-1').has('2001:db8::5') // true
   */
  eniAddresses(eniId: string): ReadonlySet<string> {
    return this.eniAddressSets.get(eniId) ?? NO_ADDRESSES;
  }

  /**
   * The rule entry with this id.
   *
   * @example index.ruleById('sg-1/ingress/tcp/22-22/10.0.0.0/8')?.sgId // 'sg-1'
   */
  ruleById(id: string): RuleEntry | undefined {
    return this.rules.get(id);
  }

  /**
   * The security group with this id.
   *
   * @example index.sgById('sg-1')?.name
   */
  sgById(id: string): SecurityGroup | undefined {
    return this.sgs.get(id);
  }

  /**
   * The network interface with this id.
   *
   * @example index.eniById('eni-1')?.vpcId
   */
  eniById(id: string): NetworkInterface | undefined {
    return this.enis.get(id);
  }
}

function admitsTraffic(candidate: CompiledRule, protocol: number, port: number | null): boolean {
  if (candidate.protocol !== protocol && candidate.protocol !== ANY_PROTOCOL) return false;
  return port === null || (candidate.fromPort <= port && port <= candidate.toPort);
}

function admitsPeer(candidate: CompiledRule, peer: IpAddress): boolean {
  if (candidate.family !== undefined) {
    return candidate.family === peer.family && candidate.first <= peer.value && peer.value <= candidate.last;
  }
  return candidate.addresses?.has(peer) ?? false;
}
