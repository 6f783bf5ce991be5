/**
 * The connections a fold produces, merged by key: rows ending as the same (ENI, direction,
 * action, protocol, port, local, peer) become one connection, summing counters and keeping the
 * strongest evidence among them.
 */
import type { Connection, InitiatorEvidence } from '../../model/analysis';
import { PeerIndex } from './peer-index';

/** Strongest first: a merged connection keeps the strongest evidence among its rows. */
const EVIDENCE_RANK: Readonly<Record<InitiatorEvidence, number>> = {
  flags: 0,
  'well-known': 1,
  'peer-ephemeral': 2,
  listening: 3,
  'refused-packets': 4,
  'counterpart-ports': 5,
  portless: 6,
  'lower-port': 7,
};

/** A connection while rows still add to it. */
export type ConnectionAccumulator = { -readonly [K in keyof Connection]: Connection[K] };

/** A connection's key but its peer. */
function restKey(c: ConnectionAccumulator): string {
  return `${c.eniId}|${c.direction}|${c.action}|${c.protocol}|${c.port}|${c.localAddr}`;
}

/**
 * The connections folded so far, in the order their keys were first seen, found by their peer
 * (PeerIndex: no key string per row, which the fold reads by the million).
 */
export class ConnectionTally {
  private readonly byKey = new PeerIndex<ConnectionAccumulator>(restKey);

  /**
   * Takes ownership of `row`: a fresh object that becomes the accumulator of its key, or adds to
   * the one already there.
   *
   * @example tally.add({ eniId: 'eni-1', direction: 'inbound', action: 'ACCEPT', protocol: 6, port: 443, … })
   */
  add(row: ConnectionAccumulator): void {
    const existing = this.byKey.find(row.peerAddr, {
      matches: (c) =>
        c.eniId === row.eniId &&
        c.direction === row.direction &&
        c.action === row.action &&
        c.protocol === row.protocol &&
        c.port === row.port &&
        c.localAddr === row.localAddr,
      rest: () => restKey(row),
    });
    if (existing === undefined) {
      this.byKey.add(row.peerAddr, row);
      return;
    }
    existing.connections += row.connections;
    existing.records += row.records;
    existing.packets += row.packets;
    existing.bytes += row.bytes;
    if (row.firstSeen < existing.firstSeen) existing.firstSeen = row.firstSeen;
    if (row.lastSeen > existing.lastSeen) existing.lastSeen = row.lastSeen;
    if (row.requestRecords !== undefined)
      existing.requestRecords = (existing.requestRecords ?? 0) + row.requestRecords;
    if (EVIDENCE_RANK[row.evidence] < EVIDENCE_RANK[existing.evidence]) existing.evidence = row.evidence;
  }

  connections(): Connection[] {
    return [...this.byKey.drain()];
  }
}
