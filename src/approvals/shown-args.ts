/**
 * The arguments of a call waiting for approval as one line a person reads (the in-band form, the
 * `input_required` message, the URL-mode page, `approvals list`). What decides the call must not be
 * pushable out of view by other fields the caller controls: red team K3 (a long field first) and L2
 * (twelve short decoys first) each filled a cut made at the end of the text. So nothing is cut at the end:
 * every field at every depth appears — its key, and the start and end of its value — and each long string
 * is cut in its middle to a share of the budget (`head…[N characters left out]…tail`), keys beyond a bound
 * likewise. Only when even that cannot fit under a hard bound (thousands of fields) is the text cut, and
 * then it says first, unmistakably, that the arguments are not shown whole.
 */
import { displayJson } from '../audit/display.ts';

/** A scalar this short is shown before every longer field of its object (red team K3). */
const SHORT = 200;
/** The shortest share a long string is cut to (head and tail together, in shown characters). */
const MIN_SHARE = 24;
/** A key is shown whole up to this many characters, else cut in its middle. */
const MAX_KEY = 64;
/** Past this, the text is cut and says that the arguments are not shown whole. */
const HARD_CHARS = 8000;
/** The command that shows a queued approval's arguments whole. */
const WHOLE = 'portcullis approvals list --json';

/** One string's JSON text inside its quotes, escaped as displayJson shows it: what a person reads. */
const shownBody = (text: string): string => displayJson(JSON.stringify(text)).slice(1, -1);

/** `text` shown in at most `share` characters plus the marker: its start and its end, the middle left out (counted in `cut`). */
function cutMiddle(text: string, shownLength: number, share: number, cut: { left: number }): string {
  if (shownLength <= share) return shownBody(text);
  const points = Array.from(text);
  const half = Math.floor(share / 2);
  let head = '';
  let i = 0;
  for (; i < points.length; i++) {
    const next = shownBody(points[i]!);
    if (head.length + next.length > half) break;
    head += next;
  }
  let tail = '';
  let j = points.length - 1;
  for (; j >= i; j--) {
    const next = shownBody(points[j]!);
    if (tail.length + next.length > share - half) break;
    tail = next + tail;
  }
  cut.left += j - i + 1;
  return `${head}…[${j - i + 1} characters left out]…${tail}`;
}

const isShort = (v: unknown): boolean => v === null || typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= SHORT);

/** Each object's short scalars first, then the rest, each group in the caller's order (K3); arrays keep theirs. */
function entriesOf(value: object): Array<[string | undefined, unknown]> {
  if (Array.isArray(value)) return value.map((v) => [undefined, v]);
  const entries = Object.entries(value);
  return [...entries.filter(([, v]) => isShort(v)), ...entries.filter(([, v]) => !isShort(v))];
}

interface Shape {
  /** Characters of everything but the strings' bodies (structure, keys, numbers). */
  fixed: number;
  /** The shown length of every string value. */
  strings: number[];
  fields: number;
}

function measure(value: unknown, shape: Shape): void {
  if (typeof value === 'string') {
    shape.fixed += 2;
    shape.strings.push(shownBody(value).length);
    return;
  }
  if (value === null || typeof value !== 'object') {
    shape.fixed += displayJson(JSON.stringify(value) ?? 'null').length;
    return;
  }
  const entries = entriesOf(value);
  shape.fixed += 2 + Math.max(0, entries.length - 1);
  for (const [key, v] of entries) {
    shape.fields += 1;
    if (key !== undefined) shape.fixed += Math.min(shownBody(key).length, MAX_KEY + MARKER) + 3;
    measure(v, shape);
  }
}

/** The marker's length, generously (digits of the longest count). */
const MARKER = '…[ characters left out]…'.length + 12;

function total(shape: Shape, share: number): number {
  let sum = shape.fixed;
  for (const length of shape.strings) sum += length <= share ? length : share + MARKER;
  return sum;
}

function render(value: unknown, share: number, cut: { left: number }): string {
  if (typeof value === 'string') return `"${cutMiddle(value, shownBody(value).length, share, cut)}"`;
  if (value === null || typeof value !== 'object') return displayJson(JSON.stringify(value) ?? 'null');
  const parts = entriesOf(value).map(([key, v]) => (key === undefined ? render(v, share, cut) : `"${cutMiddle(key, shownBody(key).length, MAX_KEY, cut)}":${render(v, share, cut)}`));
  return Array.isArray(value) ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
}

/**
 * The arguments as one line: JSON with each object's short fields first, invisible and control
 * characters escaped, every key and the start and end of every value shown within about `maxChars`
 * (long strings cut in their middle to the largest equal share that fits), and the hash that binds the
 * approval to all of it whenever anything was left out.
 */
export function displayArgs(args: unknown, argsHash: string, maxChars = 2000): string {
  const shape: Shape = { fixed: 0, strings: [], fields: 0 };
  measure(args, shape);
  const longest = shape.strings.reduce((a, b) => Math.max(a, b), 0);
  const cut = { left: 0 };
  if (total(shape, longest) <= maxChars) {
    const whole = render(args, longest, cut);
    if (cut.left === 0) return whole;
  }
  // The largest share every long string can have within maxChars, at least MIN_SHARE.
  let low = MIN_SHARE;
  let high = Math.max(MIN_SHARE, longest);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (total(shape, mid) <= maxChars) low = mid;
    else high = mid - 1;
  }
  cut.left = 0;
  const text = render(args, low, cut);
  const binding = `argsHash of the arguments ${argsHash}`;
  // Said first, not only after the text: what decides the call may sit in a middle left out (red team N3).
  if (text.length <= HARD_CHARS) return `PARTS NOT SHOWN: ${cut.left} characters in the middle of long values or keys are left out below — deny, or read them whole (${WHOLE}) before approving. ${text} (${binding})`;
  // A cut between the halves of a surrogate pair would show half a character.
  const end = /[\uDC00-\uDFFF]/.test(text[HARD_CHARS] ?? '') ? HARD_CHARS - 1 : HARD_CHARS;
  return (
    `ARGUMENTS NOT SHOWN WHOLE: ${shape.fields} fields are too many to show, only the first ones are below — deny, or read them whole (${WHOLE}) before approving. ` +
    `${text.slice(0, end)}… (${text.length - end} more characters not shown; ${binding})`
  );
}
