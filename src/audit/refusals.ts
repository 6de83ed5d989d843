/**
 * Records requests refused before they became a message, or before the pipeline: a missing or invalid
 * credential, a token without the scope a call needs (403 insufficient_scope), a session id that is
 * unknown or another caller's, a protocol refusal (unsupported version, malformed body, a transport
 * rule broken). Rate-limited by a token bucket so a flood cannot flood the trail: at most
 * REFUSALS_PER_SECOND a second (burst REFUSAL_BURST) are written; the rest only count (`dropped`).
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import type { GatewayError } from '../errors.ts';
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { Endpoint, MessageContext } from '../pipeline/context.ts';
import type { AuditLog } from './log.ts';

const REFUSALS_PER_SECOND = 20;
const REFUSAL_BURST = 100;

/** What is known of a refused request besides the refusal: who asked (once authenticated), and what. */
export interface RefusalDetails {
  principal?: Principal | undefined;
  /** The refused request (its id, method and params name what was asked). */
  request?: JsonRpcRequest | undefined;
  /** The client's address: the socket's remote address (a header the client writes is never taken for it). */
  address?: string | undefined;
}

/**
 * Returns whether the refusal was recorded. `method`: what was refused (default: an authentication);
 * a `details.request` names it instead.
 */
export type RefusalRecorder = ((endpoint: Endpoint, error: GatewayError, method?: string, details?: RefusalDetails) => Promise<boolean>) & {
  /** Refusals not recorded because the bucket was empty. */
  readonly dropped: number;
};

const ANONYMOUS: Principal = { kind: 'token', subject: 'anonymous', agent: 'unknown', scopes: [], allScopes: false, roles: [] };

export function createRefusalRecorder(audit: AuditLog | undefined, clock: () => number = () => performance.now()): RefusalRecorder {
  let tokens = REFUSAL_BURST;
  let lastAt = clock();
  let dropped = 0;
  const recordRefusal = async (endpoint: Endpoint, error: GatewayError, method = '(authentication)', details: RefusalDetails = {}): Promise<boolean> => {
    if (!audit) return false;
    const at = clock();
    tokens = Math.min(REFUSAL_BURST, tokens + ((at - lastAt) / 1000) * REFUSALS_PER_SECOND);
    lastAt = at;
    if (tokens < 1) {
      dropped += 1;
      return false;
    }
    tokens -= 1;
    const request: JsonRpcRequest = details.request ?? { jsonrpc: '2.0', id: null as unknown as string, method };
    const ctx: MessageContext = {
      correlationId: randomUUID(),
      receivedAtMs: Date.now(),
      startedAt: at,
      endpoint,
      request,
      client: { key: 'modern:refused', era: 'modern', protocolVersion: '', capabilities: {}, info: undefined, notify: () => undefined, request: undefined },
      signal: new AbortController().signal,
      paramHeaders: undefined,
      principal: details.principal ?? ANONYMOUS,
      task: undefined,
    };
    if (details.address !== undefined) ctx.address = details.address;
    await audit.record(ctx, { error });
    return true;
  };
  return Object.defineProperty(recordRefusal, 'dropped', { get: () => dropped }) as RefusalRecorder;
}
