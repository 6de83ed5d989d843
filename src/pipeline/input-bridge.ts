/**
 * Era translation for server→client requests.
 *
 * A legacy server asks its client mid-call (sampling, elicitation, roots) and waits; a modern client
 * cannot be asked — the 2026-07-28 revision answers the call with `resultType: "input_required"`, and
 * the client retries with a new id, `inputResponses` and the opaque `requestState` (spec 2026-07-28
 * `client/elicitation.mdx` §multi-round-trip). The gateway bridges the two by keeping the upstream call
 * running ("parked") while the modern client answers, and resuming it when the retry arrives.
 *
 * `requestState` is `pc1.<id>.<HMAC-SHA256(id)>` with a per-process key, as the spec requires the state
 * to be integrity-protected; a parked call expires after `ttlMs` and is then cancelled upstream.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import type { JsonObject, JsonRpcNotification } from '../protocol/jsonrpc.ts';
import { ServerRequestRefused, type ServerRequest, type UpstreamReply } from '../upstream/types.ts';
import type { ClientLink } from './context.ts';

export const STATE_PREFIX = 'pc1.';

interface PendingInput {
  request: ServerRequest;
  resolve: (result: JsonObject) => void;
  reject: (error: Error) => void;
}

export type BridgeStep = { kind: 'done'; reply: UpstreamReply } | { kind: 'failed'; error: unknown } | { kind: 'input'; input: PendingInput };

/** An upstream call whose server→client requests are queued for a client that cannot be asked directly. */
export class BridgedCall {
  readonly server: string;
  readonly method: string;
  readonly name: string | undefined;
  readonly abort = new AbortController();
  #queue: PendingInput[] = [];
  #wake: (() => void) | undefined;
  #link: ClientLink | undefined;
  #settled: BridgeStep | undefined;
  #unlink: (() => void) | undefined;

  constructor(server: string, method: string, name: string | undefined) {
    this.server = server;
    this.method = method;
    this.name = name;
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
    this.#wake?.();
  }

  /** Points notifications at the client request now being served; its cancellation cancels the call. */
  attach(link: ClientLink, signal: AbortSignal): void {
    this.#unlink?.();
    this.#link = link;
    const onAbort = (): void => this.abort.abort();
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
}

export class InputBridge {
  readonly #key: Buffer;
  readonly #ttlMs: number;
  readonly #parked = new Map<string, { parked: ParkedCall; timer: NodeJS.Timeout }>();

  constructor(ttlMs: number, key: Buffer = randomBytes(32)) {
    this.#ttlMs = ttlMs;
    this.#key = key;
  }

  get size(): number {
    return this.#parked.size;
  }

  #sign(id: string): string {
    return createHmac('sha256', this.#key).update(id).digest('base64url');
  }

  /** Parks a call waiting on `input`; returns the `requestState` the client must send back. */
  park(parked: ParkedCall): string {
    const id = randomBytes(16).toString('base64url');
    const timer = setTimeout(() => {
      this.#parked.delete(id);
      parked.input.reject(new ServerRequestRefused(-32603, 'the client did not answer in time'));
      parked.call.abort.abort();
    }, this.#ttlMs);
    timer.unref();
    this.#parked.set(id, { parked, timer });
    parked.call.detach();
    return `${STATE_PREFIX}${id}.${this.#sign(id)}`;
  }

  /** Takes the parked call back for a retry; one use only. */
  take(requestState: string): ParkedCall | GatewayError {
    const invalid = (why: string): GatewayError => new GatewayError('PC_INPUT_STATE_INVALID', `requestState ${why}; start the call again`);
    const [id, mac] = requestState.slice(STATE_PREFIX.length).split('.');
    if (!id || !mac) return invalid('is malformed');
    const expected = Buffer.from(this.#sign(id));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return invalid('failed its integrity check');
    const entry = this.#parked.get(id);
    if (!entry) return invalid('has expired or was already used');
    clearTimeout(entry.timer);
    this.#parked.delete(id);
    return entry.parked;
  }

  close(): void {
    for (const { parked, timer } of this.#parked.values()) {
      clearTimeout(timer);
      parked.call.abort.abort();
    }
    this.#parked.clear();
  }
}
