/**
 * Idle memory of the embedded default by module: `node bench/memory-modules.ts [--top N]`.
 *
 * First runs `bin/portcullis.js serve` (the embedded default, as bench/memory.ts does) with a module
 * hook that records every import (which module asked for which), and orders what it loaded so that a
 * module comes after everything it imports (a package counts as one module: its entry point). Then a
 * fresh Node with the launcher's heap flags imports the modules one by one in that order — a full,
 * memory-reducing collection after each — and reads the resident set (anonymous and file-backed) from
 * /proc: what a module adds is what it costs. Last it starts the gateway itself in that process: the
 * rest is the work of start-up (config, policy, audit store, the upstream child's catalog). Prints
 * the table by package and by src/ directory; writes nothing. File-backed pages are mostly V8's
 * optimizing compilers, paged in by whichever module first runs hot code.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstMatch } from '../test/helpers/gateway.ts';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const ROOT = new URL('..', import.meta.url).pathname;
const top = Number(process.argv[process.argv.indexOf('--top') + 1]) || 20;
const dir = mkdtempSync(join(tmpdir(), 'pc-modules-'));
const env = { PATH: process.env.PATH ?? '', HOME: dir, PORTCULLIS_DATA_DIR: dir };

// 1. What the embedded default imports, and from where.
const edges = join(dir, 'edges.tsv');
const loads = join(dir, 'loads.txt');
writeFileSync(
  join(dir, 'record.mjs'),
  `import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) { const r = next(specifier, context); appendFileSync(${JSON.stringify(edges)}, (context.parentURL ?? '') + '\\t' + r.url + '\\n'); return r; },
  load(url, context, next) { appendFileSync(${JSON.stringify(loads)}, url + '\\n'); return next(url, context); },
});
`,
);
const traced = spawn(process.execPath, ['--import', join(dir, 'record.mjs'), 'bin/portcullis.js', 'serve', '--data-dir', dir, '--port', '0', '--no-reload'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'ignore'] });
await firstMatch(traced, /All servers, namespaced:\s+(http:\/\/\S+)\/mcp\n/);
await new Promise((r) => setTimeout(r, 2000));
const exited = new Promise((r) => traced.once('exit', r));
traced.kill('SIGTERM');
await exited;

const pkg = (url: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
const loaded = new Set(readFileSync(loads, 'utf8').split('\n').filter(Boolean));
const children = new Map<string, string[]>();
const entries = new Set<string>();
for (const line of readFileSync(edges, 'utf8').split('\n').filter(Boolean)) {
  const [parent, child] = line.split('\t') as [string, string];
  if (!loaded.has(child) && !child.startsWith('node:')) continue; // resolved, never loaded (require.resolve)
  const list = children.get(parent) ?? [];
  if (!list.includes(child)) list.push(child);
  children.set(parent, list);
  if (pkg(child) && pkg(child) !== pkg(parent)) entries.add(child);
}
// Post-order: each module after what it imports; inside a package only its entry points are imported.
const order: string[] = [];
const seen = new Set<string>();
const visit = (url: string): void => {
  if (seen.has(url)) return;
  seen.add(url);
  for (const child of children.get(url) ?? []) visit(child);
  if ((!pkg(url) || entries.has(url)) && !url.endsWith('.json')) order.push(url);
};
const roots = (children.get('') ?? []).filter((u) => u.endsWith('/bin/portcullis.js'));
roots.forEach(visit);
const entryPoints = order.filter((u) => /\/(dist|src)\/(main|serve-main)\.(js|ts)$/.test(u) || u.endsWith('/bin/portcullis.js') || u.endsWith('/bin/check-node.js'));
const modules = order.filter((u) => !entryPoints.includes(u));
writeFileSync(join(dir, 'order.txt'), modules.join('\n'));

// 2. Import them one by one in a fresh process, then start the gateway there.
const measure = `
import { readFileSync } from 'node:fs';
const status = () => { const t = readFileSync('/proc/self/status', 'utf8'); const kb = (f) => Number(new RegExp(f + ':\\\\s+(\\\\d+)').exec(t)[1]); return { anon: kb('RssAnon'), file: kb('RssFile') }; };
const settle = async () => { for (let i = 0; i < 2; i++) { gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }); await new Promise((r) => setTimeout(r, 50)); } };
const rows = [];
await settle();
const base = status();
let previous = base;
for (const url of readFileSync(${JSON.stringify(join(dir, 'order.txt'))}, 'utf8').split('\\n')) {
  try { await import(url); } catch {}
  await settle();
  const now = status();
  rows.push({ url, anon: now.anon - previous.anon, file: now.file - previous.file });
  previous = now;
}
process.argv = [process.argv[0], 'serve-main', 'serve', '--data-dir', ${JSON.stringify(dir)}, '--port', '0', '--no-reload'];
void import(${JSON.stringify(entryPoints.find((u) => /serve-main/.test(u)) ?? '')});
setTimeout(async () => {
  await settle();
  const now = status();
  rows.push({ url: 'start-up work', anon: now.anon - previous.anon, file: now.file - previous.file });
  process.stderr.write('ROWS ' + JSON.stringify({ base, end: now, rows }) + '\\n');
  process.kill(process.pid, 'SIGTERM');
}, 8000);
`;
writeFileSync(join(dir, 'measure.mjs'), measure);
const measured = spawn(process.execPath, ['--max-semi-space-size=8', '--heap-growing-percent=50', '--expose-gc', join(dir, 'measure.mjs')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
let err = '';
measured.stderr!.on('data', (d: Buffer) => (err += d.toString()));
await new Promise((r) => measured.once('exit', r));
rmSync(dir, { recursive: true, force: true });
const found = /ROWS (.*)\n/.exec(err);
if (!found) throw new Error(`the measuring process failed: ${err.slice(-2000)}`);
const { base, end, rows } = JSON.parse(found[1]!) as { base: { anon: number; file: number }; end: { anon: number; file: number }; rows: Array<{ url: string; anon: number; file: number }> };

const group = (url: string): string => {
  if (url.startsWith('node:')) return 'node: built-in modules';
  const p = pkg(url);
  if (p) return p;
  const m = /\/(?:dist|src)\/(.*)\/[^/]+$/.exec(url);
  return m ? `src/${m[1]}` : url.startsWith('file:') ? 'src (top level)' : url;
};
const sums = new Map<string, { anon: number; file: number; count: number }>();
for (const row of rows) {
  const key = group(row.url);
  const sum = sums.get(key) ?? { anon: 0, file: 0, count: 0 };
  sum.anon += row.anon;
  sum.file += row.file;
  sum.count++;
  sums.set(key, sum);
}
const mb = (kb: number): string => (kb / 1024).toFixed(1);
const sorted = [...sums].sort((a, b) => b[1].anon + b[1].file - (a[1].anon + a[1].file));
const lines = ['| module | modules | anonymous MB | file-backed MB | total MB |', '|---|---:|---:|---:|---:|'];
lines.push(`| Node.js itself (before any import) | | ${mb(base.anon)} | ${mb(base.file)} | ${mb(base.anon + base.file)} |`);
for (const [key, s] of sorted.slice(0, top)) lines.push(`| ${key} | ${s.count} | ${mb(s.anon)} | ${mb(s.file)} | ${mb(s.anon + s.file)} |`);
const rest = sorted.slice(top).reduce((a, [, s]) => ({ anon: a.anon + s.anon, file: a.file + s.file, count: a.count + s.count }), { anon: 0, file: 0, count: 0 });
if (sorted.length > top) lines.push(`| ${sorted.length - top} others | ${rest.count} | ${mb(rest.anon)} | ${mb(rest.file)} | ${mb(rest.anon + rest.file)} |`);
lines.push(`| **resident set at the end** | ${rows.length - 1} | ${mb(end.anon)} | ${mb(end.file)} | ${mb(end.anon + end.file)} |`);
process.stdout.write(`${lines.join('\n')}\n`);
