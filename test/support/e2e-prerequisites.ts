/**
 * The end-to-end suite's prerequisites (`npm run test:e2e`), checked first by its globalSetup:
 * programs that npm does not install. When one is missing the run stops at once, naming what is
 * missing and the line that installs it, instead of failing test by test with `spawn … ENOENT`.
 */
import { findChromium } from '../../testkit/chromium';
import { findOnPath, isExecutable } from '../../testkit/programs';
import { setupTempDir } from './temp-dir';

/** Installs every prerequisite on Debian/Ubuntu (the README quotes this line). */
export const E2E_INSTALL_LINE =
  "sudo apt-get install -y chromium pipx && pipx install 'moto[server]>=5,<6' && pipx install 'cfn-lint>=1,<2' && pipx ensurepath";

/** The same Python tools from PyPI with pip, in a Python environment of one's own. */
export const E2E_PIP_LINE = "pip install 'moto[server]>=5,<6' 'cfn-lint>=1,<2'";

interface Prerequisite {
  /** The program and what the suite uses it for. */
  readonly name: string;
  readonly purpose: string;
  /** Undefined when present, else why it was not found. */
  readonly problem: (env: NodeJS.ProcessEnv) => string | undefined;
}

/** A program found through `envVar` (a path) or on PATH. */
function program(name: string, envVar: string): Prerequisite['problem'] {
  return (env) => {
    const configured = env[envVar];
    if (configured !== undefined && configured !== '') {
      return isExecutable(configured) ? undefined : `${envVar}=${configured} is not an executable file`;
    }
    return findOnPath([name], env) === undefined ? `not on PATH (nor ${envVar} set)` : undefined;
  };
}

const PREREQUISITES: readonly Prerequisite[] = [
  {
    name: 'chromium',
    purpose: 'renders report.html headless; Debian package chromium',
    problem: (env) => {
      try {
        findChromium(env);
        return undefined;
      } catch (error) {
        return (error as Error).message.split(':')[0];
      }
    },
  },
  {
    name: 'moto_server',
    purpose: 'moto 5, the AWS API emulator the AWS adapters run against; PyPI moto[server]',
    problem: program('moto_server', 'MOTO_SERVER_PATH'),
  },
  {
    name: 'cfn-lint',
    purpose: 'lints the synthesized CloudFormation template; PyPI cfn-lint',
    problem: program('cfn-lint', 'CFN_LINT_PATH'),
  },
];

/**
 * The message naming what is missing and how to install it; undefined when nothing is.
 *
 * @example missingPrerequisites({ PATH: '/usr/bin' }) // 'npm run test:e2e needs programs …'
 */
export function missingPrerequisites(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = PREREQUISITES.flatMap((p) => {
    const problem = p.problem(env);
    return problem === undefined ? [] : [`  - ${p.name}: ${problem} (${p.purpose})`];
  });
  if (missing.length === 0) return undefined;
  return [
    'npm run test:e2e needs programs that npm does not install:',
    ...missing,
    'Install them on Debian/Ubuntu with:',
    `  ${E2E_INSTALL_LINE}`,
    `(then open a new shell so ~/.local/bin is on PATH), or in a Python environment of your own: ${E2E_PIP_LINE}`,
  ].join('\n');
}

/** Jest globalSetup of the end-to-end suite: the prerequisites, then the run's own TMPDIR. */
export default function setupEndToEnd(): void {
  const message = missingPrerequisites();
  if (message !== undefined) throw new Error(`\n${message}\n`);
  setupTempDir();
}
