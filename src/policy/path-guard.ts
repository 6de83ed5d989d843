/**
 * The path guard: every path argument must stay inside the configured roots, however a server or the
 * platform under it might read the value. A value is judged in every form it can take on the way to a
 * file system call, and refused when any of them leaves the roots:
 *   - as sent, with `~` and `file:` URLs expanded (servers expand them: server-filesystem does);
 *   - percent-decoded, again and again until nothing changes (`%252e%252e%252f` is `../` to a server
 *     that decodes twice; `%uFF0E` too); still encoded after MAX_DECODINGS rounds, or invalid UTF-8
 *     once decoded (overlong `%c0%ae`), it is refused;
 *   - in Unicode compatibility form NFKC (`．．/`, `‥/`, `..／` are `../` to a server or file system that
 *     normalizes);
 *   - with backslashes read as separators (`..\..\` on a Windows server, or behind one that converts).
 * Each form is resolved twice: `..` taken lexically first and then symlinks (what Node servers do with
 * path.resolve + realpath), and component by component with `lstat`, following every symlink by its
 * target text even when the target does not exist (what the kernel does with the raw path: a dangling
 * `<root>/new -> /outside/file` would create a file outside on write). A name that does not exist is
 * also resolved through every entry beside it that is the same name up to Unicode normalization or case
 * (server-filesystem, on ENOENT, takes the entry whose NFC form matches: `café` reaches a symlink named
 * `cafe\u0301`; macOS and case-folding file systems match such names themselves); every one must land
 * inside the roots, and a directory on the way that cannot be listed is refused.
 *
 * A relative path (`allowRelative`) is judged against the first root and always forwarded as the
 * absolute path judged: a server resolves relative paths against a base of its own.
 *
 * Whatever the roots, a path that resolves into the gateway's own state (its configuration file, data
 * directory, key and password files: ./gateway-state.ts) is refused, and that refusal denies the call
 * outright (PC_POLICY_GATEWAY_STATE), whatever other rule might allow it.
 *
 * With `forward: resolved`, the server receives the canonical path the guard judged (absolute, no `..`,
 * no symlink), so a symlink swapped in after the check can redirect only components created after it.
 * Not prevented (time of check to time of use): a process that can write inside a root can still
 * replace a checked component with a symlink between the check and the server's open; confine such
 * servers with the operating system (a container, a read-only mount, openat2 RESOLVE_BENEATH).
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { homedir, tmpdir, userInfo } from 'node:os';
import { isAbsolute, join, posix, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { GuardsConfig } from './schema.ts';
import { stringsOf, type GuardResult } from './guard-result.ts';
import type { GatewayState } from './gateway-state.ts';
import { percentDecodeUtf8 } from '../util/percent.ts';
import { foldName } from '../util/fold.ts';

type PathGuard = NonNullable<GuardsConfig['paths']>;

/**
 * Stands for the empty working directory a stdio server without `cwd` starts in (mkdtemp under the
 * temporary directory: src/upstream/stdio-channel.ts), as a base of relative readings (expansions). A
 * reading that stays inside it names nothing but that private, empty directory; one that climbs out of
 * it lands where it would from the real one (same parent) and is judged. The name is unguessable, so only
 * such readings are ever inside it.
 */
export const SCRATCH = join(tmpdir(), `portcullis-server-${randomUUID()}`);

/** Percent-decoding rounds before a value that still decodes is refused as deliberately nested. */
const MAX_DECODINGS = 4;
/** Symlinks followed while resolving one path (Linux allows 40 before ELOOP). */
const MAX_LINKS = 40;
/** Forms of one value judged at most (each transformation may apply to each form). */
const MAX_FORMS = 32;

const PERCENT = /%[0-9a-f]{2}/i;
const WIDE_PERCENT = /%u[0-9a-f]{4}/i;
const PLAIN = /^[\x21-\x5b\x5d-\x7e]*$/; // printable ASCII without backslash or space: no other form
export class Unjudgeable extends Error {}

/** Decodes every valid `%XX` run as UTF-8; throws when the bytes are not UTF-8. */
function percentDecode(text: string): string {
  try {
    return percentDecodeUtf8(text);
  } catch {
    throw new Unjudgeable('has percent-encoding that is not valid UTF-8 once decoded');
  }
}

/**
 * The home directories `~` may stand for: the gateway's, and each HOME a server is given in its `env`
 * (server-filesystem expands `~` with its own HOME, not the gateway's: red team F1). A HOME given by a
 * reference (`env:`/`file:`) is not known here, so `~` cannot be judged at all while one is configured.
 */
let serverHomes: readonly string[] = [];
let unknownHome = false;

/** Sets the HOMEs of the configured servers (at gateway start; servers do not change on reload). */
export function useServerHomes(servers: Record<string, { env?: Record<string, string> } | object>): void {
  const homes = new Set<string>();
  unknownHome = false;
  for (const server of Object.values(servers)) {
    const home = 'env' in server ? server.env?.HOME : undefined;
    if (home === undefined) continue;
    if (isAbsolute(home)) homes.add(home.replace(/\/+$/, '') || '/');
    else unknownHome = true;
  }
  serverHomes = [...homes];
}

/** The account's home from the password database (a server started without HOME falls back to it). */
function accountHome(): string[] {
  try {
    return [userInfo().homedir];
  } catch {
    return [];
  }
}

/**
 * Why a `file:` URL is refused before it is read at all: what makes the readings of one string differ
 * (red team K1). A URL parser drops a query or fragment and removes tabs and line breaks; a server that
 * strips the scheme by slicing, or reads the whole string as a relative path (server-filesystem does not
 * know URLs), keeps them: `file:///root/ok.txt?/../../x` is `/root/ok.txt` to the first and `x` to the others.
 */
function fileUrlProblem(raw: string): string | undefined {
  if (/[?#]/.test(raw)) return 'is a file URL with a query or fragment (? or #), which a URL parser drops and a server reading the string as a path keeps; send the path without them';
  if (/[\t\n\r]|[\x00-\x20]$/.test(raw)) return 'is a file URL with a tab, line break or trailing space or control character, which a URL parser removes and a server reading the string as a path keeps';
  return undefined;
}

/**
 * `~`, `~/x` and `file:` URLs as every path they may name: a server may expand them or not, and reads
 * what it does not expand as a path relative to its own base (`bases`: the server's directories and
 * working directory, gateway-state.ts serverBases):
 *   - `~/x`: under every home (see above), and as `<base>/~/x`;
 *   - a `file:` URL: (a) the URL's path (fileURLToPath: `%XX` decoded, `\` as `/`), (b) the string
 *     without its `file://` or `file:` prefix, as a path (relative ones against each base), (c) the whole
 *     string as a path relative to each base (`<base>/file:/…`).
 * `~user` cannot be judged. Readings that cannot be told apart are refused first (fileUrlProblem).
 */
function expansions(raw: string, bases: readonly string[] = []): string[] {
  const relative = (text: string): string[] => (bases.length === 0 ? [text] : bases.map((base) => `${base}/${text}`));
  if (raw === '~' || raw.startsWith('~/')) {
    if (unknownHome) throw new Unjudgeable("starts with ~, and a server's HOME is set by a reference, so whose home is unknown");
    return [...new Set([...[homedir(), ...accountHome(), ...serverHomes].map((home) => home + raw.slice(1)), ...relative(raw)])];
  }
  if (/^file:/i.test(raw)) {
    const problem = fileUrlProblem(raw);
    if (problem) throw new Unjudgeable(problem);
    const sliced = [raw.slice('file:'.length), ...(/^file:\/\//i.test(raw) ? [raw.slice('file://'.length)] : [])];
    // What is left after the scheme may itself be expanded (`file:~/x` is `~/x` to a slicing server).
    const paths = sliced.flatMap((text) => expansions(text, bases)).flatMap((text) => (isAbsolute(text) ? [text] : relative(text)));
    return [...new Set([expand(raw), ...paths, ...relative(raw)])];
  }
  return [expand(raw)];
}

/** One path of `raw`: the gateway's own home for `~`, a `file:` URL's path (see expansions). */
function expand(raw: string): string {
  if (raw === '~' || raw.startsWith('~/')) return homedir() + raw.slice(1);
  if (/^~[A-Za-z_][A-Za-z0-9_.-]*(\/|$)/.test(raw)) throw new Unjudgeable('names another user\'s home directory');
  if (/^file:/i.test(raw)) {
    try {
      return fileURLToPath(new URL(raw));
    } catch {
      throw new Unjudgeable('is a file URL that cannot be read as a local path');
    }
  }
  return raw;
}

/**
 * Every form of `raw` a server might act on (see the module comment); the first is the literal one (for
 * `~` and `file:`, the gateway's expansion). `bases`: what a server resolves unexpanded `~`/`file:` text
 * against (see expansions); without them such readings are left relative (and refused as such).
 */
export function formsOf(raw: string, bases: readonly string[] = []): string[] {
  const [first, ...others] = expansions(raw, bases) as [string, ...string[]];
  if (others.length === 0 && PLAIN.test(first) && !first.includes('%')) return [first];
  const queue: { text: string; decodings: number }[] = [{ text: first, decodings: 0 }];
  const seen = new Set([first]);
  const add = (text: string, decodings: number): void => {
    if (seen.has(text)) return;
    if (seen.size >= MAX_FORMS) throw new Unjudgeable('has too many encoded forms to judge');
    seen.add(text);
    queue.push({ text, decodings });
  };
  for (const other of others) add(other, 0);
  for (let i = 0; i < queue.length; i++) {
    const { text, decodings } = queue[i]!;
    if (PERCENT.test(text)) {
      if (decodings >= MAX_DECODINGS) throw new Unjudgeable(`is still percent-encoded after ${MAX_DECODINGS} decodings`);
      add(percentDecode(text), decodings + 1);
    }
    // %uXXXX, the non-standard escape some servers (IIS, JavaScript's unescape) still decode.
    if (WIDE_PERCENT.test(text)) add(text.replace(/%u([0-9a-f]{4})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), decodings + 1);
    add(text.normalize('NFKC'), decodings);
    if (text.includes('\\')) add(text.replaceAll('\\', '/'), decodings);
    for (const expanded of expansions(text, bases)) add(expanded, decodings);
  }
  return queue.map((f) => f.text);
}

/**
 * A name as a server or file system that folds names might match it: compatibility-normalised (covers
 * NFC/NFD/NFKC/NFKD) and case-folded (`ß` as `ss`) — the fold that also judges argument keys
 * (src/util/fold.ts). Broader than any one server folds, on purpose: it only adds candidates the guard
 * must also find inside the roots.
 */
const fold = foldName;

/** Resolutions of one path followed at most (each equivalent spelling of a missing name is one more). */
const MAX_RESOLUTIONS = 16;

interface Walk {
  pending: string[];
  done: string[];
  links: number;
  missing: boolean;
}

/**
 * Entries of `dir` a server may take for the missing name `part`: server-filesystem, on ENOENT, takes
 * the directory entry whose NFC form equals the requested one (a symlink named in NFD answers a request
 * in NFC); file systems fold case or normalization themselves. Unreadable directory: cannot tell.
 */
function equivalents(dir: string, part: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new Unjudgeable(`cannot be checked (${code ?? 'error'} listing a directory on its way)`);
  }
  const want = fold(part);
  return entries.filter((entry) => entry !== part && fold(entry) === want);
}

/**
 * Resolves an absolute path component by component as the kernel would: `lstat` each existing
 * component, follow a symlink by its target text (even a dangling one), take `..` after what was
 * resolved. Components past the first missing one are taken as written. A missing name with
 * Unicode- or case-equivalent entries beside it is also resolved through each of them (a server may
 * take one of those instead), so the answer is every path the value may reach; the first is the literal
 * reading.
 */
export function resolvePhysical(path: string): string[] {
  const walks: Walk[] = [{ pending: path.split('/').filter((c) => c !== '').reverse(), done: [], links: 0, missing: false }];
  const out: string[] = [];
  for (let w = 0; w < walks.length; w++) {
    const walk = walks[w]!;
    const { pending, done } = walk;
    while (pending.length > 0) {
      const part = pending.pop()!;
      if (part === '.') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      const candidate = `/${[...done, part].join('/')}`;
      if (!walk.missing) {
        let stat;
        try {
          stat = lstatSync(candidate, { throwIfNoEntry: false });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw new Unjudgeable(`cannot be checked (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        }
        if (stat?.isSymbolicLink()) {
          if (++walk.links > MAX_LINKS) throw new Unjudgeable('goes through too many symbolic links');
          const target = readlinkSync(candidate);
          if (target.startsWith('/')) done.length = 0;
          pending.push(...target.split('/').filter((c) => c !== '').reverse());
          continue;
        }
        if (!stat) {
          walk.missing = true;
          for (const entry of equivalents(`/${done.join('/')}`, part)) {
            if (walks.length >= MAX_RESOLUTIONS) throw new Unjudgeable('has too many equivalent spellings on disk to judge');
            walks.push({ pending: [...pending, entry], done: [...done], links: walk.links, missing: false });
          }
        }
      }
      done.push(part);
    }
    out.push(`/${done.join('/')}`);
  }
  return out;
}

/** Roots resolved at most every few seconds (a root that is itself a symlink may be re-pointed). */
const ROOTS_TTL_MS = 5000;
const resolvedRoots = new WeakMap<readonly string[], { at: number; roots: string[] }>();

function realRoots(roots: readonly string[]): string[] {
  const now = performance.now();
  const cached = resolvedRoots.get(roots);
  if (cached && now - cached.at < ROOTS_TTL_MS) return cached.roots;
  const fresh = roots.map((r) => resolvePhysical(resolve(r))[0]!);
  resolvedRoots.set(roots, { at: now, roots: fresh });
  return fresh;
}

export const within = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** The canonical path of one form, or why it is refused. */
function judge(form: string, guard: PathGuard, roots: readonly string[], state: GatewayState | undefined, mutating: boolean): { canonical: string } | { problem: string; state?: true } {
  if (form.includes('\0')) return { problem: 'contains a NUL byte' };
  if (!isAbsolute(form) && !guard.allowRelative) return { problem: `must be an absolute path inside ${guard.roots.join(', ')}` };
  const joined = isAbsolute(form) ? form : `${roots[0]!}/${form}`;
  // Read against a stdio server's own empty directory and staying inside it: names nothing else.
  if (within(posix.normalize(joined), SCRATCH)) return { canonical: posix.normalize(joined) };
  // The lexical reading (path.resolve, then symlinks) and the kernel's (symlinks first, then `..`).
  const lexical = resolvePhysical(posix.normalize(joined));
  const physical = /(^|\/)\.\.?(\/|$)/.test(joined) ? resolvePhysical(joined) : [];
  for (const resolved of [...lexical, ...physical]) {
    if (!roots.some((root) => within(resolved, root))) return { problem: `resolves outside the allowed roots ${guard.roots.join(', ')}` };
    const owned = state?.holding(resolved, mutating);
    if (owned) return { problem: `resolves into the gateway's own state (${owned})`, state: true };
  }
  return { canonical: lexical[0]! };
}

/** Combinations of path forms a call is decided on at most (every form of every guarded value). */
const MAX_READINGS = 64;

/**
 * `mutating`: the tool is not read-only, so a directory holding state is state too (GatewayState.holding).
 * `bases`: the directories the server reads an unexpanded `~` or `file:` string against (its directory
 * arguments and working directory: gateway-state.ts serverBases); every such reading must stay inside too.
 */
export function checkPaths(guard: PathGuard, args: Record<string, unknown>, state?: GatewayState, mutating = true, bases: readonly string[] = [process.cwd()]): GuardResult {
  const roots = realRoots(guard.roots);
  const rewrites: Record<string, unknown> = {};
  // Every guarded value as forwarded, and every other canonical form a server may read it as.
  const slots: { name: string; list: boolean; index: number; options: string[] }[] = [];
  for (const name of guard.args) {
    const { values, list, problem } = stringsOf(args, name);
    if (problem) return { problem };
    const readings: string[][] = [];
    let relative = false;
    for (const raw of values) {
      const canonical: string[] = [];
      try {
        const forms = formsOf(raw, bases);
        // A relative path was judged against the first root; the server resolves it against its own
        // base (its directories, its working directory): it receives the absolute path judged instead.
        if (!isAbsolute(forms[0]!)) relative = true;
        for (const form of forms) {
          const verdict = judge(form, guard, roots, state, mutating);
          if ('problem' in verdict) return { problem: `argument "${name}" ${verdict.problem}`, ...(verdict.state ? { gatewayState: true } : {}) };
          if (within(verdict.canonical, SCRATCH)) continue; // names nothing a deny rule is about
          const path = /^file:/i.test(raw) ? pathToFileURL(verdict.canonical).href : verdict.canonical;
          if (!canonical.includes(path)) canonical.push(path);
        }
      } catch (error) {
        if (error instanceof Unjudgeable) return { problem: `argument "${name}" ${error.message}` };
        throw error;
      }
      readings.push(canonical);
    }
    const forwarded = guard.forward === 'resolved' || relative ? readings.map((r) => r[0]!) : values;
    if (forwarded.some((path, i) => path !== values[i])) rewrites[name] = list ? forwarded : forwarded[0];
    readings.forEach((r, index) => slots.push({ name, list, index, options: [forwarded[index]!, ...r.filter((path) => path !== forwarded[index])] }));
  }
  // Deny rules must hold for every form the server may read: each combination of forms is decided on.
  const count = slots.reduce((n, slot) => n * slot.options.length, 1) - 1;
  if (count > MAX_READINGS) return { problem: `the path arguments have more than ${MAX_READINGS} forms a server may read (percent-encoded, compatibility or backslash spellings) to judge` };
  const judged: Record<string, unknown>[] = [];
  for (let combination = 1; combination <= count; combination++) {
    const reading: Record<string, unknown> = {};
    let rest = combination;
    for (const slot of slots) {
      const path = slot.options[rest % slot.options.length]!;
      rest = Math.floor(rest / slot.options.length);
      if (!slot.list) reading[slot.name] = path;
      else ((reading[slot.name] ??= [...((rewrites[slot.name] ?? args[slot.name]) as string[])]) as string[])[slot.index] = path;
    }
    judged.push(reading);
  }
  return { ...(Object.keys(rewrites).length > 0 ? { rewrites } : {}), ...(judged.length > 0 ? { judged } : {}) };
}
