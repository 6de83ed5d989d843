/**
 * Text from audit records on a terminal or in a spreadsheet. Records hold what callers sent (tool
 * names, agent names, reasons quoting them), so printing them raw lets a caller rewrite the reader's
 * screen: a CR or an ANSI/C1 escape sequence overwrites a line (a refused call shown as allowed), bidi
 * controls reorder what is read (Trojan Source, CVE-2021-42574), and a cell starting with `=` runs as
 * a formula in a spreadsheet (CSV injection). Every character that could do so is shown escaped.
 */

/**
 * C0 controls, DEL, C1 controls, the bidi controls (ALM, LRM/RLM, embeddings, overrides, isolates),
 * zero-width and invisible formatting characters, line/paragraph separators and the BOM.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

/** `text` safe to print: unsafe characters as `\n`, `\r`, `\t`, `\e` or `\u{…}`, and `\` as `\\`. */
export function displayText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(UNSAFE, (c) => NAMED[c] ?? `\\u{${c.codePointAt(0)!.toString(16).padStart(4, '0')}}`);
}

/** A JSON text with the unsafe characters JSON.stringify leaves raw (C1, bidi, U+2028…) as \uXXXX escapes: same value, safe to print. */
export function displayJson(json: string): string {
  return json.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Spreadsheets run a cell that starts with one of these as a formula (OWASP: CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: escaped for display, a formula start neutralized with a leading `'`, quoted when needed. */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : displayText(String(value));
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
