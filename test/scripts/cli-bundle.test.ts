import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { buildCliBundle, bundleState, ensureCliBundle } from '../../scripts/cli-bundle.cjs';

const ROOT = path.join(__dirname, '..', '..');

let work = '';

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'sg-audit-bundle-'));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A project whose cli/main.ts loads its command lazily, as the real one does. */
function project(name: string, greeting: string): string {
  const root = path.join(work, name);
  mkdirSync(path.join(root, 'cli'), { recursive: true });
  writeFileSync(
    path.join(root, 'cli', 'main.ts'),
    "export async function main(): Promise<string> {\n  const { greet } = await import('./command');\n  return greet();\n}\n",
  );
  writeFileSync(path.join(root, 'cli', 'command.ts'), `export const greet = (): string => '${greeting}';\n`);
  return root;
}

/** What the bundle's main() returns, run by Node as bin/sg-audit.mjs runs it. */
function runBundle(entry: string): string {
  const run = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { main } = await import(${JSON.stringify(pathToFileURL(entry).href)}); process.stdout.write(await main());`,
    ],
    { encoding: 'utf8' },
  );
  expect(run.stderr).toBe('');
  return run.stdout;
}

/** The packages the entry output loads before any command runs: its static imports, through chunks. */
function startupPackages(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    for (const imported of metafile.outputs[output]?.imports ?? []) {
      if (imported.kind !== 'import-statement') continue;
      if (imported.external) packages.add(imported.path);
      else visit(imported.path);
    }
  };
  visit(entry);
  return [...packages].sort();
}

describe('ensureCliBundle', () => {
  it('builds a missing bundle, then leaves it while no source changes', async () => {
    // Prepare
    const root = project('fresh', 'hello');

    // Act
    const before = bundleState({ root });
    const entry = await ensureCliBundle({ root });
    const after = bundleState({ root });

    // Assess
    expect(before).toMatchObject({ fresh: false, reason: 'no bundle yet' });
    expect(after).toEqual({ entry, fresh: true });
    expect(runBundle(entry)).toBe('hello');
  });

  it('rebuilds when a source it was built from changes, and only then', async () => {
    // Prepare
    const root = project('edited', 'before');
    const entry = await ensureCliBundle({ root });
    const command = path.join(root, 'cli', 'command.ts');
    writeFileSync(command, "export const greet = (): string => 'before';\n"); // same bytes, new mtime
    const untouched = bundleState({ root });

    // Act
    writeFileSync(command, "export const greet = (): string => 'after';\n");
    const stale = bundleState({ root });
    const rebuilt = await ensureCliBundle({ root });

    // Assess
    expect(untouched.fresh).toBe(true);
    expect(stale).toMatchObject({ fresh: false, reason: 'cli/command.ts changed' });
    expect(rebuilt).toBe(entry);
    expect(runBundle(rebuilt)).toBe('after');
    expect(bundleState({ root }).fresh).toBe(true);
  });

  it("removes the earlier build's chunks", async () => {
    // Prepare
    const root = project('chunks', 'one');
    await ensureCliBundle({ root });
    writeFileSync(path.join(root, 'cli', 'command.ts'), "export const greet = (): string => 'two';\n");

    // Act
    await ensureCliBundle({ root });

    // Assess
    const chunks = readdirSync(path.join(root, 'dist', 'cli', 'chunks')).filter((f) => f.endsWith('.js'));
    expect(chunks).toHaveLength(1);
  });

  it('rebuilds when an output is gone', async () => {
    // Prepare
    const root = project('deleted', 'again');
    const entry = await ensureCliBundle({ root });
    rmSync(entry);

    // Act
    const state = bundleState({ root });
    await ensureCliBundle({ root });

    // Assess
    expect(state).toMatchObject({ fresh: false, reason: 'main.js is missing' });
    expect(existsSync(entry)).toBe(true);
  });
});

describe("the sg-audit command's bundle", () => {
  it('loads only the argument parser before a command runs: no DuckDB, AWS SDK, ExcelJS or zod', async () => {
    // Act
    const outDir = path.join(work, 'sg-audit');
    const built = await buildCliBundle({ root: ROOT, outDir });
    const entry = path.relative(ROOT, built.entry).split(path.sep).join('/');

    // Assess
    expect(startupPackages(built.metafile, entry)).toEqual(['commander']);
    expect(
      built.outputs.filter((f) => f.startsWith('chunks/audit-command-') && f.endsWith('.js')),
    ).toHaveLength(1);
  });
});
