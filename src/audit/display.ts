/**
 * Text from audit records on a terminal or in a spreadsheet. Records hold what callers sent (tool
 * names, agent names, reasons quoting them), so printing them raw lets a caller rewrite the reader's
 * screen: a CR or an ANSI/C1 escape sequence overwrites a line (a refused call shown as allowed), bidi
 * controls reorder what is read (Trojan Source, CVE-2021-42574), and a cell starting with `=` runs as
 * a formula in a spreadsheet (CSV injection). Every character that could do so is shown escaped.
 */

/**
 * Every character a person cannot see or that moves the cursor: controls (C0, DEL, C1), format
 * characters (bidi controls, zero-width and invisible characters, the BOM, tag characters), line and
 * paragraph separators, private-use, unassigned code points and lone surrogates, every Unicode
 * default-ignorable code point (the combining grapheme joiner, Khmer inherent vowels, variation
 * selectors…) and the characters that render as blank space (the Hangul fillers U+115F, U+1160, U+3164,
 * U+FFA0 and the braille blank U+2800: `bob<filler>` must not read as `bob`). The one definition
 * of "unsafe to print" for every view of what callers chose (audit, approvals, alerts, status).
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u115F\u1160\u3164\uFFA0\u2800]/gu;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

/** `text` safe to print: unsafe characters as `\n`, `\r`, `\t`, `\e` or `\u{…}`, and `\` as `\\`. */
export function displayText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(UNSAFE, (c) => NAMED[c] ?? `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`);
}

/** Many lines of `text` safe to print: each unsafe character but the line breaks escaped as displayText does (backslashes kept). */
export function displayLines(text: string): string {
  return text.replace(UNSAFE, (c) => (c === '\n' ? c : (NAMED[c] ?? `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`)));
}

/** An output `io` whose every line is passed through displayLines: what a hostile file holds cannot drive the reader's terminal. */
export function terminalSafe<T extends { out: (text: string) => void; err: (text: string) => void }>(io: T): T {
  return { ...io, out: (text: string) => io.out(displayLines(text)), err: (text: string) => io.err(displayLines(text)) };
}

/** A JSON text with the unsafe characters JSON.stringify leaves raw (C1, bidi, U+2028…) as \uXXXX escapes: same value, safe to print. */
export function displayJson(json: string): string {
  // A raw line break in JSON text is layout between tokens (JSON.stringify escapes those in strings).
  return json.replace(UNSAFE, (c) => {
    if (c === '\n') return c;
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

/** Spreadsheets run a cell that starts with one of these as a formula (OWASP: CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: escaped for display, a formula start neutralized with a leading `'`, quoted when needed. */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : displayText(String(value));
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
