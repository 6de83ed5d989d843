/**
 * A parser for the RE2 regular-expression syntax (the dialect of gitleaks' Go rules and, with `(?x)`,
 * of Nosey Parker's Rust rules; also what `toRe2Syntax` in src/validate emits for ECMAScript patterns).
 * It produces a small syntax tree that `compile.ts` turns into an automaton which runs in linear time.
 *
 * What RE2 cannot run in linear time is not in the syntax: no backreferences, no lookaround. Also
 * refused here: Unicode property classes (`\p{…}`), `\Q…\E`, and repeat counts over 2000.
 * Case folding under `i` is ASCII-only; `\w`, `\d`, `\s` and `\b` are ASCII (as RE2's Perl classes).
 */

/** A set of UTF-16 code units as sorted, disjoint, inclusive ranges: [lo0, hi0, lo1, hi1, …]. */
export type Ranges = readonly number[];

export type Assertion = 'bol' | 'eol' | 'bot' | 'eot' | 'word' | 'notword';

export type Node =
  | { readonly t: 'empty' }
  | { readonly t: 'set'; readonly ranges: Ranges }
  | { readonly t: 'cat'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly items: readonly Node[] }
  | { readonly t: 'rep'; readonly item: Node; readonly min: number; readonly max: number; readonly greedy: boolean }
  | { readonly t: 'group'; readonly item: Node; readonly capture: number }
  | { readonly t: 'assert'; readonly kind: Assertion };

export class RegexSyntaxError extends Error {
  override readonly name = 'RegexSyntaxError';
}

export const MAX_UNIT = 0xffff;
export const MAX_REPEAT = 2000;

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  x: boolean;
  U: boolean;
}

/** Sorts and merges ranges. */
export function normalize(ranges: readonly number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < ranges.length; k += 2) pairs.push([ranges[k]!, ranges[k + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const last = out.length - 1;
    if (out.length > 0 && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

export function negate(ranges: Ranges): number[] {
  const out: number[] = [];
  let next = 0;
  for (let k = 0; k < ranges.length; k += 2) {
    if (ranges[k]! > next) out.push(next, ranges[k]! - 1);
    next = ranges[k + 1]! + 1;
  }
  if (next <= MAX_UNIT) out.push(next, MAX_UNIT);
  return out;
}

/** Adds the other ASCII case of every letter in the set. */
export function foldAscii(ranges: Ranges): number[] {
  const out = [...ranges];
  for (let k = 0; k < ranges.length; k += 2) {
    const lo = ranges[k]!;
    const hi = ranges[k + 1]!;
    const a = Math.max(lo, 0x41);
    const b = Math.min(hi, 0x5a);
    if (a <= b) out.push(a + 32, b + 32);
    const c = Math.max(lo, 0x61);
    const d = Math.min(hi, 0x7a);
    if (c <= d) out.push(c - 32, d - 32);
  }
  return normalize(out);
}

const r = (...pairs: number[]): number[] => pairs;
export const DIGIT: Ranges = r(0x30, 0x39);
export const WORD: Ranges = r(0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a);
export const SPACE: Ranges = r(0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20);

const POSIX: Readonly<Record<string, Ranges>> = {
  alnum: r(0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a),
  alpha: r(0x41, 0x5a, 0x61, 0x7a),
  ascii: r(0x00, 0x7f),
  blank: r(0x09, 0x09, 0x20, 0x20),
  cntrl: r(0x00, 0x1f, 0x7f, 0x7f),
  digit: DIGIT,
  graph: r(0x21, 0x7e),
  lower: r(0x61, 0x7a),
  print: r(0x20, 0x7e),
  punct: r(0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e),
  space: r(0x09, 0x0d, 0x20, 0x20),
  upper: r(0x41, 0x5a),
  word: WORD,
  xdigit: r(0x30, 0x39, 0x41, 0x46, 0x61, 0x66),
};

// A copy of exactly its length: the ranges are built by pushing (room for 16 more), and every rule's AST
// is kept for as long as the process runs (one set per literal character: ~3,700 in the default rules).
const set = (ranges: Ranges): Node => ({ t: 'set', ranges: ranges.slice() });

class Parser {
  readonly #src: string;
  #pos = 0;
  #captures = 0;

  constructor(src: string) {
    this.#src = src;
  }

  get captures(): number {
    return this.#captures;
  }

  #fail(message: string): never {
    throw new RegexSyntaxError(`${message} at offset ${this.#pos}`);
  }

  #peek(offset = 0): string | undefined {
    return this.#src[this.#pos + offset];
  }

  #skipExtended(flags: Flags): void {
    if (!flags.x) return;
    for (;;) {
      const c = this.#peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') this.#pos++;
      else if (c === '#') {
        while (this.#pos < this.#src.length && this.#src[this.#pos] !== '\n') this.#pos++;
      } else return;
    }
  }

  parse(): Node {
    const flags: Flags = { i: false, m: false, s: false, x: false, U: false };
    const node = this.#alternation(flags, 0);
    if (this.#pos < this.#src.length) this.#fail('unmatched ")"');
    return node;
  }

  #alternation(flags: Flags, depth: number): Node {
    if (depth > 200) this.#fail('nested too deeply');
    const branches: Node[] = [];
    const local = { ...flags };
    for (;;) {
      branches.push(this.#concatenation(local, depth));
      if (this.#peek() !== '|') break;
      this.#pos++;
    }
    return branches.length === 1 ? branches[0]! : { t: 'alt', items: branches };
  }

  #concatenation(flags: Flags, depth: number): Node {
    const items: Node[] = [];
    for (;;) {
      this.#skipExtended(flags);
      const c = this.#peek();
      if (c === undefined || c === '|' || c === ')') break;
      let atom = this.#atom(flags, depth);
      if (atom === undefined) continue; // a flag group like (?i) changes flags and matches nothing
      atom = this.#quantifiers(atom, flags);
      items.push(atom);
    }
    if (items.length === 0) return { t: 'empty' };
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  #quantifiers(atom: Node, flags: Flags): Node {
    for (;;) {
      this.#skipExtended(flags);
      const c = this.#peek();
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.#src.slice(this.#pos));
        if (!m) return atom; // a literal "{", as RE2 reads it
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.#fail(`repeat count over ${MAX_REPEAT}`);
        if (max < min) this.#fail('repeat count max below min');
        this.#pos += m[0].length - 1;
      } else return atom;
      this.#pos++;
      let greedy = true;
      if (this.#peek() === '?') {
        greedy = false;
        this.#pos++;
      }
      if (flags.U) greedy = !greedy;
      if (atom.t === 'rep' || atom.t === 'empty' || atom.t === 'assert') this.#fail('a repetition of a repetition, an assertion or nothing');
      atom = { t: 'rep', item: atom, min, max, greedy };
    }
  }

  #atom(flags: Flags, depth: number): Node | undefined {
    const c = this.#peek()!;
    switch (c) {
      case '(':
        return this.#group(flags, depth);
      case '[':
        return set(this.#klass(flags));
      case '.':
        this.#pos++;
        return set(flags.s ? [0, MAX_UNIT] : negate([0x0a, 0x0a]));
      case '^':
        this.#pos++;
        return { t: 'assert', kind: flags.m ? 'bol' : 'bot' };
      case '$':
        this.#pos++;
        return { t: 'assert', kind: flags.m ? 'eol' : 'eot' };
      case '\\':
        return this.#escapeAtom(flags);
      case '*':
      case '+':
      case '?':
        this.#fail('nothing to repeat');
        break;
      default:
        break;
    }
    this.#pos++;
    return this.#literal(c.charCodeAt(0), flags);
  }

  #literal(unit: number, flags: Flags): Node {
    return set(flags.i ? foldAscii([unit, unit]) : [unit, unit]);
  }

  #group(flags: Flags, depth: number): Node | undefined {
    this.#pos++; // (
    if (this.#peek() === '?' && this.#peek(1) === '#') {
      // (?# comment ), as Rust's regex reads it
      const end = this.#src.indexOf(')', this.#pos);
      if (end < 0) this.#fail('missing ")" after a comment');
      this.#pos = end + 1;
      return undefined;
    }
    if (this.#peek() === '?') {
      const rest = this.#src.slice(this.#pos + 1);
      const named = /^(?:P?<([A-Za-z_][A-Za-z0-9_]*)>)/.exec(rest);
      if (named) {
        this.#pos += 1 + named[0].length;
        const capture = ++this.#captures;
        const item = this.#alternation({ ...flags }, depth + 1);
        this.#close();
        return { t: 'group', item, capture };
      }
      const m = /^([imsxU]*)(?:-([imsxU]*))?(:|\))/.exec(rest);
      if (!m) this.#fail('unsupported group syntax (lookaround and backreferences cannot run in linear time)');
      const next = { ...flags };
      for (const f of m[1]!) next[f as keyof Flags] = true;
      for (const f of m[2] ?? '') next[f as keyof Flags] = false;
      this.#pos += 1 + m[0].length;
      if (m[3] === ')') {
        Object.assign(flags, next); // (?i) applies to the rest of the enclosing group
        return undefined;
      }
      const item = this.#alternation(next, depth + 1);
      this.#close();
      return { t: 'group', item, capture: 0 };
    }
    const capture = ++this.#captures;
    const item = this.#alternation({ ...flags }, depth + 1);
    this.#close();
    return { t: 'group', item, capture };
  }

  #close(): void {
    if (this.#peek() !== ')') this.#fail('missing ")"');
    this.#pos++;
  }

  /** An escape outside a class. */
  #escapeAtom(flags: Flags): Node {
    const c = this.#peek(1);
    if (c === undefined) this.#fail('trailing backslash');
    switch (c) {
      case 'b':
        this.#pos += 2;
        return { t: 'assert', kind: 'word' };
      case 'B':
        this.#pos += 2;
        return { t: 'assert', kind: 'notword' };
      case 'A':
        this.#pos += 2;
        return { t: 'assert', kind: 'bot' };
      case 'z':
        this.#pos += 2;
        return { t: 'assert', kind: 'eot' };
      default: {
        const ranges = this.#escapeSet(flags);
        if (ranges[0]! > MAX_UNIT) this.#fail('code points beyond U+FFFF are not supported');
        return set(ranges);
      }
    }
  }

  /** An escape that stands for a set of units (inside or outside a class); advances past it. */
  #escapeSet(flags: Flags): number[] {
    const c = this.#peek(1)!;
    this.#pos += 2;
    switch (c) {
      case 'd': return [...DIGIT];
      case 'D': return negate(DIGIT);
      case 'w': return [...WORD];
      case 'W': return negate(WORD);
      case 's': return [...SPACE];
      case 'S': return negate(SPACE);
      case 'n': return [0x0a, 0x0a];
      case 't': return [0x09, 0x09];
      case 'r': return [0x0d, 0x0d];
      case 'f': return [0x0c, 0x0c];
      case 'v': return [0x0b, 0x0b];
      case 'a': return [0x07, 0x07];
      case '0': return [0, 0];
      case 'x': {
        let value: number;
        if (this.#peek() === '{') {
          const end = this.#src.indexOf('}', this.#pos);
          const digits = end < 0 ? '' : this.#src.slice(this.#pos + 1, end);
          if (!/^[0-9a-fA-F]{1,6}$/.test(digits)) this.#fail('\\x{…} needs hex digits');
          value = parseInt(digits, 16);
          this.#pos = end + 1;
        } else {
          const digits = this.#src.slice(this.#pos, this.#pos + 2);
          if (!/^[0-9a-fA-F]{2}$/.test(digits)) this.#fail('\\x needs two hex digits');
          value = parseInt(digits, 16);
          this.#pos += 2;
        }
        return flags.i ? foldAscii([value, value]) : [value, value];
      }
      case 'p':
      case 'P':
        this.#fail('Unicode property classes are not supported');
        break;
      default:
        if (/[A-Za-z0-9]/.test(c)) this.#fail(`unknown escape \\${c}`);
        break;
    }
    const unit = c.charCodeAt(0);
    return flags.i ? foldAscii([unit, unit]) : [unit, unit];
  }

  #klass(flags: Flags): number[] {
    this.#pos++; // [
    let negated = false;
    if (this.#peek() === '^') {
      negated = true;
      this.#pos++;
    }
    const out: number[] = [];
    let first = true;
    for (;;) {
      const c = this.#peek();
      if (c === undefined) this.#fail('missing "]"');
      if (c === ']' && !first) {
        this.#pos++;
        break;
      }
      first = false;
      if (c === '[' && this.#peek(1) === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.#src.slice(this.#pos));
        if (m && POSIX[m[2]!]) {
          out.push(...(m[1] ? negate(POSIX[m[2]!]!) : POSIX[m[2]!]!));
          this.#pos += m[0].length;
          continue;
        }
      }
      let lo: number;
      if (c === '\\') {
        const ranges = this.#escapeSet({ ...flags, i: false });
        if (ranges.length !== 2 || ranges[0] !== ranges[1]) {
          out.push(...ranges);
          continue;
        }
        lo = ranges[0]!;
      } else {
        lo = c.charCodeAt(0);
        this.#pos++;
      }
      if (this.#peek() === '-' && this.#peek(1) !== ']' && this.#peek(1) !== undefined) {
        this.#pos++;
        let hi: number;
        if (this.#peek() === '\\') {
          const ranges = this.#escapeSet({ ...flags, i: false });
          if (ranges.length !== 2 || ranges[0] !== ranges[1]) this.#fail('a class range must end in one character');
          hi = ranges[0]!;
        } else {
          hi = this.#src.charCodeAt(this.#pos);
          this.#pos++;
        }
        if (hi < lo) this.#fail('a class range out of order');
        // Beyond U+FFFF the text holds surrogate pairs: a range reaching past it keeps every unit up to U+FFFF.
        if (lo > MAX_UNIT) this.#fail('code points beyond U+FFFF are not supported');
        out.push(lo, Math.min(hi, MAX_UNIT));
      } else {
        if (lo > MAX_UNIT) this.#fail('code points beyond U+FFFF are not supported');
        out.push(lo, lo);
      }
    }
    let ranges = normalize(out);
    if (flags.i) ranges = foldAscii(ranges);
    return negated ? negate(ranges) : ranges;
  }
}

/** Parses `pattern` (RE2 syntax). Returns the tree and the number of capture groups. */
export function parseRegex(pattern: string): { node: Node; captures: number } {
  const parser = new Parser(pattern);
  const node = parser.parse();
  return { node, captures: parser.captures };
}

