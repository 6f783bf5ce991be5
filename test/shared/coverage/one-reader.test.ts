import { proveDelivery } from '../../../shared/coverage/delivery';
import { keepOneReaderPerEni } from '../../../shared/coverage/one-reader';
import type { FlowAggregate } from '../../../shared/model/flow';
import { deliveredEveryDay } from '../../../testkit/delivery';
import { flowLog, inventoryOf, networkInterface, WINDOW } from '../../../testkit/inventory-builder';

function row(flowLogId: string | undefined, extra: Partial<FlowAggregate> = {}): FlowAggregate {
  return {
    eniId: 'eni-1',
    action: 'ACCEPT',
    protocol: 6,
    clientAddr: '10.0.0.9',
    serverAddr: '10.0.0.1',
    serverPort: 443,
    clientPort: null,
    evidence: 'well-known',
    records: 4,
    requestRecords: 2,
    synRecords: 1,
    packets: 10,
    bytes: 900,
    firstSeen: WINDOW.start + 10,
    lastSeen: WINDOW.start + 20,
    distinctClientPorts: 1,
    ...(flowLogId !== undefined ? { flowLogId } : {}),
    ...extra,
  };
}

const VPC_LOG = flowLog('fl-vpc', { resourceId: 'vpc-1' });
const ENI_LOG = flowLog('fl-eni', { resourceId: 'eni-1' });

describe('keepOneReaderPerEni', () => {
  it('counts the same connection once when a VPC- and an ENI-level log both recorded it', () => {
    // Prepare
    const rows = [row('fl-vpc'), row('fl-eni')];
    // Act
    const result = keepOneReaderPerEni(rows, [VPC_LOG, ENI_LOG], undefined);
    // Assess: the more specific log is read.
    expect(result.aggregates).toEqual([row('fl-eni')]);
    expect(result.choices).toEqual([
      { eniId: 'eni-1', action: 'ACCEPT', read: 'fl-eni', leftOut: ['fl-vpc'], records: 4 },
    ]);
  });

  it('reads the log with more proven delivery for the ENI before the more specific one', () => {
    // Prepare: the ENI-level log is silent half the week.
    const inventory = inventoryOf({
      flowLogs: [VPC_LOG, ENI_LOG],
      networkInterfaces: [networkInterface('eni-1', { vpcId: 'vpc-1' })],
    });
    const proof = proveDelivery(
      inventory,
      WINDOW,
      {
        counts: [
          ...deliveredEveryDay('fl-vpc', 'eni-1', WINDOW),
          ...deliveredEveryDay('fl-eni', 'eni-1', WINDOW, { missing: [0, 1, 2, 3] }),
        ],
        counters: [],
      },
      { bucketSeconds: 86_400, toleranceBuckets: 0, counterTolerance: 0.05 },
    );
    // Act
    const result = keepOneReaderPerEni([row('fl-vpc'), row('fl-eni')], [VPC_LOG, ENI_LOG], proof);
    // Assess
    expect(result.aggregates).toEqual([row('fl-vpc')]);
  });

  it('decides per action: an ACCEPT-only and a REJECT-only log each keep their own rows', () => {
    // Prepare
    const rows = [row('fl-accept'), row('fl-reject', { action: 'REJECT' })];
    // Act
    const result = keepOneReaderPerEni(rows, [], undefined);
    // Assess
    expect(result.aggregates).toEqual(rows);
    expect(result.choices).toEqual([]);
  });

  it('leaves rows of ENIs with one log (or none named) untouched', () => {
    // Prepare
    const rows = [row(undefined), row(undefined, { serverPort: 22 })];
    // Act
    const result = keepOneReaderPerEni(rows, [VPC_LOG], undefined);
    // Assess
    expect(result.aggregates).toBe(rows);
  });
});
