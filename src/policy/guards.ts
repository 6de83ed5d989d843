/**
 * Argument guards of one rule, compiled once: size, then values, paths and URLs (see each guard's
 * module). The first guard that fails decides; canonical forms the guards judged (serialized URLs,
 * resolved paths with `forward: resolved`) come back as rewrites, which the gateway forwards in place
 * of what was sent; every other reading of a path a server may act on comes back in `judged`, decided on as well.
 */
import type { GuardResult, ResolveHost } from './guard-result.ts';
import { checkPaths } from './path-guard.ts';
import type { GuardsConfig } from './schema.ts';
import type { GatewayState } from './gateway-state.ts';
import { checkUrls } from './url-guard.ts';
import { compileValues } from './value-guard.ts';
import { then, type Maybe } from '../util/maybe.ts';

/** Synchronous unless a URL guard must resolve a host. */
/**
 * `mutating`: the call may change what its paths name (a tool not marked read-only). `bases`: the
 * directories the called server resolves relative text against (path-guard.ts checkPaths).
 */
export type CompiledGuards = (args: Record<string, unknown>, mutating?: boolean, bases?: readonly string[]) => Maybe<GuardResult>;

/** Throws UnsupportedPattern when a value pattern cannot run in linear time (a load-time problem). */
export function compileGuards(guards: GuardsConfig, resolveHost: ResolveHost, state?: GatewayState): CompiledGuards {
  const values = guards.values ? compileValues(guards.values) : undefined;
  return (args, mutating = true, bases) => {
    if (guards.maxBytes !== undefined && Buffer.byteLength(JSON.stringify(args)) > guards.maxBytes) return { problem: `the arguments are larger than ${guards.maxBytes} bytes` };
    const bad = values?.(args);
    if (bad) return { problem: bad };
    const paths = guards.paths ? checkPaths(guards.paths, args, state, mutating, bases) : {};
    if (paths.problem) return paths;
    return then(guards.urls ? checkUrls(guards.urls, args, resolveHost) : {}, (urls: GuardResult): GuardResult => {
      if (urls.problem) return urls;
      const rewrites = { ...paths.rewrites, ...urls.rewrites };
      return { ...(Object.keys(rewrites).length > 0 ? { rewrites } : {}), ...(paths.judged ? { judged: paths.judged.map((reading) => ({ ...urls.rewrites, ...reading })) } : {}) };
    });
  };
}
