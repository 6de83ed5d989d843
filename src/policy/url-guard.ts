/**
 * The URL guard: URL arguments must use an allowed scheme, name an allowed host, and (unless
 * `allowPrivate`) reach only public addresses, after DNS. Judging one parser's reading is not enough
 * when the server uses another: `https://8.8.8.8\@169.254.169.254/` is host 8.8.8.8 to the WHATWG parser
 * and 169.254.169.254 to Python's urlsplit. So a URL is refused when parsers can disagree on it —
 * backslashes, control or white-space characters (which WHATWG strips or keeps), userinfo (unless
 * `allowUserinfo`), a second `@`, percent-escapes or compatibility characters in the host, a missing
 * `//` — and what the server receives is the WHATWG serialization the guard judged (`href`), never
 * the raw string, with its path in normal form (RFC 3986 §6.2.2): percent-escapes of unreserved
 * characters decoded (`/%61dmin` is `/admin`), other escapes in upper case, empty segments collapsed
 * (`//admin` is `/admin` to most HTTP stacks) and dot segments resolved, so a deny rule on a URL path
 * judges the path the far server routes, however it was spelled. A path that still holds an encoded
 * `%` before two hex digits (`/%2561dmin`) is refused: it is `/%61dmin` to a server that decodes once
 * and `/admin` to one (or a proxy in front of it) that decodes twice, and the guard cannot know which.
 * So are, for the same reason, an encoded separator (`%2F`, `%5C`: `/x/..%2Fadmin`), a `;` (path
 * parameters, which Tomcat and Spring cut off: `/admin;x`, `..;/`) and escapes that are not UTF-8
 * (overlong `%C0%AF`). Letter case is judged as sent: a deny rule that must hold on a server whose paths
 * ignore case compares in one case (`lowerAscii()`).
 * Not prevented: a name that resolves to a public address now and a private one when the server fetches
 * (DNS rebinding); redirects the server follows.
 */
import { isIP } from 'node:net';
import { anyGlob } from '../util/glob.ts';
import { isForbiddenAddress } from './ip-address.ts';
import type { GuardsConfig } from './schema.ts';
import { stringsOf, type GuardResult, type ResolveHost } from './guard-result.ts';

type UrlGuard = NonNullable<GuardsConfig['urls']>;

/** C0 and C1 controls, every Unicode space and line or paragraph separator, zero-width and bidi marks. */
const INVISIBLE = /[\u0000-\u0020\u007f-\u00a0\u00ad\u061c\u115f\u1160\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufeff\ufff9-\ufffb]/;
/** Dots that IDNA (UTS #46) maps to `.` but NFKC leaves alone. */
const IDNA_DOTS = /[\u3002\uff0e\uff61]/;

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** An encoded `%` that makes another escape once decoded (double encoding). */
const DOUBLE_ENCODED = /%25[0-9a-f]{2}/i;
/**
 * An encoded `/` or `\`: data to the guard (one segment `%2Fadmin`), a separator to a server or proxy
 * that decodes before routing (`/x/..%2Fadmin` is `/admin` there; red team I, F3).
 */
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;

/** The URL's path in RFC 3986 normal form (see the module comment); the dot segments WHATWG resolves. */
function normalisePath(url: URL): void {
  let path = url.pathname;
  for (;;) {
    const next = path
      .replace(/%([0-9a-f]{2})/gi, (escape, hex: string) => {
        const char = String.fromCharCode(parseInt(hex, 16));
        return UNRESERVED.test(char) ? char : escape.toUpperCase();
      })
      .replace(/\/{2,}/g, '/');
    if (next === path) break;
    path = next;
  }
  if (path !== url.pathname) url.pathname = path;
}

/** Whether every percent-escape of `path` is part of well-formed UTF-8. */
function decodesAsUtf8(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** Why parsers could read `raw` differently, or undefined. */
function ambiguity(raw: string, guard: UrlGuard): string | undefined {
  if (INVISIBLE.test(raw)) return 'contains control, white-space or invisible characters';
  if (raw.includes('\\')) return 'contains a backslash, which URL parsers read differently';
  const start = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(raw);
  if (!start) return 'must be an absolute URL written scheme://host/…';
  const authority = raw.slice(start[0].length).split(/[/?#]/, 1)[0]!;
  const at = authority.split('@').length - 1;
  if (at > 1) return 'has more than one "@" before the path';
  if (at === 1 && !guard.allowUserinfo) return 'carries user information (user@ or user:password@), which this rule does not allow';
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host.includes('%')) return 'has percent-escapes in its host';
  if (!/^[\x21-\x7e]*$/.test(host) && (host.normalize('NFKC') !== host || IDNA_DOTS.test(host))) return 'has compatibility or look-alike characters in its host';
  return undefined;
}

export async function checkUrls(guard: UrlGuard, args: Record<string, unknown>, resolveHost: ResolveHost): Promise<GuardResult> {
  const hostAllowed = guard.hosts ? anyGlob(guard.hosts.map((h) => h.toLowerCase())) : undefined;
  const rewrites: Record<string, unknown> = {};
  for (const name of guard.args) {
    const { values, list, problem } = stringsOf(args, name);
    if (problem) return { problem };
    const serialized: string[] = [];
    for (const raw of values) {
      const why = ambiguity(raw, guard);
      if (why) return { problem: `argument "${name}" ${why}` };
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return { problem: `argument "${name}" is not an absolute URL` };
      }
      const scheme = url.protocol.slice(0, -1);
      if (!guard.schemes.includes(scheme)) return { problem: `argument "${name}" uses a scheme that is not allowed (allowed: ${guard.schemes.join(', ')})` };
      // The WHATWG parser already normalised decimal, octal and hex IPv4 forms (http://2130706433/ → 127.0.0.1).
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      if (host === '') return { problem: `argument "${name}" has no host` };
      if (hostAllowed && !hostAllowed(host)) return { problem: `argument "${name}" names a host that is not allowed (allowed: ${guard.hosts!.join(', ')})` };
      normalisePath(url);
      if (ENCODED_SEPARATOR.test(url.pathname)) return { problem: `argument "${name}" has a percent-encoded "/" or "\\" in its path (%2F, %5C), which one server reads as part of a name and another, decoding first, as a separator (/x/..%2Fadmin is /admin there); send separators unencoded` };
      if (url.pathname.includes(';')) return { problem: `argument "${name}" has ";" in its path, which some servers (Tomcat, Spring) cut off with what follows it in the segment (/admin;x is /admin there, ..;/ a parent) and others keep; send it encoded as %3B` };
      if (!decodesAsUtf8(url.pathname)) return { problem: `argument "${name}" has percent-escapes in its path that are not UTF-8 (overlong forms such as %C0%AF are "/" to lax decoders); send the path's characters encoded as UTF-8` };
      if (DOUBLE_ENCODED.test(url.pathname)) return { problem: `argument "${name}" has a percent-encoded "%" before two hex digits in its path (%25XX, as in /%2561dmin), which a server or proxy that decodes twice reads as another character; send the path encoded once` };
      // `/a//../b` is `/a/b` to WHATWG (`..` removes the empty segment) but `/b` to a server that
      // collapses slashes first: readings that differ are refused, not guessed.
      const collapsedFirst = new URL(raw.replace(/^([^:]+:\/\/[^/?#]*)([^?#]*)/, (_m, head: string, path: string) => head + path.replace(/\/{2,}/g, '/')));
      normalisePath(collapsedFirst);
      if (collapsedFirst.href !== url.href) return { problem: `argument "${name}" has empty path segments next to dot segments, which servers resolve differently` };
      serialized.push(url.href);
      if (guard.allowPrivate) continue;
      let addresses: string[];
      if (isIP(host)) addresses = [host];
      else {
        try {
          addresses = await resolveHost(host);
        } catch (error) {
          return { problem: `argument "${name}" names a host that could not be resolved (${(error as NodeJS.ErrnoException).code ?? 'error'}), so it cannot be checked` };
        }
        if (addresses.length === 0) return { problem: `argument "${name}" names a host with no address, so it cannot be checked` };
      }
      if (addresses.some(isForbiddenAddress)) return { problem: `argument "${name}" reaches a loopback, private, link-local or metadata address` };
    }
    // Only what serialization changed is rewritten (the common case forwards the value untouched).
    if (serialized.some((href, i) => href !== values[i])) rewrites[name] = list ? serialized : serialized[0];
  }
  return Object.keys(rewrites).length > 0 ? { rewrites } : {};
}
