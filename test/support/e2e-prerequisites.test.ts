import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { E2E_INSTALL_LINE, missingPrerequisites } from './e2e-prerequisites';

let bin = '';

beforeAll(() => {
  bin = mkdtempSync(path.join(tmpdir(), 'sg-audit-prereq-'));
  for (const name of ['chromium', 'moto_server', 'cfn-lint']) {
    writeFileSync(path.join(bin, name), '#!/bin/sh\n');
    chmodSync(path.join(bin, name), 0o755);
  }
});

afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('missingPrerequisites', () => {
  it('names every missing program and the line that installs them', () => {
    // Act
    const message = missingPrerequisites({ PATH: '' });

    // Assess
    expect(message).toMatch(/^ {2}- chromium: Chromium not found/m);
    expect(message).toMatch(/^ {2}- moto_server: not on PATH \(nor MOTO_SERVER_PATH set\)/m);
    expect(message).toMatch(/^ {2}- cfn-lint: not on PATH \(nor CFN_LINT_PATH set\)/m);
    expect(message).toContain(`\n  ${E2E_INSTALL_LINE}\n`);
  });

  it('is satisfied by the programs on PATH or at the paths the environment names', () => {
    // Act / Assess
    expect(missingPrerequisites({ PATH: bin })).toBeUndefined();
    expect(
      missingPrerequisites({
        PATH: '',
        CHROMIUM_PATH: path.join(bin, 'chromium'),
        MOTO_SERVER_PATH: path.join(bin, 'moto_server'),
        CFN_LINT_PATH: path.join(bin, 'cfn-lint'),
      }),
    ).toBeUndefined();
  });

  it('names only what is missing', () => {
    // Act
    const message = missingPrerequisites({ PATH: '', CHROMIUM_PATH: path.join(bin, 'chromium') }) ?? '';

    // Assess
    expect(message).not.toMatch(/- chromium/);
    expect(message).toMatch(/- moto_server/);
  });

  it('is the install line the README gives', () => {
    // Act
    const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

    // Assess
    expect(readme).toContain(E2E_INSTALL_LINE);
  });
});
