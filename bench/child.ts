/** One measurement of bench/measure.ts in a process of its own (its peak RSS is that run's alone). */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Measurement {
  wallMs: number;
  /** User + system CPU time of the whole process (every DuckDB thread included). */
  cpuMs: number;
  maxRssMb: number;
  records: number;
  files: number;
  /** The audit's report.json sha256 without run id and times. */
  reportSha?: string;
}

/**
 * `dir` as `generate` writes it, generated once: the `.complete` marker written after `generate`
 * returns tells later runs the data is whole (an interrupted generation is done again).
 */
export function generatedOnce(dir: string, what: string, generate: () => void): string {
  const marker = path.join(dir, '.complete');
  if (existsSync(marker)) return dir;
  process.stderr.write(`generating ${what} into ${dir} …\n`);
  generate();
  writeFileSync(marker, new Date().toISOString());
  return dir;
}

/** Milliseconds as seconds, for the tables. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** `node --import tsx <script> …` arguments, from the project root. */
export function nodeArgs(root: string, script: string, scriptArgs: readonly string[]): string[] {
  return ['--import', 'tsx', path.join(root, script), ...scriptArgs];
}

/**
 * Runs `bench/measure.ts kind dir …extra` in a child process and returns what it printed.
 *
 * @example measureInChild(root, 'audit', 'bench/out/scale-account-10x', ['--memory-limit', '384MiB'])
 */
export function measureInChild(
  root: string,
  kind: string,
  dir: string,
  extra: readonly string[] = [],
): Measurement {
  const result = spawnSync(process.execPath, nodeArgs(root, 'bench/measure.ts', [kind, dir, ...extra]), {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`bench/measure.ts ${kind} ${dir} failed (${result.status}): ${result.stderr}`);
  }
  const lastLine = result.stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(lastLine) as Measurement;
}

/** The fastest of several runs. */
export function fastest(runs: readonly Measurement[]): Measurement {
  return runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
}
