/**
 * The `peer-ephemeral` evidence: a client picks its port from its ephemeral range, which depends
 * on what it is (an ELB or NAT gateway uses any port, an instance 32768-65535 by default; see
 * config.ephemeralRanges). When exactly one side's port lies in its own side's range, the other
 * side is the service.
 */
import type { AnalysisConfig, PortGroup } from '../../config';
import type { ResourceType } from '../../model/inventory';
import { rangesContain } from '../../net/ports';
import { ephemeralRangesOf } from '../fold-plan';
import type { AddressSides } from './address-sides';

/** The ephemeral ranges of ENIs and peers, looked up once per ENI. */
export class EphemeralPorts {
  private readonly rangesByEni = new Map<string, readonly PortGroup[]>();

  constructor(
    private readonly sides: Pick<AddressSides, 'ownerOf'>,
    private readonly resourceTypeOfEni: (eniId: string) => ResourceType | undefined,
    private readonly config: AnalysisConfig,
  ) {}

  /**
   * Whether the service is on the ENI's side (true), the peer's (false), or the ranges cannot
   * tell (both or neither port ephemeral).
   *
   * @example ephemeral.serviceIsLocal('eni-web', 443, '203.0.113.10', 51234) // true
   */
  serviceIsLocal(eniId: string, localPort: number, peerAddr: string, peerPort: number): boolean | undefined {
    const localIsEphemeral = rangesContain(this.rangesOfEni(eniId), localPort);
    const peerIsEphemeral = rangesContain(this.rangesOfPeer(peerAddr), peerPort);
    return localIsEphemeral === peerIsEphemeral ? undefined : peerIsEphemeral;
  }

  private rangesOfEni(eniId: string): readonly PortGroup[] {
    let ranges = this.rangesByEni.get(eniId);
    if (ranges === undefined) {
      ranges = ephemeralRangesOf(this.resourceTypeOfEni(eniId), this.config);
      this.rangesByEni.set(eniId, ranges);
    }
    return ranges;
  }

  private rangesOfPeer(peerAddr: string): readonly PortGroup[] {
    const eni = this.sides.ownerOf(peerAddr);
    // An address outside the inventory (the internet, a peered account) uses the default range.
    return eni === undefined ? ephemeralRangesOf(undefined, this.config) : this.rangesOfEni(eni.id);
  }
}
