/**
 * Which requests the runtime policy governs, and what it sees of them: tools/call (a tool and its
 * arguments), prompts/get (a prompt and its arguments), resources/read and resources/subscribe (a
 * resource URI). Other methods (initialize, ping, completion, logging, notifications) are not calls.
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

const KIND_BY_METHOD: Readonly<Record<string, TargetKind>> = {
  'tools/call': 'tool',
  'prompts/get': 'prompt',
  'resources/read': 'resource',
  'resources/subscribe': 'resource',
};

export const LIST_TARGET: Readonly<Record<string, TargetKind>> = { 'tools/list': 'tool', 'prompts/list': 'prompt', 'resources/list': 'resource' };

export function governedCall(ctx: MessageContext): GovernedCall | undefined {
  const route = ctx.route;
  if (route?.kind !== 'upstream' || route.name === undefined) return undefined;
  const kind = KIND_BY_METHOD[route.method];
  if (!kind) return undefined;
  const args = kind === 'resource' ? { uri: route.name } : isObject(route.params?.arguments) ? route.params.arguments : {};
  return { server: route.server, kind, name: route.name, args };
}

/** The name a list item is governed by: a tool's or prompt's name, a resource's URI. */
export function itemName(kind: TargetKind, item: JsonObject): string | undefined {
  const value = kind === 'resource' ? item.uri : item.name;
  return typeof value === 'string' ? value : undefined;
}
