/**
 * Start-up cost of an npm pin: `node bench/npm-pin.ts [rounds]` times the whole pin check a start
 * makes (`checkServerPin`) for server-filesystem run as Portcullis bundles it — the lockfile entry,
 * the command resolved into the verified directory, every code file hashed and compared with its
 * record — against the lockfile-only part alone (what main checked before), rounds interleaved so a
 * loaded machine hits both alike; and, for scale, what hashing the package's whole dependency closure
 * (left out on purpose) would cost. Reports medians in ms.
 */
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PORTCULLIS_ROOT } from '../src/config/defaults.ts';
import { findInstall, packageFiles, type PackageRecords } from '../src/supply/npm-pin.ts';
import { checkServerPin } from '../src/supply/server-pin.ts';

const ROUNDS = Number(process.argv[2] ?? 200);
const NAME = '@modelcontextprotocol/server-filesystem';
const lock = JSON.parse(readFileSync(join(PORTCULLIS_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
const entry = lock.packages[`node_modules/${NAME}`]!;
const spec = `${NAME}@${entry.version}`;
const script = join(PORTCULLIS_ROOT, 'node_modules', NAME, 'dist', 'index.js');
const server = { command: process.execPath, args: [script, '/tmp'], env: {}, restart: { initialDelayMs: 500, maxDelayMs: 30_000, maxRestarts: 100 }, namespace: true, disabled: false, auditArguments: 'redacted' as const, pinning: 'quarantine' as const, pin: { npm: spec, integrity: entry.integrity } };
const kept = new Map<string, { integrity?: string; files: Record<string, string> }>();
const packages: PackageRecords = { untrusted: () => undefined, recorded: (s) => kept.get(s), record: (s, integrity, files) => void kept.set(s, { ...(integrity ? { integrity } : {}), files }) };
const context = { cwd: process.cwd(), pathEnv: process.env.PATH, packageRoots: [PORTCULLIS_ROOT], allowUnpinned: false, packages };

const first = checkServerPin('files', server, context);
if (!first.ok) throw new Error(first.problem);
const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const full: number[] = [];
const lockOnly: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  let t = performance.now();
  const result = checkServerPin('files', server, context);
  full.push(performance.now() - t);
  if (!result.ok) throw new Error(result.problem);
  t = performance.now();
  findInstall(spec, entry.integrity, [PORTCULLIS_ROOT]);
  lockOnly.push(performance.now() - t);
}

/** Every package the server's dependencies resolve to (Node's lookup: node_modules of each folder up). */
function closure(dir: string, seen = new Set<string>()): Set<string> {
  if (seen.has(dir)) return seen;
  seen.add(dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
    for (let up = dir; ; up = dirname(up)) {
      const candidate = join(up, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        closure(realpathSync(candidate), seen);
        break;
      }
      if (dirname(up) === up) break;
    }
  }
  return seen;
}
const install = findInstall(spec, entry.integrity, [PORTCULLIS_ROOT]);
if ('problem' in install) throw new Error(install.problem);
const dirs = closure(install.dir);
const closureMs: number[] = [];
let closureFiles = 0;
for (let i = 0; i < Math.min(5, ROUNDS); i++) {
  const t = performance.now();
  closureFiles = 0;
  for (const dir of dirs) {
    const walked = packageFiles(dir);
    if ('files' in walked) closureFiles += Object.keys(walked.files).length;
  }
  closureMs.push(performance.now() - t);
}
const own = packageFiles(install.dir);
console.log(JSON.stringify({
  package: spec,
  files: 'files' in own ? Object.keys(own.files).length : 0,
  pinCheckMs: Number(median(full).toFixed(3)),
  lockfileOnlyMs: Number(median(lockOnly).toFixed(3)),
  closure: { packages: dirs.size, codeFiles: closureFiles, hashAllMs: Number(median(closureMs).toFixed(1)) },
  rounds: ROUNDS,
  nodeModulesEntries: readdirSync(join(PORTCULLIS_ROOT, 'node_modules')).length,
}));
