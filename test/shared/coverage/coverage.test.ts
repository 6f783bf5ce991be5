import { DEFAULT_CONFIG } from '../../../shared/config';
import { computeCoverage, coverageSummary, withUnattributedRows } from '../../../shared/coverage/coverage';
import { DEFAULT_FIELDS } from '../../../shared/flow/format';
import type { CoverageStatus, EniCoverage } from '../../../shared/model/analysis';
import type { FlowLogConfig } from '../../../shared/model/inventory';
import { epoch, InventoryBuilder, WINDOW } from '../../../testkit/inventory-builder';

/** Coverage of one ENI (eni-1 in vpc-1 / subnet-1) under the given flow logs. */
function coverageWith(...logs: [string, Partial<FlowLogConfig>][]): EniCoverage {
  const builder = new InventoryBuilder().eni('eni-1', { vpcId: 'vpc-1', subnetId: 'subnet-1' });
  for (const [id, extra] of logs) builder.flowLog(id, extra);
  const coverage = computeCoverage(builder.build(), WINDOW, DEFAULT_CONFIG).get('eni-1');
  if (coverage === undefined) throw new Error('eni-1 has no coverage');
  return coverage;
}

const V3_WITH_FLAGS = [...DEFAULT_FIELDS, 'tcp-flags', 'pkt-srcaddr', 'pkt-dstaddr'];

describe('computeCoverage', () => {
  it.each([
    ['VPC', 'vpc-1'],
    ['subnet', 'subnet-1'],
    ['ENI', 'eni-1'],
  ])('gives full coverage from an ALL log at %s level created before the window', (_, resourceId) => {
    // Prepare / Act
    const coverage = coverageWith(['fl-1', { resourceId }]);

    // Assess
    expect(coverage).toEqual({
      eniId: 'eni-1',
      status: 'full',
      flowLogIds: ['fl-1'],
      reasons: [],
      hasTcpFlags: false,
      hasPacketAddresses: false,
    });
  });

  it('counts an ACCEPT-only log as full coverage', () => {
    // Prepare / Act
    const coverage = coverageWith(['fl-1', { trafficType: 'ACCEPT' }]);

    // Assess
    expect(coverage.status).toBe('full');
  });

  it('ignores flow logs of other VPCs, subnets and ENIs', () => {
    // Prepare / Act
    const coverage = coverageWith(
      ['fl-a', { resourceId: 'vpc-2' }],
      ['fl-b', { resourceId: 'subnet-9' }],
      ['fl-c', { resourceId: 'eni-9' }],
    );

    // Assess
    expect(coverage.status).toBe('none');
    expect(coverage.flowLogIds).toEqual([]);
    expect(coverage.reasons).toEqual([
      'no flow log applies (none on VPC vpc-1, subnet subnet-1 or ENI eni-1)',
    ]);
  });

  it('reports reject-only when only REJECT logs apply, saying why it proves nothing', () => {
    // Prepare / Act
    const coverage = coverageWith(['fl-r', { resourceId: 'subnet-1', trafficType: 'REJECT' }]);

    // Assess
    expect(coverage.status).toBe('reject-only');
    expect(coverage.reasons).toEqual([
      'flow log fl-r (subnet subnet-1) records REJECT traffic only, which proves nothing about use',
    ]);
  });

  it('reports partial with coveredFrom when the only ACCEPT log was created mid-window', () => {
    // Prepare / Act
    const coverage = coverageWith([
      'fl-0abc',
      { resourceId: 'subnet-1', creationTime: '2026-11-12T09:00:00Z' },
    ]);

    // Assess
    expect(coverage.status).toBe('partial');
    expect(coverage.coveredFrom).toBe(epoch('2026-11-12T09:00:00Z'));
    expect(coverage.reasons).toEqual([
      'flow log fl-0abc (subnet subnet-1) created 2026-11-12T09:00:00Z, after the window start',
    ]);
  });

  it('takes the earliest start among logs created mid-window', () => {
    // Prepare / Act
    const coverage = coverageWith(
      ['fl-1', { creationTime: '2026-11-14T00:00:00Z' }],
      ['fl-2', { resourceId: 'eni-1', creationTime: '2026-11-11T00:00:00Z' }],
    );

    // Assess
    expect(coverage.status).toBe('partial');
    expect(coverage.coveredFrom).toBe(epoch('2026-11-11T00:00:00Z'));
  });

  it('is full when one log covers the whole window although another started late', () => {
    // Prepare / Act
    const coverage = coverageWith(
      ['fl-late', { resourceId: 'eni-1', creationTime: '2026-11-14T00:00:00Z' }],
      ['fl-old', { resourceId: 'vpc-1' }],
    );

    // Assess
    expect(coverage.status).toBe('full');
    expect(coverage.coveredFrom).toBeUndefined();
    expect(coverage.flowLogIds).toEqual(['fl-old', 'fl-late']);
  });

  it('does not count a log created after the window end', () => {
    // Prepare / Act
    const coverage = coverageWith(['fl-new', { creationTime: '2026-11-20T00:00:00Z' }]);

    // Assess
    expect(coverage.status).toBe('none');
    expect(coverage.reasons).toEqual([
      'flow log fl-new (VPC vpc-1) created 2026-11-20T00:00:00Z, after the window end',
    ]);
  });

  it('does not count an inactive log, naming its status', () => {
    // Prepare / Act
    const coverage = coverageWith(['fl-1', { status: 'DELETING' }]);

    // Assess
    expect(coverage.status).toBe('none');
    expect(coverage.flowLogIds).toEqual(['fl-1']);
    expect(coverage.reasons).toEqual(['flow log fl-1 (VPC vpc-1) is not active (status DELETING)']);
  });

  it('does not count a log whose delivery FAILED', () => {
    // Prepare / Act
    const coverage = coverageWith(['fl-1', { deliverStatus: 'FAILED' }]);

    // Assess
    expect(coverage.status).toBe('none');
    expect(coverage.reasons).toEqual([
      'flow log fl-1 (VPC vpc-1) fails to deliver logs (DeliverLogsStatus FAILED)',
    ]);
  });

  it('falls back to a REJECT log when the ACCEPT log is inactive', () => {
    // Prepare / Act
    const coverage = coverageWith(
      ['fl-a', { status: 'INACTIVE' }],
      ['fl-r', { resourceId: 'eni-1', trafficType: 'REJECT' }],
    );

    // Assess
    expect(coverage.status).toBe('reject-only');
    expect(coverage.reasons).toHaveLength(2);
  });

  it('reports partial, naming the fields, when the format cannot attribute traffic', () => {
    // Prepare
    const fields = DEFAULT_FIELDS.filter((f) => f !== 'dstport' && f !== 'interface-id');

    // Act
    const coverage = coverageWith(['fl-1', { fields }]);

    // Assess
    expect(coverage.status).toBe('partial');
    expect(coverage.coveredFrom).toBeUndefined();
    expect(coverage.reasons).toEqual([
      'flow log fl-1 (VPC vpc-1) format lacks interface-id, dstport: its records cannot be attributed to rules',
    ]);
  });

  it('is full when a complete log applies beside one missing fields', () => {
    // Prepare / Act
    const coverage = coverageWith(
      ['fl-thin', { fields: ['srcaddr', 'dstaddr', 'action'] }],
      ['fl-full', { resourceId: 'subnet-1' }],
    );

    // Assess
    expect(coverage.status).toBe('full');
  });

  it('reports tcp-flags and packet addresses when the format carries them', () => {
    // Prepare / Act
    const coverage = coverageWith(['fl-1', { fields: V3_WITH_FLAGS }]);

    // Assess
    expect(coverage).toMatchObject({ status: 'full', hasTcpFlags: true, hasPacketAddresses: true });
  });

  it('stays full without tcp-flags (folding falls back to port heuristics)', () => {
    // Prepare / Act
    const coverage = coverageWith(['fl-1', { fields: DEFAULT_FIELDS }]);

    // Assess
    expect(coverage).toMatchObject({ status: 'full', hasTcpFlags: false });
  });

  it('gives every ENI of the inventory a status', () => {
    // Prepare
    const inventory = new InventoryBuilder()
      .eni('eni-a', { subnetId: 'subnet-a' })
      .eni('eni-b', { subnetId: 'subnet-b' })
      .eni('eni-c', { vpcId: 'vpc-2', subnetId: 'subnet-c' })
      .flowLog('fl-a', { resourceId: 'subnet-a' })
      .flowLog('fl-b', { resourceId: 'subnet-b', trafficType: 'REJECT' })
      .build();

    // Act
    const coverage = computeCoverage(inventory, WINDOW, DEFAULT_CONFIG);

    // Assess
    expect([...coverage.values()].map((c) => [c.eniId, c.status])).toEqual([
      ['eni-a', 'full'],
      ['eni-b', 'reject-only'],
      ['eni-c', 'none'],
    ]);
  });
});

describe('withUnattributedRows', () => {
  it('makes a fully covered ENI with accepted pass-through rows partial, saying why, and leaves the rest', () => {
    // Prepare: an appliance ENI whose log has the packet-level addresses, and one without rows.
    const full = coverageWith(['fl-1', { fields: V3_WITH_FLAGS }]);
    const coverage = new Map([
      ['eni-1', full],
      ['eni-2', { ...full, eniId: 'eni-2' }],
      ['eni-3', { ...full, eniId: 'eni-3', status: 'none' as const, reasons: ['no flow log applies'] }],
    ]);

    // Act
    const adjusted = withUnattributedRows(
      coverage,
      new Map([
        ['eni-1', 12],
        ['eni-3', 4],
      ]),
    );

    // Assess: never stronger, never a status other than partial from full.
    expect(adjusted.get('eni-1')).toEqual({
      ...full,
      status: 'partial',
      reasons: [
        '12 accepted flow-log row(s) passed through the ENI (neither address its own, as pkt-srcaddr/pkt-dstaddr show) and are not attributed to its rules',
      ],
    });
    expect(adjusted.get('eni-2')).toBe(coverage.get('eni-2'));
    expect(adjusted.get('eni-3')).toBe(coverage.get('eni-3'));
    expect(coverage.get('eni-1')?.status).toBe('full');
  });
});

describe('coverageSummary', () => {
  it.each<[CoverageStatus[], CoverageStatus | undefined]>([
    [['full', 'full'], 'full'],
    [['full', 'partial'], 'partial'],
    [['partial', 'reject-only', 'full'], 'reject-only'],
    [['full', 'none', 'reject-only'], 'none'],
    [[], undefined],
  ])('summarises %j as %s', (statuses, weakest) => {
    // Prepare / Act
    const summary = coverageSummary(statuses);

    // Assess
    expect(summary).toBe(weakest);
  });
});
