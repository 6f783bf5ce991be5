/** Types of scripts/cli-bundle.cjs (the `sg-audit` command's bundle), for the tests. */
import type { Metafile } from 'esbuild';

export interface BundleOptions {
  /** The project root. @default this repository */
  readonly root?: string;
  /** Where the bundle goes. @default <root>/dist/cli */
  readonly outDir?: string;
}

export interface BundleState {
  /** The bundle's entry file (main.js). */
  readonly entry: string;
  readonly fresh: boolean;
  /** Why it is not fresh. */
  readonly reason?: string;
}

export interface BuiltBundle {
  readonly entry: string;
  /** Output files, relative to the output folder. */
  readonly outputs: string[];
  /** How many source files went in. */
  readonly inputs: number;
  readonly metafile: Metafile;
}

export function bundleState(options?: BundleOptions): BundleState;
export function buildCliBundle(options?: BundleOptions): Promise<BuiltBundle>;
export function ensureCliBundle(options?: BundleOptions): Promise<string>;
