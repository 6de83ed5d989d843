/**
 * The process's side of the command line: its streams, environment and signals as the commands' `Io`,
 * and the exit code. Only the entry points (../main.ts, ../serve-main.ts) use it.
 */
import { processSecretSource } from '../config/secrets.ts';
import type { Io } from './serve.ts';

export const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  secrets: processSecretSource(process.env),
  onSignal: (handler) => {
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  },
};

export const finish = async (code: number | Promise<number>): Promise<void> => {
  process.exitCode = await code;
};
