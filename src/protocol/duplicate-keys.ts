/**
 * Finds an object key that appears twice in one object of a JSON text. `JSON.parse` keeps the last
 * occurrence, other parsers (and some servers) the first: the same bytes would then mean two things,
 * and the gateway could judge one value while the server acts on the other. One linear pass over text
 * that `JSON.parse` already accepted; keys are compared after unescaping (`"a"` and `"\u0061"` are
 * the same key).
 */
import { foldKey } from '../util/fold.ts';

/** One open object or array of the walk; reused from one call to the next (the walk never nests). */
interface Frame {
  /** false for an array. */
  object: boolean;
  /** An object's keys so far: searched in this list while short, through `set` past LIST_MAX. */
  keys: string[];
  set: Set<string> | undefined;
  expectKey: boolean;
}

/** Past this many keys an object's keys go into a set (below it a list is faster and allocates less). */
const LIST_MAX = 16;
const frames: Frame[] = [];
const path: string[] = [];

/** Whether the object of `frame` already has `key`; adds it when not. */
function seenBefore(frame: Frame, key: string): boolean {
  if (frame.set) {
    if (frame.set.has(key)) return true;
    frame.set.add(key);
    return false;
  }
  const keys = frame.keys;
  if (keys.includes(key)) return true;
  keys.push(key);
  if (keys.length > LIST_MAX) frame.set = new Set(keys);
  return false;
}

/** The first duplicated key with its JSON path, or undefined. `text` must be valid JSON. */
export function findDuplicateKey(text: string): string | undefined {
  // Fast path: without an object there is nothing to compare.
  if (text.indexOf('{') === -1) return undefined;
  let depth = 0;
  let deepest = 0;
  try {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22 /* " */) {
        const start = i;
        // The closing quote is the next one not preceded by an odd run of backslashes.
        let end = text.indexOf('"', start + 1);
        for (;;) {
          let slashes = 0;
          while (text.charCodeAt(end - 1 - slashes) === 0x5c /* \ */) slashes++;
          if (slashes % 2 === 0) break;
          end = text.indexOf('"', end + 1);
        }
        i = end;
        const top = depth > 0 ? frames[depth - 1]! : undefined;
        if (top?.object && top.expectKey) {
          const escaped = text.slice(start + 1, i).includes('\\'); // within the key only: linear over the text
          const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
          if (seenBefore(top, key)) return [...path.slice(0, depth - 1), key].join('.');
          top.expectKey = false;
          path[depth - 1] = key;
        }
        continue;
      }
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        const frame = (frames[depth] ??= { object: false, keys: [], set: undefined, expectKey: false });
        frame.object = c === 0x7b;
        frame.expectKey = frame.object;
        frame.keys.length = 0;
        frame.set = undefined;
        if (!frame.object) path[depth] = '[]';
        depth += 1;
        if (depth > deepest) deepest = depth;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        depth -= 1;
      } else if (c === 0x2c /* , */) {
        const top = depth > 0 ? frames[depth - 1]! : undefined;
        if (top?.object) top.expectKey = true;
      }
    }
    return undefined;
  } finally {
    // Keys are slices of the text: drop them, so that no body stays reachable after the call.
    for (let d = 0; d < deepest; d++) {
      frames[d]!.keys.length = 0;
      frames[d]!.set = undefined;
    }
    path.length = 0;
  }
}

/**
 * Two keys of one object that are one key once folded (`foldKey`, src/util/fold.ts), or undefined. A server that binds
 * keys loosely reads one of them (which one depends on the server) where the gateway judged the other:
 * `{"amount": 5, "AMOUNT": 5000}` passes a rule on `amount` and pays 5000 to a Go server.
 */
export function foldedCollision(object: Readonly<Record<string, unknown>>): [string, string] | undefined {
  const keys = Object.keys(object);
  if (keys.length < 2) return undefined;
  const seen = new Map<string, string>();
  for (const key of keys) {
    const folded = foldKey(key);
    const first = seen.get(folded);
    if (first !== undefined) return [first, key];
    seen.set(folded, key);
  }
  return undefined;
}
