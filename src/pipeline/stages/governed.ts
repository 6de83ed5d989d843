/**
 * Which requests the runtime policy governs, and what it sees of them. Every request bound for a
 * server carries a governed target (set by `route`): tools/call (a tool and its arguments), prompts/get
 * (a prompt and its arguments), resources/read|subscribe|unsubscribe (a resource URI), a custom method
 * a rule names (the method and its params) — these are decided by the rules as calls. Completions and
 * task follow-ups are governed as the prompt, template or tool they concern (see `followUp`); lists
 * are filtered; `logging/setLevel` is decided on the server.
 */
import { isObject, type JsonObject } from '../../protocol/jsonrpc.ts';
import type { TargetKind } from '../../policy/policy.ts';
import type { MessageContext } from '../context.ts';

export interface GovernedCall {
  server: string;
  kind: TargetKind;
  name: string;
  args: JsonObject;
}

export const LIST_TARGET: Readonly<Record<string, TargetKind>> = {
  'tools/list': 'tool',
  'prompts/list': 'prompt',
  'resources/list': 'resource',
  'resources/templates/list': 'resource',
};

/** The call the rules decide on, when the request is one (not a list, completion or task follow-up). */
export function governedCall(ctx: MessageContext): GovernedCall | undefined {
  const route = ctx.route;
  if (route?.kind !== 'upstream') return undefined;
  const target = route.target;
  if (!('name' in target) || target.via !== undefined) return undefined;
  const params = route.params;
  const args =
    target.kind === 'resource' ? { uri: target.name }
    : target.kind === 'method' ? (params ?? {})
    : isObject(params?.arguments) ? params.arguments
    : {};
  return { server: route.server, kind: target.kind, name: target.name, args };
}

/** A completion or task follow-up: allowed when its prompt, template or tool is usable by the caller. */
export function followUp(ctx: MessageContext): { server: string; kind: TargetKind; name: string; via: 'completion' | 'task' } | undefined {
  const route = ctx.route;
  if (route?.kind !== 'upstream') return undefined;
  const target = route.target;
  if (!('name' in target) || target.via === undefined) return undefined;
  return { server: route.server, kind: target.kind, name: target.name, via: target.via };
}

/** The name a list item is governed by: a tool's or prompt's name, a resource's URI or a template's URI template. */
export function itemName(kind: TargetKind, item: JsonObject): string | undefined {
  const value = kind === 'resource' ? (item.uri ?? item.uriTemplate) : item.name;
  return typeof value === 'string' ? value : undefined;
}
