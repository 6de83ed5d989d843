/**
 * What the views of a text (src/dlp/views.ts: normalised, decoded, de-spaced, compacted, unglued) add
 * to detection on ordinary 32 KB texts: `node bench/dlp-views.ts [--runs N]`.
 *
 * For each kind of content: `detect` (the text as written, every family on), and what the views add
 * (`withViews` given that report: the fast checks, and the views' own detection when a text takes
 * one), run interleaved with a bare character loop over the same text, so the machine's drift cancels
 * in the ratio. (Timing `detectDeep` against `detect` instead measures mostly the noise of `detect`
 * itself on log lines.) The content is bench/dlp.ts's (bench/dlp-texts.ts: prose, JSON records, log
 * lines, one repeated character), plus texts that do take a view (a page of non-ASCII prose, a URL-heavy
 * log) to show the price when the fast path does not hold. Prints a table; writes nothing.
 */
import { processSecretSource } from '../src/config/secrets.ts';
import { compilePatterns, detect, type Detectors } from '../src/dlp/detect.ts';
import { secretScanner } from '../src/dlp/secrets.ts';
import { detectDeep, withViews } from '../src/dlp/views.ts';
import { fill, ordinaryTexts } from './dlp-texts.ts';
import { answerHelp } from './usage.ts';

answerHelp(import.meta.url);

const argv = process.argv.slice(2);
const RUNS = Number(argv.includes('--runs') ? argv[argv.indexOf('--runs') + 1] : 400);
const GERMAN = 'Der Dienst lieferte eine Liste der Bereitstellungen und ihren Status für die gewünschte Region, während der Planer fehlgeschlagene Aufträge erneut versuchte'.split(' ');
let w = 0;
const contents: Array<[string, string]> = [
  ...ordinaryTexts(),
  ['German prose (non-ASCII)', fill(() => `${GERMAN[(w++ * 7) % GERMAN.length]} `)],
  ['log lines with %-encoded URLs', fill(() => `GET /search?q=red%20shoes&page=${w++ % 9} 200 ${w % 500}ms\n`)],
];
const on: Detectors = { secrets: true, pii: true, injection: true, patterns: true };
const patterns = compilePatterns([{ name: 'canary', regex: 'CANARY-[0-9]{6}', action: 'block', arguments: true }], processSecretSource(process.env));
for (const rule of secretScanner().rules) rule.regex();
const p50 = (times: number[]): number => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;

const bare = (text: string): number => {
  let x = 0;
  for (let i = 0; i < text.length; i++) x += text.charCodeAt(i) & 1;
  return x;
};
console.log('| 32 KB of | detect p50 | views add p50 | bare loop p50 | views add, in bare loops | findings as written / with views |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, text] of contents) {
  const base = detect(text, on, patterns);
  for (let k = 0; k < 30; k++) withViews(text, base, on, patterns);
  const plain: number[] = [];
  const views: number[] = [];
  const loop: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    let t = performance.now();
    detect(text, on, patterns);
    plain.push(performance.now() - t);
    t = performance.now();
    withViews(text, base, on, patterns);
    views.push(performance.now() - t);
    t = performance.now();
    bare(text);
    loop.push(performance.now() - t);
  }
  const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;
  console.log(`| ${name} | ${us(p50(plain))} | ${us(p50(views))} | ${us(p50(loop))} | ${(p50(views) / p50(loop)).toFixed(2)} | ${base.findings.length} / ${detectDeep(text, on, patterns).findings.length} |`);
}
