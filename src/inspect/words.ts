/** Words and sentences in any script, for the scanner's signals (signals.ts, structure.ts). */

import { releasable } from '../util/regexp-code.ts';
import { unicodeBoundaries } from './word-boundary.ts';

/**
 * `\b` of JavaScript knows only ASCII letters: "не", "über", "étape" have no boundary before them.
 * The cue patterns are written with `\b` and compiled with a boundary of Unicode letters and digits
 * (word-boundary.ts: one side's test where the pattern fixes the other, both sides elsewhere).
 */
/** Likewise `\w` knows only ASCII: "gegenüber", "пользователю" are words of letters too. */
const LETTERS = String.raw`\p{L}\p{M}\p{N}_`;
/** `\w` as Unicode letters, marks, digits and `_`: in a character class its members, elsewhere a class of them. */
function unicodeWords(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      out += next === 'w' ? (inClass ? LETTERS : `[${LETTERS}]`) : c + (next ?? '');
      i++;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    out += c;
  }
  return out;
}
// (Only patterns with words of other scripts or accents need it: a Unicode class in every gap costs several times the
// time, and an English pattern's gaps are English words.)
// Their machine code (~4 MB after one scan) is dropped when the gateway is idle (util/regexp-code.ts).
export const P = (source: string): RegExp => releasable(new RegExp(unicodeBoundaries(/[^\x00-\x7F]/.test(source) ? unicodeWords(source) : source), 'iu'));

/** Sentences: split at sentence ends and line breaks (a long sentence is cut, every part is read). */
export function sentences(text: string): string[] {
  const out: string[] = [];
  // (The Devanagari danda `।` ends a sentence as `.` does.)
  for (const part of text.split(/(?<=[.!?;。！？；।॥])\s+|\n+|(?<=[。！？；])/u)) {
    const s = part.trim();
    if (!s) continue;
    for (let i = 0; i < s.length; i += 600) out.push(s.slice(i, i + 640));
  }
  return out;
}
