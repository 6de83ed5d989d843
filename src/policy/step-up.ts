/**
 * Which scopes a tools/call needs that its caller's token lacks, decided before the call becomes a
 * message, so the HTTP front can answer 403 `insufficient_scope` (RFC 6750 §3.1) and the client can
 * step up. Undefined when nothing is missing (or the pipeline will refuse the call for another reason).
 */
import { missingScopes, type Principal } from '../auth/principal.ts';
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { Endpoint } from '../pipeline/context.ts';
import type { Catalog } from '../routing/catalog.ts';
import type { PolicyRuntime } from './runtime.ts';

export type ScopeCheck = (endpoint: Endpoint, request: JsonRpcRequest, principal: Principal) => Promise<string[] | undefined>;

export function createScopeCheck(policy: PolicyRuntime, catalog: Catalog, timeoutMsFor: (server: string | undefined) => number): ScopeCheck {
  return async function scopesMissing(endpoint, request, principal) {
    if (request.method !== 'tools/call' || principal.allScopes || typeof request.params?.name !== 'string') return undefined;
    if (policy.current.policy.mode === 'monitor') return undefined; // recorded by authorize, not enforced
    let server: string;
    let tool: string;
    if (endpoint.kind === 'server') {
      server = endpoint.server;
      tool = request.params.name;
    } else {
      const found = await catalog.resolveName('tools', request.params.name, timeoutMsFor(undefined)).catch(() => undefined);
      if (!found) return undefined; // the pipeline answers the unknown tool
      ({ server, name: tool } = found);
    }
    const needed = policy.current.policy.requiredScopes(server, tool);
    return missingScopes(principal, needed).length > 0 ? needed : undefined;
  };
}
