/**
 * Regular expressions that come from outside the code (a server's `inputSchema` patterns, policy value
 * patterns) run on RE2 (`re2js`, pure JavaScript): matching time is linear in the input, whatever the
 * pattern, so `^(a|aa)+$` on a long argument cannot stall the event loop as a backtracking engine would.
 *
 * The patterns are written in ECMAScript syntax (JSON Schema 2020-12 §6.4: ECMA-262 dialect) and are
 * translated to RE2 syntax with the ECMAScript meaning kept: `.` excludes every line terminator, `\s`
 * is ECMAScript's (Unicode) white space, `\uXXXX` and `\u{…}` escapes, named groups. What RE2 cannot do
 * in linear time — backreferences, lookahead and lookbehind — is refused with `UnsupportedPattern`, as is
 * anything RE2 itself refuses (a repeat count over 1000, for one). A refused pattern is never replaced
 * by a looser check: callers refuse what it was meant to check.
 *
 * Not kept: ECMAScript's Unicode case folding under the `i` flag is RE2's simple folding; the `v` flag
 * (set notation) is refused.
 */
import type { RE2JS } from 're2js';
import { re2 } from '../util/re2.ts';

/** A pattern the linear-time engine cannot run with its ECMAScript meaning; the message says why. */
export class UnsupportedPattern extends Error {
  override readonly name = 'UnsupportedPattern';
}

export interface LinearRegExp {
  /** True when the pattern matches somewhere in `input` (ECMAScript `RegExp.prototype.test`). */
  test(input: string): boolean;
  toString(): string;
}

/** ECMAScript WhiteSpace and LineTerminator code points (ECMA-262 §22.2.2.9, `\s`), as ranges. */
const WHITE_SPACE: readonly (readonly [number, number])[] = [
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
];
const MAX_CODE_POINT = 0x10ffff;

const hex = (n: number): string => `\\x{${n.toString(16)}}`;
const ranges = (list: readonly (readonly [number, number])[]): string => list.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');
const complement = (list: readonly (readonly [number, number])[]): [number, number][] => {
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of list) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
};
const SPACE = ranges(WHITE_SPACE);
const NOT_SPACE = ranges(complement(WHITE_SPACE));
const LINE_TERMINATORS = ranges([[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]]);
const ANY = `${hex(0)}-${hex(MAX_CODE_POINT)}`;

/** ECMAScript long General_Category names RE2 knows only by their short alias. */
const CATEGORY: Readonly<Record<string, string>> = {
  Letter: 'L', Cased_Letter: 'L', Uppercase_Letter: 'Lu', Lowercase_Letter: 'Ll', Titlecase_Letter: 'Lt', Modifier_Letter: 'Lm', Other_Letter: 'Lo',
  Mark: 'M', Nonspacing_Mark: 'Mn', Spacing_Mark: 'Mc', Enclosing_Mark: 'Me',
  Number: 'N', Decimal_Number: 'Nd', digit: 'Nd', Letter_Number: 'Nl', Other_Number: 'No',
  Punctuation: 'P', punct: 'P', Connector_Punctuation: 'Pc', Dash_Punctuation: 'Pd', Open_Punctuation: 'Ps', Close_Punctuation: 'Pe',
  Initial_Punctuation: 'Pi', Final_Punctuation: 'Pf', Other_Punctuation: 'Po',
  Symbol: 'S', Math_Symbol: 'Sm', Currency_Symbol: 'Sc', Modifier_Symbol: 'Sk', Other_Symbol: 'So',
  Separator: 'Z', Space_Separator: 'Zs', Line_Separator: 'Zl', Paragraph_Separator: 'Zp',
  Other: 'C', Control: 'Cc', Format: 'Cf', Surrogate: 'Cs', Private_Use: 'Co', Unassigned: 'Cn',
};

const SYNTAX = new Set([...'^$\\.*+?()[]{}|/-']);
const isHex = (s: string): boolean => /^[0-9a-fA-F]+$/.test(s);

/**
 * One escape sequence starting at `pattern[i] === '\\'`: its RE2 text and length. `inClass`: inside
 * `[...]`, where `\b` is a backspace and `\s` expands to ranges without brackets.
 */
function escape(pattern: string, i: number, inClass: boolean): { text: string; length: number } {
  const c = pattern[i + 1];
  if (c === undefined) throw new UnsupportedPattern('the pattern ends with a lone backslash');
  switch (c) {
    case 'd': case 'D': case 'w': case 'W':
      return { text: `\\${c}`, length: 2 };
    case 'b': case 'B':
      if (inClass) {
        if (c === 'B') throw new UnsupportedPattern('\\B inside a character class is not valid');
        return { text: hex(8), length: 2 };
      }
      return { text: `\\${c}`, length: 2 };
    case 's':
      return { text: inClass ? SPACE : `[${SPACE}]`, length: 2 };
    case 'S':
      return { text: inClass ? NOT_SPACE : `[${NOT_SPACE}]`, length: 2 };
    case 't': return { text: hex(9), length: 2 };
    case 'n': return { text: hex(10), length: 2 };
    case 'v': return { text: hex(11), length: 2 };
    case 'f': return { text: hex(12), length: 2 };
    case 'r': return { text: hex(13), length: 2 };
    case '0':
      if (/[0-9]/.test(pattern[i + 2] ?? '')) throw new UnsupportedPattern('octal escapes are not valid in a Unicode pattern');
      return { text: hex(0), length: 2 };
    case 'c': {
      const letter = pattern[i + 2] ?? '';
      if (!/^[A-Za-z]$/.test(letter)) throw new UnsupportedPattern('\\c must be followed by a letter');
      return { text: hex(letter.charCodeAt(0) % 32), length: 3 };
    }
    case 'x': {
      const digits = pattern.slice(i + 2, i + 4);
      if (digits.length !== 2 || !isHex(digits)) throw new UnsupportedPattern('\\x must be followed by two hex digits');
      return { text: hex(parseInt(digits, 16)), length: 4 };
    }
    case 'u': {
      if (pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        const digits = end < 0 ? '' : pattern.slice(i + 3, end);
        if (!isHex(digits) || parseInt(digits, 16) > MAX_CODE_POINT) throw new UnsupportedPattern('\\u{…} must hold a code point in hex');
        return { text: hex(parseInt(digits, 16)), length: end - i + 1 };
      }
      const digits = pattern.slice(i + 2, i + 6);
      if (digits.length !== 4 || !isHex(digits)) throw new UnsupportedPattern('\\u must be followed by four hex digits');
      const unit = parseInt(digits, 16);
      // A surrogate pair written as two escapes is one code point (ECMA-262 §22.2.1, RegExpUnicodeEscapeSequence).
      const low = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(pattern.slice(i + 6));
      if (unit >= 0xd800 && unit <= 0xdbff && low) {
        return { text: hex(0x10000 + ((unit - 0xd800) << 10) + (parseInt(low[1]!, 16) - 0xdc00)), length: 12 };
      }
      if (unit >= 0xd800 && unit <= 0xdfff) throw new UnsupportedPattern('a lone surrogate escape cannot be matched');
      return { text: hex(unit), length: 6 };
    }
    case 'p': case 'P': {
      const end = pattern.indexOf('}', i + 3);
      if (pattern[i + 2] !== '{' || end < 0) throw new UnsupportedPattern(`\\${c} must be followed by {Property}`);
      const body = pattern.slice(i + 3, end);
      const [key, value] = body.includes('=') ? (body.split('=', 2) as [string, string]) : ['', body];
      let name: string;
      if (key === 'Script' || key === 'sc') name = value;
      else if (key === 'General_Category' || key === 'gc' || key === '') name = CATEGORY[value] ?? value;
      else throw new UnsupportedPattern(`the Unicode property ${key} is not supported`);
      if (name === 'Any') return { text: c === 'p' ? (inClass ? ANY : `[${ANY}]`) : inClass ? '' : `[^${ANY}]`, length: end - i + 1 };
      return { text: `\\${c}{${name}}`, length: end - i + 1 };
    }
    case 'k':
      throw new UnsupportedPattern('backreferences (\\k<name>) cannot run in linear time');
    default:
      if (/[1-9]/.test(c)) throw new UnsupportedPattern('backreferences (\\1 …) cannot run in linear time');
      if (SYNTAX.has(c)) return { text: `\\${c}`, length: 2 };
      throw new UnsupportedPattern(`\\${c} is not a valid escape in a Unicode pattern`);
  }
}

/** Translates an ECMAScript pattern (Unicode mode) to RE2 syntax with the same meaning. */
export function toRe2Syntax(pattern: string, dotAll = false): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length;) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const { text, length } = escape(pattern, i, inClass);
      out += text;
      i += length;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch === '[' ? '\\[' : ch;
      i += 1;
      continue;
    }
    if (ch === '[') {
      const negated = pattern[i + 1] === '^';
      const start = i + (negated ? 2 : 1);
      if (pattern[start] === ']') {
        // `[]` matches nothing and `[^]` any code point; RE2 has no empty class.
        out += negated ? `[${ANY}]` : `[^${ANY}]`;
        i = start + 1;
        continue;
      }
      out += negated ? '[^' : '[';
      inClass = true;
      i = start;
      continue;
    }
    if (ch === '.') {
      out += dotAll ? `[${ANY}]` : `[^${LINE_TERMINATORS}]`;
      i += 1;
      continue;
    }
    if (ch === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith(':')) {
        out += '(?:';
        i += 3;
      } else if (/^(=|!|<=|<!)/.test(rest)) {
        throw new UnsupportedPattern('lookahead and lookbehind assertions cannot run in linear time');
      } else if (rest.startsWith('<')) {
        out += '(?P<';
        i += 3;
      } else {
        throw new UnsupportedPattern('group modifiers (?…) are not supported');
      }
      continue;
    }
    out += ch;
    i += 1;
  }
  return out;
}

/**
 * Compiles `pattern` (ECMAScript syntax; `flags` among i, m, s, u) for linear-time matching.
 * Throws UnsupportedPattern, saying why, when it cannot.
 */
export function compileLinear(pattern: string, flags = 'u'): LinearRegExp {
  if (/[^imsuyg]/.test(flags)) throw new UnsupportedPattern(`regular expression flags "${flags}" are not supported`);
  try {
    // Syntax is judged by the ECMAScript grammar first (compiling runs nothing, so this cannot stall).
    new RegExp(pattern, flags.includes('u') ? flags : `${flags}u`);
  } catch (error) {
    throw new UnsupportedPattern(`not a valid regular expression: ${(error as Error).message}`);
  }
  let re: RE2JS;
  try {
    const prefix = flags.includes('i') || flags.includes('m') ? `(?${flags.includes('i') ? 'i' : ''}${flags.includes('m') ? 'm' : ''})` : '';
    re = re2().compile(prefix + toRe2Syntax(pattern, flags.includes('s')));
  } catch (error) {
    if (error instanceof UnsupportedPattern) throw error;
    throw new UnsupportedPattern(`the linear-time engine cannot run it (${(error as Error).message})`);
  }
  const text = `/${pattern}/${flags}`;
  return { test: (input) => re.test(input), toString: () => text };
}

/** Ajv's `code.regExp` option: every schema `pattern` and `patternProperties` key runs on RE2. */
export const linearRegExpEngine = Object.assign((pattern: string, flags: string): LinearRegExp => compileLinear(pattern, flags), { code: 'compileLinear' });
