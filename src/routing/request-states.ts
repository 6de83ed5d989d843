/**
 * The `requestState` a modern (2026-07-28) server puts in an `input_required` result, and to whom it
 * was given. The state is opaque: the client must send it back unchanged on its retry (spec 2026-07-28
 * `client/elicitation.mdx` §multi-round-trip), so the gateway can neither mask nor wrap it — and a
 * server that signs its state (a JWT) looks like a server leaking a token. So, as for list cursors
 * (routing/cursors.ts), the server's value does not travel: the client gets a random handle of the
 * gateway's own, and its retry may carry only such a handle, which the route stage exchanges for the
 * server's value before anything else judges the request. What the server wrote never reaches the
 * client's model, and what the client sends the server in its place is only what the server wrote.
 *
 * A handle is bound to the principal it was given to, the server, the method and the request's params
 * (the retry repeats them, spec ibid.): redeemed under anything else it is refused and left for its
 * owner. It is good for one retry (a replay finds nothing) and for `ttlMs`.
 *
 * Bounds (`routing.inputRequired`, shared with the parked calls of era translation): a principal holds
 * at most `maxPerPrincipal` handles and the gateway `maxTotal`, and at most `MAX_HELD_BYTES` of server
 * state, one state at most `MAX_STATE_BYTES`; beyond, the result is refused (`PC_INPUT_PARKED_LIMIT`),
 * never someone else's handle forgotten. A handle from before a restart or from another replica is
 * unknown: the client starts the call again (fail closed).
 */
import { randomBytes } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.ts';
import { sha256Hex } from '../audit/record.ts';
import { GatewayError } from '../errors.ts';
import type { JsonObject } from '../protocol/jsonrpc.ts';

/** What a handle looks like: a prefix and 128 random bits. */
export const HANDLE_PREFIX = 'pcs1.';
/** The largest server state held: a signed token is a few hundred bytes. */
export const MAX_STATE_BYTES = 64 * 1024;
/** All server state held at once. */
export const MAX_HELD_BYTES = 64 * 1024 * 1024;

/** Params of a request that differ between a call and its retry: the rest must be the same. */
const RETRY_FIELDS: ReadonlySet<string> = new Set(['requestState', 'inputResponses', '_meta']);

/** What a handle is bound to: the caller and the request the server answered. */
export interface StateBinding {
  /** `principalKey` of the caller. */
  readonly principal: string;
  readonly server: string;
  readonly method: string;
  /** SHA-256 over the canonical JSON of the client's params, less the fields a retry adds or changes. */
  readonly paramsHash: string;
}

/** The binding of a request the client sent as `params`, routed to `server`. */
export function stateBinding(principal: string, server: string, method: string, params: JsonObject | undefined): StateBinding {
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(params ?? {})) if (!RETRY_FIELDS.has(key)) kept[key] = value;
  return { principal, server, method, paramsHash: sha256Hex(canonicalJson(kept)) };
}

const sameBinding = (a: StateBinding, b: StateBinding): boolean => a.principal === b.principal && a.server === b.server && a.method === b.method && a.paramsHash === b.paramsHash;

interface Held {
  binding: StateBinding;
  state: unknown;
  bytes: number;
  expiresAt: number;
}

export interface StateLimits {
  ttlMs: number;
  maxPerPrincipal: number;
  maxTotal: number;
}

export class RequestStateBook {
  /** Handle → what it stands for, in the order given out (so the oldest expire first). */
  readonly #held = new Map<string, Held>();
  readonly #perPrincipal = new Map<string, number>();
  readonly #limits: StateLimits;
  readonly #now: () => number;
  #bytes = 0;

  constructor(limits: StateLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#held.size;
  }

  #remove(handle: string): Held | undefined {
    const held = this.#held.get(handle);
    if (!held) return undefined;
    this.#held.delete(handle);
    this.#bytes -= held.bytes;
    const left = (this.#perPrincipal.get(held.binding.principal) ?? 1) - 1;
    if (left > 0) this.#perPrincipal.set(held.binding.principal, left);
    else this.#perPrincipal.delete(held.binding.principal);
    return held;
  }

  /** Forgets what has expired: every entry has the same lifetime, so they expire in the order given. */
  #sweep(): void {
    const now = this.#now();
    for (const [handle, held] of this.#held) {
      if (held.expiresAt > now) return;
      this.#remove(handle);
    }
  }

  /** Notes the server's `state` for the request `binding` names; returns the handle to give the client instead, or the refusal. */
  issue(binding: StateBinding, state: unknown): string | GatewayError {
    this.#sweep();
    const bytes = Buffer.byteLength(JSON.stringify(state) ?? '');
    if (bytes > MAX_STATE_BYTES) {
      return new GatewayError('PC_UPSTREAM_PROTOCOL', `server "${binding.server}" answered with a requestState of ${bytes} bytes; the gateway holds at most ${MAX_STATE_BYTES}`, { server: binding.server });
    }
    const mine = this.#perPrincipal.get(binding.principal) ?? 0;
    const full = this.#held.size >= this.#limits.maxTotal || this.#bytes + bytes > MAX_HELD_BYTES;
    if (mine >= this.#limits.maxPerPrincipal || full) {
      const which = full ? `the gateway already holds ${this.#held.size} (routing.inputRequired.maxTotal)` : `you already have ${mine} (routing.inputRequired.maxPerPrincipal)`;
      return new GatewayError('PC_INPUT_PARKED_LIMIT', `this call needs your input, but too many calls are waiting for input: ${which}; answer or abandon those first`, { retryAfterMs: 1000 });
    }
    const handle = `${HANDLE_PREFIX}${randomBytes(16).toString('base64url')}`;
    this.#held.set(handle, { binding, state, bytes, expiresAt: this.#now() + this.#limits.ttlMs });
    this.#perPrincipal.set(binding.principal, mine + 1);
    this.#bytes += bytes;
    return handle;
  }

  /**
   * The server's state behind `handle` for a retry made under `binding`; one use only. A handle given
   * to another principal, or for another request, is refused and left for its owner.
   */
  redeem(handle: string, binding: StateBinding): { state: unknown } | GatewayError {
    this.#sweep();
    const held = this.#held.get(handle);
    if (!held) return new GatewayError('PC_INPUT_STATE_INVALID', 'requestState is not one this gateway gave (or it expired, or was already used); start the call again');
    if (!sameBinding(held.binding, binding)) return new GatewayError('PC_INPUT_STATE_INVALID', 'requestState belongs to another caller or another request; start the call again');
    this.#remove(handle);
    return { state: held.state };
  }
}
