/**
 * Text written in characters that render as nothing, one character per ASCII character or byte — the
 * two best-known ways of smuggling text past a reader (red team C2):
 *
 *   tags                 Unicode tag characters U+E0020–E007E, each one ASCII character (U+E0000 + code)
 *   variation-selectors  one selector per byte: U+FE00–FE0F for bytes 0–15, U+E0100–E01EF for 16–255
 *
 * The normalised view removes them (a reader sees nothing there), so on its own it would guarantee the
 * hidden text is never read. This view decodes them in place instead: each hidden character becomes the
 * character it stands for (bytes read as Latin-1, so ASCII secrets come out as written), everything
 * else stays, and a finding maps back to the hidden characters it came from (masked as a run).
 * Not decoded: other invisible encodings (zero-width binary, whitespace steganography).
 */
import type { MappedText } from './normalize.ts';

/** Any tag character or variation selector (U+E0000–E01EF share the high surrogate U+DB40). */
const HIDDEN = /[\uFE00-\uFE0F]|\uDB40[\uDC00-\uDDEF]/;

export interface HiddenTextView extends MappedText {
  encoding: 'tags' | 'variation-selectors';
}

/** What one code point at `i` stands for, and how many units it takes; undefined when not hidden. */
function hiddenAt(text: string, i: number): { char: string; units: number; encoding: HiddenTextView['encoding'] } | undefined {
  const u = text.charCodeAt(i);
  if (u >= 0xfe00 && u <= 0xfe0f) return { char: String.fromCharCode(u - 0xfe00), units: 1, encoding: 'variation-selectors' };
  if (u !== 0xdb40) return undefined;
  const low = text.charCodeAt(i + 1);
  if (low < 0xdc00 || low > 0xddef) return undefined;
  const cp = 0xe0000 + (low - 0xdc00);
  if (cp >= 0xe0020 && cp <= 0xe007e) return { char: String.fromCharCode(cp - 0xe0000), units: 2, encoding: 'tags' };
  if (cp >= 0xe0100) return { char: String.fromCharCode(cp - 0xe0100 + 16), units: 2, encoding: 'variation-selectors' };
  return undefined;
}

/**
 * `text` with its tag characters and variation selectors decoded in place, or undefined when it has
 * fewer than four of them (nothing a detector looks for is shorter). One pass; the view is never
 * longer than the text.
 */
export function hiddenTextView(text: string): HiddenTextView | undefined {
  if (!HIDDEN.test(text)) return undefined;
  const out: string[] = [];
  const starts = new Int32Array(text.length);
  const ends = new Int32Array(text.length);
  let n = 0;
  let hidden = 0;
  let tags = 0;
  for (let i = 0; i < text.length; ) {
    const found = hiddenAt(text, i);
    const units = found?.units ?? 1;
    out.push(found ? found.char : text[i]!);
    starts[n] = i;
    ends[n] = i + units;
    n++;
    if (found) {
      hidden++;
      if (found.encoding === 'tags') tags++;
    }
    i += units;
  }
  if (hidden < 4) return undefined;
  return { text: out.join(''), starts: starts.slice(0, n), ends: ends.slice(0, n), encoding: tags * 2 >= hidden ? 'tags' : 'variation-selectors' };
}
