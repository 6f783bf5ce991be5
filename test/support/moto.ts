/**
 * moto_server (an AWS API emulator) on loopback for the end-to-end tests: a free port, a bounded
 * wait until it answers, and a stop that kills its whole process group. Clients point at it with
 * `motoClientConfig(endpoint)`.
 *
 * @example
 * const moto = await startMoto();
 * const ec2 = new EC2Client(motoClientConfig(moto.endpoint));
 * // … create resources, run the adapter …
 * await moto.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';

export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Kills the server's process group and waits for it to exit (idempotent). */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** How long to wait for the server to answer. @default 20000 */
  readonly readyTimeoutMs?: number;
  /** The binary to run. @default 'moto_server' (or MOTO_SERVER_PATH when set) */
  readonly command?: string;
}

/** moto_server did not start or did not answer in time; the message carries its last output. */
export class MotoStartError extends Error {
  override readonly name = 'MotoStartError';
}

const HOST = '127.0.0.1';
const DEFAULT_READY_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 5_000;
const START_ATTEMPTS = 3;
const OUTPUT_TAIL_CHARS = 2_000;

/** Servers not yet stopped, killed when the test process exits so none outlives a failed test. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** A port the kernel reports free on loopback (bind :0, read it, release it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new MotoStartError('no free port on loopback'))));
    });
  });
}

/** One HTTP request to moto; resolves with the status code (rejects on connection errors). */
function httpStatus(url: string, method: 'GET' | 'POST', timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  killGroup(child, 'SIGTERM');
  if (!(await waitForExit(child, STOP_GRACE_MS))) {
    killGroup(child, 'SIGKILL');
    await waitForExit(child, STOP_GRACE_MS);
  }
  running.delete(child);
}

async function startOnce(command: string, readyTimeoutMs: number): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://${HOST}:${port}`;
  // detached: its own process group, so stop() also ends the workers moto may fork.
  const child = spawn(command, ['-H', HOST, '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  installExitHook();
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) {
      running.delete(child);
      throw new MotoStartError(`cannot run '${command}': ${spawnError.message}`, { cause: spawnError });
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      running.delete(child);
      throw new MotoStartError(
        `'${command}' exited (${child.exitCode ?? child.signalCode}): ${output.trim()}`,
      );
    }
    try {
      if ((await httpStatus(`${endpoint}/moto-api/`, 'GET')) === 200) {
        let stopped: Promise<void> | undefined;
        return {
          endpoint,
          stop: () => {
            stopped ??= stopChild(child);
            return stopped;
          },
        };
      }
    } catch {
      // Not listening yet.
    }
    await delay(POLL_INTERVAL_MS);
  }
  await stopChild(child);
  throw new MotoStartError(
    `'${command}' did not answer on ${endpoint} within ${readyTimeoutMs} ms: ${output.trim()}`,
  );
}

/**
 * Starts moto_server on 127.0.0.1 at a free port and resolves once `/moto-api/` answers.
 * Retries with a new port when the chosen one was taken in between (bounded).
 *
 * @example const { endpoint, stop } = await startMoto();
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const command = options.command ?? process.env.MOTO_SERVER_PATH ?? 'moto_server';
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
    try {
      return await startOnce(command, readyTimeoutMs);
    } catch (error) {
      lastError = error;
      // A missing binary will not appear on a second try.
      if (error instanceof MotoStartError && error.message.startsWith('cannot run')) throw error;
    }
  }
  throw lastError;
}

/** The SDK v3 client configuration every e2e test uses against moto (add forcePathStyle for S3). */
export interface MotoClientConfig {
  readonly region: string;
  readonly endpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * Client configuration for moto: region ap-northeast-2, the server's endpoint, dummy credentials.
 *
 * @example new EC2Client(motoClientConfig(moto.endpoint))
 */
export function motoClientConfig(endpoint: string): MotoClientConfig {
  return {
    region: 'ap-northeast-2',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/**
 * Forgets every resource moto holds (POST /moto-api/reset), so tests sharing a server start clean.
 *
 * @example await resetMoto(moto.endpoint);
 */
export async function resetMoto(endpoint: string): Promise<void> {
  const status = await httpStatus(`${endpoint}/moto-api/reset`, 'POST');
  if (status !== 200) throw new MotoStartError(`moto reset answered HTTP ${status}`);
}
