/**
 * Writes the bundled sample account (an AWS export directory with a week of VPC flow logs).
 *
 *   node --import tsx examples/generate-sample.ts [--out DIR] [--scale N] [--seed S] [--formats F]
 *
 * `--formats v5-text` writes every flow log in the custom v5 format with tcp-flags, as gzip text
 * (the scale benchmark's account); the default keeps each flow log's designed format.
 * Defaults: --out examples/sample-account, --scale 1 (≈ 36,000 records), a fixed seed.
 * Same seed and scale -> byte-identical files.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SEED, generateSampleAccount } from './sample/generate';

const USAGE =
  'usage: node --import tsx examples/generate-sample.ts [--out DIR] [--scale N] [--seed S] [--formats as-designed|v5-text]';

async function main(): Promise<number> {
  let values: { out?: string; scale?: string; seed?: string; formats?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        out: { type: 'string', default: 'examples/sample-account' },
        scale: { type: 'string', default: '1' },
        seed: { type: 'string', default: DEFAULT_SEED },
        formats: { type: 'string', default: 'as-designed' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scale = Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0) {
    process.stderr.write(`--scale must be a positive number, got '${values.scale}'\n${USAGE}\n`);
    return 2;
  }
  if (values.formats !== 'as-designed' && values.formats !== 'v5-text') {
    process.stderr.write(`--formats must be as-designed or v5-text, got '${values.formats}'\n${USAGE}\n`);
    return 2;
  }
  const started = process.hrtime.bigint();
  const summary = await generateSampleAccount({
    outDir: values.out ?? 'examples/sample-account',
    scale,
    seed: values.seed,
    formats: values.formats,
    progress: (message) => process.stderr.write(`${message}\n`),
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(
    `wrote ${summary.outDir}: ${summary.files} flow-log objects, ${summary.records} records, ` +
      `${summary.nodata} NODATA, ${summary.skipdata} SKIPDATA, ${summary.malformed.length} malformed lines ` +
      `(seed ${summary.seed}, scale ${summary.scale}, ${seconds.toFixed(1)} s)\n`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
