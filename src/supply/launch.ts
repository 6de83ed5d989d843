/**
 * What a stdio command line actually runs, so a pin can be judged against it: the interpreter (if the
 * command is one), the script it runs, and everything else that loads code a file pin cannot cover —
 * inline code (`node -e`, `sh -c`, `python -c`), a module found on a search path (`python -m`), extra
 * files the interpreter loads before the script (`node --import/--require/--loader`, `bun --preload`,
 * `ruby -r`, `bash --rcfile`), and environment variables the interpreter or the dynamic loader read code
 * from (`NODE_OPTIONS` with such a flag, `LD_PRELOAD`, `PYTHONPATH`, `BASH_ENV`, a relative `PATH`, …).
 * One `env` wrapper (`env VAR=x node s.js`) is looked through.
 *
 * Interpreter flags follow each program's manual (node --help, python(1), bash(1), perl(1), ruby(1),
 * php(1), deno/bun --help). Not judged: what a script itself loads at run time (its imports, a shebang
 * line of a pinned file, child processes it starts); an unknown option that takes a separate value can
 * make the wrong word read as the script, which then fails the pin (closed).
 */
import { basename, delimiter, isAbsolute } from 'node:path';

export type Interpreter = 'node' | 'python' | 'shell' | 'perl' | 'ruby' | 'php' | 'deno' | 'bun';

export interface Launch {
  interpreter?: Interpreter;
  /** The file the interpreter runs (for a command that is not an interpreter: undefined). */
  script?: string;
  /** A module run from a search path (`python -m pkg`): only a package pin covers it. */
  module?: string;
  /** Why code runs that no file pin covers (inline code, loaded files, stdin), one reason each. */
  unpinned: string[];
  /** Code-loading environment variables set by an `env` wrapper in the arguments. */
  wrapperEnv: Record<string, string>;
}

const INTERPRETERS: ReadonlyArray<[RegExp, Interpreter]> = [
  [/^(?:node|nodejs|tsx|ts-node)(?:\d+)?(?:\.exe)?$/, 'node'],
  [/^(?:python|pythonw|pypy)(?:\d+(?:\.\d+)*)?(?:\.exe)?$/, 'python'],
  [/^(?:sh|bash|dash|zsh|ksh|mksh|ash|fish)(?:\.exe)?$/, 'shell'],
  [/^perl(?:\d+(?:\.\d+)*)?(?:\.exe)?$/, 'perl'],
  [/^ruby(?:\d+(?:\.\d+)*)?(?:\.exe)?$/, 'ruby'],
  [/^php(?:\d+(?:\.\d+)*)?(?:\.exe)?$/, 'php'],
  [/^deno(?:\.exe)?$/, 'deno'],
  [/^bun(?:\.exe)?$/, 'bun'],
];

export function interpreterOf(command: string): Interpreter | undefined {
  const name = basename(command.replace(/\\/g, '/')).toLowerCase();
  return INTERPRETERS.find(([pattern]) => pattern.test(name))?.[1];
}

interface FlagTable {
  /** Flags that run the code given as their value (or the rest of the line). */
  inline: ReadonlySet<string>;
  /** Flags whose value is a file or library loaded as code before the script. */
  loads: ReadonlySet<string>;
  /** Flags whose value names a module run instead of a script. */
  module: ReadonlySet<string>;
  /** Other flags that take the next word as their value. */
  valued: ReadonlySet<string>;
  /** Single-letter flags may be clustered (`-uc`, `-ec`, `-we`). */
  clusters: boolean;
}

const set = (...values: string[]): ReadonlySet<string> => new Set(values);

const NODE: FlagTable = {
  inline: set('-e', '--eval', '-p', '--print', '--run', '-i', '--interactive', '--test'),
  loads: set('-r', '--require', '--import', '--loader', '--experimental-loader', '--env-file', '--env-file-if-exists', '--snapshot-blob', '--openssl-config', '--experimental-config-file'),
  module: set(),
  valued: set('-C', '--conditions', '--input-type', '--title', '--inspect-port', '--debug-port', '--max-http-header-size', '--unhandled-rejections', '--dns-result-order', '--diagnostic-dir', '--heapsnapshot-signal', '--icu-data-dir', '--redirect-warnings', '--report-dir', '--report-directory', '--report-filename', '--report-signal', '--secure-heap', '--secure-heap-min', '--tls-cipher-list', '--tls-keylog', '--trace-event-categories', '--trace-event-file-pattern', '--use-largepages', '--watch-path', '--disable-warning', '--localstorage-file', '--experimental-default-type', '--stack-size'),
  clusters: false,
};
const PYTHON: FlagTable = { inline: set('-c'), loads: set(), module: set('-m'), valued: set('-W', '-X', '--check-hash-based-pycs'), clusters: true };
const SHELL: FlagTable = { inline: set('-c', '-s', '-i'), loads: set('--rcfile', '--init-file'), module: set(), valued: set('-o', '+o', '-O', '+O'), clusters: true };
const PERL: FlagTable = { inline: set('-e', '-E'), loads: set('-M', '-m', '-I', '-d'), module: set(), valued: set(), clusters: true };
const RUBY: FlagTable = { inline: set('-e'), loads: set('-r', '-I', '--require'), module: set(), valued: set('-C', '-E', '-F', '--encoding'), clusters: true };
const PHP: FlagTable = { inline: set('-r', '-a', '-B', '-R', '-E', '-F'), loads: set('-d', '-c', '-z'), module: set(), valued: set(), clusters: false };
const BUN: FlagTable = { inline: set('-e', '--eval', '-p', '--print'), loads: set('-r', '--preload', '--require', '--import', '--env-file', '--config', '-c'), module: set(), valued: set('--cwd', '--conditions', '--tsconfig-override', '--install', '--port'), clusters: false };
const DENO: FlagTable = { inline: set('eval', 'repl', 'task', '-e'), loads: set('--preload', '--import-map', '--config', '-c', '--env-file', '--require'), module: set(), valued: set('--location', '--seed', '--v8-flags', '--cert', '--lock', '--inspect', '--watch', '--ext'), clusters: false };

const TABLES: Readonly<Record<Interpreter, FlagTable>> = { node: NODE, python: PYTHON, shell: SHELL, perl: PERL, ruby: RUBY, php: PHP, bun: BUN, deno: DENO };

/** Reads an interpreter's own flags up to its script; what follows belongs to the script. */
function readFlags(interpreter: Interpreter, args: readonly string[]): Pick<Launch, 'script' | 'module' | 'unpinned'> {
  const table = TABLES[interpreter];
  const unpinned: string[] = [];
  let module: string | undefined;
  let i = 0;
  // `deno run …`, `bun run …`: the subcommand comes first.
  if ((interpreter === 'deno' || interpreter === 'bun') && args[0] === 'run') i = 1;
  if (interpreter === 'deno' && args[0] !== undefined && table.inline.has(args[0])) return { unpinned: [`deno ${args[0]} runs code given on the command line`] };
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      i += 1;
      break;
    }
    if (!(arg.startsWith('-') || (interpreter === 'shell' && arg.startsWith('+'))) || arg === '-') break;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inlineValue = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => inlineValue ?? args[++i] ?? '';
    if (table.inline.has(flag)) return { unpinned: [...unpinned, `${flag} runs code given on the command line, not a pinned file`] };
    if (table.loads.has(flag)) {
      unpinned.push(`${flag} ${value()} loads code before the script`);
      continue;
    }
    if (table.module.has(flag)) {
      module = value();
      return { module, unpinned };
    }
    if (table.valued.has(flag)) {
      if (inlineValue === undefined) i += 1;
      continue;
    }
    if (table.clusters && /^[-+][A-Za-z0-9]{2,}/.test(arg) && !arg.startsWith('--')) {
      // A cluster of single-letter flags: the first that takes a value takes the rest of the word (or the next word).
      for (let k = 1; k < arg.length; k++) {
        const letter = `-${arg[k]!}`;
        const rest = arg.slice(k + 1);
        if (table.inline.has(letter)) return { unpinned: [...unpinned, `${letter} (in ${arg}) runs code given on the command line, not a pinned file`] };
        if (table.loads.has(letter)) {
          unpinned.push(`${letter} ${rest || args[i + 1] || ''} (in ${arg}) loads code before the script`);
          if (!rest) i += 1;
          break;
        }
        if (table.module.has(letter)) return { module: rest || args[i + 1] || '', unpinned };
        if (table.valued.has(letter)) {
          if (!rest) i += 1;
          break;
        }
      }
      continue;
    }
    // Short flags with their value glued on (`-rhook`, `-Ilib`, `-Mstrict`).
    const short = flag.slice(0, 2);
    if (!flag.startsWith('--') && flag.length > 2) {
      if (table.inline.has(short)) return { unpinned: [...unpinned, `${short} runs code given on the command line, not a pinned file`] };
      if (table.loads.has(short)) unpinned.push(`${short} ${flag.slice(2)} loads code before the script`);
      if (table.module.has(short)) return { module: flag.slice(2), unpinned };
    }
  }
  const script = args[i];
  if (script === undefined) return { unpinned: [...unpinned, 'no script: the interpreter reads its program from standard input'] };
  return { script, unpinned };
}

const ENV_ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Analyses `command args…` as the child process will run it. */
export function analyseLaunch(command: string, args: readonly string[]): Launch {
  const wrapperEnv: Record<string, string> = {};
  if (basename(command.replace(/\\/g, '/')) === 'env') {
    let i = 0;
    for (; i < args.length; i++) {
      const arg = args[i]!;
      const assignment = ENV_ASSIGNMENT.exec(arg);
      if (assignment) {
        wrapperEnv[assignment[1]!] = assignment[2]!;
        continue;
      }
      if (arg === '-u' || arg === '--unset' || arg === '-C' || arg === '--chdir') {
        i += 1;
        continue;
      }
      if (arg === '-S' || arg.startsWith('--split-string') || arg.startsWith('-S')) return { unpinned: ['env -S splits a string into a command line that is not judged'], wrapperEnv };
      if (arg.startsWith('-')) continue;
      break;
    }
    const inner = args[i];
    if (inner === undefined) return { unpinned: ['env without a command'], wrapperEnv };
    return { ...analyseLaunch(inner, args.slice(i + 1)), wrapperEnv };
  }
  const interpreter = interpreterOf(command);
  if (!interpreter) return { unpinned: [], wrapperEnv };
  return { interpreter, ...readFlags(interpreter, args), wrapperEnv };
}

/** Variables every dynamic loader or these interpreters read code (or where to find it) from. */
const CODE_ENV = new Set([
  'NODE_PATH', 'NODE_REPL_EXTERNAL_MODULE', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONUSERBASE', 'PYTHONEXECUTABLE', 'PYTHONSAFEPATH',
  'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB', 'RUBYOPT', 'RUBYLIB', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH',
  'BASH_ENV', 'ENV', 'ZDOTDIR', 'SHELLOPTS', 'BASHOPTS', 'PROMPT_COMMAND', 'GCONV_PATH', 'PHPRC', 'PHP_INI_SCAN_DIR', 'BUN_PRELOAD', 'DENO_DIR',
  'TS_NODE_COMPILER', 'TS_NODE_PROJECT', 'TSX_TSCONFIG_PATH',
]);
const CODE_ENV_PREFIX = /^(?:LD_|DYLD_|BASH_FUNC_|npm_config_|NPM_CONFIG_)/;

/**
 * Why `name=value` in a server's environment makes it run code its pin does not cover, or undefined.
 * `NODE_OPTIONS` counts only when it holds a flag that loads or runs code; `PATH` only with a relative
 * or empty entry (the child's working folder); a value given as a reference cannot be judged and counts.
 */
export function codeLoadingEnv(name: string, value: string, isReference = false): string | undefined {
  if (name === 'NODE_OPTIONS') {
    if (isReference) return 'NODE_OPTIONS given as a reference cannot be judged (it may load code)';
    const flags = value.trim().split(/\s+/).filter(Boolean);
    const launch = readFlags('node', [...flags, 'script']);
    if (launch.script !== 'script' || launch.unpinned.length > 0) return `NODE_OPTIONS "${value}" loads code the pin does not cover (${launch.unpinned.join('; ') || 'not only options'})`;
    return undefined;
  }
  if (name === 'PATH') {
    if (isReference) return 'PATH given as a reference cannot be judged';
    const relative = value.split(delimiter).filter((dir) => dir === '' || !isAbsolute(dir));
    return relative.length > 0 ? `PATH has relative entries (${relative.map((d) => d || '(empty: the working folder)').join(', ')}): which program runs depends on the folder` : undefined;
  }
  if (CODE_ENV.has(name) || CODE_ENV_PREFIX.test(name)) return `${name} makes the interpreter or the dynamic loader load code the pin does not cover`;
  return undefined;
}

/** Every reason the command line and environment of a stdio server run code outside what a pin can cover. */
export function unpinnedCode(server: { command: string; args: readonly string[]; env?: Readonly<Record<string, string>> }, isReference: (value: string) => boolean = () => false): Array<{ where: string; why: string }> {
  const launch = analyseLaunch(server.command, server.args);
  const out: Array<{ where: string; why: string }> = launch.unpinned.map((why) => ({ where: 'args', why }));
  for (const [name, value] of Object.entries(launch.wrapperEnv)) {
    const why = codeLoadingEnv(name, value);
    if (why) out.push({ where: 'args', why: `env ${why}` });
  }
  for (const [name, value] of Object.entries(server.env ?? {})) {
    const why = codeLoadingEnv(name, value, isReference(value));
    if (why) out.push({ where: `env.${name}`, why });
  }
  return out;
}
