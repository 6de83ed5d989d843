/**
 * A value written as string literals put together in code (red team C3): `"AKIA" + "IOSFODNN7EXAMPLE"`
 * (JavaScript, Java, C#, Python), `'ghp_' . '…'` (PHP, Perl), `'a' .. 'b'` (Lua), `'a' || 'b'` (SQL),
 * `"a" & "b"` (Visual Basic), `"a" ~ "b"` (D), `"a" "b"` (adjacent literals: C, Python, shell
 * `"a""b"`), and, in a text that says `join` or `concat`, literals between commas (`"".join(["AKIA",
 * "…"])`, `[…].join("")`, `CONCAT('AKIA', '…')`). A reader (a model) puts them together; the view
 * writes each chain of two literals or more as one line of their contents, each unit mapped to the
 * unit it came from, so that a finding masks the whole expression.
 *
 * Read strictly by views.ts (only distinctive rules and administrator patterns count there): joining
 * the literals of ordinary code makes up text, not values. Not joined: a literal with a line break
 * inside it (but in backticks), a literal longer than `MAX_LITERAL`, names between literals
 * (`"AKIA" + suffix`), template substitutions (`${"AKIA"}`), formatting (`"%s%s" % (…)`), escapes inside
 * the literals (the decoded views read those on their own).
 *
 * Cost: a text with no quote pays three native searches; one with quotes but none of the joiners
 * next to one a regular-expression search; only then is the text walked once, literal by literal. The
 * view is never longer than the text.
 */
import { MappedBuilder } from './mapped.ts';
import type { MappedText } from './normalize.ts';

/** A literal longer than this is no piece of a value (the longest secrets looked for stay well below). */
const MAX_LITERAL = 512;
/** Chains whose contents are shorter than this hold nothing a distinctive rule finds. */
const MIN_JOINED = 12;
/** Blanks (and line breaks) allowed around a joiner. */
const MAX_BLANKS = 16;

/** Two literals with a joiner between them, or side by side (the gate; the walk decides). */
const MAYBE_JOINED = /["'`][ \t\r\n]{0,16}(?:\+|\.\.?|\|\||&|~)?[ \t\r\n]{0,16}["'`]/;
/** Words after which literals between commas are parts of one value. */
const JOINING_WORDS = ['join', 'Join', 'JOIN', 'concat', 'Concat', 'CONCAT', 'implode'];

const isQuote = (u: number): boolean => u === 0x22 || u === 0x27 || u === 0x60;
const isBlank = (u: number): boolean => u === 0x20 || u === 0x09 || u === 0x0a || u === 0x0d;

/** Units that join literals (`+`, `.`, `|`, `&`, `~`), and units that stand between literals side by side. */
const JOINERS = ['+', '.', '|', '&', '~'];
const SIDE_BY_SIDE = [' "', " '", '\n', '\t', '`'];
/** Texts up to this length go straight to the pattern. */
const SHORT = 1024;

/**
 * Whether `text` may hold two literals joined: a quote, then (in a long text) a joiner or a blank
 * before a quote, then the pattern above or a joining word. Searches whose first unit is rare come first: the
 * pattern alone costs 36 µs on 32 KB of JSON records (it is tried at every quote), and so does any
 * search starting with a quote there; those records have quotes but no joiner and no blank. Literals
 * side by side with nothing between them (`"a""b"`) are looked for in a long text only when one of
 * those is there too.
 */
export function mayBeConcatenated(text: string): boolean {
  if (!text.includes('"') && !text.includes("'") && !text.includes('`')) return false;
  // (`"".join([…])` and `[…].join("")` have their `.`; `CONCAT('a', 'b')` its blank before a quote.)
  if (text.length > SHORT && !JOINERS.some((j) => text.includes(j)) && !SIDE_BY_SIDE.some((j) => text.includes(j))) return false;
  return MAYBE_JOINED.test(text) || JOINING_WORDS.some((w) => text.includes(w));
}

/**
 * The end (after the closing quote) of the literal opening at `at`, or -1: the same quote closes it,
 * a backslash escapes the unit after it, and a line break ends it unopened (but in backticks).
 */
function literalEnd(text: string, at: number): number {
  const quote = text.charCodeAt(at);
  const limit = Math.min(text.length, at + 1 + MAX_LITERAL + 1);
  for (let i = at + 1; i < limit; i++) {
    const u = text.charCodeAt(i);
    if (u === quote) return i + 1;
    if (u === 0x5c) i++;
    else if ((u === 0x0a || u === 0x0d) && quote !== 0x60) return -1;
  }
  return -1;
}

/** Where the next literal of a chain opens after a literal ending at `from` (blanks, one joiner, blanks), or -1. */
function nextLiteral(text: string, from: number, commas: boolean): number {
  let i = from;
  const skip = (): void => {
    const stop = Math.min(text.length, i + MAX_BLANKS);
    while (i < stop && isBlank(text.charCodeAt(i))) i++;
  };
  skip();
  const u = text.charCodeAt(i);
  if (u === 0x2b || u === 0x26 || u === 0x7e || (u === 0x2c && commas)) i++;
  else if (u === 0x2e) i += text.charCodeAt(i + 1) === 0x2e ? 2 : 1;
  else if (u === 0x7c && text.charCodeAt(i + 1) === 0x7c) i += 2;
  skip();
  return isQuote(text.charCodeAt(i)) ? i : -1;
}

/** The chains of two literals or more in `text`, their contents one line each; undefined when there is none. */
export function concatenatedView(text: string): MappedText | undefined {
  if (!mayBeConcatenated(text)) return undefined;
  const commas = JOINING_WORDS.some((w) => text.includes(w));
  const view = new MappedBuilder();
  // The contents of each literal of a chain: [from, to) pairs, kept from chain to chain.
  const parts: number[] = [];
  for (let i = 0; i < text.length; ) {
    const u = text.charCodeAt(i);
    if (!isQuote(u)) {
      i++;
      continue;
    }
    let end = literalEnd(text, i);
    if (end < 0) {
      i++;
      continue;
    }
    parts.length = 0;
    parts.push(i + 1, end - 1);
    let length = end - i - 2;
    for (let next = nextLiteral(text, end, commas); next >= 0; next = nextLiteral(text, end, commas)) {
      const close = literalEnd(text, next);
      if (close < 0) break;
      parts.push(next + 1, close - 1);
      length += close - next - 2;
      end = close;
    }
    i = end;
    if (parts.length < 4 || length < MIN_JOINED) continue;
    view.mark(view.length === 0 ? ' ' : '\n ', parts[0]!, parts[0]!);
    for (let k = 0; k < parts.length; k += 2) view.copy(text, parts[k]!, parts[k + 1]!);
  }
  if (view.length === 0) return undefined;
  // A trailing space: the rules' word boundaries hold at the end of the last line too.
  const last = view.lastEnd;
  view.mark(' ', last, last);
  return view.view();
}
