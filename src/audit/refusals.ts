/**
 * Records requests refused before they became a message, or before the pipeline: a missing or invalid
 * credential, a token without the scope a call needs (403 insufficient_scope), a session id that is
 * unknown or another caller's, a protocol refusal (unsupported version, malformed body, a transport
 * rule broken).
 *
 * Bounded so a flood cannot flood the trail, and so that nobody's flood can silence anybody else's
 * evidence (redteam-g F1): each class has budgets of its own (token buckets), never one shared by all.
 * - Unidentified callers (no credential, or one that failed): per client address (an IPv4 address or an
 *   IPv6 /64) ANON_PER_ADDRESS a second (burst ANON_ADDRESS_BURST), and all of them together
 *   ANON_PER_SECOND (burst ANON_BURST).
 * - Identified callers (a verified principal): per caller identity (`callerIdentity`: an agent across its
 *   credentials) IDENTIFIED_PER_SECOND (burst IDENTIFIED_BURST) — what a made-up key sends costs no
 *   identified caller a record.
 * What a budget leaves unwritten is counted per class (`unrecorded`) and summed up in the trail: at most
 * every SUMMARY_EVERY_MS, one record (code PC_AUDIT_BUDGET, method `(refusals not recorded)`) per class —
 * per identity for identified callers — saying how many were not written. An identified caller's refusal
 * that is not written still reaches the monitor (`observe`): its detectors count decisions, not only
 * what was written.
 */
import { randomUUID } from 'node:crypto';
import { callerIdentity, type Principal } from '../auth/principal.ts';
import { GatewayError } from '../errors.ts';
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts';
import type { Endpoint, MessageContext } from '../pipeline/context.ts';
import { addressUnit } from '../monitor/detectors.ts';
import type { AuditLog } from './log.ts';

export const ANON_PER_SECOND = 20;
export const ANON_BURST = 100;
export const ANON_PER_ADDRESS = 5;
export const ANON_ADDRESS_BURST = 25;
export const IDENTIFIED_PER_SECOND = 20;
export const IDENTIFIED_BURST = 100;
/** Budgets kept at once per class (past it, full buckets are forgotten first, then the oldest). */
const MAX_BUCKETS = 10_000;
export const SUMMARY_EVERY_MS = 5_000;
/** Identities named in one summary; the rest are summed in one more record. */
const MAX_SUMMARY_IDENTITIES = 100;

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
  /** Refusals not recorded because a budget was empty, by class. */
  readonly unrecorded: { readonly anonymous: number; readonly identified: number };
  /** Refusals not recorded, all classes. */
  readonly dropped: number;
  /** Writes the summary of what was not recorded now (tests; shutdown). */
  summarize(): Promise<void>;
};

/** Feeds the monitor an identified caller's refusal whose record was not written. */
export type UnrecordedObserver = (ctx: MessageContext, error: GatewayError) => void;

const ANONYMOUS: Principal = { kind: 'token', subject: 'anonymous', agent: 'unknown', scopes: [], allScopes: false, roles: [] };

class Bucket {
  readonly rate: number;
  readonly burst: number;
  tokens: number;
  at: number;
  constructor(rate: number, burst: number, now: number) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
    this.at = now;
  }
  /** Refills to `now`; whether the bucket is full. */
  full(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.at) / 1000) * this.rate);
    this.at = Math.max(this.at, now);
    return this.tokens >= this.burst;
  }
  take(now: number): boolean {
    this.full(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Token buckets by key, bounded: past MAX_BUCKETS, full ones are forgotten (they hold nothing), then the oldest. */
class Buckets {
  readonly #map = new Map<string, Bucket>();
  readonly rate: number;
  readonly burst: number;
  constructor(rate: number, burst: number) {
    this.rate = rate;
    this.burst = burst;
  }
  take(key: string, now: number): boolean {
    let bucket = this.#map.get(key);
    if (!bucket) {
      if (this.#map.size >= MAX_BUCKETS) {
        for (const [k, b] of this.#map) if (b.full(now)) this.#map.delete(k);
        if (this.#map.size >= MAX_BUCKETS) this.#map.delete(this.#map.keys().next().value as string);
      }
      this.#map.set(key, (bucket = new Bucket(this.rate, this.burst, now)));
    }
    return bucket.take(now);
  }
}

export function createRefusalRecorder(audit: AuditLog | undefined, clock: () => number = () => performance.now(), observe?: UnrecordedObserver): RefusalRecorder {
  const anonymousAll = new Bucket(ANON_PER_SECOND, ANON_BURST, clock());
  const byAddress = new Buckets(ANON_PER_ADDRESS, ANON_ADDRESS_BURST);
  const byIdentity = new Buckets(IDENTIFIED_PER_SECOND, IDENTIFIED_BURST);
  const unrecorded = { anonymous: 0, identified: 0 };
  /** Not yet summed up in the trail: unidentified callers, and per identity (with one principal to name it by). */
  let pendingAnonymous = 0;
  const pendingIdentified = new Map<string, { principal: Principal; count: number; codes: Set<string> }>();
  let timer: NodeJS.Timeout | undefined;

  const contextFor = (endpoint: Endpoint, method: string, details: RefusalDetails, at: number): MessageContext => {
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
    return ctx;
  };

  const summarize = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (!audit) return;
    const at = clock();
    const writes: Array<Promise<unknown>> = [];
    const write = (count: number, principal: Principal | undefined, whose: string, codes: Iterable<string>) => {
      const error = new GatewayError('PC_AUDIT_BUDGET', `${count} refusal${count === 1 ? '' : 's'} of ${whose} not recorded (refusal records budget, docs/audit.md); codes: ${[...codes].sort().join(' ') || 'various'}`);
      writes.push(audit.record(contextFor({ kind: 'aggregate' }, '(refusals not recorded)', { principal }, at), { error }).catch(() => undefined));
    };
    if (pendingAnonymous > 0) write(pendingAnonymous, undefined, 'unidentified callers', []);
    pendingAnonymous = 0;
    let named = 0;
    let rest = 0;
    for (const { principal, count, codes } of pendingIdentified.values()) {
      if (named++ < MAX_SUMMARY_IDENTITIES) write(count, principal, `agent "${principal.agent}"`, codes);
      else rest += count;
    }
    if (rest > 0) write(rest, undefined, `${named - MAX_SUMMARY_IDENTITIES} more identified callers`, []);
    pendingIdentified.clear();
    await Promise.all(writes);
  };
  const schedule = (): void => {
    if (timer) return;
    timer = setTimeout(() => void summarize(), SUMMARY_EVERY_MS);
    timer.unref();
  };

  const recordRefusal = async (endpoint: Endpoint, error: GatewayError, method = '(authentication)', details: RefusalDetails = {}): Promise<boolean> => {
    if (!audit) return false;
    const at = clock();
    const principal = details.principal;
    let kept: boolean;
    if (principal) kept = byIdentity.take(callerIdentity(principal), at);
    else {
      // Both budgets are asked: one address's flood empties its own, not the others'.
      kept = (details.address === undefined || byAddress.take(addressUnit(details.address), at)) && anonymousAll.take(at);
    }
    if (!kept) {
      if (principal) {
        unrecorded.identified += 1;
        const key = callerIdentity(principal);
        const pending = pendingIdentified.get(key) ?? { principal, count: 0, codes: new Set<string>() };
        pending.count += 1;
        if (pending.codes.size < 16) pending.codes.add(error.code);
        if (pendingIdentified.size < MAX_BUCKETS || pendingIdentified.has(key)) pendingIdentified.set(key, pending);
        // The decision still reaches the detectors: what is not written is not unseen.
        if (observe) {
          try {
            observe(contextFor(endpoint, method, details, at), error);
          } catch {
            // the monitor logs its own failures; a refusal is answered regardless
          }
        }
      } else {
        unrecorded.anonymous += 1;
        pendingAnonymous += 1;
      }
      schedule();
      return false;
    }
    await audit.record(contextFor(endpoint, method, details, at), { error });
    return true;
  };
  Object.defineProperty(recordRefusal, 'unrecorded', { get: () => ({ ...unrecorded }) });
  Object.defineProperty(recordRefusal, 'dropped', { get: () => unrecorded.anonymous + unrecorded.identified });
  Object.defineProperty(recordRefusal, 'summarize', { value: summarize });
  return recordRefusal as RefusalRecorder;
}
