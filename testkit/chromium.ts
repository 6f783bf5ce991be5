/**
 * Headless Chromium for checking report.html as a browser sees it (DOM after load, screenshot).
 * Shared by test/e2e/html-chromium.test.ts and scripts/screenshot-report.ts.
 *
 * The browser runs with no network use of its own (no sync, component updates, QUIC or
 * background fetches, every host name unresolvable), a throwaway profile, and a hard timeout
 * after which its whole process group is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findOnPath, isExecutable } from './programs';

/** Binary names tried on PATH when CHROMIUM_PATH is not set (Debian's package installs `chromium`). */
const BINARY_NAMES = ['chromium', 'chromium-browser'];
const DEFAULT_TIMEOUT_MS = 45_000;

/** Chromium is missing or failed; the message says how to fix it. */
export class ChromiumError extends Error {
  override readonly name = 'ChromiumError';
}

/**
 * The Chromium binary: $CHROMIUM_PATH, else `chromium` or `chromium-browser` on PATH.
 *
 * @throws ChromiumError naming what was tried and how to install it.
 * @example const binary = findChromium(); // '/usr/bin/chromium'
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CHROMIUM_PATH;
  if (configured !== undefined && configured !== '') {
    if (isExecutable(configured)) return configured;
    throw new ChromiumError(`CHROMIUM_PATH=${configured} is not an executable file`);
  }
  const found = findOnPath(BINARY_NAMES, env);
  if (found !== undefined) return found;
  throw new ChromiumError(
    `Chromium not found: set CHROMIUM_PATH or put ${BINARY_NAMES.join(' or ')} on PATH ` +
      '(Debian/Ubuntu: apt-get update && apt-get install -y chromium)',
  );
}

export interface ChromiumResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

export interface ChromiumOptions {
  /** Kill the browser after this long (default 45 s). */
  readonly timeoutMs?: number;
}

/** Flags that keep a headless run quiet, offline and reproducible. */
function baseArgs(profileDir: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    // Nothing in the report may reach the network; make any attempt fail fast instead of hanging.
    '--host-resolver-rules=MAP * ~NOTFOUND',
    `--user-data-dir=${profileDir}`,
  ];
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Runs Chromium with the base flags plus `args` in a throwaway profile, bounded by a timeout.
 *
 * @throws ChromiumError when it cannot start, times out, or exits non-zero.
 * @example await runChromium(['--dump-dom', 'file:///tmp/report.html'])
 */
export async function runChromium(
  args: readonly string[],
  options: ChromiumOptions = {},
): Promise<ChromiumResult> {
  const binary = findChromium();
  const profileDir = await mkdtemp(join(tmpdir(), 'sg-audit-chromium-'));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    return await new Promise<ChromiumResult>((resolve, reject) => {
      // Its own process group, so the timeout can end the renderer and zygote children too.
      const child = spawn(binary, [...baseArgs(profileDir), ...args], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      const timer = setTimeout(() => {
        killGroup(child);
        reject(
          new ChromiumError(`Chromium did not finish within ${timeoutMs} ms (${binary} ${args.join(' ')})`),
        );
      }, timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new ChromiumError(`Chromium could not start (${binary}): ${error.message}`, { cause: error }));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        killGroup(child); // leftover helpers of a finished browser
        const result = {
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          code,
        };
        if (code === 0) resolve(result);
        else reject(new ChromiumError(`Chromium exited with ${code}: ${result.stderr.slice(-2000)}`));
      });
    });
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}

/**
 * The DOM of a local HTML file after load (its scripts have run).
 *
 * @example const dom = await dumpDom('/tmp/report.html');
 */
export async function dumpDom(htmlPath: string, options: ChromiumOptions = {}): Promise<string> {
  const { stdout } = await runChromium(['--dump-dom', pathToFileURL(htmlPath).href], options);
  return stdout;
}

/**
 * A PNG screenshot of a local HTML file's first `height` pixels at `width`.
 *
 * @throws ChromiumError when no screenshot was written.
 * @example await screenshot('/tmp/report.html', '/tmp/report.png', { width: 1400, height: 2400 })
 */
export async function screenshot(
  htmlPath: string,
  pngPath: string,
  size: { readonly width: number; readonly height: number },
  options: ChromiumOptions = {},
): Promise<void> {
  await runChromium(
    [`--screenshot=${pngPath}`, `--window-size=${size.width},${size.height}`, pathToFileURL(htmlPath).href],
    options,
  );
  if (!existsSync(pngPath)) throw new ChromiumError(`Chromium wrote no screenshot to ${pngPath}`);
}

/**
 * What a script measures in a page laid out `width` CSS pixels wide: the page (a copy, with its
 * Content-Security-Policy opened to the probe) runs in an iframe of that width — headless
 * Chromium will not make its window narrower than 500 px — and the probe posts its result (a
 * JSON string) to the parent, which the dumped DOM then carries.
 *
 * @example const result = JSON.parse(await layoutProbe('/tmp/report.html', 420, 'parent.postMessage(JSON.stringify({ w: innerWidth }), "*")'));
 */
export async function layoutProbe(
  htmlPath: string,
  width: number,
  probeScript: string,
  options: ChromiumOptions = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-audit-probe-'));
  try {
    const page = await readFile(htmlPath, 'utf8');
    const probed = page
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
      .replace('</body>', `<script>${probeScript}</script></body>`);
    await writeFile(join(dir, 'page.html'), probed);
    await writeFile(
      join(dir, 'frame.html'),
      `<!doctype html><html><body style="margin:0"><iframe src="page.html" style="width:${width}px;height:3000px;border:0"></iframe><pre id="probe-result"></pre><script>window.addEventListener('message', function (e) { document.getElementById('probe-result').textContent = String(e.data); });</script></body></html>`,
    );
    const { stdout } = await runChromium(
      [
        '--window-size=1600,3200',
        '--virtual-time-budget=5000',
        '--dump-dom',
        pathToFileURL(join(dir, 'frame.html')).href,
      ],
      options,
    );
    const match = /<pre id="probe-result">([\s\S]*?)<\/pre>/.exec(stdout);
    if (match === null || match[1] === undefined || match[1] === '')
      throw new ChromiumError(`the layout probe of ${htmlPath} at ${width} px posted nothing`);
    return match[1]
      .replaceAll('&quot;', '"')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
