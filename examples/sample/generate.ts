/**
 * Generates the sample account's export directory — exactly what the AWS CLI and S3 give a user
 * (see docs "Offline export directory") — plus EXPECTED.json / EXPECTED.md.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type FlowLogFormats, WINDOW_HOURS } from './account';
import { ALLOWLIST_FILE, renderAllowList } from './allowlist';
import {
  describeFlowLogs,
  describeManagedPrefixLists,
  describeNetworkAcls,
  describeNetworkInterfaces,
  describeSecurityGroups,
  describeSubnets,
  describeVpcs,
} from './aws-json';
import { describeCloudTrailEvents } from './cloudtrail';
import { FlowLogWriter } from './flow-files';
import { buildManifest, type GenerationFacts, renderManifestMarkdown } from './manifest';
import { SeededRandom } from './random';
import { buildPools, generateHour, generateScenarioHour, SCENARIO_SETS } from './traffic';

export const DEFAULT_SEED = 'sg-audit-sample-2026';

/** The export directory's JSON files and the `describe-*` output each holds. */
export const EXPORT_JSON_FILES = {
  'security-groups.json': describeSecurityGroups,
  'network-interfaces.json': describeNetworkInterfaces,
  'flow-logs.json': describeFlowLogs,
  'vpcs.json': describeVpcs,
  'subnets.json': describeSubnets,
  'network-acls.json': describeNetworkAcls,
  'prefix-lists.json': describeManagedPrefixLists,
  'cloudtrail-events.json': describeCloudTrailEvents,
} as const;

export const MANIFEST_FILES = { json: 'EXPECTED.json', markdown: 'EXPECTED.md' } as const;

export interface SampleOptions {
  readonly outDir: string;
  /** Multiplies traffic volume (not the inventory). Default 1 (about 36,000 records). */
  readonly scale?: number;
  readonly seed?: string;
  /**
   * `v5-text`: every flow log writes the custom v5 format with tcp-flags as gzip text (the scale
   * benchmark's account); the manifest (EXPECTED.*), which describes the designed sample, is not
   * written then. @default 'as-designed'
   */
  readonly formats?: FlowLogFormats;
  /** Progress lines (e.g. to stderr). */
  readonly progress?: (message: string) => void;
}

/** What a generation wrote: where, and the facts the manifest reports. */
export interface SampleSummary extends GenerationFacts {
  readonly outDir: string;
}

/**
 * Writes the sample export directory. Same seed and scale -> byte-identical files.
 *
 * @example
 * const summary = await generateSampleAccount({ outDir: 'examples/sample-account' });
 * summary.records; // ≈ 36,000
 */
export async function generateSampleAccount(options: SampleOptions): Promise<SampleSummary> {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isFinite(scale) || scale <= 0)
    throw new RangeError(`--scale must be a positive number, got ${scale}`);
  const outDir = path.resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  // Remove only what this generator writes, so stale objects of another seed cannot linger.
  rmSync(path.join(outDir, 'flowlogs'), { recursive: true, force: true });
  for (const name of [...Object.keys(EXPORT_JSON_FILES), ...Object.values(MANIFEST_FILES), ALLOWLIST_FILE]) {
    rmSync(path.join(outDir, name), { force: true });
  }

  const formats = options.formats ?? 'as-designed';
  for (const [name, describe] of Object.entries(EXPORT_JSON_FILES)) {
    const json = name === 'flow-logs.json' ? describeFlowLogs(formats) : describe();
    // The AWS CLI prints JSON with 4-space indentation.
    writeFileSync(path.join(outDir, name), `${JSON.stringify(json, null, 4)}\n`);
  }
  writeFileSync(path.join(outDir, ALLOWLIST_FILE), renderAllowList());

  const rng = new SeededRandom(seed);
  const pools = buildPools(rng);
  // Each scenario set (the traffic views', the packet-level one) draws from a stream of its own:
  // the rest stays as it was.
  const scenarios = SCENARIO_SETS.map((set) => ({ set, rng: new SeededRandom(`${seed}/${set.stream}`) }));
  const writer = new FlowLogWriter(outDir, formats);
  try {
    for (let hour = 0; hour < WINDOW_HOURS; hour++) {
      generateHour(hour, scale, rng, pools, writer);
      for (const { set, rng: scenarioRng } of scenarios) {
        generateScenarioHour(set, hour, scale, scenarioRng, pools, writer);
      }
      await writer.flushHour(hour);
      if (hour % 24 === 23) options.progress?.(`day ${(hour + 1) / 24}/7 written`);
    }
  } finally {
    await writer.close();
  }

  const flowLogs = [...writer.stats.values()];
  const facts: GenerationFacts = {
    seed,
    scale,
    files: flowLogs.reduce((sum, s) => sum + s.files, 0),
    records: flowLogs.reduce((sum, s) => sum + s.records, 0),
    nodata: flowLogs.reduce((sum, s) => sum + s.nodata, 0),
    skipdata: flowLogs.reduce((sum, s) => sum + s.skipdata, 0),
    flowLogs,
    malformed: writer.malformed,
  };
  if (formats === 'as-designed') {
    writeFileSync(
      path.join(outDir, MANIFEST_FILES.json),
      `${JSON.stringify(buildManifest(facts), null, 2)}\n`,
    );
    writeFileSync(path.join(outDir, MANIFEST_FILES.markdown), renderManifestMarkdown(facts));
  }
  return { outDir, ...facts };
}
