/**
 * A value handed over in pieces that a reader puts together: the elements of one array
 * (`["ghp_abc…", "…xyz"]`, `[65, 75, 73, 65, …]`), the members of one object (`{"a": "AKIAIOSF",
 * "b": "ODNN7EXAMPLE"}`, arguments too), the text items of one result's content. The engine
 * (src/dlp/engine.ts) reads each piece alone as it always has; this makes the one text a reader would
 * make of them, with the piece each unit came from, so that a finding there can be masked in its
 * pieces (or the message blocked).
 *
 *   joined pieces   consecutive strings of value characters only (no blank; 1–256 each), two or more,
 *                   written one after the other: only the findings of distinctive rules and
 *                   administrator patterns count there (`isDistinctive`), as in the compacted view
 *   character codes an array of eight numbers or more, every one an integer that is a character
 *                   code (bytes among them): read as the text those codes spell, like a decoded view
 *   lines           an array of rows one of which holds a PEM header (`-----BEGIN`): a private key
 *                   printed one line per log row (`2026-12-07T10:00:00Z app[12]: MIIEvQIB…`, red team
 *                   C9), as strings or as objects whose string members make the row; the rows joined
 *                   by line breaks (at most `MAX_LINES` units), read strictly like joined pieces
 *
 * One pass over the items; strings of prose (with blanks) and numbers that are not all codes cost a
 * type test each.
 */

/** A joined text and, for each of its units, the index of the item it came from (-1: between runs). */
export interface Joined {
  text: string;
  owners: Int32Array;
  /** `codes`: an array of character codes (every finding counts); `pieces`, `lines`: joined strings or rows (distinctive findings only). */
  kind: 'codes' | 'pieces' | 'lines';
}

const MAX_PIECE = 256;
/** Joined pieces shorter than this hold nothing the distinctive rules find. */
const MIN_JOINED = 12;
const MIN_CODES = 8;
/** Character codes turned into text this many at a time (an argument list far below any stack limit). */
const CODE_SLICE = 4096;

/**
 * A piece: value characters, and an `@` only at an end or alone — half an e-mail address
 * (`{"jo.smith@": "example.org"}`, red team M, M3); a whole address in one piece is found in it alone.
 */
const VALUE = /^(?:@?[A-Za-z0-9_+/=.:-]+@?|@)$/;
/** Rows joined at most this long (a 16384-bit RSA key in PEM is about 13 KB). */
const MAX_LINES = 1 << 16;
const PEM_HEADER = '-----BEGIN';

/** The text of a row: a string, or the string members of an object (one level) with a space between. */
export function rowText(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  let row: string | undefined;
  for (const value of Object.values(item)) if (typeof value === 'string') row = row === undefined ? value : `${row} ${value}`;
  return row;
}

/** Whether a row holds a PEM header (asked of every array's items: no allocation). */
function holdsHeader(item: unknown): boolean {
  if (typeof item === 'string') return item.includes(PEM_HEADER);
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return false;
  for (const key in item) {
    const value = (item as Record<string, unknown>)[key];
    if (typeof value === 'string' && value.includes(PEM_HEADER)) return true;
  }
  return false;
}

/** `items` as rows joined by line breaks, when one of them holds a PEM header (see `lines` above). */
function joinedLines(items: readonly unknown[]): Joined | undefined {
  if (items.length < 3) return undefined;
  if (!items.some(holdsHeader)) return undefined;
  const rows = items.map(rowText);
  let text = '';
  const owners: number[] = [];
  for (let i = 0; i < rows.length && text.length < MAX_LINES; i++) {
    const row = rows[i];
    if (row === undefined) continue;
    const piece = row.slice(0, MAX_LINES - text.length);
    if (text !== '') {
      text += '\n';
      owners.push(-1);
    }
    text += piece;
    for (let k = 0; k < piece.length; k++) owners.push(i);
  }
  return { text, owners: Int32Array.from(owners), kind: 'lines' };
}
const isPiece = (item: unknown): item is string => typeof item === 'string' && item.length <= MAX_PIECE && VALUE.test(item);
const isCode = (item: unknown): item is number => typeof item === 'number' && Number.isInteger(item) && item >= 0x20 && item <= 0xffff;

/** The texts a reader makes of `items` (an array's elements, an object's member values, in order). */
export function joinedPieces(items: readonly unknown[]): Joined[] {
  const out: Joined[] = [];
  if (items.length < 2) return out;
  if (items.length >= MIN_CODES && items.every(isCode)) {
    // Built in slices: a spread of an attacker-sized array would overflow the stack (red team C12).
    let codes = '';
    for (let i = 0; i < items.length; i += CODE_SLICE) codes += String.fromCharCode(...(items.slice(i, i + CODE_SLICE) as number[]));
    out.push({ text: codes, owners: Int32Array.from(items, (_, i) => i), kind: 'codes' });
    return out;
  }
  const lines = joinedLines(items);
  if (lines) out.push(lines);
  let text = '';
  const owners: number[] = [];
  for (let i = 0; i < items.length; ) {
    if (!isPiece(items[i]) || !isPiece(items[i + 1])) {
      i++;
      continue;
    }
    let run = '';
    const runOwners: number[] = [];
    for (; i < items.length && isPiece(items[i]); i++) {
      const piece = items[i] as string;
      run += piece;
      for (let k = 0; k < piece.length; k++) runOwners.push(i);
    }
    if (run.length < MIN_JOINED) continue;
    if (text !== '') {
      text += '\n';
      owners.push(-1);
    }
    text += run;
    for (const owner of runOwners) owners.push(owner);
  }
  if (text !== '') out.push({ text, owners: Int32Array.from(owners), kind: 'pieces' });
  return out;
}

/**
 * The texts a reader makes of an object's members: its values in a row (`{"a": "AKIAIOSF", "b":
 * "ODNN7EXAMPLE"}`), its keys in a row (`{"AKIAIOSF": 1, "ODNN7EXAMPLE": 2}`) and its keys and string values in order (`{"AKIAIOSF": "ODNN7EXAMPLE"}`, `{"CANARY-":
 * "482913"}`, red team C3 and M3). Each unit's owner is `2·k` (the k-th key) or `2·k + 1` (its value), in
 * both. Read alike by both directions (src/dlp/engine.ts) and by the audit record's redaction.
 * `skipKeys`: protocol names, not data (a gap in the keys' run); `limit`: the first members only.
 */
export function memberJoins(object: Readonly<Record<string, unknown>>, skipKeys?: ReadonlySet<string>, limit = Number.POSITIVE_INFINITY): Joined[] {
  const values: unknown[] = [];
  const keys: unknown[] = [];
  const members: unknown[] = [];
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    if (values.length >= limit) break;
    const value = object[key];
    const own = skipKeys?.has(key) ? null : key;
    values.push(value);
    keys.push(own);
    members.push(own, typeof value === 'string' ? value : null);
  }
  const out: Joined[] = [];
  const remap = (joined: Joined, owner: (o: number) => number): Joined => ({ ...joined, owners: joined.owners.map((o) => (o < 0 ? o : owner(o))) });
  for (const joined of joinedPieces(values)) out.push(remap(joined, (o) => 2 * o + 1));
  // Keys in a row only where a value between them is not a string (else the members' join reads them).
  if (members.includes(null)) for (const joined of joinedPieces(keys)) if (joined.kind === 'pieces') out.push(remap(joined, (o) => 2 * o));
  for (const joined of joinedPieces(members)) if (joined.kind === 'pieces') out.push(joined);
  return out;
}

/** The items of `joined` that the span [start, end) of its text came from. */
export function ownersOf(joined: Joined, start: number, end: number): Set<number> {
  const items = new Set<number>();
  for (let i = start; i < end && i < joined.owners.length; i++) if (joined.owners[i]! >= 0) items.add(joined.owners[i]!);
  return items;
}
