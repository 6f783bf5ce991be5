/** Runs the CLI in-process with captured stdout and stderr. */
import { type CliIo, main } from '../../cli/main';

/** A writable that keeps what was written. */
export function captured(): { readonly stream: { write(s: string): boolean }; text(): string } {
  let text = '';
  return {
    stream: {
      write: (s: string) => {
        text += s;
        return true;
      },
    },
    text: () => text,
  };
}

/**
 * `sg-audit <args>` with the given io (version 'test' unless given); its exit code and output.
 *
 * @example const { code, stdout } = await runCli(['plan', '--report', file], { now: () => new Date(0) });
 */
export async function runCli(
  args: readonly string[],
  io: Partial<CliIo> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = captured();
  const stderr = captured();
  const code = await main(args, { version: 'test', stdout: stdout.stream, stderr: stderr.stream, ...io });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
