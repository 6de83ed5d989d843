/**
 * The gateway's side of the approval queue: files requests (bounded per principal and in total), waits
 * for decisions, expires what nobody decided in time, and writes every request, grant, denial and expiry
 * to the audit trail — also those decided by `portcullis approvals` in another process, which a sweep
 * every `pollMs` picks up (and, after a restart, whatever was decided meanwhile).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log.ts';
import type { ApprovalNote } from '../audit/record.ts';
import type { Principal } from '../auth/principal.ts';
import { GatewayError } from '../errors.ts';
import type { MessageContext, Outcome } from '../pipeline/context.ts';
import type { ApprovalsSection } from './options.ts';
import type { Notify } from './webhook.ts';
import { type Approval, type ApprovalStore, type Approver } from './store.ts';

export interface ApprovalQueueDeps {
  store: ApprovalStore;
  section: ApprovalsSection;
  audit: AuditLog | undefined;
  logger: Logger;
  /** Wall-clock milliseconds (tests may pass a fake). */
  now?: () => number;
  notify?: Notify | undefined;
}

type Event = ApprovalNote['event'];

/** The principal an approval was asked for, as the audit record shows it. */
function requesterOf(a: Approval): Principal {
  const issuer = a.principal.split('\u0000')[0];
  const kind = issuer === 'local' || issuer === 'key' ? issuer : 'token';
  return { kind, subject: a.subject, agent: a.agent, scopes: [], allScopes: false, roles: [], ...(issuer && issuer !== 'local' && issuer !== 'token' && issuer !== 'key' ? { issuer } : {}) };
}

const OUTCOME: Record<Exclude<Event, 'used' | 'remembered'>, (a: Approval) => Outcome> = {
  requested: () => ({ result: { resultType: 'input_required' } }),
  granted: () => ({ result: {} }),
  denied: (a) => ({ error: new GatewayError('PC_APPROVAL_DENIED', `approval ${a.id} was denied by ${a.decidedBy ?? 'an approver'}${a.note ? `: ${a.note}` : ''}`) }),
  declined: (a) => ({ error: new GatewayError('PC_APPROVAL_DECLINED', `approval ${a.id} was declined by the caller's user`) }),
  expired: (a) => ({ error: new GatewayError('PC_APPROVAL_EXPIRED', `approval ${a.id} expired at ${new Date(a.expiresAt).toISOString()}`) }),
};

export class ApprovalQueue {
  readonly store: ApprovalStore;
  readonly section: ApprovalsSection;
  readonly #deps: ApprovalQueueDeps;
  readonly #now: () => number;
  readonly #waiters = new Map<string, Set<() => void>>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Requests refused because the queue was full. */
  refused = 0;

  constructor(deps: ApprovalQueueDeps) {
    this.#deps = deps;
    this.store = deps.store;
    this.section = deps.section;
    this.#now = deps.now ?? Date.now;
  }

  now(): number {
    return this.#now();
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.sweep(), this.section.pollMs);
    this.#timer.unref();
    void this.sweep();
  }

  /** Files an out-of-band request for this call, unless the queue is full for its principal or in total. */
  async request(input: Parameters<ApprovalStore['create']>[0]): Promise<Approval | GatewayError> {
    const mine = this.store.pendingCount(input.principal);
    const all = this.store.pendingCount();
    if (mine >= this.section.maxPendingPerPrincipal || all >= this.section.maxPending) {
      this.refused += 1;
      const which = mine >= this.section.maxPendingPerPrincipal ? `you already have ${mine} waiting (approvals.maxPendingPerPrincipal)` : `${all} are waiting (approvals.maxPending)`;
      return new GatewayError('PC_APPROVAL_LIMIT', `this call needs a human's approval, but the approval queue is full: ${which}; wait for those to be decided`, { retryAfterMs: 5000 });
    }
    // Fail closed: a request the trail cannot hold is not filed.
    const closed = this.#deps.audit?.gate();
    if (closed) return closed;
    const approval = this.store.create(input);
    await this.record(approval, 'requested');
    this.#deps.notify?.(approval);
    return approval;
  }

  /** Grants or denies (the admin endpoint; the command line decides on the store directly). */
  async decide(id: string, decision: 'granted' | 'denied', approver: Approver, note: string | undefined): Promise<Approval | GatewayError> {
    const decided = this.store.decide(id, decision, approver, note, this.#now());
    if (decided instanceof GatewayError) return decided;
    await this.sweep();
    return decided;
  }

  /**
   * Waits until the approval is decided or expires, `untilMs` passes or `signal` aborts; returns it as
   * it then stands (a waiting one past its time is expired first).
   */
  async wait(id: string, untilMs: number, signal: AbortSignal): Promise<Approval | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      let approval = this.store.get(id);
      if (approval?.status === 'pending' && approval.expiresAt <= this.#now()) {
        await this.sweep();
        approval = this.store.get(id);
      }
      if (!approval || approval.status !== 'pending' || this.#now() >= untilMs || signal.aborted) return approval;
      await new Promise<void>((resolve) => {
        const set = this.#waiters.get(id) ?? new Set();
        this.#waiters.set(id, set);
        const done = (): void => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0) this.#waiters.delete(id);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, Math.min(this.section.pollMs, untilMs - this.#now(), approval.expiresAt - this.#now())));
        set.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Expires what is due, records what other processes decided, wakes the calls waiting on them. */
  async sweep(): Promise<void> {
    if (this.#closed) return;
    try {
      this.store.expireDue(this.#now());
      for (const { approval, event } of this.store.unrecorded()) {
        await this.record(approval, event);
        for (const wake of [...(this.#waiters.get(approval.id) ?? [])]) wake();
      }
    } catch (error) {
      this.#deps.logger.error({ err: (error as Error).message }, 'approval queue sweep failed');
    }
  }

  /** Writes one approval event to the audit trail (once per event and approval). */
  async record(approval: Approval, event: Exclude<Event, 'used' | 'remembered'>): Promise<void> {
    const audit = this.#deps.audit;
    const mark = (): void => {
      if (event !== 'requested' && event !== 'declined') this.store.markRecorded(approval.id, event);
    };
    if (!audit) return mark();
    const note: ApprovalNote = { id: approval.id, event, channel: approval.channel, argsHash: approval.argsHash };
    if (approval.decidedBy && (event === 'granted' || event === 'denied' || event === 'declined')) note.by = approval.decidedBy;
    const ctx: MessageContext = {
      correlationId: randomUUID(),
      receivedAtMs: this.#now(),
      startedAt: performance.now(),
      endpoint: { kind: 'server', server: approval.server },
      request: { jsonrpc: '2.0', id: null as unknown as string, method: `approvals/${event}` },
      client: { key: 'modern:approvals', era: 'modern', protocolVersion: '', capabilities: {}, info: undefined, notify: () => undefined, request: undefined },
      signal: new AbortController().signal,
      paramHeaders: undefined,
      principal: requesterOf(approval),
      task: undefined,
      route: { kind: 'upstream', server: approval.server, method: 'tools/call', params: { name: approval.name }, name: approval.name, target: { kind: approval.kind as 'tool', name: approval.name } },
      decision: { effect: 'approve', rule: approval.rule, reason: approval.reason },
      approval: note,
    };
    // Marked only once written: an event the store could not take is tried again on the next sweep.
    const written = await audit.record(ctx, OUTCOME[event](approval));
    if (!('error' in written && written.error.code === 'PC_AUDIT_UNAVAILABLE')) mark();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const set of this.#waiters.values()) for (const wake of [...set]) wake();
    this.store.close();
  }
}
