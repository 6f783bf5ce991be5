/**
 * The `counterpart-ports` evidence: a service port meets many client ports, a client port few.
 * Counted per ENI across peers, in accepted rows only.
 */

/** Which side of a row a port is on. */
export type Side = 'local' | 'peer';

interface CounterpartEntry {
  /** Distinct counterpart ports of undecided rows, kept only up to the threshold. */
  distinct?: Set<number>;
  /** Client ports of rows already decided to have their service on this side. */
  decided: number;
}

/** A number unique per (protocol, side, port): protocols are 0..255, ports 0..65535. */
function counterpartKey(protocol: number, side: Side, port: number): number {
  return (protocol * 2 + (side === 'local' ? 0 : 1)) * 65536 + port;
}

/**
 * Counterpart-port evidence per (ENI, protocol, side, port). Rows already decided (by the engine,
 * by ephemeral ranges or by rules) add their client-port count to the service side; rows still
 * undecided add each side's port as a distinct counterpart of the other. Distinct sets stop at
 * the threshold, so memory stays bounded by rows × threshold.
 */
export class CounterpartPorts {
  private readonly byEni = new Map<string, Map<number, CounterpartEntry>>();

  constructor(private readonly threshold: number) {}

  private entry(eniId: string, protocol: number, side: Side, port: number): CounterpartEntry {
    let entries = this.byEni.get(eniId);
    if (entries === undefined) {
      entries = new Map();
      this.byEni.set(eniId, entries);
    }
    const key = counterpartKey(protocol, side, port);
    let entry = entries.get(key);
    if (entry === undefined) {
      entry = { decided: 0 };
      entries.set(key, entry);
    }
    return entry;
  }

  addDecided(eniId: string, protocol: number, side: Side, port: number, clientPorts: number): void {
    this.entry(eniId, protocol, side, port).decided += clientPorts;
  }

  addUndecided(eniId: string, protocol: number, side: Side, port: number, counterpartPort: number): void {
    const entry = this.entry(eniId, protocol, side, port);
    if (entry.distinct === undefined) entry.distinct = new Set<number>();
    if (entry.distinct.size < this.threshold) entry.distinct.add(counterpartPort);
  }

  isService(eniId: string, protocol: number, side: Side, port: number): boolean {
    const entry = this.byEni.get(eniId)?.get(counterpartKey(protocol, side, port));
    if (entry === undefined) return false;
    return (entry.distinct?.size ?? 0) + entry.decided >= this.threshold;
  }
}
