import fc from 'fast-check';
import { DEFAULT_CONFIG } from '../../../shared/config';
import { computeCoverage } from '../../../shared/coverage/coverage';
import {
  bucketStartOf,
  type DeliveryEvidence,
  gapText,
  proveDelivery,
  windowBuckets,
} from '../../../shared/coverage/delivery';
import type { DeliveryCount } from '../../../shared/model/delivery';
import type { TimeWindow } from '../../../shared/model/flow';
import type { Inventory } from '../../../shared/model/inventory';
import { deliveredEveryDay } from '../../../testkit/delivery';
import { epoch, InventoryBuilder } from '../../../testkit/inventory-builder';

/** A week of whole UTC days: 2026-11-15 00:00 to 2026-11-21 23:59:59. */
const WEEK: TimeWindow = { start: epoch('2026-11-15T00:00:00Z'), end: epoch('2026-11-21T23:59:59Z') };
const OPTIONS = { bucketSeconds: 86_400, toleranceBuckets: 0, counterTolerance: 0.05 };

/** eni-1 and eni-2 in subnet-1 of vpc-1, with the given flow logs. */
function account(...logs: [string, { resourceId: string; creationTime?: string }][]): Inventory {
  const builder = new InventoryBuilder()
    .eni('eni-1', { vpcId: 'vpc-1', subnetId: 'subnet-1' })
    .eni('eni-2', { vpcId: 'vpc-1', subnetId: 'subnet-1' });
  for (const [id, extra] of logs) builder.flowLog(id, { creationTime: '2026-01-01T00:00:00Z', ...extra });
  return builder.build();
}

function evidence(counts: DeliveryCount[], extra: Partial<DeliveryEvidence> = {}): DeliveryEvidence {
  return { counts, counters: [], ...extra };
}

describe('windowBuckets', () => {
  it('splits a week of whole days into seven required UTC days', () => {
    // Act
    const buckets = windowBuckets(WEEK, 86_400);
    // Assess
    expect(buckets).toHaveLength(7);
    expect(buckets.every((b) => b.required)).toBe(true);
    expect(new Date((buckets[0]?.start ?? 0) * 1000).toISOString()).toBe('2026-11-15T00:00:00.000Z');
  });

  it('asks nothing of the sliver of a day at the edge of a week that starts before midnight', () => {
    // Prepare: the sample's window, ending at the newest record.
    const window = { start: epoch('2026-11-08T23:57:57Z'), end: epoch('2026-11-15T23:57:57Z') };
    // Act
    const buckets = windowBuckets(window, 86_400);
    // Assess
    expect(buckets.map((b) => b.required)).toEqual([false, true, true, true, true, true, true, true]);
  });

  it('asks for proof in a window shorter than a quarter of a bucket', () => {
    // Act
    const buckets = windowBuckets(
      { start: epoch('2025-06-02T10:00:00Z'), end: epoch('2025-06-02T10:10:00Z') },
      86_400,
    );
    // Assess
    expect(buckets).toEqual([expect.objectContaining({ required: true })]);
  });

  it('holds every second of the window in exactly one bucket (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }),
        fc.integer({ min: 0, max: 40 * 86_400 }),
        fc.constantFrom(3600, 86_400),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (start, length, seconds, at) => {
          const window = { start, end: start + length };
          const buckets = windowBuckets(window, seconds);
          const t = Math.floor(start + at * length);
          const holding = buckets.filter((b) => b.from <= t && t <= b.to);
          return holding.length === 1 && holding[0]?.start === bucketStartOf(t, seconds);
        },
      ),
    );
  });
});

describe('proveDelivery', () => {
  it('proves every day of a VPC-level log from the records of any of its ENIs', () => {
    // Prepare: fl-vpc's records arrive for eni-1 on odd days and eni-2 on even days.
    const inventory = account(['fl-vpc', { resourceId: 'vpc-1' }]);
    const counts = [
      ...deliveredEveryDay('fl-vpc', 'eni-1', WEEK, { missing: [0, 2, 4, 6] }),
      ...deliveredEveryDay('fl-vpc', 'eni-2', WEEK, { missing: [1, 3, 5] }),
    ];
    // Act
    const proof = proveDelivery(inventory, WEEK, evidence(counts), OPTIONS);
    // Assess
    expect(proof.provenFor('fl-vpc', 'eni-1')).toEqual(new Array(7).fill(true));
    expect(proof.report.flowLogs[0]).toMatchObject({ status: 'complete', gaps: [] });
  });

  it("proves an ENI-level log's days for its own ENI only", () => {
    // Prepare
    const inventory = account(['fl-eni', { resourceId: 'eni-1' }]);
    const counts = deliveredEveryDay('fl-eni', 'eni-1', WEEK, { missing: [3] });
    // Act
    const proof = proveDelivery(inventory, WEEK, evidence(counts), OPTIONS);
    // Assess
    expect(proof.provenFor('fl-eni', 'eni-1')).toEqual([true, true, true, false, true, true, true]);
    expect(proof.report.flowLogs[0]?.gaps.map((g) => gapText(g, 86_400))).toEqual(['2026-11-18']);
  });

  it('calls a log that delivered nothing silent, and a log nobody read not-read', () => {
    // Prepare
    const inventory = account(['fl-a', { resourceId: 'vpc-1' }], ['fl-b', { resourceId: 'subnet-1' }]);
    // Act
    const proof = proveDelivery(
      inventory,
      WEEK,
      evidence([], { readFlowLogIds: new Set(['fl-a']) }),
      OPTIONS,
    );
    // Assess
    expect(proof.report.flowLogs.map((f) => [f.flowLogId, f.status])).toEqual([
      ['fl-a', 'silent'],
      ['fl-b', 'not-read'],
    ]);
  });

  it('gives records of unnamed files to the ENI’s only flow log, and to none when two could have written them', () => {
    // Prepare
    const one = account(['fl-vpc', { resourceId: 'vpc-1' }]);
    const two = account(['fl-vpc', { resourceId: 'vpc-1' }], ['fl-eni', { resourceId: 'eni-1' }]);
    const counts = deliveredEveryDay(null, 'eni-1', WEEK);
    // Act
    const single = proveDelivery(one, WEEK, evidence(counts), OPTIONS);
    const ambiguous = proveDelivery(two, WEEK, evidence(counts), OPTIONS);
    // Assess
    expect(single.report.flowLogs[0]?.status).toBe('complete');
    expect(ambiguous.report.flowLogs.map((f) => f.status)).toEqual(['silent', 'silent']);
  });

  it('does not expect delivery before a log existed', () => {
    // Prepare: created on the fourth day at 01:00.
    const inventory = account(['fl-new', { resourceId: 'vpc-1', creationTime: '2026-11-18T01:00:00Z' }]);
    const counts = deliveredEveryDay('fl-new', 'eni-1', WEEK, { missing: [0, 1, 2] });
    // Act
    const proof = proveDelivery(inventory, WEEK, evidence(counts), OPTIONS);
    // Assess
    expect(proof.report.flowLogs[0]).toMatchObject({
      status: 'complete',
      expected: [false, false, false, true, true, true, true],
    });
  });

  it('marks a log inconsistent when its counter disagrees with what was read, and proves nothing of it', () => {
    // Prepare: 12 objects delivered on 2026-11-17 by S3's count, 3 read.
    const inventory = account(['fl-s3', { resourceId: 'vpc-1' }]);
    const counter = {
      kind: 's3-objects' as const,
      flowLogIds: ['fl-s3'],
      subject: 's3://logs/AWSLogs/1/vpcflowlogs/r/2026/11/17/',
      bucketStart: epoch('2026-11-17T00:00:00Z'),
      delivered: 12,
      read: 3,
    };
    // Act
    const proof = proveDelivery(
      inventory,
      WEEK,
      evidence(deliveredEveryDay('fl-s3', 'eni-1', WEEK), { counters: [counter] }),
      OPTIONS,
    );
    // Assess
    expect(proof.provenFor('fl-s3', 'eni-1')).toEqual(new Array(7).fill(false));
    expect(proof.report.flowLogs[0]).toMatchObject({ status: 'inconsistent' });
    expect(proof.inconsistencies('fl-s3')).toEqual([
      's3://logs/AWSLogs/1/vpcflowlogs/r/2026/11/17/: 12 S3 objects delivered on 2026-11-17 (S3 ListObjectsV2), 3 read',
    ]);
  });

  it('lets an agreeing per-day counter prove a day without records read', () => {
    // Prepare: IncomingLogEvents of a log group written by fl-cw alone, 500 events on day 3, 498 scanned.
    const inventory = account(['fl-cw', { resourceId: 'vpc-1' }]);
    const counter = {
      kind: 'incoming-log-events' as const,
      flowLogIds: ['fl-cw'],
      subject: '/vpc/flow',
      bucketStart: epoch('2026-11-17T00:00:00Z'),
      delivered: 500,
      read: 498,
    };
    const counts = deliveredEveryDay('fl-cw', 'eni-1', WEEK, { missing: [2] });
    // Act
    const proof = proveDelivery(inventory, WEEK, evidence(counts, { counters: [counter] }), OPTIONS);
    // Assess
    expect(proof.report.flowLogs[0]?.status).toBe('complete');
  });
});

describe('computeCoverage with delivery', () => {
  it('keeps an ENI full only when every required day is proven', () => {
    // Prepare
    const inventory = account(['fl-vpc', { resourceId: 'vpc-1' }]);
    const proof = proveDelivery(
      inventory,
      WEEK,
      evidence(deliveredEveryDay('fl-vpc', 'eni-2', WEEK, { missing: [2, 3, 4] })),
      OPTIONS,
    );
    // Act
    const coverage = computeCoverage(inventory, WEEK, DEFAULT_CONFIG, proof).get('eni-1');
    // Assess
    expect(coverage).toMatchObject({
      status: 'partial',
      deliveryGaps: [{ from: epoch('2026-11-17T00:00:00Z'), to: epoch('2026-11-19T23:59:59Z') }],
    });
    expect(coverage?.reasons).toEqual([
      'no records from fl-vpc 2026-11-17 – 2026-11-19: delivery not proven, so silence is not evidence',
    ]);
  });

  it('takes the proof of any of the ENI’s logs, day by day', () => {
    // Prepare: the VPC log misses days 1-2, the ENI log misses days 5-6.
    const inventory = account(['fl-vpc', { resourceId: 'vpc-1' }], ['fl-eni', { resourceId: 'eni-1' }]);
    const counts = [
      ...deliveredEveryDay('fl-vpc', 'eni-1', WEEK, { missing: [1, 2] }),
      ...deliveredEveryDay('fl-eni', 'eni-1', WEEK, { missing: [5, 6] }),
    ];
    // Act
    const proof = proveDelivery(inventory, WEEK, evidence(counts), OPTIONS);
    const coverage = computeCoverage(inventory, WEEK, DEFAULT_CONFIG, proof);
    // Assess
    expect(coverage.get('eni-1')?.status).toBe('full');
    expect(coverage.get('eni-2')?.status).toBe('partial');
  });

  it('tolerates as many unproven days as configured, and no more', () => {
    // Prepare
    const inventory = account(['fl-vpc', { resourceId: 'vpc-1' }]);
    const counts = deliveredEveryDay('fl-vpc', 'eni-1', WEEK, { missing: [4] });
    // Act
    const strict = computeCoverage(
      inventory,
      WEEK,
      DEFAULT_CONFIG,
      proveDelivery(inventory, WEEK, evidence(counts), OPTIONS),
    );
    const lenient = computeCoverage(
      inventory,
      WEEK,
      DEFAULT_CONFIG,
      proveDelivery(inventory, WEEK, evidence(counts), { ...OPTIONS, toleranceBuckets: 1 }),
    );
    // Assess
    expect(strict.get('eni-1')?.status).toBe('partial');
    expect(lenient.get('eni-1')?.status).toBe('full');
  });

  it('never turns more ENIs full than the configuration alone allows (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 7 }), (missing) => {
        const inventory = account(['fl-vpc', { resourceId: 'vpc-1' }]);
        const proof = proveDelivery(
          inventory,
          WEEK,
          evidence(deliveredEveryDay('fl-vpc', 'eni-1', WEEK, { missing })),
          OPTIONS,
        );
        const coverage = computeCoverage(inventory, WEEK, DEFAULT_CONFIG, proof).get('eni-1');
        return (coverage?.status === 'full') === (new Set(missing).size === 0);
      }),
    );
  });
});
