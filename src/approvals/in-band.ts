/**
 * In-band approval: the caller's own user is asked, through the client.
 *
 * - Legacy eras from 2025-06-18 (the first with elicitation), to a client that declared the
 *   `elicitation` capability: an `elicitation/create` request on the call's own stream (spec 2025-06-18
 *   client/elicitation), a form showing the server, the tool, the arguments as the audit records them
 *   (redacted), the rule and its reason, with one required boolean `approve`. Only `accept` with
 *   `approve: true` runs the call; anything else (decline, cancel, accept without it) refuses it.
 * - The 2026-07-28 era: the call is answered `resultType: "input_required"` carrying the same request
 *   under the key `approval`, and a `requestState` (client/elicitation §multi-round-trip). The retry
 *   carries `inputResponses.approval` and that state. The state is
 *   `pca1.<id>.<HMAC-SHA256(id, principal, server, kind, name, argsHash, expiresAt)>` with a per-process
 *   key, so only the same principal retrying the same call with the same arguments before the deadline
 *   can use it, once; everything else is PC_APPROVAL_STATE_INVALID (or _EXPIRED). The retry is a request
 *   like any other: kill switch, policy, schema, DLP and rate limits judge it again before the answer counts.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors.ts';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';
import type { ClientLink } from '../pipeline/context.ts';
import type { ApprovalBinding } from './store.ts';
import { displayText } from '../audit/display.ts';
import { displayArgs } from './view.ts';

export const APPROVAL_STATE_PREFIX = 'pca1.';
export const APPROVAL_INPUT_KEY = 'approval';

/** Elicitation exists from 2025-06-18 on (date-shaped versions compare as strings). */
const FIRST_ELICITING_VERSION = '2025-06-18';

/** How this client can be asked, if at all. */
export function inBandChannel(client: ClientLink): 'request' | 'input-required' | undefined {
  if (!isObject(client.capabilities.elicitation)) return undefined;
  if (client.era === 'modern') return 'input-required';
  if (client.request && client.protocolVersion >= FIRST_ELICITING_VERSION) return 'request';
  return undefined;
}

export interface Question {
  server: string;
  argsHash: string;
  kind: string;
  name: string;
  args: unknown;
  rule: string;
  reason: string;
  expiresAt: number;
}

/** The `elicitation/create` params (form mode) asking the user to approve one call. */
export function elicitationParams(q: Question): JsonObject {
  // Names come from the caller and the server: escaped, so none can break a line or reorder one.
  const message = [
    `Portcullis: approve this call?`,
    `Server: ${displayText(q.server)}`,
    `${q.kind === 'tool' ? 'Tool' : q.kind}: ${displayText(q.name)}`,
    `Arguments: ${displayArgs(q.args, q.argsHash)}`,
    `Arguments hash (audit argsHash): ${q.argsHash}`,
    `Rule: ${displayText(q.rule)} — ${displayText(q.reason)}`,
    `Expires: ${new Date(q.expiresAt).toISOString()}`,
  ].join('\n');
  return {
    message,
    requestedSchema: {
      type: 'object',
      properties: { approve: { type: 'boolean', title: 'Run this call', description: `Run ${displayText(q.name)} on ${displayText(q.server)} with exactly these arguments, once`, default: false } },
      required: ['approve'],
    },
  };
}

/** URL-mode elicitation exists from 2025-11-25 on, for a client that declared `elicitation.url`. */
export function urlModeFor(client: ClientLink): boolean {
  const elicitation = client.capabilities.elicitation;
  return client.era !== 'modern' && client.protocolVersion >= '2025-11-25' && isObject(elicitation) && isObject(elicitation.url);
}

/** The `elicitation/create` params (URL mode) sending the user to the gateway's approval page. */
export function urlElicitationParams(q: Question, elicitationId: string, url: string): JsonObject {
  return {
    mode: 'url',
    message: `Portcullis: approve ${displayText(q.name)} on ${displayText(q.server)}? Open the gateway's approval page to decide (rule ${displayText(q.rule)}: ${displayText(q.reason)}).`,
    url,
    elicitationId,
  };
}

/** Whether an elicitation answer approves: `accept` with `approve: true`, nothing else. */
export function approves(answer: unknown): { approved: boolean; action: string } {
  if (!isObject(answer)) return { approved: false, action: 'invalid' };
  const action = typeof answer.action === 'string' ? answer.action : 'invalid';
  return { approved: action === 'accept' && isObject(answer.content) && answer.content.approve === true, action };
}

interface Issued {
  binding: ApprovalBinding;
  expiresAt: number;
  question: Question;
}

/** States handed to modern clients, waiting for their retry (bounded; expired ones are dropped). */
export class ApprovalStates {
  readonly #key = randomBytes(32);
  readonly #issued = new Map<string, Issued>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  #sign(id: string, binding: ApprovalBinding, expiresAt: number): string {
    const bound = JSON.stringify([id, binding.principal, binding.server, binding.kind, binding.name, binding.argsHash, expiresAt]);
    return createHmac('sha256', this.#key).update(bound).digest('base64url');
  }

  #prune(now: number): void {
    for (const [id, issued] of this.#issued) if (issued.expiresAt <= now) this.#issued.delete(id);
  }

  /** A state for this question, or a refusal when too many are outstanding. */
  issue(binding: ApprovalBinding, question: Question, now: number): { id: string; state: string } | GatewayError {
    this.#prune(now);
    if (this.#issued.size >= this.#max) return new GatewayError('PC_APPROVAL_LIMIT', `too many approvals are waiting for their clients (approvals.maxPending = ${this.#max}); retry later`, { retryAfterMs: 5000 });
    const id = randomBytes(16).toString('base64url');
    this.#issued.set(id, { binding, expiresAt: question.expiresAt, question });
    return { id, state: `${APPROVAL_STATE_PREFIX}${id}.${question.expiresAt}.${this.#sign(id, binding, question.expiresAt)}` };
  }

  /** Takes the state back for a retry made with `binding`: once, before its deadline. */
  take(state: string, binding: ApprovalBinding, now: number): { id: string; question: Question } | GatewayError {
    const invalid = (why: string): GatewayError => new GatewayError('PC_APPROVAL_STATE_INVALID', `requestState ${why}; make the call again to be asked again`);
    const [id, expires, mac] = state.slice(APPROVAL_STATE_PREFIX.length).split('.');
    if (!id || !expires || !mac || !/^\d{1,15}$/.test(expires)) return invalid('is malformed');
    const expected = Buffer.from(this.#sign(id, binding, Number(expires)));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return invalid('failed its integrity check (it belongs to another caller or another call)');
    if (Number(expires) <= now) {
      this.#issued.delete(id);
      return new GatewayError('PC_APPROVAL_EXPIRED', `the approval asked for this call expired at ${new Date(Number(expires)).toISOString()}; make the call again`);
    }
    const issued = this.#issued.get(id);
    if (!issued) return invalid('was already used');
    this.#issued.delete(id);
    return { id, question: issued.question };
  }
}
