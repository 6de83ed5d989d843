/**
 * Argument guards: confine paths to roots, URLs to schemes and public hosts, and values to simple
 * constraints. Each returns undefined when the arguments pass, or a sentence saying which argument failed
 * and why. The caller's values are quoted only where they help the caller (paths, URLs without
 * credentials or query) and never in full when long.
 */
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve, sep, dirname, basename, join } from 'node:path';
import { BlockList, isIP } from 'node:net';
import { anyGlob } from '../util/glob.ts';
import type { GuardsConfig } from './schema.ts';

/** DNS, passed in so tests and the gateway can choose: resolves a name to all its addresses. */
export type ResolveHost = (host: string) => Promise<string[]>;

const quote = (text: string): string => JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}...` : text);

/** Values of `name` in args: a string, or every string of an array; others are reported. */
function stringsOf(args: Record<string, unknown>, name: string): { values: string[]; problem?: string } {
  const value = args[name];
  if (value === undefined) return { values: [] };
  if (typeof value === 'string') return { values: [value] };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return { values: value as string[] };
  return { values: [], problem: `argument "${name}" must be a string or a list of strings to be checked` };
}

// ---- paths --------------------------------------------------------------------------------------

/**
 * Resolves symlinks in the longest existing prefix of `path` (the rest may not exist yet: a new file).
 * Synchronous on purpose: a few µs of `realpath(3)` cost less than a thread-pool round trip per step.
 */
function realpathLenient(path: string): string {
  const tail: string[] = [];
  let current = path;
  // Walk up to the nearest existing ancestor without throwing (errors are the costly part here).
  while (!exists(current)) {
    const parent = dirname(current);
    if (parent === current) return path;
    tail.push(basename(current));
    current = parent;
  }
  const real = realpathSync.native(current);
  return tail.length === 0 ? real : join(real, ...tail.reverse());
}

function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return false; // a file used as a folder
    throw error; // EACCES and the like: the guard cannot decide, so the call is denied
  }
}

/** Roots resolved at most every few seconds (a root that is itself a symlink may be re-pointed). */
const ROOTS_TTL_MS = 5000;
const resolvedRoots = new WeakMap<readonly string[], { at: number; roots: string[] }>();

function realRoots(roots: readonly string[]): string[] {
  const now = performance.now();
  const cached = resolvedRoots.get(roots);
  if (cached && now - cached.at < ROOTS_TTL_MS) return cached.roots;
  const fresh = roots.map((r) => realpathLenient(resolve(r)));
  resolvedRoots.set(roots, { at: now, roots: fresh });
  return fresh;
}

const within = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

export function checkPaths(guard: NonNullable<GuardsConfig['paths']>, args: Record<string, unknown>): string | undefined {
  const roots = realRoots(guard.roots);
  for (const name of guard.args) {
    const { values, problem } = stringsOf(args, name);
    if (problem) return problem;
    for (const raw of values) {
      if (raw.includes('\0')) return `argument "${name}" contains a NUL byte`;
      // Servers expand ~ (server-filesystem does); so must the guard, or ~/.ssh would pass as relative.
      const expanded = raw === '~' || raw.startsWith('~/') ? join(homedir(), raw.slice(1)) : raw.startsWith('file://') ? safeFileUrl(raw) : raw;
      if (expanded === undefined) return `argument "${name}" is a file URL that cannot be read as a path`;
      // A percent-encoded form is checked as well as the literal one, whichever a server decodes.
      const forms = new Set([expanded]);
      if (/%[0-9a-f]{2}/i.test(expanded)) {
        try {
          forms.add(decodeURIComponent(expanded));
        } catch {
          return `argument "${name}" has malformed percent-encoding`;
        }
      }
      for (const form of forms) {
        if (form.includes('\0')) return `argument "${name}" contains an encoded NUL byte`;
        if (!isAbsolute(form) && !guard.allowRelative) {
          return `argument "${name}" (${quote(raw)}) must be an absolute path inside ${guard.roots.join(', ')}`;
        }
        const real = realpathLenient(resolve(roots[0]!, form));
        if (!roots.some((root) => within(real, root))) {
          return `argument "${name}" (${quote(raw)}) resolves outside the allowed roots ${guard.roots.join(', ')}`;
        }
      }
    }
  }
  return undefined;
}

function safeFileUrl(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
}

// ---- URLs and addresses -----------------------------------------------------------------------

/** Addresses a tool must not be pointed at: loopback, private, link-local (cloud metadata), CGNAT, etc. */
const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) FORBIDDEN.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32], ['100::', 64]] as const) {
  FORBIDDEN.addSubnet(net, prefix, 'ipv6');
}

/** True for an address no tool call may reach (IPv4-mapped and -compatible IPv6 judged as IPv4). */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return FORBIDDEN.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^(?:0{0,4}:){0,5}(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ?? hexMapped(address);
  if (mapped) return FORBIDDEN.check(mapped[1]!, 'ipv4');
  return FORBIDDEN.check(address, 'ipv6');
}

/** `::ffff:7f00:1` (how the URL parser writes a mapped address) → ['', '127.0.0.1']. */
function hexMapped(address: string): [string, string] | undefined {
  const m = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address) ?? /^::([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!m) return undefined;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return ['', `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`];
}

/** A URL as it may be shown back: no credentials, no query, no fragment. */
function shown(url: URL): string {
  return quote(`${url.protocol}//${url.host}${url.pathname}`);
}

export async function checkUrls(guard: NonNullable<GuardsConfig['urls']>, args: Record<string, unknown>, resolveHost: ResolveHost): Promise<string | undefined> {
  const hostAllowed = guard.hosts ? anyGlob(guard.hosts.map((h) => h.toLowerCase())) : undefined;
  for (const name of guard.args) {
    const { values, problem } = stringsOf(args, name);
    if (problem) return problem;
    for (const raw of values) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return `argument "${name}" is not an absolute URL`;
      }
      const scheme = url.protocol.slice(0, -1);
      if (!guard.schemes.includes(scheme)) return `argument "${name}" (${shown(url)}) uses scheme "${scheme}"; allowed: ${guard.schemes.join(', ')}`;
      // The WHATWG parser already normalised decimal, octal and hex IPv4 forms (http://2130706433/ → 127.0.0.1).
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname.toLowerCase();
      if (host === '') return `argument "${name}" has no host`;
      if (hostAllowed && !hostAllowed(host)) return `argument "${name}" (${shown(url)}) names host "${host}", which is not allowed (allowed: ${guard.hosts!.join(', ')})`;
      if (guard.allowPrivate) continue;
      let addresses: string[];
      if (isIP(host)) addresses = [host];
      else {
        try {
          addresses = await resolveHost(host);
        } catch (error) {
          return `argument "${name}": host "${host}" could not be resolved (${(error as NodeJS.ErrnoException).code ?? 'error'}), so it cannot be checked`;
        }
        if (addresses.length === 0) return `argument "${name}": host "${host}" has no address, so it cannot be checked`;
      }
      const bad = addresses.find(isForbiddenAddress);
      if (bad !== undefined) {
        return `argument "${name}" (${shown(url)}) reaches ${bad === host ? 'the address' : `"${host}" → `}${bad}, a loopback, private, link-local or metadata address`;
      }
    }
  }
  return undefined;
}

// ---- values -----------------------------------------------------------------------------------

export interface CompiledValues {
  check(args: Record<string, unknown>): string | undefined;
}

export function compileValues(values: NonNullable<GuardsConfig['values']>): CompiledValues {
  const checks = Object.entries(values).map(([name, c]) => ({ name, c, pattern: c.pattern ? new RegExp(`^(?:${c.pattern})$`, 'u') : undefined }));
  return {
    check(args) {
      for (const { name, c, pattern } of checks) {
        const value = args[name];
        if (value === undefined) {
          if (c.required) return `argument "${name}" is required by policy`;
          continue;
        }
        const type = typeof value;
        if (c.type === 'integer' ? !Number.isInteger(value) : c.type !== undefined && type !== c.type) return `argument "${name}" must be ${c.type === 'integer' ? 'an integer' : `a ${c.type}`}`;
        if (c.enum && !c.enum.includes(value as string | number | boolean)) return `argument "${name}" must be one of ${c.enum.map((v) => JSON.stringify(v)).join(', ')}`;
        if (type === 'string') {
          const s = value as string;
          if (c.minLength !== undefined && s.length < c.minLength) return `argument "${name}" is shorter than ${c.minLength} characters`;
          if (c.maxLength !== undefined && s.length > c.maxLength) return `argument "${name}" is longer than ${c.maxLength} characters`;
          if (pattern && !pattern.test(s)) return `argument "${name}" does not match the pattern the policy requires`;
        }
        if (type === 'number') {
          const n = value as number;
          if (c.min !== undefined && n < c.min) return `argument "${name}" is below ${c.min}`;
          if (c.max !== undefined && n > c.max) return `argument "${name}" is above ${c.max}`;
        }
      }
      return undefined;
    },
  };
}
