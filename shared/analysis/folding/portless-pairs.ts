/**
 * Portless exchanges (ESP, GRE, ICMP without a service port): the rows of both directions
 * between the ENI and one peer make one pair, and one connection. When the rules do not say who
 * listens, the side that sent more records initiated, then the one that sent first.
 */
import type { Connection } from '../../model/analysis';
import type { FlowAction, FlowAggregate } from '../../model/flow';
import type { RowSides } from './address-sides';

/** Both rows (A→B and B→A) of a portless exchange between the ENI and one peer. */
export interface PortlessPair {
  readonly eniId: string;
  readonly action: FlowAction;
  readonly protocol: number;
  readonly localAddr: string;
  readonly peerAddr: string;
  /** Records the ENI sent (rows whose client is the local address). */
  sent: number;
  /** Records the ENI received. */
  received: number;
  firstSent: number;
  firstReceived: number;
  records: number;
  packets: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
}

/** Portless rows pooled per (ENI, action, protocol, local, peer), in first-seen order. */
export class PortlessPairs {
  private readonly byKey = new Map<string, PortlessPair>();

  /**
   * Adds a portless row to the pair of its ENI and peer.
   *
   * @example pairs.add(espRow, { serverIsLocal: false, localAddr: '10.0.1.5', peerAddr: '198.51.100.7' })
   */
  add(aggregate: FlowAggregate, sides: RowSides): void {
    const { eniId, action, protocol } = aggregate;
    const { localAddr, peerAddr } = sides;
    const key = `${eniId}|${action}|${protocol}|${localAddr}|${peerAddr}`;
    let pair = this.byKey.get(key);
    if (pair === undefined) {
      pair = {
        eniId,
        action,
        protocol,
        localAddr,
        peerAddr,
        sent: 0,
        received: 0,
        firstSent: Number.POSITIVE_INFINITY,
        firstReceived: Number.POSITIVE_INFINITY,
        records: 0,
        packets: 0,
        bytes: 0,
        firstSeen: aggregate.firstSeen,
        lastSeen: aggregate.lastSeen,
      };
      this.byKey.set(key, pair);
    }
    // Request records travel client → server; any others travel back.
    const fromClient = aggregate.requestRecords;
    const fromServer = Math.max(0, aggregate.records - aggregate.requestRecords);
    // One side is always the ENI: a local server means a remote client, and back.
    const clientIsLocal = !sides.serverIsLocal;
    if (clientIsLocal) {
      pair.sent += fromClient;
      pair.received += fromServer;
      pair.firstSent = Math.min(pair.firstSent, aggregate.firstSeen);
    } else {
      pair.received += fromClient;
      pair.sent += fromServer;
      pair.firstReceived = Math.min(pair.firstReceived, aggregate.firstSeen);
    }
    pair.records += aggregate.records;
    pair.packets += aggregate.packets;
    pair.bytes += aggregate.bytes;
    pair.firstSeen = Math.min(pair.firstSeen, aggregate.firstSeen);
    pair.lastSeen = Math.max(pair.lastSeen, aggregate.lastSeen);
  }

  values(): IterableIterator<PortlessPair> {
    return this.byKey.values();
  }
}

/**
 * The `portless` guess: the side that sent more records initiated, then the one that sent
 * first; a full tie reads as inbound, so the ingress rule that might carry it is not reported
 * unused.
 *
 * @example portlessDirection({ ...pair, sent: 12, received: 3 }) // 'outbound'
 */
export function portlessDirection(pair: PortlessPair): Connection['direction'] {
  if (pair.sent !== pair.received) return pair.sent > pair.received ? 'outbound' : 'inbound';
  return pair.firstSent < pair.firstReceived ? 'outbound' : 'inbound';
}
