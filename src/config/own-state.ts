/**
 * The gateway's own state on disk: its data directory (policy state, kill switch, pins, OAuth signing
 * keys, the audit trail and its head notes) and every file the configuration reads a secret or key from
 * (`file:` references), and the audit witness. A paths guard refuses every path that reaches one of
 * them, whatever its roots: an agent given a filesystem server on the home directory must not lift its
 * own kill switch, rewrite its policy or read the token-signing key (red team F16).
 */
import { resolve } from 'node:path';
import type { ProtectedPath } from '../policy/path-guard.ts';
import type { Config } from './schema.ts';

export function ownStatePaths(config: Config, dataDir: string): ProtectedPath[] {
  const out: ProtectedPath[] = [{ path: resolve(dataDir), what: "the gateway's data directory" }];
  const walk = (value: unknown, at: string, depth: number): void => {
    if (depth > 12) return;
    if (typeof value === 'string') {
      if (/^file:/.test(value) && value.length > 5) out.push({ path: resolve(value.slice(5)), what: `a file the gateway's configuration reads (${at})` });
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`, depth + 1));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, at ? `${at}.${k}` : k, depth + 1);
  };
  // Not the servers' own settings (a server's `file:` env is its own business, not the gateway's).
  for (const [key, value] of Object.entries(config)) if (key !== 'servers') walk(value, key, 0);
  if (config.audit.witness) out.push({ path: resolve(config.audit.witness), what: 'the audit witness' });
  return out;
}
