/**
 * `portcullis serve`'s options in one table: main.ts declares them to commander, and `plainServeArgs`
 * reads a plain serve command line without commander, for ../serve-main.ts (`npm start`: commander and
 * the sixty commands it declares would stay in the gateway's memory for as long as it runs). Anything
 * it does not read exactly — help, an unknown or repeated option, a missing value, `-cFILE`,
 * `--port=0` — is left to commander, so help and errors are commander's as before.
 */
import type { ServeOptions } from './serve.ts';

export const SERVE_OPTIONS: ReadonlyArray<{ flags: string; description: string; key: keyof ServeOptions }> = [
  { flags: '-c, --config <file>', description: 'configuration file (YAML)', key: 'config' },
  { flags: '--data-dir <dir>', description: 'state directory for the embedded default (env PORTCULLIS_DATA_DIR)', key: 'dataDir' },
  { flags: '--host <host>', description: 'override listen.host', key: 'host' },
  { flags: '--port <port>', description: 'override listen.port', key: 'port' },
  { flags: '--metrics <access>', description: 'override listen.metrics: who GET /metrics answers with identity on (credential | loopback | open)', key: 'metrics' },
  { flags: '--no-reload', description: 'do not watch the configuration file for policy changes (reload.watch)', key: 'reload' },
  { flags: '--reload-settle-ms <ms>', description: 'override reload.settleMs: how long a changed file must stay unchanged before it is read', key: 'reloadSettleMs' },
];

/** The options of `serve …` as commander would give them, or undefined when commander must read the line. */
export function plainServeArgs(args: readonly string[]): ServeOptions | undefined {
  if (args[0] !== 'serve') return undefined;
  const options: ServeOptions = { reload: true };
  const seen = new Set<string>();
  for (let i = 1; i < args.length; i++) {
    const option = SERVE_OPTIONS.find((o) => o.flags.split(/[ ,]+/).filter((f) => f.startsWith('-')).includes(args[i]!));
    if (!option || seen.has(option.key)) return undefined;
    seen.add(option.key);
    if (option.flags.startsWith('--no-')) {
      options.reload = false;
      continue;
    }
    const value = args[++i];
    if (value === undefined || value.startsWith('-')) return undefined;
    (options as Record<string, unknown>)[option.key] = value;
  }
  return options;
}
