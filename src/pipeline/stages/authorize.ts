/**
 * The `authorize` stage: the policy's decision on a call (scopes, rules, guards), or, on a list request,
 * the filter that keeps the items this caller may not use out of the answer. An unknown tool is refused
 * here, before anything else looks at it. In `mode: monitor` a denial is logged and recorded but the call
 * goes on, and lists are not filtered. A policy that cannot be evaluated denies (fail closed).
 */
import type { Logger } from 'pino';
import { GatewayError } from '../../errors.ts';
import type { KillSwitchStore } from '../../killswitch/store.ts';
import { isObject } from '../../protocol/jsonrpc.ts';
import type { Decision } from '../../policy/policy.ts';
import type { PolicyRuntime } from '../../policy/runtime.ts';
import { decideGoverned, stateDenial, type StateGuard } from '../../policy/state-decision.ts';
import type { Catalog } from '../../routing/catalog.ts';
import type { ArgumentValidator } from '../../validate/args.ts';
import type { MessageContext } from '../context.ts';
import { then, type Maybe } from '../../util/maybe.ts';
import { followUp, governedCall, itemName, LIST_TARGET } from './governed.ts';
import { expandTemplate } from '../../routing/uri-template.ts';
import { notListed } from './supply-check.ts';
import type { TargetKind } from '../../policy/policy.ts';
import { flowKeys, sessionHashOf, type FlowTracker } from '../../monitor/flows.ts';
import { callerIdentity } from '../../auth/principal.ts';

export interface AuthorizeOptions {
  runtime: PolicyRuntime;
  catalog: Catalog;
  kill: KillSwitchStore;
  timeoutMsFor: (server: string | undefined) => number;
  now: () => Date;
  logger: Logger;
  /** Tools whose inputSchema cannot be used are withheld from lists (and refused by validateArgs). */
  validator: ArgumentValidator;
  /** Toxic-flow tracking (docs/monitor.md), when the monitor has it: conditions read it as `session`. */
  flows?: FlowTracker | undefined;
  /** The gateway's own files and the servers whose own directories hold them (src/policy/state-decision.ts). */
  stateGuard?: StateGuard | undefined;
}

export function createAuthorize(options: AuthorizeOptions): (ctx: MessageContext) => Maybe<GatewayError | undefined> {
  const { runtime, catalog, kill, timeoutMsFor, now, logger, validator, flows, stateGuard } = options;

  function filterLists(ctx: MessageContext): undefined {
    const kind = LIST_TARGET[ctx.request.method];
    const { policy } = runtime.current;
    if (!kind || policy.mode === 'monitor') return undefined;
    const at = now();
    kill.refresh();
    ctx.listFilter = (server, itemKind, item) => {
      const name = itemName(itemKind, item);
      if (name === undefined) return false;
      if (kill.stops(server, itemKind === 'tool' ? name : undefined, ctx.principal, false)) return false;
      if (itemKind === 'tool' && validator.unsafe(item.inputSchema) !== undefined) return false;
      const annotations = isObject(item.annotations) ? item.annotations : undefined;
      return policy.visible(ctx.principal, server, itemKind, name, annotations, ctx.task, at).visible;
    };
    return undefined;
  }

  /** Applies a decision: in force, or (monitor) logged and let through. */
  function enforce(ctx: MessageContext, decision: Decision, server: string, target: string | undefined, refusal: () => GatewayError): GatewayError | undefined {
    ctx.decision = decision;
    if (decision.effect !== 'deny') return undefined;
    if (runtime.current.policy.mode === 'monitor') {
      ctx.decision = { ...decision, monitored: true };
      logger.warn({ correlationId: ctx.correlationId, server, target, rule: decision.rule, code: decision.code }, `policy (monitor): would deny: ${decision.reason}`);
      return undefined;
    }
    return refusal();
  }

  /** A completion or task follow-up: its prompt, template or tool must be one this caller may use. */
  function authorizeFollowUp(ctx: MessageContext, call: NonNullable<ReturnType<typeof followUp>>): Maybe<GatewayError | undefined> {
    const { policy } = runtime.current;
    const seen = policy.visible(ctx.principal, call.server, call.kind, call.name, isObject(ctx.tool?.annotations) ? ctx.tool.annotations : undefined, ctx.task, now());
    const decision: Decision = seen.visible
      ? { effect: 'allow', reason: `${call.via} of ${call.kind} "${call.name}": ${seen.why}` }
      : { effect: 'deny', code: 'PC_POLICY_DENIED', reason: `${call.kind} "${call.name}" of server "${call.server}" is not available to this caller (${seen.why})` };
    if (seen.visible && call.via === 'completion') {
      // A denial let through in monitor mode stays the recorded decision.
      return then(judgeCompletion(ctx, call), (refused) => refused ?? (ctx.decision?.monitored ? undefined : enforce(ctx, decision, call.server, call.name, () => new GatewayError('PC_POLICY_DENIED', decision.reason))));
    }
    return enforce(ctx, decision, call.server, call.name, () => {
      // A completion must not tell apart a name the policy hides from one that does not exist: the
      // refusal is the one a missing name gets — supplyCheck's on /mcp/<server>, the route stage's on
      // /mcp, with the name as the client sent it (namespaced there).
      if (call.via === 'completion') {
        if (ctx.endpoint.kind === 'server') return notListed(call.kind === 'prompt' ? 'prompts' : 'template-ref', call.server, call.name);
        const ref = ctx.request.params?.ref;
        const sent = isObject(ref) && typeof ref.name === 'string' ? ref.name : call.name;
        return call.kind === 'prompt'
          ? new GatewayError('PC_ROUTE_UNKNOWN_PROMPT', `Unknown prompt: "${sent}" (see prompts/list)`, { name: sent })
          : new GatewayError('PC_ROUTE_UNKNOWN_RESOURCE', `no server offers resource "${call.name}"`, { uri: call.name });
      }
      return new GatewayError('PC_POLICY_DENIED', decision.reason, { reason: decision.reason });
    });
  }

  /**
   * A completion carries the value being completed (a prefix of it) and the other values
   * (`context.arguments`) to the server, which computes its suggestions from them — a path-completing
   * server lists the directory the prefix names (red team L5). So they are judged by the same rules and
   * guards as the request that would carry them: a prompt's, as its prompts/get; a resource template's
   * variables, as the resources/read of the URI they expand it to. Both the context alone and the context
   * with the value being completed. Returns the refusal, or undefined when both are allowed.
   */
  function judgeCompletion(ctx: MessageContext, call: NonNullable<ReturnType<typeof followUp>>): Maybe<GatewayError | undefined> {
    const params = ctx.route?.kind === 'upstream' ? ctx.route.params : undefined;
    const context = isObject(params?.context) && isObject(params.context.arguments) ? params.context.arguments : {};
    const argument = isObject(params?.argument) ? params.argument : undefined;
    const sets = [context];
    if (argument && typeof argument.name === 'string') sets.push({ ...context, [argument.name]: argument.value });
    const { policy } = runtime.current;
    const judge = (index: number): Maybe<GatewayError | undefined> => {
      if (index >= sets.length) return undefined;
      let decision: Maybe<Decision>;
      try {
        // A template's variables reach the server as the URI they make: judged as its resources/read.
        const uri = call.kind === 'resource' ? expandTemplate(call.name, sets[index]!) : undefined;
        const target = uri === undefined ? { name: call.name, args: sets[index]! } : { name: uri, args: { uri } };
        decision = decideGoverned(policy, stateGuard, { principal: ctx.principal, server: call.server, kind: call.kind, ...target, declared: undefined, task: ctx.task, now: now() });
      } catch (error) {
        decision = { effect: 'deny', code: 'PC_POLICY_DENIED', reason: `the completion's values could not be judged (${(error as Error).message}); the completion is denied` };
      }
      return then(decision, (d) => {
        if (d.effect !== 'deny') return judge(index + 1);
        const refusal = (): GatewayError => {
          const data: Record<string, unknown> = { reason: d.reason };
          if (d.rule) data.rule = d.rule;
          return new GatewayError(d.code ?? 'PC_POLICY_DENIED', `completion of ${call.kind === 'prompt' ? 'prompt' : 'resource template'} "${call.name}": ${d.reason}`, data);
        };
        // The state check holds in monitor mode too, as for the call itself.
        if (d.code === 'PC_POLICY_GATEWAY_STATE') {
          ctx.decision = d;
          return refusal();
        }
        return enforce(ctx, d, call.server, call.name, refusal) ?? judge(index + 1);
      });
    };
    return judge(0);
  }

  /** `logging/setLevel` on one server, or the servers a broadcast reaches: the caller must have business there. */
  function serverAllowed(ctx: MessageContext, server: string): Decision {
    const verdict = runtime.current.policy.serverAllowed(ctx.principal, server, ctx.task, now());
    const decision: Decision = verdict.allowed
      ? { effect: 'allow', reason: verdict.why }
      : { effect: 'deny', code: 'PC_POLICY_DENIED', reason: `${ctx.request.method} on server "${server}" refused: ${verdict.why}` };
    if (verdict.rule) decision.rule = verdict.rule;
    return decision;
  }

  return function authorize(ctx) {
    const route = ctx.route;
    if (route?.kind === 'broadcast') {
      route.servers = route.servers.filter((server) => runtime.current.policy.mode === 'monitor' || serverAllowed(ctx, server).effect !== 'deny');
      return undefined;
    }
    if (route?.kind === 'upstream' && route.target.kind === 'server') {
      const decision = serverAllowed(ctx, route.server);
      return enforce(ctx, decision, route.server, undefined, () => new GatewayError('PC_POLICY_DENIED', decision.reason, decision.rule ? { reason: decision.reason, rule: decision.rule } : { reason: decision.reason }));
    }
    const pending = followUp(ctx);
    if (pending) return authorizeFollowUp(ctx, pending);
    const call = governedCall(ctx);
    if (!call) return filterLists(ctx);
    if (call.kind === 'tool' && !ctx.tool) {
      return then(catalog.listNow(call.server, 'tools', timeoutMsFor(call.server)), (tools) => {
        ctx.tool = tools.find((t) => t.name === call.name);
        if (!ctx.tool) {
          return new GatewayError('PC_ROUTE_UNKNOWN_TOOL', `server "${call.server}" has no tool "${call.name}" in its current catalog (see tools/list)`, { name: call.name });
        }
        return decideCall(ctx, call);
      });
    }
    return decideCall(ctx, call);
  };

  /** The policy's decision on a governed call, synchronous unless a URL guard must resolve a host. */
  function decideCall(ctx: MessageContext, call: NonNullable<ReturnType<typeof governedCall>>): Maybe<GatewayError | undefined> {
    const { policy } = runtime.current;
    // A server that can reach the gateway's own files: no argument may name them, whatever the policy
    // says and in monitor mode too (an agent that edits the policy or kill switches is past every rule).
    const declared = isObject(ctx.tool?.annotations) ? ctx.tool.annotations : undefined;
    const denied = stateDenial(policy, stateGuard, { ...call, declared });
    if (denied) {
      ctx.decision = denied;
      return new GatewayError('PC_POLICY_GATEWAY_STATE', denied.reason, { reason: denied.reason });
    }
    const failed = (error: unknown): Decision => {
      logger.error({ correlationId: ctx.correlationId, err: error }, 'policy evaluation failed');
      return { effect: 'deny' as const, code: 'PC_POLICY_DENIED' as const, reason: `the policy could not be evaluated (${(error as Error).message}); the call is denied` };
    };
    let decision: Maybe<Decision>;
    try {
      decision = policy.decide({
        principal: ctx.principal,
        server: call.server,
        kind: call.kind,
        name: call.name,
        args: call.args,
        declared: isObject(ctx.tool?.annotations) ? ctx.tool.annotations : undefined,
        task: ctx.task,
        now: now(),
        session: flows?.session(flowKeys(sessionHashOf(ctx.client.key), callerIdentity(ctx.principal)), now().getTime()),
      });
    } catch (error) {
      decision = failed(error);
    }
    return decision instanceof Promise ? decision.catch(failed).then((d) => conclude(ctx, call, d)) : conclude(ctx, call, decision);
  }

  function conclude(ctx: MessageContext, call: NonNullable<ReturnType<typeof governedCall>>, decision: Decision): GatewayError | undefined {
    // A custom method no rule names is unknown, even in monitor mode: default deny over the method
    // space is not a rule that monitoring relaxes.
    if (call.kind === 'method' && decision.effect === 'deny' && decision.rule === undefined) {
      ctx.decision = decision;
      return new GatewayError('PC_ROUTE_UNKNOWN_METHOD', `Method not found: "${call.name}" is not an MCP method and no policy rule names it (methods:)`, { method: call.name });
    }
    // Guards that put arguments in canonical form: the forwarded message carries what they judged.
    if (decision.effect !== 'deny' && decision.arguments) {
      ctx.decision = decision;
      const refused = forwardCanonical(ctx, call.kind, call.name, decision.arguments);
      if (refused) return refused;
    }
    return enforce(ctx, decision, call.server, call.name, () => {
      const data: Record<string, unknown> = { reason: decision.reason };
      if (decision.rule) data.rule = decision.rule;
      if (decision.scopes) data.scopes = decision.scopes;
      return new GatewayError(decision.code ?? 'PC_POLICY_DENIED', decision.reason, data);
    });
  }
}

/**
 * The forwarded message carries the arguments in the canonical form the guards judged (and the policy
 * decided on). A resource URI is the target itself, so it is never rewritten: a URI that is not already
 * canonical is refused instead.
 */
function forwardCanonical(ctx: MessageContext, kind: TargetKind, name: string, args: Record<string, unknown>): GatewayError | undefined {
  const route = ctx.route;
  if (route?.kind !== 'upstream') return undefined;
  if (kind === 'resource') {
    if (args.uri === name) return undefined;
    return new GatewayError('PC_POLICY_GUARD', `resource URI is not in canonical form (rule "${ctx.decision?.rule}"); send it as the guard serializes it`, { rule: ctx.decision?.rule });
  }
  // A custom method is judged on its whole params (`args`), so those are what travels.
  ctx.route = { ...route, params: kind === 'method' ? args : { ...route.params, arguments: args } };
  return undefined;
}
