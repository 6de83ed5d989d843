/**
 * Opens the audit store the config names. One place, used by the gateway and by `portcullis audit`.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defaultDataDir } from '../config/defaults.ts';
import type { Config } from '../config/schema.ts';
import { JsonlAuditStore } from './jsonl-store.ts';
import { SqliteAuditStore } from './sqlite-store.ts';
import type { AuditStore } from './store.ts';

export function auditInstance(config: Config): string {
  return config.audit.instance ?? (hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'gateway');
}

export function openAuditStore(config: Config, env: Readonly<Record<string, string | undefined>>): AuditStore | undefined {
  const { store, path } = config.audit;
  const dataDir = config.dataDir ?? defaultDataDir(env);
  switch (store) {
    case 'off':
      return undefined;
    case 'stdout':
      return new JsonlAuditStore(undefined);
    case 'jsonl':
      return new JsonlAuditStore(path ?? join(dataDir, 'audit.jsonl'));
    case 'sqlite':
      return new SqliteAuditStore(path ?? join(dataDir, 'audit.db'));
  }
}
