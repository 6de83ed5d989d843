/**
 * Zero-click exfiltration in result text (red team J, F3): an address a client fetches by itself when
 * it renders the text — no tool call, no click — with data of the conversation in it. The request
 * carries the data to whoever owns the host.
 *
 * Sinks (every syntax a Markdown or HTML renderer turns into a fetch):
 * - Markdown images, inline `![alt](address)` and by reference (`![alt][label]`, `![label][]`,
 *   `![label]`) with the link reference definition `[label]: address` anywhere in the text
 *   (CommonMark 0.31 §4.7, §6.4): `exfiltration.markdown-image`;
 * - HTML: `src`, `srcset` (every candidate), `poster`, `background`, `lowsrc`, `dynsrc` on any element,
 *   `data` on `<object>`, `href`/`xlink:href` on `<image>`, `<use>`, `<feImage>`, `<link>` and `<base>`
 *   (every relative address after it is fetched there), the `url=` of `<meta>`'s `content` (a refresh); CSS
 *   `url(…)` and `@import "…"` (a `<style>` element or a `style` attribute): `exfiltration.auto-fetch`.
 *
 * An address carries data when any part of it does — user info, a host label, a path segment, the
 * query or the fragment: a placeholder for the model to fill in (`PUT_THE_KEY_HERE`, `{key}`, `%7Bkey`,
 * `$KEY`, `${…}`, `<key>`), or a long run of the characters encoded data is written in (a query value
 * of 24 characters or more; a path segment of 32, a host label or user info of 24 with letters and
 * digits mixed); or the same cut into parts under those lengths, three parts or more of 6 characters or
 * more with letters and digits (or both cases) mixed, 32 together. A canonical UUID is an identifier, not a carrier. Relative addresses and `data:`
 * fetch nothing from anyone else and are not sinks.
 *
 * A hand-written pass (linear in the text; bounded look-ahead), like the hidden-Unicode one.
 */
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';
import type { InjectionMatch } from './injection.ts';

const MARKDOWN = 'exfiltration.markdown-image';
const HTML = 'exfiltration.auto-fetch';

/** A placeholder the model is asked to fill in, anywhere in an address. */
const PLACEHOLDER = /[A-Z]{2,}_[A-Z]{2,}|\{[^\s}]{1,64}\}|%7[Bb]|\$[A-Za-z{]|<[A-Za-z_]{2,}>|%3[Cc]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Runs of the characters base64, base64url, hex, base32 and percent-encoding are written in. */
const RUN = /[A-Za-z0-9+=_%~-]+/g;

/** Whether `part` holds a run of at least `min` data characters, letters and digits mixed (a hyphenated word or a UUID is not one). */
function dataRun(part: string, min: number): boolean {
  for (const m of part.matchAll(RUN)) {
    const run = m[0];
    if (run.length < min || UUID.test(run)) continue;
    if (!/[0-9%]/.test(run) || !/[A-Za-z]/.test(run)) continue;
    // Words joined by hyphens (`my-company-production-assets`): one hyphen per 8 characters at most.
    if ((run.match(/-/g)?.length ?? 0) * 8 > run.length) continue;
    return true;
  }
  return false;
}

/** Whether an absolute (or protocol-relative) address carries data in any of its parts. */
export function addressCarriesData(raw: string): boolean {
  // Browsers read `\\` as `/` in web addresses, and an attribute's character references as characters.
  const address = decodeReferences(raw.trim()).replace(/\\/g, '/');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]{0,20}):/.exec(address);
  if (scheme && scheme[1]!.toLowerCase() === 'data') return false;
  const rest = scheme ? address.slice(scheme[0].length) : address;
  // Without an authority the address is relative to where the text came from: no other host is asked.
  if (!rest.startsWith('//') && !(scheme && /^(?:https?|ftp|wss?)$/i.test(scheme[1]!))) return false;
  if (PLACEHOLDER.test(address)) return true;
  const noSlashes = rest.replace(/^\/+/, '');
  const authorityEnd = noSlashes.search(/[/?#\\]/);
  const authority = authorityEnd < 0 ? noSlashes : noSlashes.slice(0, authorityEnd);
  const after = authorityEnd < 0 ? '' : noSlashes.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at >= 0 && dataRun(authority.slice(0, at), 16)) return true;
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  for (const label of host.split('.')) if (label.length >= 24 && dataRun(label, 24)) return true;
  const queryAt = after.search(/[?#]/);
  const path = queryAt < 0 ? after : after.slice(0, queryAt);
  const segments = path.split(/[/\\.;]/);
  for (const segment of segments) if (dataRun(segment, 32)) return true;
  const values: string[] = [];
  if (queryAt >= 0) {
    // A query or fragment value (after `=` or `/`) of 24 characters or more, whatever they are.
    for (const value of after.slice(queryAt + 1).split(/[&#?;]/)) {
      const eq = value.search(/[=/]/);
      const v = eq < 0 ? value : value.slice(eq + 1);
      if (/[^\s&#]{24,}/.test(v)) return true;
      values.push(v);
    }
  }
  // The same data cut into parts each under its threshold (`?p0=a1B2c3D4&p1=e5F6g7H8&…`, `/a1B2c3D4/e5F6g7H8/…`,
  // `a1B2c3D4.e5F6g7H8.….evil.test`, red team M, M7): the address's parts read together.
  return splitData([...host.split('.'), ...segments, ...values]);
}

/** Parts shorter than this are words, numbers and sizes, not pieces of data. */
const MIN_PIECE = 6;
/** Pieces of data in one address: at least this many, together at least `SPLIT_TOTAL` characters. */
const SPLIT_PIECES = 3;
const SPLIT_TOTAL = 32;

/** Base64 without a digit in it: an upper-case letter after a lower-case one (`IGNvbnZl`), but not words in camel case (`ArchitectureDiagram`, `iPhone`). */
const MIXED_CASE = /[a-z][A-Z]/;
const CAMEL_CASE = /^(?:[A-Z]?[a-z]+)+$/;
const mixedCase = (part: string): boolean => MIXED_CASE.test(part) && !CAMEL_CASE.test(part) && /^[A-Za-z0-9+=_%~-]+$/.test(part);

/**
 * Whether an address's parts (host labels, path segments, query values) hold data cut into pieces:
 * three or more of `MIN_PIECE` characters or more, each a data run (letters and digits mixed) or
 * base64 in mixed case (not camel-case words), 32 characters together.
 */
function splitData(parts: readonly string[]): boolean {
  let pieces = 0;
  let total = 0;
  for (const part of parts) {
    if (part.length < MIN_PIECE || !(dataRun(part, MIN_PIECE) || mixedCase(part))) continue;
    pieces++;
    total += part.length;
  }
  return pieces >= SPLIT_PIECES && total >= SPLIT_TOTAL;
}

/** HTML character references in an attribute value (`&#104;ttps`, `&#x2F;`, `&amp;`, `&colon;`). */
function decodeReferences(value: string): string {
  if (!value.includes('&')) return value;
  return value
    .replace(/&#x([0-9a-f]{1,6});?/gi, (_, hex: string) => String.fromCodePoint(Math.min(Number.parseInt(hex, 16), 0x10ffff)))
    .replace(/&#([0-9]{1,7});?/g, (_, dec: string) => String.fromCodePoint(Math.min(Number.parseInt(dec, 10), 0x10ffff)))
    .replace(/&(amp|colon|sol|quest|equals|period|lbrace|rbrace|dollar|lt|gt);/gi, (_, name: string) => ({ amp: '&', colon: ':', sol: '/', quest: '?', equals: '=', period: '.', lbrace: '{', rbrace: '}', dollar: '$', lt: '<', gt: '>' })[name.toLowerCase()]!);
}

/** A Markdown destination with its backslash escapes of ASCII punctuation removed (CommonMark 0.31 §2.4). */
const unescaped = (address: string): string => address.replace(/\\([!-/:-@[-`{-~])/g, '$1');

const normalLabel = (label: string): string => label.trim().replace(/\s+/g, ' ').toLowerCase();

/** The closing `]` of a bracket opened at `open` (nested brackets counted, escapes skipped), or -1 past 1000 characters. */
function closing(text: string, open: number): number {
  let depth = 0;
  const end = Math.min(text.length, open + 1000);
  for (let i = open; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x5b) depth++;
    else if (c === 0x5d && --depth === 0) return i;
  }
  return -1;
}

function markdownImages(text: string, out: InjectionMatch[]): void {
  if (!text.includes('![')) return;
  /** Labels that images use by reference, each with where the image is. */
  const used = new Map<string, { start: number; end: number }>();
  for (let bang = text.indexOf('!['); bang >= 0; bang = text.indexOf('![', bang + 2)) {
    const close = closing(text, bang + 1);
    if (close < 0) continue;
    const alt = text.slice(bang + 2, close);
    if (text[close + 1] === '(') {
      // A destination may hold backslash escapes and balanced parentheses (CommonMark 0.31 §6.3: `p\(1\).png`, `p(1).png`).
      const m = /^\(\s*(?:<([^>\n]{0,2048})>|((?:\\[!-/:-@[-`{-~]|\([^\s()\\]{0,256}\)|[^\s()\\]|\\){1,2048}))/.exec(text.slice(close + 1, close + 2100));
      const address = m?.[1] ?? m?.[2];
      if (address !== undefined && addressCarriesData(unescaped(address))) out.push({ signal: MARKDOWN, start: bang, end: close + 1 + m![0].length });
      continue;
    }
    let label = alt;
    let end = close + 1;
    if (text[close + 1] === '[') {
      const refClose = closing(text, close + 1);
      if (refClose >= 0) {
        const ref = text.slice(close + 2, refClose);
        if (ref.trim() !== '') label = ref;
        end = refClose + 1;
      }
    }
    const key = normalLabel(label);
    if (key !== '' && !used.has(key)) used.set(key, { start: bang, end });
  }
  if (used.size === 0) return;
  // Link reference definitions: `[label]: address` at the start of a line (up to 3 spaces in).
  for (const m of text.matchAll(/^ {0,3}\[([^\]\n]{1,999})\]:[ \t]*\n?[ \t]*(?:<([^>\n]{0,2048})>|(\S{1,2048}))/gm)) {
    const image = used.get(normalLabel(m[1]!));
    if (image && addressCarriesData(unescaped(m[2] ?? m[3]!))) out.push({ signal: MARKDOWN, start: m.index, end: m.index + m[0].length });
  }
}

/** Attributes an element fetches by itself, and the elements where `href` and `data` are fetched too. */
const FETCHED_ATTRIBUTES = new Set(['src', 'srcset', 'poster', 'background', 'lowsrc', 'dynsrc']);
const HREF_FETCHERS = new Set(['image', 'use', 'feimage', 'link', 'base']);

function htmlAndCss(text: string, out: InjectionMatch[]): void {
  if (text.includes('<')) {
    for (const tag of text.matchAll(/<([A-Za-z][\w:-]{0,30})([^<>]*)>?/g)) {
      const element = tag[1]!.toLowerCase();
      for (const attr of tag[2]!.matchAll(/(?:^|[\s"'/])([\w:-]{1,20})\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
        const name = attr[1]!.toLowerCase();
        // `<meta http-equiv=refresh content="0;url=…">` loads its address by itself.
        const refresh = name === 'content' && element === 'meta';
        const fetched = FETCHED_ATTRIBUTES.has(name) || ((name === 'href' || name === 'xlink:href') && HREF_FETCHERS.has(element)) || (name === 'data' && element === 'object') || refresh;
        if (!fetched) continue;
        const raw = attr[2] ?? attr[3] ?? attr[4]!;
        const value = refresh ? (/url\s*=\s*['"]?([^'"\s]+)/i.exec(raw)?.[1] ?? '') : raw;
        // srcset: comma-separated candidates, each an address and a descriptor.
        const addresses = name === 'srcset' ? value.split(/,\s+|,(?=\S*[:/])/).map((c) => c.trim().split(/\s+/)[0] ?? '') : [value];
        if (addresses.some((a) => a !== '' && addressCarriesData(a))) {
          out.push({ signal: HTML, start: tag.index, end: tag.index + tag[0].length });
          break;
        }
      }
    }
  }
  if (/url\s*\(|@import/i.test(text)) {
    for (const m of text.matchAll(/\burl\s*\(\s*(?:"([^"\n]{0,2048})"|'([^'\n]{0,2048})'|([^)\s]{0,2048}))|@import\s+(?:"([^"\n]{0,2048})"|'([^'\n]{0,2048})')/gi)) {
      const address = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? '';
      if (address !== '' && addressCarriesData(address)) out.push({ signal: HTML, start: m.index, end: m.index + m[0].length });
    }
  }
}

/** Every auto-fetched address in `text` that carries data. */
export function findFetchSinks(text: string): InjectionMatch[] {
  const out: InjectionMatch[] = [];
  markdownImages(text, out);
  htmlAndCss(text, out);
  return out;
}

/**
 * `described` (a serverInfo, a listed tool, prompt or resource) without the icons whose address
 * carries data: a client fetches an icon on its own, as it does a zero-click image in a result. The
 * same object when none does.
 */
export function withoutDataIcons(described: JsonObject): JsonObject {
  if (!Array.isArray(described.icons)) return described;
  const icons = described.icons.filter((icon) => !(isObject(icon) && typeof icon.src === 'string' && addressCarriesData(icon.src)));
  return icons.length === described.icons.length ? described : { ...described, icons };
}
