/**
 * Records requests refused before they became a message (a missing or invalid credential), rate-limited
 * by a token bucket so a flood of bad tokens cannot flood the trail: at most REFUSALS_PER_SECOND a
 * second (burst REFUSAL_BURST) are written; the rest only count in /metrics.
 */
import { randomUUID } from 'node:crypto';
import type { GatewayError } from '../errors.ts';
import type { Endpoint, MessageContext } from '../pipeline/context.ts';
import type { AuditLog } from './log.ts';
import type { Principal } from '../auth/principal.ts';

const REFUSALS_PER_SECOND = 20;
const REFUSAL_BURST = 100;

/**
 * Returns whether the refusal was recorded. `method`: what was refused (default: an authentication);
 * `principal`: who, when the front already knows (a step-up refusal of an authenticated caller).
 */
export type RefusalRecorder = (endpoint: Endpoint, error: GatewayError, method?: string, principal?: Principal) => Promise<boolean>;

export function createRefusalRecorder(audit: AuditLog | undefined, clock: () => number = () => performance.now()): RefusalRecorder {
  let tokens = REFUSAL_BURST;
  let lastAt = clock();
  return async function recordRefusal(endpoint, error, method = '(authentication)', principal = undefined) {
    if (!audit) return false;
    const at = clock();
    tokens = Math.min(REFUSAL_BURST, tokens + ((at - lastAt) / 1000) * REFUSALS_PER_SECOND);
    lastAt = at;
    if (tokens < 1) return false;
    tokens -= 1;
    const ctx: MessageContext = {
      correlationId: randomUUID(),
      receivedAtMs: Date.now(),
      startedAt: at,
      endpoint,
      request: { jsonrpc: '2.0', id: null as unknown as string, method },
      client: { key: 'modern:refused', era: 'modern', protocolVersion: '', capabilities: {}, info: undefined, notify: () => undefined, request: undefined },
      signal: new AbortController().signal,
      paramHeaders: undefined,
      principal: principal ?? { kind: 'token', subject: 'anonymous', agent: 'unknown', scopes: [], allScopes: false, roles: [] },
      task: undefined,
    };
    await audit.record(ctx, { error });
    return true;
  };
}
