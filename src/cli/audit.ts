/**
 * `portcullis audit verify` and `portcullis audit query`: read the trail the config names.
 */
import { canonicalJson } from '../audit/canonical.ts';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Checkpoint } from '../audit/checkpoint.ts';
import { csvCell, displayJson, displayText } from '../audit/display.ts';
import { openAuditStore, verifyKeyFor } from '../audit/open.ts';
import type { AuditRecord, Decision } from '../audit/record.ts';
import { verifyTrail } from '../audit/verify.ts';
import { readCuts, readHeadNotes } from '../audit/head-note.ts';
import { isRotatedSegment } from '../audit/jsonl-store.ts';
import type { AuditQuery } from '../audit/store.ts';
import { COLUMN_MISMATCH, mismatchText, type ColumnMismatch } from '../audit/derived-columns.ts';
import { formatProblems, loadForRun } from './config-source.ts';
import { defaultDataDir } from '../config/defaults.ts';
import type { Io } from './serve.ts';

const DECISIONS: readonly Decision[] = ['allowed', 'denied', 'error', 'timeout', 'approval', 'intent', 'alert'];

/** `7d`, `12h`, `30m` or an ISO date → ISO time. */
export function parseSince(value: string, now = Date.now()): string | undefined {
  const relative = /^(\d+)([dhm])$/.exec(value);
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return new Date(now - Number(relative[1]) * unit).toISOString();
  }
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** `--since` as an ISO time, or undefined after telling the user what is accepted. */
function sinceOption(value: string, io: Pick<Io, 'err'>): string | undefined {
  const since = parseSince(value);
  if (!since) io.err(`portcullis: --since must be like 7d, 12h, 30m or an ISO date (got "${value}")\n`);
  return since;
}

async function openStore(options: { config?: string; dataDir?: string }, io: Pick<Io, 'err' | 'secrets'>) {
  const loaded = loadForRun(options.config, options.dataDir, io.secrets);
  if (!loaded.ok) {
    io.err(`portcullis: ${loaded.source} is invalid:\n${formatProblems(loaded.problems)}\n`);
    return undefined;
  }
  const store = await openAuditStore(loaded.config, io.secrets);
  if (!store) {
    io.err('portcullis: audit.store is off in this config; there is no trail to read\n');
    return undefined;
  }
  if (store.kind === 'stdout') {
    io.err('portcullis: audit.store is stdout; read the trail where your log shipper stores it\n');
    return undefined;
  }
  return { store, config: loaded.config };
}

/** Checkpoints from a witness file (one JSON object per line), or the problem reading it. */
function readWitness(file: string): Checkpoint[] | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return `cannot read the witness ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  const out: Checkpoint[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.trim()) continue;
    try {
      const c = JSON.parse(lines[i]!) as Checkpoint;
      if (typeof c.instance !== 'string' || typeof c.seq !== 'number' || typeof c.hash !== 'string' || typeof c.signature !== 'string') throw new Error('not a checkpoint');
      out.push(c);
    } catch {
      return `${file} line ${i + 1} is not a checkpoint (expected one JSON object per line with instance, seq, hash, time, keyId, signature)`;
    }
  }
  return out;
}

export async function verify(
  options: { config?: string; dataDir?: string; since?: string; witness?: string; live?: boolean },
  io: Pick<Io, 'out' | 'err' | 'secrets'>,
): Promise<number> {
  const since = options.since === undefined ? undefined : sinceOption(options.since, io);
  if (options.since !== undefined && !since) return 2;
  const opened = await openStore(options, io);
  if (!opened) return 2;
  const { store, config } = opened;
  try {
    const key = verifyKeyFor(config, io.secrets);
    // The witness named on the command line, else the one the config publishes to (when it exists).
    const witnessFile = options.witness ?? (config.audit.witness && existsSync(config.audit.witness) ? config.audit.witness : undefined);
    const witness = witnessFile === undefined ? [] : readWitness(witnessFile);
    if (typeof witness === 'string') {
      io.err(`portcullis: ${witness}\n`);
      return 2;
    }
    if (witness.length > 0 && !key) {
      io.err('portcullis: --witness needs the key that signed its checkpoints (audit.signingKey or audit.verifyKey)\n');
      return 2;
    }
    // --since checks only the records from that time on, trusting the first one's link (a quick check
    // of recent history; a full verify anchors every chain at its start or a checkpoint).
    const records = since ? filterSince(store.all(), since) : store.all();
    // With a key, checkpoints are required (signed, at every multiple of checkpointEvery, covering the tail).
    const strict = key && !since ? { every: config.audit.checkpointEvery, live: options.live === true } : undefined;
    // Where the gateways writing into this data directory last committed each chain (audit/head-note.ts).
    const dataDir = config.dataDir ?? defaultDataDir(io.secrets.env);
    // A rotated-out JSON Lines segment is history, not the trail's end: the notes speak of the end.
    const segment = config.audit.store === 'jsonl' && typeof config.audit.path === 'string' && isRotatedSegment(config.audit.path);
    const heads = segment ? new Map() : readHeadNotes(dataDir);
    const cuts = segment ? [] : readCuts(dataDir);
    for (const problem of [heads, cuts]) {
      if (typeof problem === 'string') {
        io.err(`portcullis: ${problem}\n`);
        return 2;
      }
    }
    const result = await verifyTrail(records, await store.checkpoints(), key, { trustStart: since !== undefined, strict, witness, heads: heads as Exclude<typeof heads, string>, cuts: cuts as Exclude<typeof cuts, string> });
    if (result.broken) {
      const b = result.broken;
      io.out(`BROKEN: chain ${displayText(JSON.stringify(b.instance))}, record ${b.seq}: ${b.problem} (${result.records} records verified before it)\n`);
      return 1;
    }
    const signed = result.checkpoints - result.unverifiedCheckpoints;
    io.out(
      `OK: ${result.records} records, every chain intact; ${result.checkpoints} checkpoints` +
        (result.checkpoints ? ` (${signed} signatures verified${result.unverifiedCheckpoints ? `, ${result.unverifiedCheckpoints} not verified: ${key ? 'unsigned' : 'no audit.signingKey or audit.verifyKey configured'}` : ''})` : '') +
        (witnessFile ? `; ${witness.length} witness checkpoints agree` : '') +
        '\n',
    );
    // Where each chain's signatures end: records past that point could be cut without a trace here.
    for (const c of result.chains) {
      io.out(`  chain ${displayText(JSON.stringify(c.instance))}: ${c.head} records, last signed checkpoint at ${c.signedUpTo ? `record ${c.signedUpTo}` : 'none'}\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export interface QueryOptions {
  config?: string;
  dataDir?: string;
  agent?: string;
  tool?: string;
  server?: string;
  decision?: string;
  since?: string;
  limit?: string;
  json?: boolean;
  csv?: boolean;
}

const CSV_COLUMNS = ['time', 'instance', 'seq', 'agent', 'server', 'method', 'target', 'decision', 'code', 'latencyMs', 'argsHash'] as const;


export async function query(options: QueryOptions, io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  const filter: AuditQuery = {};
  if (options.decision !== undefined) {
    if (!DECISIONS.includes(options.decision as Decision)) {
      io.err(`portcullis: --decision must be one of ${DECISIONS.join(', ')} (got "${options.decision}")\n`);
      return 2;
    }
    filter.decision = options.decision as Decision;
  }
  if (options.since !== undefined) {
    const since = sinceOption(options.since, io);
    if (!since) return 2;
    filter.since = since;
  }
  if (options.limit !== undefined) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1) {
      io.err(`portcullis: --limit must be a positive integer (got "${options.limit}")\n`);
      return 2;
    }
    filter.limit = limit;
  }
  if (options.agent !== undefined) filter.agent = options.agent;
  if (options.tool !== undefined) filter.target = options.tool;
  if (options.server !== undefined) filter.server = options.server;
  const opened = await openStore(options, io);
  if (!opened) return 2;
  const { store } = opened;
  try {
    const mismatches: ColumnMismatch[] = [];
    const records: AuditRecord[] = await store.query(filter, mismatches);
    if (options.json) {
      for (const r of records) io.out(`${displayJson(canonicalJson(r))}\n`);
    } else if (options.csv) {
      io.out(`${CSV_COLUMNS.join(',')}\n`);
      for (const r of records) {
        const row = { ...r, agent: r.principal.agent };
        io.out(`${CSV_COLUMNS.map((c) => csvCell((row as Record<string, unknown>)[c])).join(',')}\n`);
      }
    } else {
      for (const r of records) io.out(line(r));
      io.out(`${records.length} record${records.length === 1 ? '' : 's'}\n`);
    }
    return reportMismatches(mismatches, io);
  } finally {
    await store.close();
  }
}

/**
 * Rows whose index columns disagree with their records, on stderr, and the exit code: 1 when there are
 * any. The answer above them was selected and shown by what the records say, so a column edited outside
 * the gateway hides no call; the exit code and the message say the store was edited (run `audit verify`).
 */
function reportMismatches(mismatches: readonly ColumnMismatch[], io: Pick<Io, 'err'>, seen = new Set<string>()): number {
  for (const m of mismatches) {
    const key = `${m.instance}\n${m.seq}`;
    if (seen.has(key)) continue;
    seen.add(key);
    io.err(`portcullis: ${COLUMN_MISMATCH}: ${displayText(mismatchText(m))}; selected and shown by what the record says (run portcullis audit verify)\n`);
  }
  return mismatches.length > 0 || seen.size > 0 ? 1 : 0;
}

/** `portcullis audit keygen --out FILE`: a new Ed25519 key for checkpoint signatures. */
export function keygen(options: { out: string; force?: boolean }, io: Pick<Io, 'out' | 'err'>): number {
  if (existsSync(options.out) && !options.force) {
    io.err(`portcullis: ${options.out} already exists; use --force to replace it (old checkpoints then need the old public key)\n`);
    return 2;
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(options.out, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  io.out(
    `Wrote the private key to ${options.out} (mode 600). In the config:\n  audit: { signingKey: "file:${options.out}" }\n\n` +
      `Public key, for audit.verifyKey where the trail is checked:\n${publicKey.export({ type: 'spki', format: 'pem' }).toString()}`,
  );
  return 0;
}

/** One record as a line of text; every field a caller could have chosen is escaped (see display.ts). */
function line(r: AuditRecord): string {
  const d = (v: unknown) => displayText(String(v));
  return `${d(r.time)}  ${d(r.decision).padEnd(8)} ${d(r.principal.agent)}  ${d(r.method)} ${d(r.server ?? '')}${r.target ? ` ${d(r.target)}` : ''}${r.code ? `  [${d(r.code)}]` : ''}\n`;
}

/** `portcullis audit tail [-n N] [-f]`: the latest records; with -f, new ones as they are written. */
export async function tail(
  options: { config?: string; dataDir?: string; lines?: string; follow?: boolean; json?: boolean },
  io: Pick<Io, 'out' | 'err' | 'secrets' | 'onSignal'>,
): Promise<number> {
  const count = Number(options.lines ?? 10);
  if (!Number.isInteger(count) || count < 0) {
    io.err(`portcullis: -n must be a non-negative integer (got "${options.lines}")\n`);
    return 2;
  }
  const opened = await openStore(options, io);
  if (!opened) return 2;
  const { store } = opened;
  const show = (r: AuditRecord) => io.out(options.json ? `${displayJson(canonicalJson(r))}\n` : line(r));
  const seen = new Set<string>();
  // Rows whose columns disagree with their records, each reported once however often a poll reads it.
  const reported = new Set<string>();
  const read = async (filter: AuditQuery) => {
    const mismatches: ColumnMismatch[] = [];
    const records = await store.query(filter, mismatches);
    reportMismatches(mismatches, io, reported);
    return records;
  };
  let since = '';
  const emit = (records: AuditRecord[]) => {
    for (const r of records) {
      const key = `${r.instance}:${r.seq}`;
      if (seen.has(key)) continue;
      seen.add(key);
      show(r);
      if (r.time > since) since = r.time;
    }
    // Only records at the latest instant can come again; forget the rest.
    for (const key of seen) if (!records.some((r) => `${r.instance}:${r.seq}` === key && r.time === since)) seen.delete(key);
  };
  try {
    const all = await read({});
    emit(all.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0)).slice(-count));
    if (!options.follow) return reported.size > 0 ? 1 : 0;
    let stopped = false;
    io.onSignal(() => {
      stopped = true;
    });
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      emit(await read(since ? { since } : {}));
    }
    return reported.size > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

/** `portcullis audit export --since … --to FILE`: records as JSON Lines plus their checkpoints, verifiable offline. */
export async function exportTrail(options: { config?: string; dataDir?: string; since?: string; to: string }, io: Pick<Io, 'out' | 'err' | 'secrets'>): Promise<number> {
  const filter: AuditQuery = {};
  if (options.since !== undefined) {
    const since = sinceOption(options.since, io);
    if (!since) return 2;
    filter.since = since;
  }
  const opened = await openStore(options, io);
  if (!opened) return 2;
  const { store } = opened;
  try {
    const mismatches: ColumnMismatch[] = [];
    const records = await store.query(filter, mismatches);
    writeFileSync(options.to, records.map((r) => `${JSON.stringify(r)}\n`).join(''), { mode: 0o600 });
    const checkpoints = await store.checkpoints();
    writeFileSync(`${options.to}.checkpoints`, checkpoints.map((c) => `${JSON.stringify(c)}\n`).join(''), { mode: 0o600 });
    io.out(
      `Exported ${records.length} records to ${options.to} and ${checkpoints.length} checkpoints to ${options.to}.checkpoints.\n` +
        `Verify it anywhere: a config with audit: { store: jsonl, path: ${options.to} } and \`portcullis audit verify\`.\n`,
    );
    return reportMismatches(mismatches, io);
  } finally {
    await store.close();
  }
}

async function* filterSince(records: AsyncIterable<AuditRecord>, since: string): AsyncIterable<AuditRecord> {
  for await (const r of records) if (r.time >= since) yield r;
}
