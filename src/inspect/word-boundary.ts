/**
 * The Unicode word boundary of the scanner's cue patterns, written as small as each place allows.
 *
 * `\b` of a cue pattern means "a letter or digit of any script on exactly one side": in full
 * `(?<=W)(?!W)|(?<!W)(?=W)` with W = `[\p{L}\p{N}_]`. V8 compiles each Unicode class to machine code of
 * about 7 KB (hundreds of ranges, surrogate pairs both ways), so a full boundary costs ~28 KB per `\b`,
 * and the cue patterns have hundreds: 5.5 MB of the idle gateway's heap was these. Where the pattern
 * itself fixes one side — `\b(?:ask|tell)` can only match where the next unit is a letter, `…(?:ed)?\b`
 * only after one, `\bnot\s` — the boundary is the test of the other side alone, one class, and means
 * exactly the same: the matching term consumes that side's unit in every match. Where neither side is
 * fixed (an optional or mixed term, a class the analysis does not know, the edge of a group) the full
 * boundary stays. test/inspect/word-boundary.test.ts checks the rewrite against the full boundary on
 * every cue pattern.
 */

const W = String.raw`[\p{L}\p{N}_]`;
export const FULL_BOUNDARY = `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;
const WORD = /^[\p{L}\p{N}_]$/u;

/** What one unit a term consumes is known to be: a letter/digit of W, never one, or either. */
type Side = 'word' | 'other' | 'unknown';
const merge = (a: Side, b: Side): Side => (a === b ? a : 'unknown');

interface Term {
  readonly start: number;
  readonly end: number;
  /** Consumes nothing (an assertion or a lookaround). */
  readonly zeroWidth: boolean;
  readonly boundary: boolean;
  readonly min: number;
  readonly first: Side;
  readonly last: Side;
}

/** W-membership of a character as `/iu` matches it: a character with other cases is known only if it is in W. */
function sideOfChar(c: string): Side {
  if (WORD.test(c)) return 'word';
  return c.toLowerCase() === c && c.toUpperCase() === c ? 'other' : 'unknown';
}

/** Escapes outside a class: the character classes we know, else the escaped character itself. */
function sideOfEscape(body: string): Side {
  switch (body[0]) {
    case 'd':
      return 'word';
    case 's':
    case 'n':
    case 'r':
    case 't':
    case 'f':
    case 'v':
      return 'other';
    case 'x':
      return sideOfChar(String.fromCodePoint(parseInt(body.slice(1), 16)));
    case 'u':
      return sideOfChar(String.fromCodePoint(parseInt(body.replace(/[u{}]/g, ''), 16)));
    default:
      // \w is ASCII letters, digits, `_` (and ſ, K under /iu): all in W. Other letters are classes
      // (\S, \D, \W, \p{…}) or back-references; punctuation is itself.
      if (body === 'w') return 'word';
      return /^[A-Za-z0-9]/.test(body) ? 'unknown' : sideOfChar(body);
  }
}

/** A class `[…]`: known only when not negated and every member is known to the same side. */
function sideOfClass(body: string): Side {
  if (body.startsWith('^') || body.length === 0) return 'unknown';
  let side: Side | undefined;
  const add = (s: Side) => (side = side === undefined ? s : merge(side, s));
  const chars = Array.from(body);
  for (let i = 0; i < chars.length; i++) {
    let c = chars[i]!;
    if (c === '\\') {
      const e = chars[++i] ?? '';
      if (e === 'p' && chars[i + 1] === '{') {
        const close = chars.indexOf('}', i);
        const name = chars.slice(i + 2, close).join('');
        add(name === 'L' || name === 'N' ? 'word' : 'unknown');
        i = close;
        continue;
      }
      if (/[A-Za-z0-9]/.test(e) && !'dswntrfv'.includes(e)) return 'unknown';
      // A range from an escape: not read here.
      if (e !== '-' && chars[i + 1] === '-' && chars[i + 2] !== undefined && chars[i + 2] !== ']') return 'unknown';
      add(sideOfEscape(e));
      continue;
    }
    if (chars[i + 1] === '-' && i + 2 < chars.length) {
      if (chars[i + 2] === '\\') return 'unknown';
      const from = c.codePointAt(0)!;
      const to = chars[i + 2]!.codePointAt(0)!;
      if (to - from > 0x400) return 'unknown';
      for (let u = from; u <= to; u++) add(sideOfChar(String.fromCodePoint(u)));
      i += 2;
      continue;
    }
    add(sideOfChar(c));
  }
  return side ?? 'unknown';
}

interface Boundary {
  readonly start: number;
  /** What replaces it. */
  readonly form: string;
  /** Written once before a run of alternatives that all start with it instead (see `#hoist`). */
  hoisted: boolean;
}

/** The boundary as the test of one side where the other is fixed (see the top of this file). */
function formOf(next: Side, previous: Side): string {
  if (next === 'word') return `(?<!${W})`;
  if (next === 'other') return `(?<=${W})`;
  if (previous === 'word') return `(?!${W})`;
  if (previous === 'other') return `(?=${W})`;
  return FULL_BOUNDARY;
}

/** Parses a pattern (as the `u` flag reads it) into alternatives of terms, just enough to see each `\b`'s neighbours. */
class Reader {
  #i = 0;
  readonly boundaries: Boundary[] = [];
  readonly insertions: Array<{ at: number; text: string }> = [];
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }

  parse(): void {
    this.#alternatives();
    if (this.#i !== this.source.length) throw new Error(`unbalanced ')' at ${this.#i} in ${this.source}`);
  }

  /**
   * `\bA|\bB|C` is `\b(?:A|B)|C`: an assertion that consecutive alternatives start with can be tested once
   * before them, at the same position and in the same order, when each one's boundary has the same form
   * (each was read from that alternative's own first unit). Most cue patterns are such lists.
   */
  #hoist(alternatives: ReadonlyArray<{ start: number; end: number; lead: Boundary | undefined }>): void {
    for (let k = 0; k < alternatives.length; ) {
      const form = alternatives[k]!.lead?.form;
      let n = 1;
      while (form !== undefined && alternatives[k + n]?.lead?.form === form) n++;
      if (n >= 2) {
        for (let j = k; j < k + n; j++) alternatives[j]!.lead!.hoisted = true;
        this.insertions.push({ at: alternatives[k]!.start, text: `${form}(?:` }, { at: alternatives[k + n - 1]!.end, text: ')' });
      }
      k += n;
    }
  }

  /** Returns the side of the first and last unit every alternative consumes. */
  #alternatives(): { first: Side; last: Side; nullable: boolean } {
    let result: { first: Side; last: Side; nullable: boolean } | undefined;
    const alternatives: Array<{ start: number; end: number; lead: Boundary | undefined }> = [];
    for (;;) {
      const start = this.#i;
      const { terms: seq, lead } = this.#sequence();
      alternatives.push({ start, end: this.#i, lead });
      const own = { first: firstOf(seq, 0), last: lastOf(seq, seq.length), nullable: seq.every((t) => t.zeroWidth || t.min === 0) };
      result = result === undefined ? own : { first: merge(result.first, own.first), last: merge(result.last, own.last), nullable: result.nullable || own.nullable };
      if (this.source[this.#i] !== '|') break;
      this.#i++;
    }
    this.#hoist(alternatives);
    return result;
  }

  #sequence(): { terms: Term[]; lead: Boundary | undefined } {
    const terms: Term[] = [];
    const s = this.source;
    while (this.#i < s.length && s[this.#i] !== '|' && s[this.#i] !== ')') {
      const start = this.#i;
      let first: Side = 'unknown';
      let last: Side = 'unknown';
      let zeroWidth = false;
      let boundary = false;
      let nullable = false;
      const c = s[this.#i]!;
      if (c === '(') {
        let lookaround = false;
        if (s.startsWith('(?:', this.#i)) this.#i += 3;
        else if (/^\(\?<?[=!]/.test(s.slice(this.#i, this.#i + 4))) {
          lookaround = true;
          this.#i += s[this.#i + 2] === '<' ? 4 : 3;
        } else if (s.startsWith('(?<', this.#i)) this.#i = s.indexOf('>', this.#i) + 1;
        else this.#i++;
        const inner = this.#alternatives();
        if (s[this.#i] !== ')') throw new Error(`unclosed group at ${start} in ${s}`);
        this.#i++;
        if (lookaround) zeroWidth = true;
        else if (inner.nullable) nullable = true;
        else ({ first, last } = inner);
      } else if (c === '[') {
        let j = this.#i + 1;
        while (s[j] !== ']') j += s[j] === '\\' ? 2 : 1;
        first = last = sideOfClass(s.slice(this.#i + 1, j));
        this.#i = j + 1;
      } else if (c === '\\') {
        const e = s[this.#i + 1]!;
        let end = this.#i + 2;
        if (e === 'p' || e === 'P' || (e === 'u' && s[end] === '{')) end = s.indexOf('}', end) + 1;
        else if (e === 'u') end += 4;
        else if (e === 'x') end += 2;
        else if (e === 'k') end = s.indexOf('>', end) + 1;
        else if (e === 'c') end += 1;
        if (e === 'b' || e === 'B') {
          zeroWidth = true;
          boundary = e === 'b';
        } else first = last = sideOfEscape(s.slice(this.#i + 1, end));
        this.#i = end;
      } else if (c === '^' || c === '$') {
        zeroWidth = true;
        this.#i++;
      } else if (c === '.') {
        this.#i++;
      } else {
        const ch = String.fromCodePoint(s.codePointAt(this.#i)!);
        first = last = sideOfChar(ch);
        this.#i += ch.length;
      }
      let min = 1;
      const q = /^(?:[*+?]|\{(\d+)(?:,\d*)?\})\??/.exec(s.slice(this.#i));
      if (q) {
        min = q[0][0] === '+' ? 1 : q[0][0] === '{' ? Number(q[1]) : 0;
        this.#i += q[0].length;
      }
      if (nullable) min = 0;
      terms.push({ start, end: this.#i, zeroWidth, boundary, min, first, last });
    }
    let lead: Boundary | undefined;
    for (let k = 0; k < terms.length; k++) {
      if (!terms[k]!.boundary) continue;
      const b: Boundary = { start: terms[k]!.start, form: formOf(firstOf(terms, k + 1), lastOf(terms, k)), hoisted: false };
      this.boundaries.push(b);
      if (k === 0) lead = b;
    }
    return { terms, lead };
  }
}

/** The side of the first unit that terms[from…] consume; 'unknown' if they can consume none. */
function firstOf(terms: readonly Term[], from: number): Side {
  for (let k = from; k < terms.length; k++) {
    const t = terms[k]!;
    if (t.zeroWidth) continue;
    if (t.min === 0) return merge(t.first, firstOf(terms, k + 1));
    return t.first;
  }
  return 'unknown';
}

/** The side of the last unit that terms[…before) consume; 'unknown' if they can consume none. */
function lastOf(terms: readonly Term[], before: number): Side {
  for (let k = before - 1; k >= 0; k--) {
    const t = terms[k]!;
    if (t.zeroWidth) continue;
    if (t.min === 0) return merge(t.last, lastOf(terms, k));
    return t.last;
  }
  return 'unknown';
}

/**
 * `source` with every `\b` replaced by the Unicode word boundary, as the test of one side where the
 * pattern fixes the other (see the top of this file), the full boundary elsewhere.
 */
export function unicodeBoundaries(source: string): string {
  const reader = new Reader(source);
  reader.parse();
  // Edits in source order; an insertion before a boundary at the same place.
  const edits = [
    ...reader.insertions.map((e) => ({ at: e.at, length: 0, text: e.text })),
    ...reader.boundaries.map((b) => ({ at: b.start, length: 2, text: b.hoisted ? '' : b.form })),
  ].sort((x, y) => x.at - y.at || x.length - y.length);
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += source.slice(at, e.at) + e.text;
    at = e.at + e.length;
  }
  return out + source.slice(at);
}
