/**
 * The command line. With ./serve-main.ts (a plain `serve` line) the only file that reads process.argv;
 * process.env and the process streams are read through ./cli/process-io.ts.
 */
import { readFileSync } from 'node:fs';
import { checkCommandLines, listOptions } from './cli/parse-check.ts';
import { finish, io } from './cli/process-io.ts';
import { buildProgram } from './cli/program.ts';

// Everything the gateway and its libraries create (data dir, SQLite files and their -wal/-shm, logs
// written to files) is private to this user unless a helper says otherwise (src/util/private-files.ts).
process.umask(0o077);

const program = buildProgram({ io, finish, stdin: process.stdin, stdout: process.stdout, exit: () => process.exit(process.exitCode) });

// PORTCULLIS_CHECK_COMMANDS=1: parse JSON command lines from stdin without running them; =options:
// list every command's long options (docs test).
if (process.env.PORTCULLIS_CHECK_COMMANDS === 'options') {
  process.stdout.write(`${JSON.stringify(listOptions(program))}\n`);
} else if (process.env.PORTCULLIS_CHECK_COMMANDS === '1') {
  const lines = JSON.parse(readFileSync(0, 'utf8')) as string[][];
  process.stdout.write(`${JSON.stringify(await checkCommandLines(program, lines))}\n`);
} else {
  await program.parseAsync(process.argv);
}
