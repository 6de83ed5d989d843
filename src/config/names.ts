/**
 * What the configuration schema (./schema.ts, built with zod) and the running gateway both use, kept
 * apart from the schema so that the gateway does not load zod to read a name pattern: the embedded
 * default starts without it (see ./embedded-config.ts).
 */
import { isIP } from 'node:net';
import type { ServerConfig, StdioServerConfig } from './schema.ts';

/** A secret is never written in the config: it is a reference resolved at start-up. */
export const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/.+)$/;

export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** Header and variable names whose values are credentials: a literal value there is rejected. */
export const SENSITIVE_NAME = /(authorization|cookie|token|secret|password|passwd|api[-_]?key|credential|private[-_]?key)/i;

/** Bounds of `upstreamSession: per-principal` when the config does not set them. */
export const PER_PRINCIPAL_DEFAULTS = { maxSessions: 32, idleMs: 600_000 } as const;

export function isStdioServer(server: ServerConfig): server is StdioServerConfig {
  return 'command' in server;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname) || hostname.endsWith('.localhost')) return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

/** A stdio server's runAs: user, user:group, uid, uid:gid — names or numbers (src/upstream/run-as.ts). */
export const RUN_AS_PATTERN = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?(?::[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?)?$/;
