/**
 * Finds an object key that appears twice in one object of a JSON text. `JSON.parse` keeps the last
 * occurrence, other parsers (and some servers) the first: the same bytes would then mean two things,
 * and the gateway could judge one value while the server acts on the other. One linear pass over text
 * that `JSON.parse` already accepted; keys are compared after unescaping (`"a"` and `"\u0061"` are
 * the same key).
 */

interface Frame {
  keys: Set<string> | undefined; // undefined for arrays
  expectKey: boolean;
}

/** The first duplicated key with its JSON path, or undefined. `text` must be valid JSON. */
export function findDuplicateKey(text: string): string | undefined {
  // Fast path: without a second quoted key there is nothing to compare.
  if (text.indexOf('{') === -1) return undefined;
  const stack: Frame[] = [];
  const path: string[] = [];
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
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(start, i + 1);
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) return [...path.slice(0, stack.length - 1), key].join('.');
        top.keys.add(key);
        top.expectKey = false;
        path[stack.length - 1] = key;
      }
      continue;
    }
    if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: undefined, expectKey: false });
      path[stack.length - 1] = '[]';
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      path.length = stack.length;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return undefined;
}
