/**
 * Which side of a flow row is the row's ENI: the local side is the address that belongs to the
 * ENI (its private addresses from the rule index, or any address the index attributes to it, e.g.
 * a delegated prefix), the other side is the peer. Lookups repeat across rows, so each answer is
 * remembered for the whole fold.
 */
import type { FlowAggregate } from '../../model/flow';
import type { NetworkInterface } from '../../model/inventory';
import { canonicalIp } from '../../net/ip';
import type { RuleIndex } from '../../rules/rule-index';

/** A row's two addresses, resolved to the ENI's side and the peer's. */
export interface RowSides {
  /** Whether the row's server (service side) is the ENI; otherwise its client is. */
  readonly serverIsLocal: boolean;
  readonly localAddr: string;
  readonly peerAddr: string;
}

const NO_ADDRESSES: ReadonlySet<string> = new Set<string>();

/** The ENIs' addresses and owners, looked up once per ENI and per address. */
export class AddressSides {
  private readonly canonicalText = new Map<string, string>();
  private readonly addressesByEni = new Map<string, ReadonlySet<string>>();
  private readonly owners = new Map<string, NetworkInterface | undefined>();

  constructor(private readonly ruleIndex: Pick<RuleIndex, 'eniAddresses' | 'eniByAddress'>) {}

  /**
   * The row's sides, or undefined when neither address belongs to the row's ENI (transit).
   *
   * @example sides.of(row) // { serverIsLocal: true, localAddr: '10.0.1.5', peerAddr: '203.0.113.10' }
   */
  of(aggregate: FlowAggregate): RowSides | undefined {
    const { eniId } = aggregate;
    const clientAddr = this.canonical(aggregate.clientAddr);
    const serverAddr = this.canonical(aggregate.serverAddr);
    const addresses = this.addressesOf(eniId);
    let serverIsLocal = addresses.has(serverAddr);
    let clientIsLocal = !serverIsLocal && addresses.has(clientAddr);
    if (!serverIsLocal && !clientIsLocal) {
      serverIsLocal = this.ownerOf(serverAddr)?.id === eniId;
      clientIsLocal = !serverIsLocal && this.ownerOf(clientAddr)?.id === eniId;
    }
    if (!serverIsLocal && !clientIsLocal) return undefined;
    return serverIsLocal
      ? { serverIsLocal, localAddr: serverAddr, peerAddr: clientAddr }
      : { serverIsLocal, localAddr: clientAddr, peerAddr: serverAddr };
  }

  /** The ENI an address belongs to, if the inventory knows it. */
  ownerOf(addr: string): NetworkInterface | undefined {
    if (this.owners.has(addr)) return this.owners.get(addr);
    const eni = this.ruleIndex.eniByAddress(addr);
    this.owners.set(addr, eni);
    return eni;
  }

  private canonical(addr: string): string {
    // Flow logs write IPv4 as a canonical dotted quad; only IPv6 text has several spellings.
    if (!addr.includes(':')) return addr;
    let text = this.canonicalText.get(addr);
    if (text === undefined) {
      text = canonicalIp(addr) ?? addr;
      this.canonicalText.set(addr, text);
    }
    return text;
  }

  private addressesOf(eniId: string): ReadonlySet<string> {
    let addresses = this.addressesByEni.get(eniId);
    if (addresses === undefined) {
      addresses = this.ruleIndex.eniAddresses(eniId) ?? NO_ADDRESSES;
      this.addressesByEni.set(eniId, addresses);
    }
    return addresses;
  }
}
