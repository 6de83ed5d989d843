/**
 * Instructions per DLP inspection of the ordinary 32 KB results, counted by valgrind (callgrind), not
 * timed: `node bench/dlp-icount.ts [--base DIR] [--calls N] [--warmup N] [--text NAME]`.
 *
 * A child process under `valgrind --tool=callgrind --instr-atstart=no` builds the engines (every family
 * on, the defaults, every family off; with `--base DIR`, the same of another tree of sources, as for
 * bench/dlp-ab.ts), inspects each text of bench/dlp-texts.ts `--warmup` times with each (default 300:
 * the code optimised, as in a running gateway), then, one engine and text at a time, waits while this
 * process switches instrumentation on (`callgrind_control -i on`), inspects the text `--calls` times
 * (default 40), and waits again while it is switched off and the counts dumped. Prints the main
 * thread's instructions per inspection (V8's compiler and collector threads left out: their share
 * depends on the machine's schedule), and what every family on and the defaults add to the walk with
 * every family off. A full collection runs before each window (`--expose-gc`); the collections the
 * inspections themselves cause are counted. Slow (valgrind runs node ~50× slower): a few minutes. Writes nothing in the tree.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { answerHelp, option } from './usage.ts';

answerHelp(import.meta.url);

const CALLS = Number(option('--calls') ?? 40);
const WARMUP = Number(option('--warmup') ?? 300);
const base = option('--base');
const only = option('--text');
const hostile = process.argv.includes('--hostile');
const onlyShape = option('--shape');

if (process.argv.includes('--child')) {
  const { processSecretSource } = await import('../src/config/secrets.ts');
  const { Dlp } = await import('../src/dlp/engine.ts');
  const { ordinaryTexts } = await import('./dlp-texts.ts');
  type Config = ConstructorParameters<typeof Dlp>[0];
  const allOn = { results: { secrets: 'mask', pii: 'mask', injection: 'flag' }, arguments: {}, patterns: [{ name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block', arguments: true }], servers: {} } as unknown as Config;
  const allOff = { results: { secrets: 'off', pii: 'off', injection: 'off' }, arguments: {}, patterns: [], servers: {} } as unknown as Config;
  const env = processSecretSource(process.env);
  const trees: Array<[string, typeof Dlp]> = [];
  if (base) trees.push(['base', ((await import(resolve(base, 'src/dlp/engine.ts'))) as { Dlp: typeof Dlp }).Dlp]);
  trees.push(['this tree', Dlp]);
  const where = { server: 'bench', tool: 'blob', direction: 'result' as const };
  const { MB, SHAPES } = await import('./dlp-hostile-shapes.ts');
  const shapes = SHAPES.filter(([name]) => onlyShape === undefined || name.includes(onlyShape));
  const texts = hostile ? shapes.map(([name, make]) => [name, make(MB)] as [string, string]) : ordinaryTexts().filter(([name]) => only === undefined || name === only);
  const engines = trees.flatMap(([tree, Engine]) => [
    [tree, 'on', new Engine(allOn, env)],
    ...(hostile ? [] : ([[tree, 'defaults', new Engine(undefined, env)], [tree, 'off', new Engine(allOff, env)]] as const)),
  ] as const);
  if (hostile) {
    for (const [, make] of shapes) for (const [, , engine] of engines) engine.inspect({ content: [{ type: 'text', text: make(64 * 1024) }] }, where);
  } else {
    for (const [, text] of texts) {
      const result = { content: [{ type: 'text', text }] };
      for (let k = 0; k < WARMUP; k++) for (const [, , engine] of engines) engine.inspect(result, where);
    }
  }
  const calls = hostile ? 1 : CALLS;
  const it = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  for (const [name, text] of texts) {
    const result = { content: [{ type: 'text', text }] };
    for (const [tree, detectors, engine] of engines) {
      // A full collection before each window, so that one left over from earlier work does not fall into it.
      (globalThis as { gc?: () => void }).gc?.();
      process.stdout.write(`ready\t${tree}\t${detectors}\t${name}\n`);
      await it.next();
      for (let k = 0; k < calls; k++) engine.inspect(result, where);
      process.stdout.write('done\n');
      await it.next();
    }
  }
  process.stdout.write('end\n');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'pc-dlp-icount-'));
const child = spawn(
  'valgrind',
  ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'cg.%p')}`, process.execPath, '--expose-gc', new URL(import.meta.url).pathname, '--child', ...process.argv.slice(2)],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const control = (flag: string): void => void execFileSync('callgrind_control', [flag, String(child.pid)], { stdio: 'ignore' });
const dumps = (): string[] => readdirSync(dir).filter((f) => /^cg\.\d+\.\d+-01$/.test(f));
const rows = new Map<string, Map<string, number>>();
let current: string[] = [];
for await (const line of createInterface({ input: child.stdout! })) {
  const [what, tree, detectors, name] = line.split('\t');
  if (what === 'ready') {
    current = [tree!, detectors!, name!];
    control('-z');
    control('--instr=on');
    child.stdin!.write('go\n');
  } else if (what === 'done') {
    control('--instr=off');
    const before = dumps().length;
    control('-d');
    while (dumps().length === before) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    const file = dumps().sort((a, b) => Number(/\.(\d+)-01$/.exec(b)![1]) - Number(/\.(\d+)-01$/.exec(a)![1]))[0]!;
    const ir = Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? Number.NaN);
    const [t, d, n] = current;
    const key = `${n}\t${t}`;
    if (!rows.has(key)) rows.set(key, new Map());
    rows.get(key)!.set(d!, ir / (hostile ? 1 : CALLS));
    child.stdin!.write('next\n');
  } else if (what === 'end') break;
}
child.stdin!.end();
const k = (ir: number): string => `${(ir / 1000).toFixed(0)} k`;
if (hostile) {
  const m = (ir: number): string => `${(ir / 1e6).toFixed(1)} M`;
  console.log('Main-thread instructions per inspection of a 1 MB hostile text result (every family on, one call after a 64 KB warm-up; callgrind)\n');
  console.log(`| 1 MB of | ${[...new Set([...rows.keys()].map((key) => key.split('\t')[1]))].join(' | ')} |`);
  const names = [...new Set([...rows.keys()].map((key) => key.split('\t')[0]!))];
  const treeNames = [...new Set([...rows.keys()].map((key) => key.split('\t')[1]!))];
  console.log(`|---|${treeNames.map(() => '---:').join('|')}|`);
  for (const name of names) console.log(`| ${name} | ${treeNames.map((t) => m(rows.get(`${name}\t${t}`)!.get('on')!)).join(' | ')} |`);
  const of = (t: string): number[] => names.map((name) => rows.get(`${name}\t${t}`)!.get('on')!);
  console.log(`| sum | ${treeNames.map((t) => m(of(t).reduce((a, b) => a + b, 0))).join(' | ')} |`);
  console.log(`| largest | ${treeNames.map((t) => m(Math.max(...of(t)))).join(' | ')} |`);
  console.log(`\n(dumps in ${dir})`);
  process.exit(0);
}
console.log(`Main-thread instructions per inspection of a 32 KB text result (${CALLS} calls each, after ${WARMUP} warm-up calls; callgrind)\n`);
console.log('| 32 KB of | tree | every family on | defaults | every family off | added, every family on | added, defaults |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const [key, by] of rows) {
  const [name, tree] = key.split('\t');
  const on = by.get('on')!;
  const defaults = by.get('defaults')!;
  const off = by.get('off')!;
  console.log(`| ${name} | ${tree} | ${k(on)} | ${k(defaults)} | ${k(off)} | ${k(on - off)} | ${k(defaults - off)} |`);
}
console.log(`\n(dumps in ${dir})`);
