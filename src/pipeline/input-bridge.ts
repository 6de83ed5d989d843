/**
 * Era translation for server→client requests.
 *
 * A legacy server asks its client mid-call (sampling, elicitation, roots) and waits; a modern client
 * cannot be asked — the 2026-07-28 revision answers the call with `resultType: "input_required"`, and
 * the client retries with a new id, `inputResponses` and the opaque `requestState` (spec 2026-07-28
 * `client/elicitation.mdx` §multi-round-trip). The gateway bridges the two by keeping the upstream call
 * running ("parked") while the modern client answers, and resuming it when the retry arrives.
 *
 * `requestState` is `pc1.<id>.<HMAC-SHA256(id, principal, server, method, name, arguments hash)>`
 * with a per-process key: the spec requires the state to be integrity-protected, and binding it to the
 * call means only the principal that started the call, retrying the same call with the same arguments,
 * can resume it — anyone else's retry fails the check without touching the parked call. The retry is a
 * request like any other: the kill switch, authorization and rate limits judge it again (a refusal
 * cancels the parked call), and the audit records the original arguments, which are what runs.
 *
 * Bounds: a parked call is cancelled upstream after `ttlMs`; a principal may hold `maxPerPrincipal`
 * parked calls and the gateway `maxTotal` — a call that would park beyond either is cancelled and
 * refused (`PC_INPUT_PARKED_LIMIT`), never someone else's. A parked call keeps the concurrency slot it
 * took until it ends upstream.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.ts';
import { sha256Hex } from '../audit/record.ts';
import { principalKey } from '../auth/principal.ts';
import { GatewayError } from '../errors.ts';
import { isObject, type JsonObject, type JsonRpcNotification } from '../protocol/jsonrpc.ts';
import { ServerRequestRefused, type ServerRequest, type UpstreamReply } from '../upstream/types.ts';
import { onRequestEnd, type ClientLink, type MessageContext, type Route } from './context.ts';

export const STATE_PREFIX = 'pc1.';

interface PendingInput {
  request: ServerRequest;
  resolve: (result: JsonObject) => void;
  reject: (error: Error) => void;
}

export type BridgeStep = { kind: 'done'; reply: UpstreamReply } | { kind: 'failed'; error: unknown } | { kind: 'input'; input: PendingInput };

/** What a parked call is bound to: a retry must name the same to resume it. */
export interface CallBinding {
  /** `principalKey` of the caller. */
  readonly principal: string;
  readonly server: string;
  readonly method: string;
  readonly name: string | undefined;
  /** SHA-256 over the canonical JSON of the call's arguments. */
  readonly argsHash: string;
}

/** The binding of a routed call made by `principal`. */
export function bindingFor(principal: string, route: { server: string; method: string; name: string | undefined; params: JsonObject | undefined }): CallBinding {
  const args = isObject(route.params?.arguments) ? route.params.arguments : {};
  return { principal, server: route.server, method: route.method, name: route.name, argsHash: sha256Hex(canonicalJson(args)) };
}

const sameBinding = (a: CallBinding, b: CallBinding): boolean =>
  a.principal === b.principal && a.server === b.server && a.method === b.method && a.name === b.name && a.argsHash === b.argsHash;

/** An upstream call whose server→client requests are queued for a client that cannot be asked directly. */
export class BridgedCall {
  readonly binding: CallBinding;
  /** The params the call was judged and forwarded with: what the audit records when it is resumed. */
  readonly params: JsonObject | undefined;
  readonly abort = new AbortController();
  #queue: PendingInput[] = [];
  #wake: (() => void) | undefined;
  #link: ClientLink | undefined;
  #settled: BridgeStep | undefined;
  #unlink: (() => void) | undefined;
  #onEnd: Array<() => void> = [];

  constructor(binding: CallBinding, params: JsonObject | undefined) {
    this.binding = binding;
    this.params = params;
  }

  get server(): string {
    return this.binding.server;
  }

  /** Starts the upstream call; `run` receives the hooks to pass as call options. */
  begin(run: (hooks: { onServerRequest: (r: ServerRequest) => Promise<JsonObject>; onNotification: (n: JsonRpcNotification) => void; signal: AbortSignal }) => Promise<UpstreamReply>): void {
    run({
      onServerRequest: (request) =>
        new Promise<JsonObject>((resolve, reject) => {
          this.#queue.push({ request, resolve, reject });
          this.#wake?.();
        }),
      onNotification: (notification) => this.#link?.notify(notification),
      signal: this.abort.signal,
    }).then(
      (reply) => this.#finish({ kind: 'done', reply }),
      (error: unknown) => this.#finish({ kind: 'failed', error }),
    );
  }

  #finish(step: BridgeStep): void {
    this.#settled = step;
    const ends = this.#onEnd;
    this.#onEnd = [];
    for (const end of ends) end();
    this.#wake?.();
  }

  /** Runs `release` when the upstream call ends (at once if it has): a parked call keeps its slot. */
  holdUntilEnd(release: (() => void) | undefined): void {
    if (!release) return;
    if (this.#settled) release();
    else this.#onEnd.push(release);
  }

  /** Refuses every question still queued and cancels the call upstream. */
  cancel(reason: string): void {
    for (const input of this.#queue.splice(0)) input.reject(new ServerRequestRefused(-32603, reason));
    this.abort.abort();
  }

  /** Points notifications at the client request now being served; its cancellation cancels the call. */
  attach(link: ClientLink, signal: AbortSignal): void {
    this.#unlink?.();
    this.#link = link;
    const onAbort = (): void => this.abort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unlink = () => signal.removeEventListener('abort', onAbort);
  }

  detach(): void {
    this.#unlink?.();
    this.#unlink = undefined;
    this.#link = undefined;
  }

  /** Waits for the call to end or to ask the client something. */
  async next(): Promise<BridgeStep> {
    for (;;) {
      const input = this.#queue.shift();
      if (input) return { kind: 'input', input };
      if (this.#settled) return this.#settled;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}

export interface ParkedCall {
  call: BridgedCall;
  input: PendingInput;
  key: string;
  /** Set when a retry has actually resumed it (not merely taken it out of the bridge). */
  resumed?: boolean;
}

/** Ends a parked call: its open question is refused to the server and the call is cancelled upstream. */
export function cancelParked(parked: ParkedCall, reason: string): void {
  parked.input.reject(new ServerRequestRefused(-32603, reason));
  parked.call.cancel(reason);
}

export interface BridgeLimits {
  ttlMs: number;
  maxPerPrincipal: number;
  maxTotal: number;
}

export class InputBridge {
  readonly #key: Buffer;
  readonly #limits: BridgeLimits;
  readonly #parked = new Map<string, { parked: ParkedCall; timer: NodeJS.Timeout }>();
  readonly #perPrincipal = new Map<string, number>();
  /** Calls refused because parking them would pass a bound. */
  refused = 0;
  /** Parked calls cancelled because their client did not come back in time. */
  expired = 0;

  constructor(limits: BridgeLimits, key: Buffer = randomBytes(32)) {
    this.#limits = limits;
    this.#key = key;
  }

  get size(): number {
    return this.#parked.size;
  }

  #sign(id: string, binding: CallBinding): string {
    const bound = JSON.stringify([id, binding.principal, binding.server, binding.method, binding.name ?? null, binding.argsHash]);
    return createHmac('sha256', this.#key).update(bound).digest('base64url');
  }

  #count(principal: string, delta: number): void {
    const next = (this.#perPrincipal.get(principal) ?? 0) + delta;
    if (next > 0) this.#perPrincipal.set(principal, next);
    else this.#perPrincipal.delete(principal);
  }

  #remove(id: string): ParkedCall | undefined {
    const entry = this.#parked.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.#parked.delete(id);
    this.#count(entry.parked.call.binding.principal, -1);
    return entry.parked;
  }

  /**
   * Parks a call waiting on `input`; returns the `requestState` the client must send back, or the
   * refusal when a bound is reached (the caller then cancels the call).
   */
  park(parked: ParkedCall): string | GatewayError {
    const { principal } = parked.call.binding;
    const held = this.#perPrincipal.get(principal) ?? 0;
    if (held >= this.#limits.maxPerPrincipal || this.#parked.size >= this.#limits.maxTotal) {
      this.refused += 1;
      const which = held >= this.#limits.maxPerPrincipal ? `you already have ${held} (routing.inputRequired.maxPerPrincipal)` : `the gateway already holds ${this.#parked.size} (routing.inputRequired.maxTotal)`;
      return new GatewayError('PC_INPUT_PARKED_LIMIT', `this call needs your input, but too many calls are waiting for input: ${which}; answer or abandon those first`, {
        retryAfterMs: 1000,
      });
    }
    const id = randomBytes(16).toString('base64url');
    const timer = setTimeout(() => {
      if (!this.#remove(id)) return;
      this.expired += 1;
      cancelParked(parked, 'the client did not answer in time');
    }, this.#limits.ttlMs);
    timer.unref();
    this.#parked.set(id, { parked, timer });
    this.#count(principal, 1);
    parked.call.detach();
    return `${STATE_PREFIX}${id}.${this.#sign(id, parked.call.binding)}`;
  }

  /**
   * Takes the parked call back for a retry made under `binding`; one use only. A state made for
   * another principal, server, tool or arguments fails the integrity check and leaves the call parked.
   */
  take(requestState: string, binding: CallBinding): ParkedCall | GatewayError {
    const invalid = (why: string): GatewayError => new GatewayError('PC_INPUT_STATE_INVALID', `requestState ${why}; start the call again`);
    // Exactly `<id>.<mac>`: a state with anything appended is not the one issued, so it is not accepted.
    const parts = requestState.slice(STATE_PREFIX.length).split('.');
    const [id, mac] = parts;
    if (parts.length !== 2 || !id || !mac) return invalid('is malformed');
    const expected = Buffer.from(this.#sign(id, binding));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return invalid('failed its integrity check (it belongs to another caller or another call)');
    const entry = this.#parked.get(id);
    if (!entry || !sameBinding(entry.parked.call.binding, binding)) return invalid('has expired or was already used');
    return this.#remove(id)!;
  }

  close(): void {
    for (const id of [...this.#parked.keys()]) {
      const parked = this.#remove(id);
      if (parked) cancelParked(parked, 'the gateway is shutting down');
    }
  }
}

/**
 * The route of a retry that carries one of our `requestState`s: the routed call, resuming the parked
 * call the state is bound to, with the parameters that call was judged and forwarded with. Every later
 * stage judges it as the call it is; if one refuses it, the parked call is cancelled when the request
 * ends rather than left holding the upstream session's attribution.
 */
export function resumeRoute(bridge: InputBridge, ctx: MessageContext, resolved: Route, requestState: string): Route | GatewayError {
  if (resolved.kind !== 'upstream') return new GatewayError('PC_INPUT_STATE_INVALID', 'requestState does not belong to this request; start the call again');
  const parked = bridge.take(requestState, bindingFor(principalKey(ctx.principal), resolved));
  if (parked instanceof GatewayError) return parked;
  onRequestEnd(ctx, () => {
    if (!parked.resumed) cancelParked(parked, 'the retry was refused');
  });
  const inputResponses = isObject(ctx.request.params?.inputResponses) ? ctx.request.params.inputResponses : {};
  return { ...resolved, params: parked.call.params, resume: { parked, inputResponses } };
}
