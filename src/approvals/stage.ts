/**
 * The `approve` stage: a call the policy allows only with a human's approval (an `effect: approve`
 * rule) waits for one, bound to exactly this call — principal, server, target and argument hash.
 *
 *   1. A grant of this exact call not yet used (or a used one inside the rule's `remember` window) lets
 *      it through at once, and is used up.
 *   2. Otherwise, in band when the client can ask its user and the rule lets it (`mode`, no `approvers`)
 *      and a person stands behind the caller (a user's sign-in, or a local caller — never an API key or
 *      an agent's client credentials): elicitation in the legacy eras, `input_required` in the modern
 *      one (in-band.ts).
 *   3. Otherwise out of band: a request in the queue (store.ts), shown by `portcullis approvals list`,
 *      the admin endpoint and the webhook; the call waits up to `approvals.waitMs`, then is answered
 *      PC_APPROVAL_PENDING with the approval id — the same call retried once it is granted goes through.
 *
 * After any wait, the supply-chain check, the kill switch and the policy judge the call again (`recheck`), and the arguments
 * that will be forwarded must still hash to what was approved; only then is the grant used. A call that
 * retries after a grant is a new request, judged by every stage (rate limits included) like any other.
 */
import type { ArgsHasher } from '../audit/args-hash.ts';
import { sha256Hex } from '../audit/record.ts';
import { hasHumanBehind, principalKey } from '../auth/principal.ts';
import { GatewayError } from '../errors.ts';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';
import type { MessageContext } from '../pipeline/context.ts';
import { governedCall } from '../pipeline/stages/governed.ts';
import type { PolicyRuntime } from '../policy/runtime.ts';
import { APPROVAL_INPUT_KEY, APPROVAL_STATE_PREFIX, approves, elicitationParams, inBandChannel, urlElicitationParams, urlModeFor, type ApprovalStates, type Question } from './in-band.ts';
import { approvalTerms, type ApprovalTerms } from './options.ts';
import type { ApprovalQueue } from './queue.ts';
import type { Approval, ApprovalBinding } from './store.ts';
import type { ApprovalPages } from './url-page.ts';

export interface ApproveDeps {
  runtime: PolicyRuntime;
  queue: ApprovalQueue;
  states: ApprovalStates;
  pages: ApprovalPages;
  /** The kill switch and the policy again, after a wait (they may have changed meanwhile). */
  recheck: (ctx: MessageContext) => Promise<GatewayError | undefined>;
  /** The audit's argument hash (keyed): what an approval binds the call by. */
  argsHash: ArgsHasher;
  /** The arguments as the audit records them (redacted), for the people who decide. */
  redactArgs: (server: string, args: JsonObject) => unknown;
  /** A monitor hold on this agent (docs/monitor.md, `require-approval`): its allowed calls need approval too. */
  held?: (caller: { agent: string; subject?: string; issuer?: string | undefined }) => { reason: string } | undefined;
}

/**
 * The binding of the call the context now carries, or undefined when it is not a governed call. Its
 * `argsHash` is the audit's (keyed, audit/args-hash.ts): the records of a call and of its approval agree.
 */
export function bindingOf(ctx: MessageContext, argsHash: ArgsHasher): ApprovalBinding | undefined {
  const call = governedCall(ctx);
  if (!call) return undefined;
  return { principal: principalKey(ctx.principal), server: call.server, kind: call.kind, name: call.name, argsHash: argsHash(call.args) };
}

/**
 * What of a call's `_meta` may travel with an approved call: the progress token and the protocol's own
 * keys (`io.modelcontextprotocol/…`: the modern envelope, the related task the route already checked).
 * Anything else a caller puts there — a server may read a tenant, an account or a confirmation from it
 * — is neither shown to the approver nor bound by the approval's hash, so the approved call is
 * forwarded without it (redteam-b B10).
 */
function dropUnboundMeta(ctx: MessageContext): void {
  const route = ctx.route;
  if (route?.kind !== 'upstream' || !route.params || !isObject(route.params._meta)) return;
  const meta = route.params._meta;
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(meta)) if (key === 'progressToken' || key.startsWith('io.modelcontextprotocol/')) kept[key] = value;
  if (Object.keys(kept).length === Object.keys(meta).length) return;
  const { _meta: _dropped, ...rest } = route.params;
  ctx.route = { ...route, params: Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest };
}

/** Takes our own approval state (and its answers) off a retry, so the server never sees them. */
function takeState(ctx: MessageContext): { state: string; answer: unknown } | undefined {
  const route = ctx.route;
  if (route?.kind !== 'upstream' || !route.params) return undefined;
  const state = route.params.requestState;
  if (typeof state !== 'string' || !state.startsWith(APPROVAL_STATE_PREFIX)) return undefined;
  const { requestState: _state, inputResponses, ...rest } = route.params;
  ctx.route = { ...route, params: rest };
  return { state, answer: isObject(inputResponses) ? inputResponses[APPROVAL_INPUT_KEY] : undefined };
}

export function createApprove(deps: ApproveDeps): (ctx: MessageContext) => Promise<GatewayError | undefined> | GatewayError | undefined {
  const { runtime, queue, states } = deps;

  /** An approval that never enters the queue (asked in band), for the audit trail. */
  function inBandRecord(id: string, ctx: MessageContext, binding: ApprovalBinding, q: Question, now: number): Approval {
    return {
      ...binding,
      id,
      subject: ctx.principal.subject,
      agent: ctx.principal.agent,
      args: JSON.stringify(q.args ?? null),
      rule: q.rule,
      reason: q.reason,
      approvers: null,
      channel: 'in-band',
      createdAt: now,
      expiresAt: q.expiresAt,
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      note: null,
      usedAt: null,
      rememberMs: null,
      recorded: '',
    };
  }

  /** After a wait: the call must still be allowed, and still be the call that was approved. */
  async function stillSame(ctx: MessageContext, binding: ApprovalBinding): Promise<GatewayError | undefined> {
    const refused = await deps.recheck(ctx);
    if (refused) return refused;
    const now = bindingOf(ctx, deps.argsHash);
    if (!now || now.argsHash !== binding.argsHash) {
      return new GatewayError('PC_APPROVAL_CHANGED', 'the call changed while it waited for approval (the policy or a guard now forwards other arguments); make the call again to ask again');
    }
    return undefined;
  }

  async function outOfBand(ctx: MessageContext, approval: Approval, binding: ApprovalBinding): Promise<GatewayError | undefined> {
    const note = { id: approval.id, channel: 'out-of-band' as const, argsHash: approval.argsHash };
    ctx.approval = { ...note, event: 'requested' };
    const until = Math.min(queue.now() + queue.section.waitMs, approval.expiresAt);
    const got = await queue.wait(approval.id, until, ctx.signal);
    switch (got?.status) {
      case 'granted': {
        const refused = await stillSame(ctx, binding);
        if (refused) return refused;
        if (!queue.store.consume(approval.id, binding, queue.now())) {
          return new GatewayError('PC_APPROVAL_EXPIRED', `approval ${approval.id} was used or expired meanwhile; make the call again to ask again`, { approvalId: approval.id });
        }
        ctx.approval = { ...note, event: 'used', by: got.decidedBy ?? 'unknown' };
        return undefined;
      }
      case 'denied':
        ctx.approval = { ...note, event: 'denied', by: got.decidedBy ?? 'unknown' };
        return new GatewayError('PC_APPROVAL_DENIED', `approval ${approval.id} was denied by ${got.decidedBy ?? 'an approver'}${got.note ? `: ${got.note}` : ''}`, { approvalId: approval.id, rule: approval.rule });
      case 'pending':
        return new GatewayError(
          'PC_APPROVAL_PENDING',
          `this call waits for a human's approval (${approval.reason}); approval id ${approval.id}, decide with \`portcullis approvals grant ${approval.id}\`; retry the same call after it is granted, before ${new Date(approval.expiresAt).toISOString()}`,
          { approvalId: approval.id, expiresAt: new Date(approval.expiresAt).toISOString(), rule: approval.rule, retryAfterMs: 5000 },
        );
      default:
        ctx.approval = { ...note, event: 'expired' };
        return new GatewayError('PC_APPROVAL_EXPIRED', `approval ${approval.id} was not ${got?.status === 'used' ? 'usable: it was already used' : 'decided in time'}; make the call again to ask again`, { approvalId: approval.id, rule: approval.rule });
    }
  }

  async function elicit(ctx: MessageContext, binding: ApprovalBinding, q: Question): Promise<GatewayError | undefined> {
    const now = queue.now();
    const record = inBandRecord(`inband-${sha256Hex(ctx.correlationId).slice(0, 22)}`, ctx, binding, q, now);
    await queue.record(record, 'requested');
    const note = { id: record.id, channel: 'in-band' as const, argsHash: binding.argsHash };
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), Math.max(0, q.expiresAt - now));
    });
    let answer: unknown;
    try {
      answer = await Promise.race([ctx.client.request!('elicitation/create', elicitationParams(q)), expired]);
    } catch {
      answer = { action: 'cancel' };
    } finally {
      clearTimeout(timer);
    }
    if (answer === 'expired') {
      ctx.approval = { ...note, event: 'expired' };
      return new GatewayError('PC_APPROVAL_EXPIRED', `nobody answered the approval request before ${new Date(q.expiresAt).toISOString()}`, { rule: q.rule });
    }
    const verdict = approves(answer);
    if (!verdict.approved) {
      ctx.approval = { ...note, event: 'declined', by: ctx.principal.subject };
      return new GatewayError('PC_APPROVAL_DECLINED', `the approval request was answered "${verdict.action}"${verdict.action === 'accept' ? ' without approve: true' : ''}; the call is refused`, { rule: q.rule, action: verdict.action });
    }
    const refused = await stillSame(ctx, binding);
    if (refused) return refused;
    // The policy judged again may now want a second person (or a monitor hold was placed): the user's own yes no longer suffices.
    const terms = ctx.decision?.effect === 'approve' ? approvalTerms(ctx.decision.approval) : undefined;
    if ((terms && (terms.approvers || terms.mode === 'out-of-band')) || deps.held?.(ctx.principal)) {
      return new GatewayError('PC_APPROVAL_CHANGED', 'the rule changed while the user answered: this call now needs an out-of-band approval; make the call again', { rule: ctx.decision?.rule });
    }
    ctx.approval = { ...note, event: 'used', by: ctx.principal.subject };
    return undefined;
  }

  /**
   * URL mode (2025-11-25): the user decides on the gateway's own page; the call waits in the queue for
   * that decision. The client's answer only says whether the user agreed to open the page: decline or
   * cancel refuses the call at once.
   */
  async function elicitUrl(ctx: MessageContext, binding: ApprovalBinding, q: Question, filed: Approval, url: string): Promise<GatewayError | undefined> {
    const note = { id: filed.id, channel: 'in-band' as const, argsHash: binding.argsHash };
    ctx.approval = { ...note, event: 'requested' };
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const refusedByClient = ctx.client.request!('elicitation/create', urlElicitationParams(q, filed.id, url)).then(
      (answer) => (isObject(answer) && answer.action === 'accept' ? undefined : String(isObject(answer) ? answer.action : 'invalid')),
      () => 'cancel',
    ).then((action) => {
      if (action !== undefined) stop.abort();
      return action;
    });
    let got: Approval | undefined;
    try {
      got = await queue.wait(filed.id, filed.expiresAt, stop.signal);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      deps.pages.drop(filed.id);
      ctx.client.notify({ jsonrpc: '2.0', method: 'notifications/elicitation/complete', params: { elicitationId: filed.id } });
    }
    if (got?.status === 'pending') {
      const action = await Promise.race([refusedByClient, Promise.resolve(undefined)]);
      // Nobody may decide it any more: the user turned the page down, or the call was given up.
      await queue.decide(filed.id, 'denied', { name: ctx.principal.subject, ownUser: true }, `the client answered ${action ?? 'nothing'}`).catch(() => undefined);
      ctx.approval = { ...note, event: 'declined', by: ctx.principal.subject };
      return new GatewayError('PC_APPROVAL_DECLINED', `the approval request was answered "${action ?? 'cancel'}"; the call is refused`, { rule: q.rule, action: action ?? 'cancel' });
    }
    if (got?.status === 'denied') {
      ctx.approval = { ...note, event: 'declined', by: got.decidedBy ?? ctx.principal.subject };
      return new GatewayError('PC_APPROVAL_DECLINED', 'the approval was denied on the approval page; the call is refused', { rule: q.rule, action: 'deny', approvalId: filed.id });
    }
    if (got?.status !== 'granted') {
      ctx.approval = { ...note, event: 'expired' };
      return new GatewayError('PC_APPROVAL_EXPIRED', `nobody answered the approval request before ${new Date(q.expiresAt).toISOString()}`, { rule: q.rule, approvalId: filed.id });
    }
    const refused = await stillSame(ctx, binding);
    if (refused) return refused;
    const terms = ctx.decision?.effect === 'approve' ? approvalTerms(ctx.decision.approval) : undefined;
    if ((terms && (terms.approvers || terms.mode === 'out-of-band')) || deps.held?.(ctx.principal)) {
      return new GatewayError('PC_APPROVAL_CHANGED', 'the rule changed while the user answered: this call now needs an out-of-band approval; make the call again', { rule: ctx.decision?.rule });
    }
    if (!queue.store.consume(filed.id, binding, queue.now())) {
      return new GatewayError('PC_APPROVAL_EXPIRED', `approval ${filed.id} was used or expired meanwhile; make the call again`, { approvalId: filed.id });
    }
    ctx.approval = { ...note, event: 'used', by: got.decidedBy ?? ctx.principal.subject };
    return undefined;
  }

  function askModern(ctx: MessageContext, binding: ApprovalBinding, q: Question): GatewayError | undefined {
    const issued = states.issue(binding, q, queue.now());
    if (issued instanceof GatewayError) return issued;
    ctx.approval = { id: issued.id, event: 'requested', channel: 'in-band', argsHash: binding.argsHash };
    const result: JsonObject = {
      resultType: 'input_required',
      inputRequests: { [APPROVAL_INPUT_KEY]: { method: 'elicitation/create', params: elicitationParams(q) } },
      requestState: issued.state,
    };
    // Answered by the gateway: nothing reaches the server until the retry brings the user's answer.
    ctx.route = { kind: 'local', answer: () => result };
    return undefined;
  }

  function resumeModern(ctx: MessageContext, binding: ApprovalBinding, taken: { state: string; answer: unknown }): GatewayError | undefined {
    const found = states.take(taken.state, binding, queue.now());
    if (found instanceof GatewayError) return found;
    const note = { id: found.id, channel: 'in-band' as const, argsHash: binding.argsHash };
    const verdict = approves(taken.answer);
    if (!verdict.approved) {
      ctx.approval = { ...note, event: 'declined', by: ctx.principal.subject };
      return new GatewayError('PC_APPROVAL_DECLINED', `the approval request was answered "${verdict.action}"; the call is refused`, { rule: found.question.rule, action: verdict.action });
    }
    ctx.approval = { ...note, event: 'used', by: ctx.principal.subject };
    return undefined;
  }

  // Synchronous for a call that needs no approval (nearly all of them): no promise, no microtask turn.
  return function approve(ctx) {
    const taken = takeState(ctx);
    let decision = ctx.decision;
    // A monitor hold makes an allowed call need approval exactly as an approve rule would, out of band
    // (the agent under suspicion must not answer for itself in band); a deny was already a deny.
    // A call an approve rule holds already is asked out of band too, and no remembered grant carries it.
    const hold = (decision?.effect === 'allow' || decision?.effect === 'approve') && governedCall(ctx) ? deps.held?.(ctx.principal) : undefined;
    if (decision && hold) {
      decision =
        decision.effect === 'allow'
          ? { ...decision, effect: 'approve', code: 'PC_POLICY_APPROVAL_REQUIRED', rule: 'monitor:require-approval', reason: `held for approval: ${hold.reason}`, approval: { mode: 'out-of-band' } }
          : { ...decision, reason: `${decision.reason}; held for approval: ${hold.reason}`, approval: { ...decision.approval, mode: 'out-of-band' } };
      ctx.decision = decision;
    }
    if (decision?.effect !== 'approve') {
      // Our state on a call that no longer needs approval is not the server's business either; a state
      // on a call that was never asked about is a forgery.
      return taken && !decision ? new GatewayError('PC_APPROVAL_STATE_INVALID', 'requestState does not belong to this call') : undefined;
    }
    if (runtime.current.policy.mode === 'monitor') {
      ctx.decision = { ...decision, monitored: true };
      return undefined;
    }
    return ask(ctx, decision, taken, hold !== undefined).then((refused) => {
      if (!refused) dropUnboundMeta(ctx);
      return refused;
    });
  };

  /** A call that needs a human's approval: remembered, granted, asked in band, or filed for an approver. */
  async function ask(ctx: MessageContext, decision: NonNullable<MessageContext['decision']>, taken: ReturnType<typeof takeState>, held: boolean): Promise<GatewayError | undefined> {
    // A retry resuming a parked call (the server asked its client something mid-call) continues a call
    // that was approved when it started; the bridge's state binds it to that same call and principal.
    if (ctx.route?.kind === 'upstream' && ctx.route.resume) return undefined;
    const binding = bindingOf(ctx, deps.argsHash);
    const call = governedCall(ctx);
    if (!binding || !call) return new GatewayError('PC_POLICY_APPROVAL_REQUIRED', `${decision.reason}; only calls can be approved`, { rule: decision.rule, reason: decision.reason });
    const terms: ApprovalTerms = approvalTerms(decision.approval);
    // In band the caller's own client answers: only where a person signed in stands behind the caller.
    // An API key's or an agent's client would approve its own call.
    const human = hasHumanBehind(ctx.principal);
    const inBandAllowed = !terms.approvers && terms.mode !== 'out-of-band' && human;
    // An answer to a question asked under a rule that (after a reload) no longer lets the caller's own
    // user decide counts for nothing: the call goes to the queue like a new one.
    if (taken && inBandAllowed) return resumeModern(ctx, binding, taken);

    const now = queue.now();
    const rule = decision.rule ?? '(unnamed)';
    const standing = queue.store.standing(binding, now);
    // A `remember` window is a grant for repeats; under a monitor hold every call needs its own.
    if (standing?.status === 'used' && !held) {
      ctx.approval = { id: standing.id, event: 'remembered', channel: standing.channel, by: standing.decidedBy ?? 'unknown', argsHash: binding.argsHash };
      return undefined;
    }
    if (standing?.status === 'granted') {
      if (!queue.store.consume(standing.id, binding, now)) return new GatewayError('PC_APPROVAL_EXPIRED', `approval ${standing.id} was used or expired meanwhile; make the call again`, { approvalId: standing.id });
      ctx.approval = { id: standing.id, event: 'used', channel: 'out-of-band', by: standing.decidedBy ?? 'unknown', argsHash: binding.argsHash };
      return undefined;
    }
    if (standing?.status === 'pending' || standing?.status === 'denied') return outOfBand(ctx, standing, binding);

    const question: Question = { server: call.server, argsHash: binding.argsHash, kind: call.kind, name: call.name, args: deps.redactArgs(call.server, call.args), rule, reason: decision.reason, expiresAt: now + terms.ttlMs };
    const channel = inBandAllowed ? inBandChannel(ctx.client) : undefined;
    /** Files this call in the queue, to be decided on the page (in band) or by an approver (out of band). */
    const file = (on: Approval['channel'], approvers: string[] | null, rememberMs: number | null) =>
      queue.request({ ...binding, subject: ctx.principal.subject, agent: ctx.principal.agent, args: JSON.stringify(question.args ?? null), rule, reason: decision.reason, approvers, channel: on, createdAt: now, expiresAt: question.expiresAt, rememberMs });
    if (channel === 'request' && urlModeFor(ctx.client) && deps.pages.offeredTo(ctx.principal)) {
      const filed = await file('in-band', null, null);
      if (filed instanceof GatewayError) return filed;
      const url = deps.pages.issue(filed.id, filed.expiresAt, now);
      if (url) return elicitUrl(ctx, binding, question, filed, url);
      await queue.decide(filed.id, 'denied', { name: ctx.principal.subject, ownUser: true }, 'no approval link could be made').catch(() => undefined);
      return new GatewayError('PC_APPROVAL_LIMIT', 'too many approval pages are open; retry later', { retryAfterMs: 5000 });
    }
    if (channel === 'request') return elicit(ctx, binding, question);
    if (channel === 'input-required') return askModern(ctx, binding, question);
    if (terms.mode === 'in-band' && !human) {
      return new GatewayError(
        'PC_APPROVAL_UNAVAILABLE',
        `${decision.reason}; the rule asks for approval in band, but no signed-in user stands behind this caller (an API key or an agent's client credentials), so its own client would approve the call. Set the rule's approval.mode to either or out-of-band (an approver decides with \`portcullis approvals grant\` or /admin/approvals; approval.approvers names who), or call with a user's sign-in`,
        { rule },
      );
    }
    if (terms.mode === 'in-band') {
      return new GatewayError('PC_APPROVAL_UNAVAILABLE', `${decision.reason}; the rule asks for approval in band, and this client cannot ask its user (no elicitation capability, or protocol version before 2025-06-18)`, { rule });
    }
    const filed = await file('out-of-band', terms.approvers ? [...terms.approvers] : null, terms.rememberMs ?? null);
    if (filed instanceof GatewayError) return filed;
    return outOfBand(ctx, filed, binding);
  }
}
