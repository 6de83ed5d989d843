/**
 * Rewrites the build's JavaScript so that V8 can keep its source text one byte per character:
 * `node scripts/latin1-dist.ts [DIR]` (default dist/; `npm run build` runs it after tsc).
 *
 * V8 keeps the source text of every loaded module for as long as the process lives (lazy compilation
 * and `Function.prototype.toString` need it), and stores it two bytes per character as soon as one
 * character lies beyond Latin-1 (U+00FF). One en dash in the secret rule table's 211 KB took it to
 * 422 KB of heap; at the build of 7 December 26 loaded modules (521 K characters) were stored that way
 * for the scanner's non-Latin cue words, an ellipsis in a message or an arrow in a comment kept by tsc.
 * Each such character is written as the `\uXXXX` escape (astral ones as their surrogate pair), which
 * means the same character in a string, a template and a regular expression (with or without the u
 * or v flag) and in an identifier. An identity escape of such a character (`\。`) becomes the plain
 * escape. `String.raw` templates are left as they are: their raw text is their value, and the
 * scanner reads its cue patterns' text (src/inspect/word-boundary.ts); a file with one keeps two bytes
 * per character (the scanner's cue tables, 6 of the 26).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `text` with every character beyond U+00FF written as its `\uXXXX` escape (UTF-16 code units), except
 * inside `String.raw` templates, whose raw text is their value.
 */
export function latin1Source(text: string): string {
  let out = '';
  let from = 0;
  const raw = /String\.raw\s*`/g;
  let rawAt = nextRaw(raw, text, 0);
  for (let i = 0; i < text.length; i++) {
    if (i === rawAt) {
      i = rawEnd(text, raw.lastIndex);
      rawAt = nextRaw(raw, text, i);
      continue;
    }
    const unit = text.charCodeAt(i);
    if (unit <= 0xff) continue;
    // An odd run of backslashes before it makes `\X` an identity escape: drop that backslash.
    let slashes = 0;
    while (i - slashes - 1 >= from && text.charCodeAt(i - slashes - 1) === 0x5c) slashes++;
    out += text.slice(from, slashes % 2 === 1 ? i - 1 : i) + `\\u${unit.toString(16).padStart(4, '0')}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

function nextRaw(raw: RegExp, text: string, at: number): number {
  raw.lastIndex = at;
  return raw.exec(text)?.index ?? -1;
}

/** Index of the backtick that closes the template whose text starts at `at` (substitutions skipped by brace depth). */
function rawEnd(text: string, at: number): number {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (depth === 0 && c === '`') return i;
    else if (depth === 0 && c === '$' && text[i + 1] === '{') {
      depth = 1;
      i++;
    } else if (depth > 0 && c === '{') depth++;
    else if (depth > 0 && c === '}') depth--;
  }
  throw new Error(`unterminated String.raw template at ${at}`);
}

/** Rewrites every .js file under `dir` that needs it; returns how many it rewrote. */
export function latin1Tree(dir: string): number {
  let rewritten = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) rewritten += latin1Tree(path);
    else if (entry.isFile() && entry.name.endsWith('.js')) {
      const text = readFileSync(path, 'utf8');
      const latin1 = latin1Source(text);
      if (latin1 !== text) {
        writeFileSync(path, latin1);
        rewritten++;
      }
    }
  }
  return rewritten;
}

if (import.meta.main) latin1Tree(process.argv[2] ?? new URL('../dist', import.meta.url).pathname);
