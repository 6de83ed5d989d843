#!/usr/bin/env node
// Launcher for `npx portcullis` and the package bin: checks the Node.js version first (one line and
// exit 2 on an old Node), then runs the compiled build (dist/, made by `npm run build`, which `npm ci`
// and `npm start` run) and falls back to the TypeScript sources, which Node >= 22.18 runs directly,
// when there is no build.
import { existsSync } from 'node:fs';
import { nodeProblem } from './check-node.js';

const problem = nodeProblem();
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}

// Memory flags for the long-running commands (serve, stdio), measured with bench/memory.ts and
// bench/memcheck.ts and checked for speed with bench/ab.ts (see docs/performance.md, "Memory"):
// - the young generation capped at two 8 MB semi-spaces (V8 otherwise grows it to ~110 MB under load)
//   and the old generation collected once it has grown by half (otherwise by up to four times its
//   live size);
// - until start-up is done, when the gateway undoes them (src/util/heap-trim.ts): V8's efficiency mode
//   (without its single-threaded collector) and filters that no function passes for the optimizing
//   compilers (TurboFan, Maglev), so start-up's short hot loops (module resolution, the first scan of
//   the tool descriptions) neither page the compilers' own machine code in (~2.5 MB of the Node
//   binary) nor leave optimized code behind; requests later tier up as usual. Filters rather than
//   --no-maglev/--no-turbofan, which also retune V8's tiering for a process without them, and that
//   tuning would stay once they are back on. PORTCULLIS_START_FLAGS tells the gateway what to undo;
// - glibc's allocator (Linux; other C libraries ignore it) with two arenas instead of one per thread
//   that ever allocated (V8's compiler and collector threads each kept a mostly empty one).
// V8 and glibc read these only when the process starts, so the launcher replaces itself once with
// them: process.execve keeps the process id, its signals and its standard streams. It runs as it is
// where execve is missing (Windows) or when the user chose heap flags of their own (in node's options
// or NODE_OPTIONS); a GLIBC_TUNABLES of the user's own is kept as it is.
const HEAP_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50', '--no-single-threaded-gc-in-background'];
const MALLOC_TUNABLES = 'glibc.malloc.arena_max=2';
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const userFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const chosen = userFlags.some((flag) => /^--(max-semi-space-size|heap-growing-percent)\b/.test(flag));
// A flag's name without its value or negation, `_` as `-` (V8 takes both).
const flagName = (flag) => flag.split('=')[0].replaceAll('_', '-').replace(/^--no-/, '--');
// Start-up-only flags, each unless the user set that flag (either way) themselves.
const START_FLAGS = ['--efficiency-mode', '--maglev-filter=-*', '--turbo-filter=-*'].filter((flag) => !userFlags.some((own) => flagName(own) === flagName(flag)));
if ((command === 'serve' || command === 'stdio') && !chosen && typeof process.execve === 'function') {
  try {
    const env = { ...process.env, PORTCULLIS_START_FLAGS: START_FLAGS.join(' ') };
    if (process.env.GLIBC_TUNABLES === undefined) env.GLIBC_TUNABLES = MALLOC_TUNABLES;
    process.execve(process.execPath, [process.execPath, ...HEAP_FLAGS, ...START_FLAGS, ...process.execArgv, ...process.argv.slice(1)], env);
  } catch {
    // Not supported on this platform: run with V8's defaults.
  }
}

// serve starts from its own entry point, which reads a plain serve command line without the
// command-line parser (src/serve-main.ts); every other command from main.
const entry = command === 'serve' ? 'serve-main' : 'main';
const built = new URL(`../dist/${entry}.js`, import.meta.url);
await import(existsSync(built) ? built.href : new URL(`../src/${entry}.ts`, import.meta.url).href);
