/**
 * THE stage order. It is written once, here, and is not configurable: policies are data, the order is
 * code. Each line says why the stage stands where it does.
 *
 * Request:
 *   decode         — done by the downstream transport before a context exists: bytes → one JSON-RPC
 *                    message, era, headers checked against the body. Nothing unparsed goes further.
 *   authenticate   — (issue #4) who is asking; first, so every later decision has a principal.
 *   route          — whether the method is a client→server method of the negotiated version with valid
 *                    params (else refused: default deny over the method space), which server, and the
 *                    governed target (tool, prompt, resource, task, custom method, list, server), with
 *                    the forwarded params rebuilt from it; before any rule, because rules are written
 *                    against real server and tool names, not namespaced aliases.
 *   killSwitch     — cheapest hard stop, run twice: before route for what it can stop without a target
 *                    (`--all`, an agent, the server of /mcp/<server>), so not even a catalog look-up
 *                    reaches a stopped server; and right after route for the tool the target names.
 *   checkParamHeaders — `Mcp-Param-*` headers equal the arguments they mirror (needs the routed tool's
 *                    schema, hence after route); before any rule, so that no intermediary and no rule
 *                    ever acts on a value the server will not see.
 *   supplyCheck    — the tool or prompt is not quarantined (new, changed since approval, or poisoned);
 *                    before policy, because no rule should ever allow a definition nobody approved.
 *   authorize      — scopes and policy over principal, tool and arguments (an unknown tool is refused
 *                    here); on list requests, sets the filter that hides what this caller may not use.
 *   validateArgs   — size, then the tool's pinned inputSchema; after authorize so denied calls are not
 *                    probed for schema details.
 *   inspectArguments — data-loss prevention on what leaves: secret-shaped values in the arguments of a
 *                    tool that can reach outside (PC_DLP_EXFILTRATION), and a modern client's answers to
 *                    a server's requests; after the policy and schema (no inspection work for calls that
 *                    are refused anyway), before the rate limit and approval spend anything on them.
 *   toxicFlow      — labels the call with its tool's toxic-flow labels, and (enforce: block) refuses an
 *                    egress call in a session that read private data (src/monitor, docs/monitor.md);
 *                    after the policy (a refused call carries no flow) and before the rate limit and
 *                    approval spend anything on a call that will be refused.
 *   rateLimit      — counts only calls that would otherwise be allowed; takes a concurrency slot,
 *                    released when the request is over.
 *   approve        — a human (src/approvals, docs/approvals.md), only for calls everything else already
 *                    allows; after a wait it runs killSwitch and authorize again, since either may have
 *                    changed while the human thought it over.
 *   credentials    — (issue #4) inject the upstream's own scoped secret, last, so no earlier stage
 *                    can see or log it.
 *   auditGate      — write-ahead: an `intent` record (who, what, which arguments, which rule) is in the
 *                    store before the call is forwarded, or the call is refused (PC_AUDIT_UNAVAILABLE);
 *                    last before forward, so a call is never executed unrecorded (fail closed), while
 *                    denials are still recorded when it can.
 *   forward        — send to the server; era translation.
 * Response:
 *   inspect, redact — data-loss prevention (src/dlp, docs/dlp.md), one walk over every string the
 *                    server sent: findings decide (block: PC_DLP_BLOCKED, nothing of the result leaves),
 *                    masks and untrusted-data wrappers are applied in the same pass; before audit, so
 *                    the record holds the findings (never the values) and the outcome the client gets.
 *                    Server→client traffic during the call (notifications, sampling and elicitation
 *                    requests and their answers) is inspected message by message as it streams
 *                    (src/dlp/client-guard.ts).
 *   audit          — one chained record per request, whatever happened (denied, failed, timed out,
 *                    allowed), written before the answer leaves; if it cannot be written, the answer
 *                    becomes PC_AUDIT_UNAVAILABLE.
 *
 * A stage returns a GatewayError to stop the request (a decision, not an exception); `throw` is a bug
 * and becomes PC_INTERNAL with a correlation id.
 */
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log.ts';
import { GatewayError } from '../errors.ts';
import { killedInFlight, untilKilled } from '../killswitch/in-flight.ts';
import type { MessageContext, Outcome } from './context.ts';

export type RequestStage = (ctx: MessageContext) => Promise<GatewayError | undefined> | GatewayError | undefined;
export type TerminalStage = (ctx: MessageContext) => Promise<Outcome>;
export type ResponseStage = (ctx: MessageContext, outcome: Outcome) => Outcome;

export interface PipelineStages {
  authenticate: RequestStage;
  route: RequestStage;
  checkParamHeaders: RequestStage;
  supplyCheck: RequestStage;
  killSwitch: RequestStage;
  authorize: RequestStage;
  validateArgs: RequestStage;
  inspectArguments: RequestStage;
  toxicFlow: RequestStage;
  rateLimit: RequestStage;
  approve: RequestStage;
  forward: TerminalStage;
  inspect: ResponseStage;
}

export type Pipeline = (ctx: MessageContext) => Promise<Outcome>;

/** Requests not worth a record: liveness probes answered by the gateway itself. */
const UNAUDITED: ReadonlySet<string> = new Set(['ping']);

export function createPipeline(stages: PipelineStages, logger: Logger, audit?: AuditLog): Pipeline {
  const requestStages: readonly RequestStage[] = [
    stages.authenticate,
    stages.killSwitch, // before route too: see killSwitch below
    stages.route,
    stages.killSwitch,
    stages.checkParamHeaders,
    stages.supplyCheck,
    stages.authorize,
    stages.validateArgs,
    stages.inspectArguments,
    stages.toxicFlow,
    stages.rateLimit,
    stages.approve,
  ];
  const audited = (ctx: MessageContext): boolean => audit !== undefined && !UNAUDITED.has(ctx.request.method);

  async function decide(ctx: MessageContext): Promise<Outcome> {
    try {
      for (const stage of requestStages) {
        // Most stages decide synchronously: awaiting only a promise saves a microtask turn per stage.
        const result = stage(ctx);
        const denial = result instanceof Promise ? await result : result;
        if (denial) return { error: killedInFlight(ctx.signal) ?? denial };
      }
      if (audited(ctx)) {
        // Write-ahead: the call is on record before it is forwarded, or it is not forwarded.
        const closed = await audit!.intent(ctx);
        if (closed) return { error: closed };
      }
      // A kill switch that covers the call while it runs answers it at once (killswitch/in-flight.ts).
      return stages.inspect(ctx, await untilKilled(ctx.signal, stages.forward(ctx)));
    } catch (error) {
      if (error instanceof GatewayError) return { error };
      logger.error({ correlationId: ctx.correlationId, method: ctx.request.method, err: error }, 'pipeline failure');
      return { error: new GatewayError('PC_INTERNAL', 'internal error') };
    } finally {
      ctx.release?.();
    }
  }

  // No async wrapper: an unaudited call's outcome is decide's own promise (one promise and turn fewer).
  return function run(ctx) {
    const decided = decide(ctx);
    return audited(ctx) ? decided.then((outcome) => audit!.record(ctx, outcome)) : decided;
  };
}
