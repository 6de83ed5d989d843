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
import type { PolicyRuntime } from '../../policy/runtime.ts';
import type { Catalog } from '../../routing/catalog.ts';
import type { ArgumentValidator } from '../../validate/args.ts';
import type { MessageContext } from '../context.ts';
import { governedCall, itemName, LIST_TARGET } from './governed.ts';
import type { TargetKind } from '../../policy/policy.ts';

export interface AuthorizeOptions {
  runtime: PolicyRuntime;
  catalog: Catalog;
  kill: KillSwitchStore;
  timeoutMsFor: (server: string | undefined) => number;
  now: () => Date;
  logger: Logger;
  /** Tools whose inputSchema cannot be used are withheld from lists (and refused by validateArgs). */
  validator: ArgumentValidator;
}

export function createAuthorize(options: AuthorizeOptions): (ctx: MessageContext) => Promise<GatewayError | undefined> {
  const { runtime, catalog, kill, timeoutMsFor, now, logger, validator } = options;

  function filterLists(ctx: MessageContext): undefined {
    const kind = LIST_TARGET[ctx.request.method];
    const { policy } = runtime.current;
    if (!kind || policy.mode === 'monitor') return undefined;
    const at = now();
    kill.refresh();
    ctx.listFilter = (server, itemKind, item) => {
      const name = itemName(itemKind, item);
      if (name === undefined) return false;
      if (kill.stops(server, itemKind === 'tool' ? name : undefined, ctx.principal.agent, false)) return false;
      if (itemKind === 'tool' && validator.unsafe(item.inputSchema) !== undefined) return false;
      const annotations = isObject(item.annotations) ? item.annotations : undefined;
      return policy.visible(ctx.principal, server, itemKind, name, annotations, ctx.task, at).visible;
    };
    return undefined;
  }

  return async function authorize(ctx) {
    const call = governedCall(ctx);
    if (!call) return filterLists(ctx);
    if (call.kind === 'tool' && !ctx.tool) {
      const tools = await catalog.list(call.server, 'tools', timeoutMsFor(call.server));
      ctx.tool = tools.find((t) => t.name === call.name);
      if (!ctx.tool) {
        return new GatewayError('PC_ROUTE_UNKNOWN_TOOL', `server "${call.server}" has no tool "${call.name}" in its current catalog (see tools/list)`, { name: call.name });
      }
    }
    const { policy } = runtime.current;
    let decision;
    try {
      decision = await policy.decide({
        principal: ctx.principal,
        server: call.server,
        kind: call.kind,
        name: call.name,
        args: call.args,
        declared: isObject(ctx.tool?.annotations) ? ctx.tool.annotations : undefined,
        task: ctx.task,
        now: now(),
      });
    } catch (error) {
      logger.error({ correlationId: ctx.correlationId, err: error }, 'policy evaluation failed');
      decision = { effect: 'deny' as const, code: 'PC_POLICY_DENIED' as const, reason: `the policy could not be evaluated (${(error as Error).message}); the call is denied` };
    }
    ctx.decision = decision;
    if (decision.effect !== 'deny') return decision.arguments ? forwardCanonical(ctx, call.kind, call.name, decision.arguments) : undefined;
    if (policy.mode === 'monitor') {
      ctx.decision = { ...decision, monitored: true };
      logger.warn({ correlationId: ctx.correlationId, server: call.server, target: call.name, rule: decision.rule, code: decision.code }, `policy (monitor): would deny: ${decision.reason}`);
      return undefined;
    }
    const data: Record<string, unknown> = { reason: decision.reason };
    if (decision.rule) data.rule = decision.rule;
    if (decision.scopes) data.scopes = decision.scopes;
    return new GatewayError(decision.code ?? 'PC_POLICY_DENIED', decision.reason, data);
  };
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
  ctx.route = { ...route, params: { ...route.params, arguments: args } };
  return undefined;
}
