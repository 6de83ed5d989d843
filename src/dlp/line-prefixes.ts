/**
 * The `unprefixed` view: a block of base64 lines that each carry the same prefix — e-mail quoting
 * (`> `, `> > `), comments (`# `, `// `, `-- `, `;`, ` * `), line numbers (`12: `), diff markers (`+`,
 * `-`), log timestamps — read with the prefixes removed and the line breaks kept, so that the
 * unwrapped view joins the body and the decoded views read it whole (red team M, M5: a PEM body quoted
 * `> ` was masked on its first line only, the rest of the key relayed).
 *
 * What is a prefix is not a list of spellings: it is what the block's lines share before their base64,
 * compared character by character, a run of digits matching any run of digits when both are followed
 * by the same character (numbers and times change from line to line: `12: `, `…T01:02:03Z `). Every line of the block must be
 * that prefix, blanks, and nothing but base64 (with its `=` padding) to the end; the prefix ends on a
 * character that is not base64 or is base64 punctuation alone (`+`, `-`, `//`), so a body letter two
 * lines happen to start with is not taken for it. Linear: each line is read a bounded number of times.
 */
import { base64Line, isBase64Unit, isBlank, type Base64Line, type MappedText } from './normalize.ts';

const isAlnum = (u: number): boolean => (u >= 0x41 && u <= 0x5a) || (u >= 0x61 && u <= 0x7a) || (u >= 0x30 && u <= 0x39);
const isDigit = (u: number): boolean => u >= 0x30 && u <= 0x39;

/** A block's lines: a tail of base64 this long (the last line of a block: `LAST_TAIL`). */
const TAIL = 16;
const LAST_TAIL = 4;
/** A prefix is short (`> > `, `# `, `1234: `, an ISO timestamp with its zone): a line with more before its tail is no line of a block. */
const MAX_PREFIX = 48;

/** A line and the length of its last base64 word (before up to two `=`). */
type Line = Base64Line & { tail: number };

function linesOf(text: string): Line[] {
  const lines: Line[] = [];
  for (let at = 0; at <= text.length; ) {
    const line = base64Line(text, at);
    let end = line.to;
    while (end > line.from && line.to - end < 2 && text.charCodeAt(end - 1) === 0x3d) end--;
    lines.push({ ...line, tail: line.word - line.from > MAX_PREFIX ? 0 : end - line.word });
    at = line.next + 1;
  }
  return lines;
}

/**
 * How far `a` (from `a0`, at most to `aEnd`) and `b` (from `b0`) agree: the end in each. A run of
 * digits matches any other when both are followed by the same unit.
 */
function agree(text: string, a0: number, aEnd: number, b0: number, bEnd: number): [number, number] {
  let i = a0;
  let j = b0;
  while (i < aEnd && j < bEnd) {
    const ca = text.charCodeAt(i);
    const cb = text.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ri = i;
      let rj = j;
      while (ri < aEnd && isDigit(text.charCodeAt(ri))) ri++;
      while (rj < bEnd && isDigit(text.charCodeAt(rj))) rj++;
      const after = text.charCodeAt(ri);
      if (ri >= aEnd || rj >= bEnd || after !== text.charCodeAt(rj)) break;
      i = ri;
      j = rj;
      continue;
    }
    if (ca !== cb) break;
    i++;
    j++;
  }
  return [i, j];
}

/** Cut `[from, to)` (a prefix agreed on) back to where a prefix may end (see the file's comment). */
function prefixEnd(text: string, from: number, to: number): number {
  let end = to;
  while (end > from && isAlnum(text.charCodeAt(end - 1))) end--;
  if (end === from) return from;
  // Base64 punctuation ending the prefix: kept only when the prefix is nothing else (`+`, `-`, `//`).
  let punct = end;
  while (punct > from && isBase64Unit(text.charCodeAt(punct - 1))) punct--;
  if (punct === from || !isBase64Unit(text.charCodeAt(end - 1))) return end;
  return punct;
}

/**
 * Where each of `lines` (a block) has its body, given that they share a prefix with the first:
 * undefined when they share none, or when one of them has more than the prefix, blanks and base64.
 */
function bodies(text: string, lines: readonly Line[]): number[] | undefined {
  const first = lines[0]!;
  let shared = first.to;
  for (let k = 1; k < lines.length && shared > first.from; k++) shared = Math.min(shared, agree(text, first.from, shared, lines[k]!.from, lines[k]!.to)[0]);
  shared = prefixEnd(text, first.from, shared);
  if (shared === first.from) return undefined;
  const out: number[] = [];
  for (const line of lines) {
    let body = line === first ? shared : agree(text, first.from, shared, line.from, line.to)[1];
    while (body < line.to && isBlank(text.charCodeAt(body))) body++;
    if (body < line.word || line.to - body < LAST_TAIL) return undefined;
    out.push(body);
  }
  return out;
}

/**
 * Whether two of `runs` (the text's runs of 16 base64 units or more: decode.ts `longRuns`) end their
 * lines (only `=` padding, blanks or `\r` after them), as two lines of every block do: a text without
 * them (log lines, whose long ids sit inside the line) is answered without reading its lines.
 */
function twoEndLines(text: string, runs: readonly number[]): boolean {
  let found = 0;
  for (let k = 1; k < runs.length; k += 2) {
    let at = runs[k]!;
    while (at < text.length && at - runs[k]! < 2 && text.charCodeAt(at) === 0x3d) at++;
    while (isBlank(text.charCodeAt(at)) || text.charCodeAt(at) === 0x0d) at++;
    if ((at >= text.length || text.charCodeAt(at) === 0x0a) && ++found === 2) return true;
  }
  return false;
}

/**
 * The text with the prefixes of its prefixed base64 blocks removed (line breaks kept), mapped to the
 * source; undefined when it has none. A block: two lines or more with a base64 tail of `TAIL` units,
 * and the line after them when its tail is shorter (a body's last line). `runs`: the text's long runs,
 * when the caller has them.
 */
export function unprefixedView(text: string, runs?: readonly number[]): MappedText | undefined {
  if (!text.includes('\n') || (runs !== undefined && !twoEndLines(text, runs))) return undefined;
  const lines = linesOf(text);
  const cuts: number[] = [];
  for (let k = 0; k < lines.length; ) {
    if (lines[k]!.tail < TAIL) {
      k++;
      continue;
    }
    let end = k + 1;
    while (end < lines.length && lines[end]!.tail >= TAIL) end++;
    const last = end < lines.length && lines[end]!.tail >= LAST_TAIL ? 1 : 0;
    // The block's first line may be something else that ends in a long word (`key: MIIE…`), and the
    // shorter line after it something else that ends in a word (`> thanks`): tried without them.
    search: for (let start = k; start <= k + 1; start++) {
      for (let stop = end + last; stop >= end; stop--) {
        if (stop - start < 2) continue;
        const found = bodies(text, lines.slice(start, stop));
        if (!found) continue;
        for (let i = 0; i < found.length; i++) cuts.push(lines[start + i]!.from, found[i]!);
        break search;
      }
    }
    k = end;
  }
  if (cuts.length === 0) return undefined;
  const starts = new Int32Array(text.length - cuts.reduce((sum, v, i) => sum + (i % 2 === 1 ? v - cuts[i - 1]! : 0), 0));
  const parts: string[] = [];
  let length = 0;
  let at = 0;
  const keep = (from: number, to: number): void => {
    parts.push(text.slice(from, to));
    for (let i = from; i < to; i++) starts[length++] = i;
  };
  for (let i = 0; i < cuts.length; i += 2) {
    keep(at, cuts[i]!);
    at = cuts[i + 1]!;
  }
  keep(at, text.length);
  return { text: parts.join(''), starts, ends: starts.map((s) => s + 1) };
}
