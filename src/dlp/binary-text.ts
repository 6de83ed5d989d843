/**
 * The text a binary blob carries: a PNG's `tEXt` chunk, a PDF's `/Title (…)`, the strings of an
 * executable. Binary data is not text to read, but the runs of printable ASCII in it are — a reader
 * (`strings`, a model given the bytes) gets them back — so DLP reads them, as `strings(1)` would.
 *
 * The view has the blob's length: byte i of the blob is character i of the view, each byte outside a
 * run of at least MIN_RUN printable bytes becomes a line break. A finding's span in the view is the
 * same span of bytes, so a secret is masked in place and the file keeps its size and structure.
 *
 * Not read: compressed text (a PNG's `zTXt`, a PDF's deflated streams), UTF-16 text in a binary file.
 */

/** Shorter runs are the noise of any binary file (no detector looks for anything this short). */
const MIN_RUN = 8;

const printable = (byte: number): boolean => (byte >= 0x20 && byte < 0x7f) || byte === 0x09;

/** The printable runs of `bytes` in place, everything else a line break; undefined when it has none. */
export function printableView(bytes: Uint8Array): string | undefined {
  const out = Buffer.alloc(bytes.length, 0x0a);
  let found = false;
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && printable(bytes[i]!)) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= MIN_RUN) {
      out.set(bytes.subarray(start, i), start);
      found = true;
    }
    start = -1;
  }
  return found ? out.toString('latin1') : undefined;
}

/** `bytes` with every character the masked view changed overwritten with `*` (same length: offsets stay valid). */
export function maskInPlace(bytes: Uint8Array, view: string, masked: string): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < view.length; i++) if (view.charCodeAt(i) !== masked.charCodeAt(i)) out[i] = 0x2a;
  return out;
}
