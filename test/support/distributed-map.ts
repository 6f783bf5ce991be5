/**
 * What aws-local-stepfunctions lacks of a Distributed Map over S3, emulated: the Map's ItemReader
 * (a JSON array in S3) and ResultWriter (the children's outputs and a manifest in S3, in Step
 * Functions' format) become Task states around the Map, whose local handlers read and write S3
 * (moto's, in the end-to-end tests). The audit workflow's and the organization workflow's
 * end-to-end runs share it.
 *
 * @example
 * const asl = withDistributedMapAsTasks(definition, 'QueryEachSourceFromS3');
 * handlers[itemReaderState('QueryEachSourceFromS3')] = (p) => readMapItems(s3, p);
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Where the reader Task puts the items, the Map's ItemsPath. */
export const READ_ITEMS_PATH = '$.itemReaderItems';
/** Where the Map puts its children's outputs for the writer Task. */
export const MAP_OUTPUTS_PATH = '$.mapOutputs';

/** The Task state that stands in for a Map's ItemReader. */
export function itemReaderState(mapState: string): string {
  return `${mapState}ItemReader`;
}

/** The Task state that stands in for a Map's ResultWriter. */
export function resultWriterState(mapState: string): string {
  return `${mapState}ResultWriter`;
}

type AslState = { Type: string; [field: string]: unknown };
type TransitionHolder = { Next?: string };
interface S3Access {
  readonly Resource: string;
  readonly ReaderConfig?: Readonly<Record<string, unknown>>;
  readonly Parameters: Readonly<Record<string, unknown>>;
}

/**
 * What the runner lacks, emulated on a deep copy of the definition:
 *  - the Map state's ItemReader (a JSON array in S3) becomes a Task state entered instead of the
 *    Map (every transition to the Map, Catch included, now goes to it), with the ItemReader's
 *    Resource and Parameters (its `Key.$` resolved against the same state input) and the Map's
 *    Catch (a reader failure is the Map's failure); the Task puts the array at READ_ITEMS_PATH,
 *    which the Map takes as ItemsPath;
 *  - its ResultWriter becomes a Task state the Map goes to, its children's outputs at
 *    MAP_OUTPUTS_PATH: it writes them and the manifest to S3 as Step Functions does and replaces
 *    the state with the Map's input plus, at the Map's ResultPath, what the Map returns with a
 *    ResultWriter ({ MapRunArn, ResultWriterDetails: { Bucket, Key } }) — so the items and outputs
 *    do not travel on, as on AWS.
 * The rest of the Map state (ItemSelector over $$.Map.Item.Value, ItemProcessor, Catch) is kept.
 */
export function withDistributedMapAsTasks(
  asl: Record<string, unknown>,
  mapState: string,
): Record<string, unknown> {
  // Through JSON, not structuredClone: its objects belong to another realm than the test's, and the
  // runner takes only plain objects of its own as payload templates to resolve.
  const copy = JSON.parse(JSON.stringify(asl)) as { StartAt: string; States: Record<string, AslState> };
  const map = copy.States[mapState];
  const reader = map?.ItemReader as S3Access | undefined;
  const writer = map?.ResultWriter as S3Access | undefined;
  if (map?.Type !== 'Map' || reader === undefined || writer === undefined)
    throw new Error(`${mapState} is not a Map state with an ItemReader and a ResultWriter`);
  // Only what this emulation reproduces: a whole JSON array, read from the Map's unfiltered input.
  if (
    JSON.stringify(reader.ReaderConfig) !== '{"InputType":"JSON"}' ||
    'InputPath' in map ||
    'ItemsPath' in map ||
    'WriterConfig' in writer
  )
    throw new Error(`${mapState}: ItemReader, ResultWriter or Map fields the emulation does not handle`);
  const retarget = (holder: TransitionHolder | undefined) => {
    if (holder?.Next === mapState) holder.Next = itemReaderState(mapState);
  };
  if (copy.StartAt === mapState) copy.StartAt = itemReaderState(mapState);
  for (const state of Object.values(copy.States)) {
    retarget(state as TransitionHolder);
    if (state.Default === mapState) state.Default = itemReaderState(mapState);
    for (const holder of [state.Choices, state.Catch].flat() as TransitionHolder[]) retarget(holder);
  }
  const { ItemReader: _, ResultWriter: __, ...mapWithoutS3 } = map;
  const catchOfMap = map.Catch === undefined ? {} : { Catch: map.Catch };
  copy.States[mapState] = {
    ...mapWithoutS3,
    ItemsPath: READ_ITEMS_PATH,
    ResultPath: MAP_OUTPUTS_PATH,
    Next: resultWriterState(mapState),
  };
  copy.States[itemReaderState(mapState)] = {
    Type: 'Task',
    Comment: `Emulates the ItemReader of ${mapState} (the e2e runner has none)`,
    Resource: reader.Resource,
    Parameters: reader.Parameters,
    ResultPath: READ_ITEMS_PATH,
    Next: mapState,
    ...catchOfMap,
  };
  copy.States[resultWriterState(mapState)] = {
    Type: 'Task',
    Comment: `Emulates the ResultWriter of ${mapState} (the e2e runner has none)`,
    Resource: writer.Resource,
    // No ResultPath: the result replaces the state.
    Parameters: { ...writer.Parameters, 'state.$': '$', resultPath: map.ResultPath },
    Next: map.Next,
    ...catchOfMap,
  };
  return copy;
}

/** The emulated ItemReader: GetObject (the Bucket and Key it is given), a JSON array. */
export async function readMapItems(s3: S3Client, parameters: unknown): Promise<unknown[]> {
  const { Bucket, Key } = parameters as { Bucket: string; Key: string };
  const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
  const items: unknown = JSON.parse((await object.Body?.transformToString('utf-8')) ?? 'null');
  if (!Array.isArray(items))
    throw new Error(`States.ItemReaderFailed: s3://${Bucket}/${Key} is not a JSON array`);
  return items;
}

/**
 * The emulated ResultWriter: the children's outputs as Step Functions writes them (one SUCCEEDED
 * file of execution records, Input and Output as JSON text, and manifest.json naming it, under
 * `<Prefix>/<map run id>/`), and the state the Map leaves: its input, the Map's output at its
 * ResultPath.
 */
export async function writeMapResults(
  s3: S3Client,
  parameters: unknown,
  run: {
    readonly mapRunId: string;
    readonly region: string;
    readonly account: string;
    readonly mapState: string;
  },
): Promise<unknown> {
  const { Bucket, Prefix, state, resultPath } = parameters as {
    Bucket: string;
    Prefix: string;
    state: Record<string, unknown>;
    resultPath: string;
  };
  const { mapOutputs, itemReaderItems, ...input } = state as {
    mapOutputs: unknown[];
    itemReaderItems: unknown[];
  };
  const { mapRunId, region, account, mapState } = run;
  const mapRunArn = `arn:aws:states:${region}:${account}:mapRun:audit/${mapState}:${mapRunId}`;
  const put = (Key: string, value: unknown) =>
    s3.send(new PutObjectCommand({ Bucket, Key, Body: JSON.stringify(value) }));
  const resultsKey = `${Prefix}/${mapRunId}/SUCCEEDED_0.json`;
  const records = mapOutputs.map((output, i) => ({
    ExecutionArn: `arn:aws:states:${region}:${account}:execution:audit/${mapState}:${mapRunId}-${i}`,
    Input: JSON.stringify(itemReaderItems[i] ?? {}),
    InputDetails: { Included: true },
    Name: `${mapRunId}-${i}`,
    Output: JSON.stringify(output),
    OutputDetails: { Included: true },
    Status: 'SUCCEEDED',
  }));
  await put(resultsKey, records);
  const manifestKey = `${Prefix}/${mapRunId}/manifest.json`;
  await put(manifestKey, {
    DestinationBucket: Bucket,
    MapRunArn: mapRunArn,
    ResultFiles: {
      FAILED: [],
      PENDING: [],
      SUCCEEDED: [{ Key: resultsKey, Size: Buffer.byteLength(JSON.stringify(records)) }],
    },
  });
  const field = resultPath.replace(/^\$\./, '');
  return { ...input, [field]: { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket, Key: manifestKey } } };
}
