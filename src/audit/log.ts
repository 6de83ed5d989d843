/**
 * The audit log: turns one request (its context and outcome) into chained records and appends them to
 * the store. Write-ahead: a call bound for a server is first recorded as an `intent` (who, what, which
 * arguments, the rule that allowed it) and forwarded only once that record is in the store; its outcome
 * is recorded when it ends. Fail closed: a call whose intent cannot be written is never forwarded
 * (`PC_AUDIT_UNAVAILABLE`); while the store fails, calls are refused at once, and every second one
 * call's own intent write is the probe (nothing is forwarded unless it succeeds). A call whose outcome
 * cannot be written is answered with that error instead of its result (its intent is on record).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GatewayError, type GatewayErrorCode } from '../errors.ts';
import { isObject, type JsonObject } from '../protocol/jsonrpc.ts';
import { namedTarget } from '../protocol/methods.ts';
import type { MessageContext, Outcome } from '../pipeline/context.ts';
import { ARGS_HASH_SCHEME, type ArgsHasher } from './args-hash.ts';
import { GENESIS_HASH, recordJson, sha256Hex, type AuditAlert, type AuditRecord, type Decision, type UnsignedRecord } from './record.ts';
import { CheckpointSigner, type Checkpoint } from './checkpoint.ts';
import { MASK, redact, redactText, type SecretTest } from './redact.ts';
import { screenFindings, screenPrincipal, screenRequestId } from './record-fields.ts';
import { sealStorable } from './storable.ts';
import type { AuditSink } from './sinks.ts';
import type { AuditStore } from './store.ts';
import type { ChainHead, HeadNote } from './head-note.ts';
import { subjectKey } from '../auth/principal.ts';
import { isoTime } from '../util/iso-time.ts';

export type ArgumentsMode = 'redacted' | 'hash' | 'full' | 'off';

export interface AuditLogOptions {
  /** Opens the store (connects, creates tables); called once by `open()`. */
  openStore: () => Promise<AuditStore>;
  /** Store kind, for messages before the store is open. */
  kind: string;
  /** The chain this log writes; `lease` (when given) replaces it with the chain it claims at open. */
  instance: string;
  lease?: (() => { instance: string; release(): void }) | undefined;
  gatewayId: string;
  redactFields: readonly string[];
  /** What the record masks: DLP's detection (`auditSecretTest`), whatever DLP's actions are. */
  holdsSecret: SecretTest;
  argumentsModeFor: (server: string | undefined) => ArgumentsMode;
  /** The records' `argsHash`: keyed with the deployment's key (args-hash.ts), never a plain hash. */
  argsHash: ArgsHasher;
  logger: Logger;
  /** Time between probe writes while the store is failing. */
  retryMs?: number;
  /** Signs checkpoints; without it no checkpoints are written (retention then writes unsigned anchors). */
  signer?: CheckpointSigner | undefined;
  checkpointEvery?: number;
  retentionDays?: number;
  /** Secondary copies, fed after the store has the record. */
  sinks?: readonly AuditSink[];
  /** Each principal's share of the trail (`audit.budget`); absent or 0 bytes: none. */
  budget?: { bytesPerPrincipal: number; windowMs: number } | undefined;
  /** The head note of the chain this log writes (head-note.ts), once it knows which chain. */
  headNote?: ((instance: string) => HeadNote) | undefined;
  /** Publishes each signed checkpoint to a witness outside the store (`audit.witness`); throws when it cannot. */
  witness?: ((checkpoint: Checkpoint) => void) | undefined;
}

/** Principals whose spending is tracked at once (past it, windows already over are forgotten, then the oldest). */
const BUDGET_PRINCIPALS = 100_000;
/** Records of an over-budget caller's refused calls: at most one a second (burst 10), arguments as a hash. */
const BUDGET_REFUSALS_PER_SECOND = 1;
const BUDGET_REFUSAL_BURST = 10;

/** One principal's spending in its current budget window. */
interface Spending {
  since: number;
  bytes: number;
  /** Token bucket of the records of its refused calls once the budget is spent. */
  tokens: number;
  tokensAt: number;
}

/** Whose budget a record counts against: the verified issuer and subject (an agent name is the client's say). */
const budgetKey = (p: MessageContext['principal']): string => subjectKey(p);

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['PC_UPSTREAM_TIMEOUT']);
const ERROR_CODES: ReadonlySet<string> = new Set(['PC_UPSTREAM_UNAVAILABLE', 'PC_UPSTREAM_CRASHED', 'PC_UPSTREAM_PROTOCOL', 'PC_REQUEST_CANCELLED', 'PC_INTERNAL']);

function principalRecord(ctx: MessageContext): AuditRecord['principal'] {
  const p = ctx.principal;
  // In canonical (sorted) order, like the record around it (#build).
  const out = { agent: p.agent } as AuditRecord['principal'];
  if (p.issuer !== undefined) out.issuer = p.issuer;
  out.subject = p.subject;
  if (p.tokenId !== undefined) out.tokenId = p.tokenId;
  return out;
}

/** The code recorded for a tool result that reports a failure (`isError: true`). */
export const TOOL_ERROR_CODE = 'isError';

export function decisionFor(outcome: Outcome): { decision: Decision; code?: string } {
  if ('result' in outcome) {
    if (outcome.result.isError === true) return { decision: 'error', code: TOOL_ERROR_CODE };
    return { decision: outcome.result.resultType === 'input_required' ? 'approval' : 'allowed' };
  }
  if ('upstreamError' in outcome) return { decision: 'error', code: String(outcome.upstreamError.code) };
  const code: GatewayErrorCode = outcome.error.code;
  if (TIMEOUT_CODES.has(code)) return { decision: 'timeout', code };
  if (ERROR_CODES.has(code)) return { decision: 'error', code };
  return { decision: 'denied', code };
}

/** An alert to chain (`decision: alert`): what the monitor raised, about whom, and the record that made it fire. */
export interface AlertEntry {
  alert: AuditAlert;
  principal: AuditRecord['principal'];
  server?: string | undefined;
  tool?: string | undefined;
  /** One sentence for a human (never argument values). */
  summary: string;
  /** The client's address, when the alert is about one (refusals at the HTTP front). */
  address?: string | undefined;
  /** The record that made the alert fire: its correlation id and endpoint are repeated on the alert record. */
  cause: Pick<AuditRecord, 'correlationId' | 'endpoint'>;
}

export class AuditLog {
  readonly #options: AuditLogOptions;
  readonly #fields: ReadonlySet<string>;
  #store: AuditStore | undefined;
  #seq: number;
  #prev: string;
  /** The last record known to be in the store: where the chain resumes if a commit fails. */
  #committed: { seq: number; hash: string };
  #failure: Error | undefined = new Error('the audit store is still opening');
  #retryAt = Number.POSITIVE_INFINITY;
  /** Checkpoints due (a multiple of checkpointEvery was committed) but not yet written: retried. */
  #due: Array<{ seq: number; hash: string }> = [];
  #instance: string;
  /** Records appended while a record was handed to the sinks (alerts): the record's caller waits for them. */
  #followUps: Array<Promise<unknown>> = [];
  #lease: { instance: string; release(): void } | undefined;
  #headNote: HeadNote | undefined;
  /** Argument objects already recorded (a call's intent), with their hash and redacted copy. */
  readonly #argsSeen = new WeakMap<JsonObject, { hash: string; redacted?: unknown }>();
  /** Session ids to their recorded hashes (bounded: cleared when full). */
  readonly #sessions = new Map<string, string>();
  /** Per principal (`budgetKey`), what its records cost in the current window (`audit.budget`). */
  readonly #spending = new Map<string, Spending>();
  /** Requests whose intent is on record: their outcome is always written in full. */
  readonly #forwarded = new WeakSet<MessageContext>();
  #budgetDropped = 0;
  /** A head note is queued for the group commit being resolved (#noteHead). */
  #notePending = false;

  constructor(options: AuditLogOptions) {
    this.#options = options;
    this.#fields = new Set(options.redactFields.map((f) => f.toLowerCase()));
    this.#seq = 0;
    this.#prev = GENESIS_HASH;
    this.#committed = { seq: 0, hash: GENESIS_HASH };
    this.#instance = options.instance;
  }

  /** The chain this process writes (known once open). */
  get instance(): string {
    return this.#instance;
  }

  /** Finds where this gateway's chain left off. Until it has, every call is refused (fail closed). */
  async open(): Promise<void> {
    try {
      if (this.#options.lease && !this.#lease) {
        this.#lease = this.#options.lease();
        this.#instance = this.#lease.instance;
      }
      this.#store ??= await this.#options.openStore();
      const head = await this.#store.head(this.#instance);
      if (this.#options.headNote && !this.#headNote) {
        const note = this.#options.headNote(this.#instance);
        // Where the last run of this chain says it had got to: a stored chain behind it was cut.
        await this.#cutFrom(head, note.read(), 'since the last run', note);
        this.#headNote = note;
      }
      this.#seq = head?.seq ?? 0;
      this.#prev = head?.hash ?? GENESIS_HASH;
      this.#committed = { seq: this.#seq, hash: this.#prev };
      // A chain left without a checkpoint at its end (the last run was killed) is covered now, so the
      // trail verifies strictly; the verifier then sees where this run started.
      if (this.#options.signer && this.#seq > 0) await this.checkpoint(this.#committed);
      this.#headNote?.open(this.#committed);
      this.#failure = undefined;
      this.#retryAt = 0;
    } catch (error) {
      this.#failure = error as Error;
      this.#retryAt = Number.POSITIVE_INFINITY;
      this.#options.logger.error({ err: (error as Error).message, store: this.#options.kind }, 'audit store cannot be opened: calls are refused');
      throw error;
    }
  }

  /** While the store is failing and no retry is due, the refusal; otherwise undefined (try a write). */
  gate(): GatewayError | undefined {
    if (!this.#failure) return undefined;
    if (Date.now() < this.#retryAt) return this.#unavailable();
    return undefined;
  }

  /**
   * Write-ahead: records that the call is about to be forwarded, and resolves once that record is in
   * the store. Returns the refusal when it cannot be written (the call must not be forwarded). While
   * the store is failing, refuses without trying until the next retry is due; the retry is this
   * intent's own write, so a probe never lets a call through unrecorded.
   */
  async intent(ctx: MessageContext): Promise<GatewayError | undefined> {
    const closed = this.gate();
    if (closed) return closed;
    const spent = this.#spendingOf(ctx);
    if (spent && this.#isSpent(spent)) return this.#overBudget(spent);
    if (this.#failure && this.#store) {
      // The probe, one at a time (the others are refused meanwhile): it first reads where the stored
      // chain ends, since a write whose answer was lost may have landed after all.
      this.#retryAt = Number.POSITIVE_INFINITY;
      try {
        const head = await this.#store.head(this.#instance);
        // The store may have lost what this process committed (records deleted while it could not write).
        await this.#cutFrom(head, this.#committed, 'while the store was failing', this.#headNote);
        this.#seq = head?.seq ?? 0;
        this.#prev = head?.hash ?? GENESIS_HASH;
        this.#committed = { seq: this.#seq, hash: this.#prev };
      } catch (error) {
        this.#failed(error as Error);
        return this.#unavailable();
      }
    }
    const record = this.#build(ctx, undefined);
    const failed = await this.#append(record, ctx.principal);
    if (failed) return failed;
    this.#forwarded.add(ctx);
    if (spent) spent.bytes += recordJson(record).length;
    return undefined;
  }

  #unavailable(): GatewayError {
    return new GatewayError('PC_AUDIT_UNAVAILABLE', `the audit store (${this.#options.kind}) cannot record calls, so none are allowed: ${this.#failure?.message ?? 'unknown error'}`);
  }

  get healthy(): boolean {
    return this.#failure === undefined;
  }

  /** Per sink: records dropped so far and records waiting (for /metrics and /healthz). */
  get sinks(): Record<string, { dropped: number; queued: number }> {
    return Object.fromEntries((this.#options.sinks ?? []).map((s) => [s.name, { dropped: s.dropped, queued: s.queued }]));
  }

  /** Records of refused calls not written because their caller's budget was spent (counted in /metrics). */
  get budgetDropped(): number {
    return this.#budgetDropped;
  }

  /**
   * Records the request and returns the outcome to send (replaced by an error if recording failed).
   * The outcome of a forwarded call is always written in full. A refused call of a caller whose budget
   * is spent is written with its arguments as a hash only, and at most once a second (burst 10); past
   * that it is counted (`budgetDropped`), not written — nothing of it reached a server.
   */
  async record(ctx: MessageContext, outcome: Outcome): Promise<Outcome> {
    const spent = this.#spendingOf(ctx);
    let mode: ArgumentsMode | undefined;
    if (spent && this.#isSpent(spent) && !this.#forwarded.has(ctx)) {
      const now = Date.now();
      spent.tokens = Math.min(BUDGET_REFUSAL_BURST, spent.tokens + ((now - spent.tokensAt) / 1000) * BUDGET_REFUSALS_PER_SECOND);
      spent.tokensAt = now;
      if (spent.tokens < 1) {
        this.#budgetDropped += 1;
        return outcome;
      }
      spent.tokens -= 1;
      mode = 'hash';
    }
    const record = this.#build(ctx, outcome, mode);
    const failed = await this.#append(record, ctx.principal);
    if (!failed && spent) spent.bytes += recordJson(record).length;
    return failed ? { error: failed } : outcome;
  }

  /** The principal's spending in its current window (a new window once the last is over); undefined without a budget. */
  #spendingOf(ctx: MessageContext): Spending | undefined {
    const budget = this.#options.budget;
    if (!budget || budget.bytesPerPrincipal === 0) return undefined;
    const key = budgetKey(ctx.principal);
    const now = Date.now();
    let spent = this.#spending.get(key);
    if (spent && now - spent.since < budget.windowMs) return spent;
    this.#spending.delete(key);
    if (this.#spending.size >= BUDGET_PRINCIPALS) {
      for (const [other, s] of this.#spending) if (now - s.since >= budget.windowMs) this.#spending.delete(other);
      if (this.#spending.size >= BUDGET_PRINCIPALS) this.#spending.delete(this.#spending.keys().next().value!);
    }
    spent = { since: now, bytes: 0, tokens: BUDGET_REFUSAL_BURST, tokensAt: now };
    this.#spending.set(key, spent);
    return spent;
  }

  #isSpent(spent: Spending): boolean {
    return spent.bytes >= this.#options.budget!.bytesPerPrincipal;
  }

  #overBudget(spent: Spending): GatewayError {
    const { bytesPerPrincipal, windowMs } = this.#options.budget!;
    const retryAfterMs = Math.max(0, spent.since + windowMs - Date.now());
    return new GatewayError(
      'PC_AUDIT_BUDGET',
      `refused: this caller's audit records reached audit.budget.bytesPerPrincipal (${bytesPerPrincipal} bytes per ${windowMs / 1000} s window); calls are refused for ${Math.ceil(retryAfterMs / 1000)} s more`,
      { retryAfterMs },
    );
  }

  /** The chain fields of the next record that answers no request (an alert, a CLI decision). */
  #nextPosition(correlationId: string): Pick<UnsignedRecord, 'v' | 'instance' | 'seq' | 'gatewayId' | 'time' | 'requestId' | 'correlationId'> {
    return { v: 1, instance: this.#instance, seq: this.#seq + 1, gatewayId: this.#options.gatewayId, time: new Date().toISOString(), requestId: null, correlationId };
  }

  /**
   * Chains an alert (`decision: alert`). Called by the monitor while it is handed a stored record, so
   * the call whose record raised the alert is answered only once the alert is in the store too. An
   * alert that cannot be written is logged (it is still in alerts.jsonl and the alert sinks); the
   * store then counts as failing, so calls are refused until it recovers.
   */
  recordAlert(entry: AlertEntry): Promise<void> {
    const body: UnsignedRecord = {
      ...this.#nextPosition(entry.cause.correlationId),
      principal: screenPrincipal(entry.principal, this.#options.holdsSecret),
      endpoint: entry.cause.endpoint,
      method: '(alert)',
      scopes: [],
      decision: 'alert',
      code: entry.alert.kind,
      reason: entry.summary,
      alert: entry.alert,
      latencyMs: 0,
      prevHash: this.#prev,
    };
    if (entry.server !== undefined) body.server = entry.server;
    if (entry.tool !== undefined) body.target = entry.tool;
    if (entry.address !== undefined) body.address = entry.address;
    const written = this.#append(sealStorable(body)).then((failed) => {
      if (failed) this.#options.logger.error({ alert: entry.alert.id, err: failed.message }, 'alert could not be written to the audit trail');
    });
    this.#followUps.push(written);
    return written;
  }

  /**
   * Chains a supply-chain decision taken on the command line (`pin approve`, `pin reject`): who declared
   * it (`--by`) and which OS user ran it, the server and each definition with its full hash. Resolves
   * once stored; rejects when it could not be (the caller then changes nothing).
   */
  async recordSupplyDecision(entry: { event: 'approve' | 'reject'; server: string; items: readonly string[]; by: string; osUser: string; uid: number | undefined; acceptFindings?: boolean }): Promise<void> {
    const id = randomUUID();
    const who = `OS user ${entry.osUser}${entry.uid === undefined ? '' : ` (uid ${entry.uid})`}`;
    const body: UnsignedRecord = {
      ...this.#nextPosition(id),
      principal: { subject: `os:${entry.osUser}${entry.uid === undefined ? '' : `:${entry.uid}`}`, agent: 'portcullis-cli' },
      endpoint: 'cli',
      server: entry.server,
      method: `pin/${entry.event}`,
      target: entry.items.join(' '),
      scopes: [],
      decision: 'approval',
      reason: `${entry.event === 'approve' ? 'approved' : 'rejected'} by "${entry.by}" (as declared with --by), run by ${who}${entry.acceptFindings ? ', scanner findings accepted' : ''}`,
      approval: { id, event: entry.event === 'approve' ? 'granted' : 'denied', channel: 'out-of-band', by: entry.by },
      latencyMs: 0,
      prevHash: this.#prev,
    };
    const failed = await this.#append(sealStorable(body));
    if (failed) throw failed;
  }

  /** The chained record of a request: its outcome, or (`outcome` undefined) the intent to forward it. */
  #build(ctx: MessageContext, outcome: Outcome | undefined, argumentsMode?: ArgumentsMode): AuditRecord {
    const route = ctx.route;
    const params = route?.kind === 'upstream' ? route.params : ctx.request.params;
    const server = route?.kind === 'upstream' ? route.server : ctx.endpoint.kind === 'server' ? ctx.endpoint.server : undefined;
    const args = isObject(params?.arguments) ? params.arguments : undefined;
    const mode = argumentsMode ?? this.#options.argumentsModeFor(server);
    const { decision, code } = outcome ? decisionFor(outcome) : { decision: 'intent' as const, code: undefined };
    let argsHash: string | undefined;
    let recordedArgs: unknown;
    if (args !== undefined && mode !== 'off') {
      // The intent and the outcome of a call record the same arguments: hashed and redacted once.
      let seen = this.#argsSeen.get(args);
      if (!seen) {
        seen = { hash: this.#options.argsHash(args) };
        this.#argsSeen.set(args, seen);
      }
      argsHash = seen.hash;
      if (mode === 'full') recordedArgs = args;
      else if (mode === 'redacted') recordedArgs = seen.redacted ??= redact(args, this.#fields, this.#options.holdsSecret);
    }
    const rule = ctx.decision?.rule ?? ((outcome && 'error' in outcome && typeof outcome.error.data?.rule === 'string') ? outcome.error.data.rule : undefined);
    let reason: string | undefined;
    if (outcome && 'error' in outcome) reason = outcome.error.message;
    else if (ctx.decision?.monitored) reason = `monitor: would be refused (${ctx.decision.code ?? 'PC_POLICY_DENIED'}): ${ctx.decision.reason}`;
    else if (outcome && code === TOOL_ERROR_CODE) reason = 'the tool reported an error (isError: true)';
    // Where the arguments are not recorded in full, a reason must not carry them either.
    if (reason !== undefined && args !== undefined && mode !== 'full') reason = withoutArguments(reason, args);
    // A reason can quote a server's error text: one holding a secret is not written in clear.
    if (reason !== undefined) reason = redactText(reason, this.#options.holdsSecret);
    // The judged target; for a request refused before routing, the field the spec defines for its
    // method; for what the gateway answers itself (aggregated lists, setLevel on /mcp), none.
    const named = route?.kind === 'upstream' ? route.name : route === undefined ? namedTarget(ctx.client.protocolVersion, ctx.request.method, ctx.request.params) : undefined;
    // A resource URI (or a made-up name) is the client's own text: one holding a secret is not written in clear.
    const target = named === undefined ? undefined : ctx.dlp?.some((f) => f.path === 'params.uri') ? MASK : redactText(named, this.#options.holdsSecret);
    // The client's and server's own text in the other fields goes through the same test (record-fields.ts).
    const holdsSecret = this.#options.holdsSecret;
    // The fields in the order canonical JSON sorts them, so that hashing the record is one native
    // JSON.stringify (canonical.ts) rather than a sort and a string built piece by piece.
    const body = {} as UnsignedRecord;
    if (ctx.address !== undefined) body.address = ctx.address;
    if (ctx.approval) body.approval = ctx.approval;
    if (recordedArgs !== undefined) body.args = recordedArgs;
    if (argsHash !== undefined) body.argsHash = argsHash;
    // Says how this record's argument hashes were made: records without it hold a plain SHA-256.
    if (argsHash !== undefined || ctx.approval?.argsHash !== undefined) body.argsHashScheme = ARGS_HASH_SCHEME;
    if (code !== undefined) body.code = code;
    body.correlationId = ctx.correlationId;
    body.decision = decision;
    if (ctx.dlp && ctx.dlp.length > 0) body.dlp = screenFindings(ctx.dlp, holdsSecret);
    body.endpoint = ctx.endpoint.kind === 'server' ? `/mcp/${ctx.endpoint.server}` : '/mcp';
    body.gatewayId = this.#options.gatewayId;
    body.instance = this.#instance;
    if (ctx.labels && ctx.labels.length > 0) body.labels = ctx.labels;
    body.latencyMs = Math.round((performance.now() - ctx.startedAt) * 1000) / 1000;
    body.method = redactText(ctx.request.method, holdsSecret);
    body.prevHash = this.#prev;
    body.principal = screenPrincipal(principalRecord(ctx), holdsSecret);
    if (reason !== undefined) body.reason = reason;
    // Each line names a method a server chose: screened like the record's own method.
    if (ctx.refusedServerRequests) body.refusedServerRequests = ctx.refusedServerRequests.map((line) => redactText(line, holdsSecret));
    body.requestId = screenRequestId(ctx.request.id, holdsSecret);
    if (outcome && 'result' in outcome) body.responseBytes = approximateSize(outcome.result);
    if (rule !== undefined) body.rule = rule;
    body.scopes = [...ctx.principal.scopes];
    body.seq = this.#seq + 1;
    if (server) body.server = server;
    if (!ctx.client.key.startsWith('modern:')) body.session = this.#sessionHash(ctx.client.key);
    if (target !== undefined) body.target = target;
    if (ctx.task !== undefined) body.task = ctx.task;
    if (isObject(params?.task)) body.taskRequest = params.task as { ttl?: number };
    body.time = isoTime(ctx.receivedAtMs);
    body.v = 1;
    // What the caller chose is made storable (and bounded) before hashing: every store keeps the same record.
    return sealStorable(body);
  }

  /** A legacy session's id as records carry it: the start of its hash (the id itself is a bearer secret). */
  #sessionHash(key: string): string {
    let hashed = this.#sessions.get(key);
    if (hashed === undefined) {
      if (this.#sessions.size >= 10_000) this.#sessions.clear();
      hashed = sha256Hex(key).slice(0, 16);
      this.#sessions.set(key, hashed);
    }
    return hashed;
  }

  /**
   * Writes the head note once per group commit, not once per record: the appends a commit resolves
   * continue in one run of microtasks, and the note written by a microtask queued from the first of them
   * holds the last head of the group. It is still written before any of their answers leaves: an answer
   * is sent by the caller of `intent`/`record`, at least one microtask after this one is queued.
   */
  #noteHead(): void {
    if (!this.#headNote || this.#notePending) return;
    this.#notePending = true;
    queueMicrotask(() => {
      this.#notePending = false;
      this.#headNote?.note(this.#committed);
    });
  }

  /** The store failed: calls are refused until the next probe is due. */
  #failed(error: Error): void {
    const first = !this.#failure;
    this.#failure = error;
    this.#retryAt = Date.now() + (this.#options.retryMs ?? 1000);
    if (first) this.#options.logger.error({ err: error.message, store: this.#options.kind }, 'audit store failing: calls are refused until it recovers');
  }

  /** Appends a record to the chain; returns the refusal when the store cannot take it. */
  async #append(record: AuditRecord, principal?: MessageContext['principal']): Promise<GatewayError | undefined> {
    // The chain advances now (records of one turn are committed together, in order); a failed
    // commit rewinds it to the last record known to be stored.
    this.#seq = record.seq;
    this.#prev = record.hash;
    try {
      if (!this.#store) throw new Error('the audit store is not open');
      await this.#store.append(record);
    } catch (error) {
      this.#failed(error as Error);
      this.#seq = this.#committed.seq;
      this.#prev = this.#committed.hash;
      return this.#unavailable();
    }
    if (this.#failure) this.#options.logger.warn({ store: this.#options.kind }, 'audit store recovered');
    this.#failure = undefined;
    if (record.seq > this.#committed.seq) {
      this.#committed = { seq: record.seq, hash: record.hash };
      this.#noteHead();
    }
    for (const sink of this.#options.sinks ?? []) sink.push(record, principal);
    if (this.#followUps.length > 0) await Promise.all(this.#followUps.splice(0));
    const every = this.#options.checkpointEvery ?? 1000;
    if (this.#options.signer && record.seq % every === 0) this.#due.push({ seq: record.seq, hash: record.hash });
    return await this.#writeDueCheckpoints();
  }

  /**
   * Writes the checkpoints that are due. One that cannot be written stays due (retried with the next
   * record) and the store counts as failing: with a signing key, a checkpoint missing at a multiple of
   * checkpointEvery fails verification, so calls are refused until it is written.
   */
  async #writeDueCheckpoints(): Promise<GatewayError | undefined> {
    while (this.#due.length > 0) {
      try {
        await this.checkpoint(this.#due[0]!);
      } catch (error) {
        this.#failure = error as Error;
        this.#retryAt = Date.now() + (this.#options.retryMs ?? 1000);
        this.#options.logger.error({ err: (error as Error).message, store: this.#options.kind }, 'audit checkpoint cannot be written: calls are refused until it is');
        return this.#unavailable();
      }
      this.#due.shift();
    }
    return undefined;
  }

  /**
   * The chain as stored ends before (or differs at) a head this chain had committed: records were cut.
   * Never adopted silently: the cut is kept beside the head note (`<chain>.cuts`, which `audit verify`
   * reports) and the known head is stored as a checkpoint, signed and published to the witness when
   * configured, before the chain goes on from the stored head.
   */
  async #cutFrom(stored: ChainHead | undefined, known: ChainHead | undefined, when: string, note: HeadNote | undefined): Promise<void> {
    if (!known || known.seq === 0) return;
    const storedSeq = stored?.seq ?? 0;
    if (storedSeq > known.seq || (storedSeq === known.seq && stored?.hash === known.hash)) return;
    this.#options.logger.error(
      { chain: this.#instance, storedHead: storedSeq, committedHead: known.seq, store: this.#options.kind },
      `audit chain cut ${when}: the store ends at record ${storedSeq} (hash ${stored?.hash.slice(0, 12) ?? 'none'}) but record ${known.seq} (hash ${known.hash.slice(0, 12)}) was committed; audit verify reports it`,
    );
    note?.recordCut({ stored: storedSeq, committed: known.seq, hash: known.hash, at: new Date().toISOString(), when });
    // Also as a checkpoint: signed and published to the witness, where the store's writer cannot reach it.
    await this.checkpoint(known);
  }

  /** Signs and stores a checkpoint of the last committed record (if a signing key is configured). */
  async checkpoint(at: { seq: number; hash: string } = this.#committed): Promise<Checkpoint | undefined> {
    if (!this.#store || at.seq === 0) return undefined;
    const body = { instance: this.#instance, seq: at.seq, hash: at.hash, time: new Date().toISOString() };
    const checkpoint: Checkpoint = this.#options.signer ? this.#options.signer.sign(body) : { ...body, keyId: '', signature: '' };
    await this.#store.addCheckpoint(checkpoint);
    if (checkpoint.signature !== '') this.#options.witness?.(checkpoint);
    return checkpoint;
  }

  /**
   * Retention: prunes this gateway's records older than `retentionDays`, after a checkpoint of the
   * last pruned record, so that verification still holds for what remains.
   */
  async applyRetention(now = Date.now()): Promise<number> {
    const days = this.#options.retentionDays ?? 90;
    if (!this.#store || days === 0) return 0;
    const cutoff = new Date(now - days * 86_400_000).toISOString();
    const last = await this.#store.lastBefore(this.#instance, cutoff);
    if (!last) return 0;
    await this.checkpoint(last);
    const pruned = await this.#store.prune(this.#instance, last.seq);
    if (pruned > 0) this.#options.logger.info({ pruned, upTo: last.seq, retentionDays: days }, 'audit retention pruned old records');
    return pruned;
  }

  async close(): Promise<void> {
    await this.#writeDueCheckpoints();
    if (this.#options.signer) await this.checkpoint().catch(() => undefined);
    this.#headNote?.note(this.#committed);
    this.#headNote?.close();
    await Promise.all((this.#options.sinks ?? []).map((sink) => sink.close().catch(() => undefined)));
    await this.#store?.close();
    this.#lease?.release();
  }
}

/** Argument values shorter than this are not taken out of reasons (they would match ordinary words). */
const MIN_QUOTED = 4;

/**
 * `reason` with every string argument value it quotes (as is, or JSON-escaped) replaced by the
 * argument's name: a refusal explains which argument and rule, never what the argument held.
 */
export function withoutArguments(reason: string, args: JsonObject): string {
  const values: Array<{ text: string; name: string }> = [];
  const walk = (value: unknown, name: string, depth: number): void => {
    if (depth > 16 || values.length > 256) return;
    if (typeof value === 'string') {
      if (value.length >= MIN_QUOTED) {
        values.push({ text: value, name });
        const escaped = JSON.stringify(value).slice(1, -1);
        if (escaped !== value) values.push({ text: escaped, name });
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${name}[${i}]`, depth + 1));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) walk(v, name ? `${name}.${k}` : k, depth + 1);
  };
  walk(args, '', 0);
  let out = reason;
  for (const { text, name } of values.sort((a, b) => b.text.length - a.text.length)) {
    if (out.includes(text)) out = out.split(text).join(`[argument ${name}]`);
  }
  return out;
}

function approximateSize(result: JsonObject): number {
  try {
    return JSON.stringify(result).length;
  } catch {
    return -1;
  }
}
