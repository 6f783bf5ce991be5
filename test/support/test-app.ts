/**
 * CDK apps for tests. An App without `outdir` makes a `cdk.out*` folder in the system temp
 * directory that nothing removes; these apps synthesize under one temporary folder per test
 * file instead, removed after the file's tests (importing this module registers that afterAll).
 *
 * @example
 * const stack = new Stack(testApp(), 'Test');
 * const template = Template.fromStack(stack);
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, type AppProps } from 'aws-cdk-lib';

let root: string | undefined;

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/** A fresh folder for one app's cloud assembly, removed after the test file. */
export function testAppOutdir(): string {
  root ??= mkdtempSync(path.join(tmpdir(), 'sg-audit-cdk-'));
  return mkdtempSync(path.join(root, 'app-'));
}

/** A new App whose assembly goes to `props.outdir`, else to a folder removed after the test file. */
export function testApp(props: AppProps = {}): App {
  return new App({ ...props, outdir: props.outdir ?? testAppOutdir() });
}
