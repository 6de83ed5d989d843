/**
 * Entry point of `portcullis serve` (bin/portcullis.js starts it for the serve command): a plain serve
 * command line runs the gateway without loading the command-line parser; anything else (help, an
 * option it does not read, an error) goes to ./main.ts, which parses it with commander as always.
 */
import { plainServeArgs } from './cli/serve-args.ts';

const options = plainServeArgs(process.argv.slice(2));
if (options && process.env.PORTCULLIS_CHECK_COMMANDS !== '1') {
  // Everything the gateway creates is private to this user (as in ./main.ts).
  process.umask(0o077);
  const { finish, io } = await import('./cli/process-io.ts');
  const { serve } = await import('./cli/serve.ts');
  await finish(serve(options, io));
} else {
  await import('./main.ts');
}
