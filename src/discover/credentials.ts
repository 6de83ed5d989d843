/**
 * The credentials of one server entry: every value in env, headers, args, URL and OAuth fields that is
 * a secret or names one, classified, fingerprinted and aged — and the entry's values as they may be
 * shown, with every literal secret replaced by its kind and fingerprint.
 */
import type { ServerEntry } from './entries.ts';
import { classifyValue, fingerprint, masked, tokenDates, type Classified } from './secret-kinds.ts';

export interface CredentialReport {
  where: string;
  kind: string;
  literal: boolean;
  /** First 8 hex digits of the SHA-256 of a literal value; null for a reference. */
  fingerprint: string | null;
  /** Days since the secret was issued (a JWT's iat) or, at least, since the file last changed; null when unknown. */
  ageDays: number | null;
  ageFrom: 'token' | 'file' | null;
  /** What a reference points at (`env:NAME`, `input:id`, `keyring:NAME`, `oauth:keychain`). */
  reference?: string;
  expiresAt?: string;
}

/** A literal secret found in an entry, kept in memory only (for masking and for `import`). */
export interface LiteralSecret {
  where: string;
  kind: string;
  value: string;
  /** The name it sits under (env variable, header, flag), when there is one. */
  key?: string;
}

export interface Shown {
  args: string[];
  url: string | null;
  env: Record<string, string>;
  headers: Record<string, string>;
}

export interface CredentialScan {
  credentials: CredentialReport[];
  literals: LiteralSecret[];
  shown: Shown;
}

const DAY_MS = 86_400_000;

/** Masks a URL's user-info and any query parameter that is a credential; returns the secrets it found. */
function scanUrl(url: string, found: (where: string, key: string, value: string, c: Classified) => void): string {
  let shown = url;
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#\s]+)@/i.exec(url);
  if (userinfo && userinfo[2]!.includes(':')) {
    found('url.userinfo', 'password', userinfo[2]!, { literal: true, kind: 'url-credentials' });
    shown = `${userinfo[1]}${masked('url-credentials', userinfo[2]!)}@${url.slice(userinfo[0].length)}`;
  }
  for (const m of url.matchAll(/[?&]([^=&#]{1,128})=([^&#]{1,4096})/g)) {
    let value = m[2]!;
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep the raw value
    }
    const c = classifyValue(value, m[1]!);
    if (!c) continue;
    if (c.literal) {
      found(`url.query.${m[1]}`, m[1]!, value, c);
      shown = shown.split(m[2]!).join(masked(c.kind, value));
    } else found(`url.query.${m[1]}`, m[1]!, value, c);
  }
  return shown;
}

export function scanCredentials(entry: ServerEntry, fileMtime: Date | undefined, now: Date): CredentialScan {
  const credentials: CredentialReport[] = [];
  const literals: LiteralSecret[] = [];
  const found = (where: string, key: string, value: string, c: Classified): void => {
    if (!c.literal) {
      credentials.push({ where, kind: c.kind, literal: false, fingerprint: null, ageDays: null, ageFrom: null, ...(c.reference ? { reference: c.reference } : {}) });
      return;
    }
    const dates = tokenDates(value);
    let ageDays: number | null = null;
    let ageFrom: CredentialReport['ageFrom'] = null;
    if (dates.issuedAt) {
      ageDays = Math.max(0, Math.floor((now.getTime() - dates.issuedAt.getTime()) / DAY_MS));
      ageFrom = 'token';
    } else if (fileMtime) {
      ageDays = Math.max(0, Math.floor((now.getTime() - fileMtime.getTime()) / DAY_MS));
      ageFrom = 'file';
    }
    credentials.push({ where, kind: c.kind, literal: true, fingerprint: fingerprint(value), ageDays, ageFrom, ...(dates.expiresAt ? { expiresAt: dates.expiresAt.toISOString() } : {}) });
    literals.push({ where, kind: c.kind, value, ...(key ? { key } : {}) });
  };

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry.env)) {
    const c = classifyValue(value, key);
    if (c) found(`env.${key}`, key, value, c);
    env[key] = c?.literal ? masked(c.kind, value) : value;
  }
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry.headers)) {
    const c = classifyValue(value, key);
    if (c) found(`headers.${key}`, key, value, c);
    headers[key] = c?.literal ? masked(c.kind, value) : value;
  }
  const args: string[] = [];
  for (let i = 0; i < entry.args.length; i++) {
    const arg = entry.args[i]!;
    // `--flag=value`, and `NAME=value` as tools that take settings as arguments write them.
    const flag = /^(--?[A-Za-z0-9][A-Za-z0-9_.-]{0,63}|[A-Za-z_][A-Za-z0-9_.-]{0,63})=(.*)$/s.exec(arg);
    const previous = i > 0 ? entry.args[i - 1]! : '';
    let c: Classified | undefined;
    let secret = arg;
    let key = '';
    if (flag) {
      key = flag[1]!.replace(/^-+/, '');
      secret = flag[2]!;
      c = classifyValue(secret, key);
    } else if (/^--?[A-Za-z]/.test(previous) && !previous.includes('=') && !arg.startsWith('-') && !/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      // The value of the flag before it: a credential when the flag's name says so (classifyValue decides).
      key = previous.replace(/^-+/, '');
      c = classifyValue(arg, key);
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) {
      args.push(scanUrl(arg, (where, k, v, cc) => found(`args[${i}].${where.slice(4)}`, k, v, cc)));
      continue;
    } else {
      c = classifyValue(arg);
    }
    if (c) found(`args[${i}]`, key, secret, c);
    args.push(c?.literal ? (flag ? `${flag[1]}=${masked(c.kind, secret)}` : masked(c.kind, secret)) : arg);
  }
  const url = entry.url === undefined ? null : scanUrl(entry.url, found);
  for (const field of entry.secretFields) {
    const c = classifyValue(field.value, field.key) ?? (field.value ? { literal: true, kind: 'oauth-client-secret' } : undefined);
    if (c) found(field.where, field.key, field.value, c.literal && c.kind === 'generic-secret' ? { literal: true, kind: 'oauth-client-secret' } : c);
  }
  for (const ref of entry.namedRefs) credentials.push({ where: ref.where, kind: ref.reference.startsWith('oauth:') ? 'oauth' : 'reference', literal: false, fingerprint: null, ageDays: null, ageFrom: null, reference: ref.reference });
  return { credentials, literals, shown: { args, url, env, headers } };
}

/** Every literal secret's value replaced by its mask in `text` (for diffs and messages built from files). */
export function maskAll(text: string, literals: readonly LiteralSecret[]): string {
  let out = text;
  for (const secret of [...literals].sort((a, b) => b.value.length - a.value.length)) {
    if (secret.value.length === 0) continue;
    out = out.split(secret.value).join(masked(secret.kind, secret.value));
    // A JSON or TOML file holds the value escaped; mask that spelling too.
    const escaped = JSON.stringify(secret.value).slice(1, -1);
    if (escaped !== secret.value) out = out.split(escaped).join(masked(secret.kind, secret.value));
  }
  return out;
}
