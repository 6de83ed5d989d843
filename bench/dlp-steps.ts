/**
 * Where the DLP time goes on the ordinary 32 KB texts, step by step: `node bench/dlp-steps.ts [--rounds N] [--text NAME]`.
 *
 * Times, in one process, `detect` and `withViews` with every family on (what an inspection of a text
 * item adds) and each pass over the text they are made of, called alone on the same text with the
 * inputs `detect` would give it: the passes of `detect` (the Latin-1 copy, the ASCII test, the run
 * walk, the anchor pass with the secret rules, the personal-data regions and scanners, hidden Unicode)
 * and the views' steps (src/dlp/views.ts: the dechunked view, the decoded views and their gates, the
 * rejoined views, the normalised view's test, the spaced-letter probe, the unwrapped view). For
 * comparison, a bare character loop over the text and one native single-character search
 * (`includes`): the floor of a pass in JavaScript and of a native one. The character-class pass
 * (src/dlp/char-classes.ts) and the two passes that start from its bitsets are timed alone too. Each
 * round times a batch of each step in turn (CPU time of the process; the machine is shared); prints
 * the medians in µs. The steps overlap (the decoded views contain their gates) and are not meant to
 * add up exactly; they say which passes a shared one would have to replace. Writes nothing.
 */
import { compilePatterns, detect, type Detectors } from '../src/dlp/detect.ts';
import { processSecretSource } from '../src/config/secrets.ts';
import { byteListViews } from '../src/dlp/byte-lists.ts';
import { decodedViews, hasEncodedRun, longRuns, nextSpacedGroups } from '../src/dlp/decode.ts';
import { findHiddenUnicode } from '../src/dlp/injection.ts';
import { dechunkedView, hasNonAsciiOrControl, isAscii, normalizedView, unwrappedView } from '../src/dlp/normalize.ts';
import { findPii, PII_KINDS, regions, regionsInClasses } from '../src/dlp/pii.ts';
import { charClasses } from '../src/dlp/char-classes.ts';
import { rejoinViews } from '../src/dlp/rejoin.ts';
import { hasSpacedLetters, withViews } from '../src/dlp/views.ts';
import { ordinaryTexts } from './dlp-texts.ts';
import { answerHelp, option } from './usage.ts';

answerHelp(import.meta.url);

const ROUNDS = Number(option('--rounds') ?? 25);
const only = option('--text');
const BATCH = 10;

const all: Detectors = { secrets: true, pii: true, injection: true, patterns: true };
const secretsOnly: Detectors = { secrets: true, pii: false, injection: false, patterns: false };
const patterns = compilePatterns([{ name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block', arguments: true }], processSecretSource(process.env));
const kinds = new Set(PII_KINDS);

/** CPU µs per call, over a batch. */
const cpu = (f: () => unknown): number => {
  const start = process.cpuUsage();
  for (let k = 0; k < BATCH; k++) f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / BATCH;
};
const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const bare = (text: string): number => {
  let x = 0;
  for (let i = 0; i < text.length; i++) x += text.charCodeAt(i) & 1;
  return x;
};

for (const [name, text] of ordinaryTexts()) {
  if (only !== undefined && name !== only) continue;
  const bytes = Buffer.from(text, 'latin1');
  const ascii = isAscii(text);
  const runs = longRuns(text, ascii ? bytes : undefined);
  const found = regions(bytes, text.length);
  // The bitsets live in the module's memory until the next call: the steps that read them run after a
  // classification of this same text (every step below that classifies classifies `text`).
  const classes = charClasses(bytes, text.length);
  const report = detect(text, all, patterns, kinds);
  const seen = report.seen!;
  const steps: Record<string, () => unknown> = {
    'bare loop (floor of a JS pass)': () => bare(text),
    'includes(\'\\u0001\') (a native search)': () => text.includes('\u0001'),
    'detect, every family': () => detect(text, all, patterns, kinds),
    'withViews (what the views add)': () => withViews(text, report, all, patterns, kinds),
    '  Latin-1 copy': () => bytes.write(text, 0, 'latin1'),
    '  isAscii': () => isAscii(text),
    '  run walk (longRuns)': () => longRuns(text, ascii ? bytes : undefined),
    '  character classes (WebAssembly SIMD; none: not available)': () => charClasses(bytes, text.length),
    '  run walk from the classes': () => longRuns(text, ascii ? bytes : undefined, classes),
    '  personal-data regions from the classes': () => (classes ? regionsInClasses(classes) : undefined),
    '  anchor pass + secret rules (detect, secrets only)': () => detect(text, secretsOnly, undefined),
    '  personal-data regions': () => regions(bytes, text.length),
    '  personal-data scanners (findPii on regions)': () => findPii(text, kinds, bytes, found),
    '  hidden Unicode': () => findHiddenUnicode(text),
    '  dechunked view': () => dechunkedView(text),
    '  decoded views (all)': () => decodedViews(text, runs),
    '    runs read as encodings': () => hasEncodedRun(text, runs),
    '    spaced base64 probe': () => nextSpacedGroups(text, 0),
    '    byte and code lists': () => byteListViews(text, runs),
    '  rejoined views (around runs)': () => rejoinViews(text, { runs, glued: seen.glued, turned: seen.turned }, false),
    '  normalised view test': () => hasNonAsciiOrControl(text, seen.ascii),
    '  normalised view': () => normalizedView(text, seen.ascii),
    '  spaced letters probe': () => hasSpacedLetters(text),
    '  unwrapped view': () => unwrappedView(text, runs),
  };
  const times = new Map<string, number[]>(Object.keys(steps).map((k) => [k, []]));
  for (let k = 0; k < 3; k++) for (const f of Object.values(steps)) cpu(f);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? Object.entries(steps) : Object.entries(steps).reverse();
    for (const [step, f] of order) times.get(step)!.push(cpu(f));
  }
  console.log(`\n| ${name}: step | CPU µs p50 |\n|---|---:|`);
  for (const [step, xs] of times) console.log(`| ${step.replace(/^ +/, (s) => '\u00a0'.repeat(s.length * 2))} | ${p50(xs).toFixed(1)} |`);
}
