/**
 * The command line run inside the test's process: the same command tree as `node src/main.ts`
 * (src/cli/program.ts), with its output captured and its exit code returned, for the many tests about
 * what a command does (what it prints, exits with and changes on disk). A Node process per command costs
 * about half a second of CPU; this costs a few milliseconds once the command's modules are loaded.
 *
 * What only a real process shows (argv parsing by Node, the umask main.ts sets at start, signals, stdin,
 * `serve` and `stdio`) stays with runCli in ./gateway.ts, a real `node src/main.ts`.
 */
import { CommanderError } from 'commander';
import { buildProgram } from '../../src/cli/program.ts';
import { processSecretSource } from '../../src/config/secrets.ts';

/** umask 077 while any command runs here, as main.ts sets it for its process; restored when the last ends. */
let running = 0;
let savedUmask = 0;

/**
 * Runs `portcullis <args>` here; `env` is the command's whole environment beside PATH, as runCli gives
 * its child. Refuses `serve` and `stdio`, which hold the process (use runCli or serveChild).
 */
export async function runCliHere(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  if (args[0] === 'serve' || args[0] === 'stdio') throw new Error(`runCliHere: ${args[0]} runs as a process; use runCli or serveChild`);
  let stdout = '';
  let stderr = '';
  let code = 0;
  const program = buildProgram(
    {
      io: { out: (text) => void (stdout += text), err: (text) => void (stderr += text), secrets: processSecretSource({ PATH: process.env.PATH ?? '', ...env }), onSignal: () => {} },
      finish: async (result) => void (code = await result),
      stdin: process.stdin,
      stdout: process.stdout,
      exit: () => {
        throw new Error('runCliHere: a command tried to end the process');
      },
    },
    // Commander's own output (help, usage errors) is captured, and its exits become CommanderErrors.
    (root) => root.exitOverride().configureOutput({ writeOut: (text) => void (stdout += text), writeErr: (text) => void (stderr += text) }),
  );
  if (running++ === 0) savedUmask = process.umask(0o077);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode;
    else {
      // What Node does with an error nothing caught: its stack on stderr, exit 1.
      stderr += `${(error as Error)?.stack ?? String(error)}\n`;
      code = 1;
    }
  } finally {
    if (--running === 0) process.umask(savedUmask);
  }
  return { code, stdout, stderr };
}
