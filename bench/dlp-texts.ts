/**
 * The ordinary 32 KB texts the DLP benchmarks time (bench/dlp.ts, bench/dlp-views.ts): prose, JSON
 * records, log lines and one repeated character, flat as JSON.parse makes the strings of a result
 * (strings built by concatenation and slicing would be cons or sliced strings, slower to read).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const SIZE = 32 * 1024;

/** `unit()` repeated to SIZE characters. */
export function fill(unit: () => string): string {
  let s = '';
  while (s.length < SIZE) s += unit();
  return s.slice(0, SIZE);
}

/** `text` as a flat string, as JSON.parse makes it. */
export const flat = (text: string): string => JSON.parse(JSON.stringify(text)) as string;
const WORDS = 'the service returned a list of deployments and their status for the requested region while the scheduler kept retrying failed jobs with exponential backoff until the queue drained'.split(' ');

/** The four kinds of ordinary content, by name. */
export function ordinaryTexts(): Array<[string, string]> {
  let w = 0;
  return ([
    ['prose', fill(() => `${WORDS[(w++ * 7) % WORDS.length]} `)],
    ['JSON records', fill(() => `${JSON.stringify({ id: randomUUID(), name: `item-${w++}`, status: 'active', sha: createHash('sha1').update(String(w)).digest('hex'), count: w * 3, tags: ['a', 'b'] })},`)],
    ['log lines', fill(() => `2025-01-0${(w++ % 9) + 1}T12:00:00Z INFO request_id=${randomBytes(8).toString('hex')} user=alice latency_ms=${w % 500} path=/api/v1/items/${w}\n`)],
    ['x blob', 'x'.repeat(SIZE)],
  ] as Array<[string, string]>).map(([name, text]) => [name, flat(text)]);
}
