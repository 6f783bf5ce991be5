import { objectPartitionTime, s3ObjectCounters } from '../../../../adapters/aws/athena/object-counters';

/** 2024-06-01T00:00:00Z */
const JUNE_1 = 1_717_200_000;
const HOUR = 3600;
const HIVE = 'AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=r';
const name = (stamp: string, hash: string) => `1_vpcflowlogs_r_fl-1_${stamp}_${hash}.log.gz`;

describe('objectPartitionTime', () => {
  it('reads the day (and hour) folder of both layouts', () => {
    // Act & Assess
    expect(
      objectPartitionTime(`AWSLogs/1/vpcflowlogs/r/2024/06/01/${name('20240601T0910Z', 'a')}`, false),
    ).toBe(JUNE_1);
    expect(
      objectPartitionTime(`AWSLogs/1/vpcflowlogs/r/2024/06/01/09/${name('20240601T0910Z', 'a')}`, false),
    ).toBe(JUNE_1 + 9 * HOUR);
    expect(
      objectPartitionTime(`${HIVE}/year=2024/month=06/day=01/hour=09/${name('20240601T0910Z', 'a')}`, true),
    ).toBe(JUNE_1 + 9 * HOUR);
    expect(objectPartitionTime('AWSLogs/1/vpcflowlogs/r/elsewhere.log.gz', false)).toBeUndefined();
  });
});

describe('s3ObjectCounters', () => {
  it('counts only the hours a per-hour query scans, per delivery day, against the objects read', () => {
    // Prepare: the window 08:00–12:00 with an hour's slack scans hours 08–13 of June 1st.
    const key = (hour: string, hash: string) =>
      `${HIVE}/year=2024/month=06/day=01/hour=${hour}/${name(`20240601T${hour}05Z`, hash)}`;
    const listed = ['07', '08', '10', '13', '14'].map((hour) => ({
      bucket: 'logs',
      key: key(hour, hour),
      bytes: 1,
    }));

    // Act
    const counters = s3ObjectCounters(
      { flowLogId: 'fl-1', perHour: true, hivePartitions: true },
      listed,
      [
        { file: `s3://logs/${key('08', '08')}`, records: 3 },
        { file: `s3://logs/${key('13', '13')}`, records: 1 },
      ],
      {
        window: { start: JUNE_1 + 8 * HOUR, end: JUNE_1 + 12 * HOUR },
        deliverySlackSeconds: HOUR,
        bucketSeconds: 86_400,
      },
    );

    // Assess
    expect(counters).toEqual([
      {
        kind: 's3-objects',
        flowLogIds: ['fl-1'],
        subject: 's3://logs objects of fl-1 delivered 2024-06-01',
        bucketStart: JUNE_1,
        delivered: 3,
        read: 2,
      },
    ]);
  });

  it('gives nothing for nothing listed', () => {
    // Act & Assess
    expect(
      s3ObjectCounters({ flowLogId: 'fl-1', perHour: false }, [], [], {
        window: { start: JUNE_1, end: JUNE_1 + HOUR },
        deliverySlackSeconds: HOUR,
        bucketSeconds: 86_400,
      }),
    ).toEqual([]);
  });
});
